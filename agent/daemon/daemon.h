// The one place where the real ports are connected (STYLE.md §2): one io_context on one
// thread, SIGCHLD reaped with a waitpid loop, one timer at the earliest deadline, the agent's
// signals, the control socket file, the pidfile, daemonizing and reload.
#pragma once

#include <string>

#include "agent/daemon/cli.h"

namespace zagent {

/// Runs the agent on the config at `config_path` until it shuts down. Returns the process
/// exit status: 0 after a clean shutdown, 1 on a runtime failure, 2 on a usage or config
/// error (also when a reload finds the config broken, as supervisord). `argv0` is used in
/// usage-error texts.
int run_daemon(const std::string& config_path, const AgentCli& cli, const std::string& argv0);

}  // namespace zagent
