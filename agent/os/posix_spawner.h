// The real Spawner: clone+exec with supervisord's child setup (spec/states.md §7) and exec
// errors reported back through a close-on-exec pipe. An adapter: makes system calls, no Asio.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/monitor/proc_stat.h"
#include "agent/process/spawner.h"

namespace zagent {

/// Starts children with clone(CLONE_VM | CLONE_VFORK) and execve(), as posix_spawn() does.
/// Call only from the agent's loop thread: spawn() blocks until the child has exec'd or
/// failed (microseconds to a few milliseconds).
///
/// A child that fails after fork (setuid, chdir, exec) writes supervisord's
/// `supervisor: ...` lines to its own stderr, reports the reason through the pipe and exits
/// 127; spawn() reaps that child itself (so the SIGCHLD reaper never sees its pid) and
/// returns the reason, e.g. `couldn't chdir to /nonexist: ENOENT`.
class PosixSpawner final : public Spawner {
 public:
  /// The agent's ends of a new child's pipes, non-blocking and close-on-exec, owned by the
  /// receiver from then on; -1 where there is none.
  struct Pipes {
    int stdin_fd = -1;   ///< the write end of the child's stdin (-1 if the child failed)
    int stdout_fd = -1;  ///< the read end of its stdout
    int stderr_fd = -1;  ///< the read end of its stderr; -1 with redirect_stderr
  };
  /// Receives a child's pipes right after the fork, also when the child then failed before
  /// exec (its `supervisor: ...` lines are in the output pipe; the child is already reaped
  /// and `pid` is not reported to anyone else).
  using PipeHandler = std::function<void(const SpawnSpec& spec, pid_t pid, const Pipes& pipes)>;

  /// Without a handler the agent's ends are closed at once (the child's writes then fail and
  /// its stdin reads end of file).
  explicit PosixSpawner(PipeHandler on_pipes = {}) : on_pipes_(std::move(on_pipes)) {}

  Result<pid_t> spawn(const SpawnSpec& spec) override;
  Result<void> send_signal(pid_t pid, int signo, bool to_group) override;
  std::vector<ProcessId> descendants(pid_t root) override;
  bool signal_if_alive(const ProcessId& process, int signo) override;

 private:
  PipeHandler on_pipes_;  // takes the agent's ends of every spawned child's pipes
};


}  // namespace zagent
