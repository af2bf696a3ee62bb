#include "agent/process/exit_info.h"

#include <sys/wait.h>

#include <fmt/format.h>

#include "common/datatypes.h"

namespace zagent {

ExitInfo exit_info_from_wait_status(int status, WallTime at, std::chrono::milliseconds uptime) {
  ExitInfo info;
  info.wait_status = status;
  info.at = at;
  info.uptime = uptime;
  if (WIFEXITED(status)) {
    info.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    // supervisord compat: decode_wait_status() gives es = -1 after a signal.
    info.exit_code = -1;
    info.signal = WTERMSIG(status);
    info.core_dumped = WCOREDUMP(status);
  } else {
    info.exit_code = -1;
  }
  return info;
}

std::string describe_exit(const ExitInfo& exit) {
  if (exit.signal) {
    return fmt::format("terminated by {}{}", signal_name(*exit.signal),
                       exit.core_dumped ? " (core dumped)" : "");
  }
  if (exit.exit_code >= 0) {
    return fmt::format("exit status {}", exit.exit_code);
  }
  return fmt::format("unknown termination cause 0x{:04x}", exit.wait_status);
}

}  // namespace zagent
