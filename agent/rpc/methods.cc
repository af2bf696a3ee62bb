#include "agent/rpc/methods.h"

#include <utility>

#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"

namespace zagent {

RpcMethods::RpcMethods(Supervisor& supervisor, AgentControl& control, Clock& clock,
                       AgentConfig config)
    : context_(supervisor, control, clock, std::move(config)),
      registry_({[this] { return context_.control.state() == SupervisorState::Running; },
                 [this] { context_.control.changed(); }}) {
  register_supervisor_methods(registry_, context_);
  register_process_methods(registry_, context_);
  register_log_methods(registry_, context_);
  register_config_methods(registry_, context_);
  register_crash_methods(registry_, context_);
  register_monitor_methods(registry_, context_);
  register_system_methods(registry_);
  supervisor.set_observer(
      [this](const ProcessEntry&, const StateChanged&) { context_.waiters.schedule(); });
}

RpcMethods::~RpcMethods() { context_.supervisor.set_observer(nullptr); }

void RpcMethods::call(std::string_view method, const Json& params, RpcReply reply) {
  registry_.call(method, params, std::move(reply));
}

bool RpcMethods::has_method(std::string_view method) const { return registry_.has_method(method); }

std::vector<std::string> RpcMethods::method_names() const { return registry_.method_names(); }

boost::system::result<std::string, RpcError> RpcMethods::process_log_path(
    std::string_view name, std::string_view channel) const {
  const NameSpec spec = split_namespec(name);
  const ProcessEntry* p =
      spec.process ? context_.supervisor.find(spec.group, *spec.process) : nullptr;
  if (p == nullptr) {
    return rpc::fault_error(Fault::BadName, name);
  }
  const std::string& path = methods::channel_path(*p, channel);
  if (path.empty()) {
    return rpc::fault_error(Fault::NoFile, "None");
  }
  return path;
}

void RpcMethods::run_waiters() { context_.waiters.run(); }

}  // namespace zagent
