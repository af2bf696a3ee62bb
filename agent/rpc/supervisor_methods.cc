// The agent's own methods: versions, identification, state, pid, shutdown and restart.
#include <string>
#include <utility>

#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "common/process_state.h"

namespace zagent {
namespace {

using namespace methods;

void get_api_version(MethodContext&, const MethodArgs&, RpcReply reply) { reply(ok(Json("3.0"))); }

void get_supervisor_version(MethodContext&, const MethodArgs&, RpcReply reply) {
  reply(ok(Json("4.2.5")));
}

void get_identification(MethodContext& c, const MethodArgs&, RpcReply reply) {
  reply(ok(Json(c.config.supervisord.identifier)));
}

void get_state(MethodContext& c, const MethodArgs&, RpcReply reply) {
  const SupervisorState state = c.control.state();
  reply(ok(
      Json{{"statecode", static_cast<int>(state)}, {"statename", std::string(state_name(state))}}));
}

void get_pid(MethodContext& c, const MethodArgs&, RpcReply reply) {
  reply(ok(Json(c.control.agent_pid())));
}

void shutdown(MethodContext& c, const MethodArgs&, RpcReply reply) {
  reply(ok(Json(true)));
  c.control.request_shutdown();
}

void restart(MethodContext& c, const MethodArgs&, RpcReply reply) {
  reply(ok(Json(true)));
  c.control.request_restart();
}

void send_remote_comm_event(MethodContext&, const MethodArgs&, RpcReply reply) {
  // No event listeners exist yet (docs/compat.md): accepted and dropped.
  reply(ok(Json(true)));
}

}  // namespace

void register_supervisor_methods(MethodRegistry& r, MethodContext& c) {
  r.add({"supervisor.getAPIVersion", "string", kNone,
         "The version of the control API: 3.0, as supervisord.",
         with_context(c, &get_api_version)});
  r.add({"supervisor.getVersion", "string", kNone, "Alias of supervisor.getAPIVersion.",
         with_context(c, &get_api_version)});
  r.add({"supervisor.getSupervisorVersion", "string", kNone,
         "The supervisord version whose behaviour the agent provides.",
         with_context(c, &get_supervisor_version)});
  r.add({"supervisor.getIdentification", "string", kNone,
         "The agent's identifier ([supervisord] identifier=).",
         with_context(c, &get_identification)});
  r.add({"supervisor.getState", "struct", kNone, "The agent's state: {statecode, statename}.",
         with_context(c, &get_state)});
  r.add({"supervisor.getPID", "int", kNone, "The agent's process id.", with_context(c, &get_pid)});
  r.add({"supervisor.shutdown", "boolean", kNone, "Stop every process, then the agent.",
         with_context(c, &shutdown)});
  r.add({"supervisor.restart", "boolean", kNone,
         "Stop every process and start again with the config read anew.",
         with_context(c, &restart)});
  r.add({"supervisor.sendRemoteCommEvent",
         "boolean",
         {{"type", "string", std::nullopt}, {"data", "string", std::nullopt}},
         "Accepted for compatibility; there are no event listeners yet.",
         with_context(c, &send_remote_comm_event),
         false});
}

}  // namespace zagent
