// The system family: introspection over the registry itself, and multicall.
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"

namespace zagent {
namespace {

using namespace methods;
using rpc::fault_error;

void list_methods(const MethodRegistry& registry, const MethodArgs&, RpcReply reply) {
  reply(ok(Json(registry.method_names())));
}

void method_help(const MethodRegistry& registry, const MethodArgs& a, RpcReply reply) {
  const MethodSpec* spec = registry.find(a[0].get<std::string>());
  if (spec == nullptr) {
    reply(fault_error(Fault::SignatureUnsupported));
    return;
  }
  reply(ok(Json(std::string(spec->help))));
}

void method_signature(const MethodRegistry& registry, const MethodArgs& a, RpcReply reply) {
  const MethodSpec* spec = registry.find(a[0].get<std::string>());
  if (spec == nullptr) {
    reply(fault_error(Fault::SignatureUnsupported));
    return;
  }
  Json sig = Json::array({std::string(spec->returns)});
  for (const auto& p : spec->params) {
    sig.push_back(p.type == "signal" ? std::string("string") : std::string(p.type));
  }
  // supervisord compat: one flat [rtype, ptypes...] array (spec/rpc.md §4.5), not the
  // XML-RPC introspection convention of an array of signatures.
  reply(ok(std::move(sig)));
}

void multicall(const MethodRegistry& registry, const MethodArgs& a, RpcReply reply) {
  struct State {
    Json calls;
    Json results = Json::array();
    std::size_t next = 0;
    RpcReply reply;
  };
  auto state = std::make_shared<State>();
  state->calls = a[0];
  state->reply = std::move(reply);
  // Runs the calls one after another: a waiting call holds the ones after it.
  auto run = std::make_shared<std::function<void()>>();
  *run = [&registry, state, weak = std::weak_ptr<std::function<void()>>(run)]() {
    while (state->next < state->calls.size()) {
      const Json& c = state->calls[state->next++];
      const Json* method = c.is_object() && c.contains("methodName") ? &c["methodName"] : nullptr;
      if (method == nullptr || !method->is_string()) {
        state->results.push_back(
            Json{{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}});
        continue;
      }
      const std::string name = method->get<std::string>();
      if (name == "system.multicall") {
        state->results.push_back(
            Json{{"faultCode", 2},
                 {"faultString", "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"}});
        continue;
      }
      const Json params = c.contains("params") ? c["params"] : Json::array();
      struct Flags {
        bool answered = false;
        bool waiting = false;
      };
      auto flags = std::make_shared<Flags>();
      auto again = weak.lock();  // held by a waiting reply until it comes
      registry.call(name, params, [state, flags, again](RpcOutcome o) {
        state->results.push_back(o ? std::move(*o) : rpc::fault_struct(o.error()));
        flags->answered = true;
        if (flags->waiting && again) {
          (*again)();  // a waiting call finished later: go on with the rest
        }
      });
      if (!flags->answered) {
        flags->waiting = true;
        return;
      }
    }
    state->reply(ok(std::move(state->results)));
  };
  (*run)();
}

using RegistryHandler = void (*)(const MethodRegistry&, const MethodArgs&, RpcReply);

/// `handler` bound to `registry` (which owns it).
MethodHandler with_registry(const MethodRegistry& registry, RegistryHandler handler) {
  return [&registry, handler](const MethodArgs& args, RpcReply reply) {
    handler(registry, args, std::move(reply));
  };
}

}  // namespace

void register_system_methods(MethodRegistry& r) {
  r.add({"system.listMethods", "array", kNone, "Every method name, sorted.",
         with_registry(r, &list_methods), false});
  r.add({"system.methodHelp", "string", kName, "The help text of a method.",
         with_registry(r, &method_help), false});
  r.add({"system.methodSignature", "array", kName,
         "[return type, parameter types...] of a method, in XML-RPC type names.",
         with_registry(r, &method_signature), false});
  r.add({"system.multicall",
         "array",
         {{"calls", "array", std::nullopt}},
         "Run [{methodName, params}, ...] in order; each entry is the bare result or a "
         "{faultCode, faultString} struct.",
         with_registry(r, &multicall),
         false});
}

}  // namespace zagent
