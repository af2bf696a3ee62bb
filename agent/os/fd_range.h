// Where the agent keeps its long-lived descriptors: at kAgentFdFloor and above, so that the
// low numbers stay free for the few descriptors a spawn hands to its child. A child that
// shares the agent's descriptor table copies only the numbers below its own highest one
// (posix_spawner.cc), so the cost of a spawn does not grow with the number of programs.
// Adapter (fcntl).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace zagent {

/// The lowest number of the agent's long-lived descriptors (pipes to children, log files).
inline constexpr int kAgentFdFloor = 64;

/// Moves `fd` (close-on-exec) to kAgentFdFloor or above and returns the new number; `fd`
/// itself when it is there already, negative, or cannot be moved (RLIMIT_NOFILE below the
/// floor, no free number): the descriptor works the same, only the spawns cost more.
/// errno is kept.
inline int move_to_agent_range(int fd) {
  if (fd < 0 || fd >= kAgentFdFloor) {
    return fd;
  }
  const int err = errno;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, kAgentFdFloor);
  if (moved >= 0) {
    ::close(fd);
  }
  errno = err;
  return moved >= 0 ? moved : fd;
}

}  // namespace zagent
