// Starting and signalling children: the interface the supervisor uses, so that it can be
// tested without forking (FakeSpawner in tests/support). PosixSpawner is the real one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/crash/output_tail.h"
#include "agent/monitor/output_patterns.h"
#include "common/error.h"

namespace zagent {

/// One output channel of a child (stdout or stderr): the child writes to a pipe, and the
/// agent copies what it reads to this log (spec/logging.md §2).
struct OutputLog {
  std::string path;           ///< "" = no file (NONE): the output is read and dropped
  std::int64_t maxbytes = 0;  ///< rotate at this size; <= 0: never
  std::int64_t backups = 0;   ///< rotated files kept; 0: truncate instead
};

/// Everything needed to start one child. Built by the supervisor from a ProcessConfig.
struct SpawnSpec {
  std::string name;     ///< process name, for messages
  std::string command;  ///< the config's command line, split and resolved at spawn time
  /// The full environment of the child, already layered (agent env, SUPERVISOR_*,
  /// [supervisord] environment, program environment): KEY=value entries.
  std::vector<std::string> environment;
  std::optional<std::string> directory;
  std::optional<mode_t> umask;
  std::optional<UserSpec> user;
  OutputLog stdout_log;
  OutputLog stderr_log;          ///< unused with redirect_stderr
  bool redirect_stderr = false;  ///< fd 2 is the stdout pipe (no stderr pipe)
  /// Signal the child receives if the agent dies without stopping it (SIGKILL of the agent):
  /// the program's stopsignal, so it is not left running unsupervised. 0 = none.
  int parent_death_signal = 0;
  /// A cgroup's `cgroup.procs` file that the child joins (writes "0") before exec; "" = none.
  /// A failure to join is ignored: cgroups never stop a start.
  std::string cgroup_procs;
  /// Where the capture also copies the child's output (the last lines for crash records);
  /// null = nowhere.
  std::shared_ptr<OutputTail> output_tail;
  /// restart_on_output: every line of output is matched here too (null = no pattern).
  std::shared_ptr<OutputWatch> output_watch;
};

/// A process identity that survives pid reuse: the pid plus its start time (clock ticks
/// since boot, /proc/PID/stat field 22).
struct ProcessId {
  pid_t pid = 0;
  unsigned long long start_time = 0;
  friend bool operator==(const ProcessId&, const ProcessId&) = default;
};

class Spawner {
 public:
  virtual ~Spawner() = default;
  /// Splits and resolves the command, then forks and execs. The child leads its own process
  /// group, has stdin, stdout and stderr on pipes whose other ends the agent holds (see
  /// PosixSpawner::PipeHandler), and no other descriptor of the agent. On failure before
  /// or at exec, the error message is supervisord's spawnerr text (spec/config.md §6,
  /// spec/states.md §7), e.g. `can't find command 'foo'`; the agent never crashes on it.
  virtual Result<pid_t> spawn(const SpawnSpec& spec) = 0;
  /// kill(pid, signo), or kill(-pid, signo) for the whole process group. ESRCH counts as
  /// success (the reap will follow); other errors are returned with their text.
  virtual Result<void> send_signal(pid_t pid, int signo, bool to_group) = 0;
  /// Every living descendant of `root` (children, their children, ...), whatever process
  /// group or session they moved to; not `root` itself.
  virtual std::vector<ProcessId> descendants(pid_t root) = 0;
  /// Sends `signo` if that process still exists with the same start time; true if sent.
  virtual bool signal_if_alive(const ProcessId& process, int signo) = 0;
};

}  // namespace zagent
