// The process-wide setup around the agent's lives: the control socket file, the AUTO child
// logs, privileges and limits, daemonizing, the pidfile, the signals the loop handles.
// Adapters (system calls); used by daemon.cc only.
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/config_host.h"
#include "agent/process/log_sink.h"
#include "agent/process/supervisor.h"
#include "agent/rpc/access.h"
#include "common/error.h"

namespace zagent::daemon_setup {

inline constexpr int kExitUsage = 2;

/// `Error: MESSAGE` and the help hint on stderr; returns the usage exit code (2).
int usage_error(const std::string& argv0, const std::string& message);
/// Binds and listens on the [unix_http_server] socket (a stale file is replaced, a live one
/// refused): the listening fd.
Result<int> open_control_socket(const UnixHttpServerConfig& server);
/// Removes the AUTO child logs of an earlier run (supervisord's nocleanup=false).
void clean_auto_logs(const SupervisordConfig& sd);
/// Creates the AUTO child log files of `groups` in childlogdir.
LogPaths create_auto_logs(const SupervisordConfig& sd, const std::vector<GroupConfig>& groups);
/// Forks into the background (nodaemon=false).
Result<void> daemonize(const SupervisordConfig& sd, LogSink& log);
/// The signals the loop handles; blocked until its handlers exist.
sigset_t handled_signals();
bool write_pidfile(const std::string& path);
/// Privileges, limits and the running-as-root note of a life (see the definition).
Result<std::vector<ConfigNote>> process_setup(const SupervisordConfig& sd, bool first_life,
                                              ConfigHost& host);
/// `[unix_http_server]`, or the per-user default socket.
UnixHttpServerConfig control_socket_config(const AgentConfig& config);
/// Who may use the socket.
AccessPolicy access_policy(const UnixHttpServerConfig& server);

}  // namespace zagent::daemon_setup
