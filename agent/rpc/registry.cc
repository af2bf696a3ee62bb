#include "agent/rpc/registry.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "common/faults.h"

namespace zagent {
namespace {

using rpc::fault_error;

bool type_matches(const Json& value, std::string_view type) {
  if (type == "string") {
    return value.is_string();
  }
  if (type == "signal") {  // a name or a number, as supervisord's signal_number() takes
    return value.is_string() || value.is_number_integer();
  }
  if (type == "int") {
    return value.is_number_integer();
  }
  if (type == "boolean") {
    return value.is_boolean();
  }
  if (type == "array") {
    return value.is_array();
  }
  if (type == "struct") {
    return value.is_object();
  }
  return false;
}

/// Positional or named parameters -> the full positional list, defaults filled in.
boost::system::result<MethodArgs, RpcError> bind_params(const MethodSpec& spec,
                                                        const Json& params) {
  const std::size_t total = spec.params.size();
  std::size_t required = 0;
  for (const auto& p : spec.params) {
    if (!p.fallback) {
      ++required;
    }
  }
  std::vector<std::optional<Json>> slots(total);
  if (params.is_array()) {
    if (params.size() > total || params.size() < required) {
      return rpc::standard_error(
          rpc::StdError::InvalidParams,
          fmt::format(
              "{} takes {} argument{}, got {}", spec.name,
              required == total ? std::to_string(total) : fmt::format("{} to {}", required, total),
              total == 1 ? "" : "s", params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      slots[i] = params[i];
    }
  } else if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      bool known = false;
      for (std::size_t i = 0; i < total; ++i) {
        if (spec.params[i].name == key) {
          slots[i] = value;
          known = true;
        }
      }
      if (!known) {
        return rpc::standard_error(rpc::StdError::InvalidParams,
                                   fmt::format("{} has no parameter '{}'", spec.name, key));
      }
    }
  } else if (!params.is_null()) {
    return rpc::standard_error(rpc::StdError::InvalidParams, "params must be an array or object");
  }
  MethodArgs out;
  for (std::size_t i = 0; i < total; ++i) {
    const MethodParam& p = spec.params[i];
    if (!slots[i]) {
      if (!p.fallback) {
        return rpc::standard_error(rpc::StdError::InvalidParams,
                                   fmt::format("{}: missing parameter '{}'", spec.name, p.name));
      }
      slots[i] = *p.fallback;
    }
    if (!type_matches(*slots[i], p.type)) {
      return rpc::standard_error(rpc::StdError::InvalidParams,
                                 fmt::format("{}: parameter '{}' must be {} {}", spec.name, p.name,
                                             p.type == "int" || p.type == "array" ? "an" : "a",
                                             p.type == "signal" ? "string or an int" : p.type));
    }
    if (p.type == "signal" && slots[i]->is_number_integer()) {
      slots[i] = std::to_string(slots[i]->get<std::int64_t>());
    }
    out.push_back(std::move(*slots[i]));
  }
  return out;
}

}  // namespace

MethodRegistry::MethodRegistry(Hooks hooks) : hooks_(std::move(hooks)) {}

void MethodRegistry::add(MethodSpec spec) {
  std::string name(spec.name);
  if (!methods_.emplace(std::move(name), std::move(spec)).second) {
    std::fprintf(stderr, "method registered twice\n");
    std::abort();
  }
}

const MethodSpec* MethodRegistry::find(std::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<std::string> MethodRegistry::method_names() const {
  std::vector<std::string> out;
  for (const auto& [name, spec] : methods_) {
    out.push_back(name);
  }
  return out;
}

void MethodRegistry::call(std::string_view method, const Json& params, RpcReply reply) const {
  const MethodSpec* spec = find(method);
  if (spec == nullptr) {
    RpcError e = rpc::standard_error(rpc::StdError::MethodNotFound, method);
    e.data = rpc::fault_struct(rpc::fault_error(Fault::UnknownMethod));  // supervisord's text
    reply(std::move(e));
    return;
  }
  auto args = bind_params(*spec, params);
  if (!args) {
    reply(args.error());
    return;
  }
  if (spec->state_checked && !hooks_.accepting()) {
    reply(fault_error(Fault::ShutdownState));
    return;
  }
  // A handler that throws (a bug, or an adapter failing unexpectedly) must neither take the
  // agent down nor leave its caller waiting forever: the call is answered FAILED unless it
  // has already been answered (supervisord's multicall answers `FAILED: <class>:<msg>`).
  auto answered = std::make_shared<bool>(false);
  RpcReply once = [answered, reply = std::move(reply)](RpcOutcome outcome) {
    if (!*answered) {
      *answered = true;
      reply(std::move(outcome));
    }
  };
  try {
    spec->handler(*args, once);
  } catch (const std::exception& e) {
    once(fault_error(Fault::Failed, e.what()));
  } catch (...) {
    once(fault_error(Fault::Failed, "unknown exception"));
  }
  hooks_.after_call();
}

}  // namespace zagent
