// The real Spawner: clone+exec with supervisord's child setup (spec/states.md §7) and exec
// errors reported back through a close-on-exec pipe. An adapter: makes system calls, no Asio.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

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
  /// Receives the read ends of a child's output pipes (non-blocking, close-on-exec, owned by
  /// the receiver from then on): `stderr_fd` is -1 with redirect_stderr. Called right after
  /// the fork, also when the child then failed before exec (its `supervisor: ...` lines are
  /// in the pipe; the child is already reaped and `pid` is not reported to anyone else).
  using OutputHandler =
      std::function<void(const SpawnSpec& spec, pid_t pid, int stdout_fd, int stderr_fd)>;

  /// Without a handler the read ends are closed at once (the child's writes then fail).
  explicit PosixSpawner(OutputHandler on_output = {}) : on_output_(std::move(on_output)) {}

  Result<pid_t> spawn(const SpawnSpec& spec) override;
  Result<void> send_signal(pid_t pid, int signo, bool to_group) override;
  std::vector<ProcessId> descendants(pid_t root) override;
  bool signal_if_alive(const ProcessId& process, int signo) override;

 private:
  OutputHandler on_output_;  // takes the read ends of every spawned child's pipes
};

/// Parses the pid, ppid and start time out of the text of /proc/PID/stat (the command name in
/// parentheses may itself contain spaces and parentheses). nullopt if malformed.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  unsigned long long start_time = 0;
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

}  // namespace zagent
