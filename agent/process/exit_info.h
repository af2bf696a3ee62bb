// How a child ended: a wait status decoded into plain data, and its text in supervisord's
// words. Pure (the wait-status macros only). The seam where typed exit causes will grow.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/process/clock.h"

namespace zagent {

/// How a child ended, decoded from a wait status.
struct ExitInfo {
  /// WEXITSTATUS, or -1 after death by a signal (supervisord's `exitstatus`).
  int exit_code = -1;
  std::optional<int> signal;  ///< WTERMSIG when killed by a signal
  bool core_dumped = false;
  int wait_status = 0;                  ///< the raw status, for "unknown termination cause 0x...."
  WallTime at;                          ///< when it was reaped (display only)
  std::chrono::milliseconds uptime{0};  ///< time since the spawn (display only)

  friend bool operator==(const ExitInfo&, const ExitInfo&) = default;
};

/// Pure decoding of a `waitpid` status (supervisord's decode_wait_status()).
ExitInfo exit_info_from_wait_status(int status, WallTime at, std::chrono::milliseconds uptime);

/// `exit status 1`, `terminated by SIGTERM`, `terminated by SIGSEGV (core dumped)`,
/// `terminated by signal 99`, or `unknown termination cause 0x007f`.
std::string describe_exit(const ExitInfo& exit);

}  // namespace zagent
