// The real Spawner: fork/exec with supervisord's child setup (spec/states.md §7) and exec
// errors reported back through a close-on-exec pipe. An adapter: makes system calls, no Asio.
#pragma once

#include "agent/spawner.h"

namespace zagent {

/// Starts children with fork()+execve(). Call only from the agent's loop thread: spawn()
/// blocks until the child has exec'd or failed (microseconds to a few milliseconds).
///
/// A child that fails after fork (setuid, chdir, exec) writes supervisord's
/// `supervisor: ...` lines to its own stderr, reports the reason through the pipe and exits
/// 127; spawn() reaps that child itself (so the SIGCHLD reaper never sees its pid) and
/// returns the reason, e.g. `couldn't chdir to /nonexist: ENOENT`.
class PosixSpawner final : public Spawner {
 public:
  Result<pid_t> spawn(const SpawnSpec& spec) override;
  Result<void> send_signal(pid_t pid, int signo, bool to_group) override;
};

}  // namespace zagent
