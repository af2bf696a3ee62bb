// The method families: each registers its methods, bound to the context, into the registry.
// supervisord 4.2.5's XML-RPC API (spec/rpc.md) plus the `zagent.*` extensions. Pure.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/rpc/context.h"
#include "agent/rpc/registry.h"

namespace zagent {

/// getAPIVersion, getVersion, getSupervisorVersion, getIdentification, getState, getPID,
/// shutdown, restart, sendRemoteCommEvent (supervisor_methods.cc).
void register_supervisor_methods(MethodRegistry& registry, MethodContext& context);
/// getProcessInfo, getAllProcessInfo, start/stop (one, group, all), signal (one, group, all),
/// sendProcessStdin (process_methods.cc).
void register_process_methods(MethodRegistry& registry, MethodContext& context);
/// readLog/readMainLog, clearLog, read/tail of the process logs, clearProcessLog(s),
/// clearAllProcessLogs (log_methods.cc).
void register_log_methods(MethodRegistry& registry, MethodContext& context);
/// reloadConfig, addProcessGroup, removeProcessGroup, getAllConfigInfo,
/// zagent.updateProcessGroup (config_methods.cc).
void register_config_methods(MethodRegistry& registry, MethodContext& context);
/// zagent.getCrashRecords (crash_methods.cc).
void register_crash_methods(MethodRegistry& registry, MethodContext& context);
/// zagent.getProcessStats (monitor_methods.cc).
void register_monitor_methods(MethodRegistry& registry, MethodContext& context);
/// system.listMethods, methodHelp, methodSignature, multicall, over `registry` itself: the
/// calls of a multicall go through registry.call like any other (system_methods.cc).
void register_system_methods(MethodRegistry& registry);

}  // namespace zagent
