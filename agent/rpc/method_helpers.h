// What several method families share: the answer and result-struct shapes, namespec lookup
// (supervisord's _getGroupAndProcess), the parameter lists, and the binding of a handler to
// the context. Pure, like the families.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "agent/process/clock.h"
#include "agent/process/process_fsm.h"
#include "agent/process/supervisor.h"
#include "agent/rpc/context.h"
#include "agent/rpc/methods.h"
#include "agent/rpc/registry.h"

namespace zagent::methods {

/// A successful outcome (spelled out: Json converts from anything, so the plain conversion
/// is ambiguous).
inline RpcOutcome ok(Json value) {
  return RpcOutcome(boost::system::in_place_value, std::move(value));
}

std::int64_t epoch_seconds(WallTime t);
/// 0 for a time that never came.
std::int64_t epoch_seconds(const std::optional<WallTime>& t);

/// supervisord's make_namespec: `name` when group and process share it, else `group:name`.
std::string namespec(const std::string& group, const std::string& name);

/// The result struct of the group/all methods (spec/rpc.md §3.2).
Json result_struct(const std::string& group, const std::string& name, const RpcOutcome& outcome);

/// An FsmError as the fault a client sees: `NAME: <name as given>`, or FAILED's own text.
RpcError fsm_fault(const FsmError& e, const std::string& given);

/// Processes of a group in priority order (supervisord sorts them by priority, stable).
std::vector<const ProcessEntry*> by_priority(const GroupEntry& group);

/// The active groups' names, in priority order: the `all` methods look each group up again,
/// so an action on one group cannot leave them holding a stale reference.
std::vector<std::string> group_names(const Supervisor& supervisor);

/// A process's log file for `channel` ("stderr", else stdout); "" = none.
const std::string& channel_path(const ProcessEntry& p, std::string_view channel);

/// A namespec looked up: the group, and the process (null for `g:*`).
struct Target {
  const GroupEntry* group = nullptr;
  const ProcessEntry* process = nullptr;
};
/// `_getGroupAndProcess`: BAD_NAME for an unknown group or process.
boost::system::result<Target, RpcError> resolve(const Supervisor& supervisor,
                                                const std::string& name);
/// One process by name: BAD_NAME for an unknown name and for `g:*` (supervisord's methods
/// that take a single process).
boost::system::result<Target, RpcError> resolve_process(const Supervisor& supervisor,
                                                        const std::string& name);
/// The processes a zagent.* method's optional name stands for: all of them when it is empty,
/// a group's with `g:*` or the group's name, or one namespec. BAD_NAME otherwise.
boost::system::result<std::vector<const ProcessEntry*>, RpcError> resolve_entries(
    const Supervisor& supervisor, const std::string& name);

// Parameter lists used by several methods.
inline const std::vector<MethodParam> kNone{};
inline const std::vector<MethodParam> kName{{"name", "string", std::nullopt}};
inline const std::vector<MethodParam> kNameWait{{"name", "string", std::nullopt},
                                                {"wait", "boolean", Json(true)}};
inline const std::vector<MethodParam> kWait{{"wait", "boolean", Json(true)}};
inline const std::vector<MethodParam> kNameOffsetLength{{"name", "string", std::nullopt},
                                                        {"offset", "int", std::nullopt},
                                                        {"length", "int", std::nullopt}};

/// A handler over the context.
using ContextHandler = void (*)(MethodContext&, const MethodArgs&, RpcReply);
/// `handler` bound to `context` (which outlives the registry).
inline MethodHandler with_context(MethodContext& context, ContextHandler handler) {
  return [&context, handler](const MethodArgs& args, RpcReply reply) {
    handler(context, args, std::move(reply));
  };
}

}  // namespace zagent::methods
