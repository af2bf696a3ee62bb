// Why a process ended: a typed cause, how sure the agent is, and the evidence, decided when the
// child is reaped (or its spawn failed). Pure: the OOM facts come in as data, gathered by the
// OomEvidence port (agent/crash/ports.h). One restart engine serves every cause: the guardians
// of wave 2 add values here, not a second path (DESIGN.md, "Process ownership").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/process/exit_info.h"

namespace zagent {

/// The cause names are a contract (scripts, `zctl why`, crash records): see cause_name().
enum class CauseKind {
  Exited,          ///< exited on its own with a code (expected or not)
  Signaled,        ///< killed by a signal the agent did not send
  OomKilled,       ///< killed by the kernel's OOM killer (with evidence)
  SpawnFailed,     ///< the command could not be started
  Stopped,         ///< an operator stop, reload, update or shutdown
  StopTimeout,     ///< stopwaitsecs ran out and SIGKILL was sent
  MemoryLimit,     ///< guardian: the tree's RSS passed its cap
  MemoryGrowth,    ///< guardian: the tree's RSS kept growing
  CpuLimit,        ///< guardian: CPU over its cap for too long
  OutputPattern,   ///< guardian: a line matched a restart pattern
  GpuWatermark,    ///< guardian: the GPU's free memory fell under the watermark
  GpuMemoryLimit,  ///< guardian: the program's GPU memory passed its cap
  HealthFailed,    ///< guardian: the liveness check failed
};

/// "exited", "signaled", "oom_killed", "spawn_failed", "stopped", "stop_timeout",
/// "memory_limit", "memory_growth", "cpu_limit", "output_pattern", "gpu_watermark",
/// "gpu_memory_limit", "health_failed".
std::string_view cause_name(CauseKind cause);
std::optional<CauseKind> cause_from_name(std::string_view name);

/// How sure the cause is. `certain`: the wait status, the agent's own action, the program's
/// cgroup or the kernel log says so. `probable`: circumstantial (a machine-wide counter).
enum class Confidence { Certain, Probable };
std::string_view confidence_name(Confidence confidence);
std::optional<Confidence> confidence_from_name(std::string_view name);

/// One piece of evidence: where it comes from (`cgroup`, `kmsg`, `vmstat`, `wait_status`,
/// `agent`) and what it says.
struct Evidence {
  std::string source;
  std::string text;
  friend bool operator==(const Evidence&, const Evidence&) = default;
};

/// The verdict on one exit.
struct ExitCause {
  CauseKind kind = CauseKind::Exited;
  Confidence confidence = Confidence::Certain;
  bool expected = false;           ///< exit code in exitcodes (never after a signal)
  std::vector<Evidence> evidence;  ///< strongest first; always at least one entry
  std::string note;                ///< e.g. a wrapper shell's 137; "" = none
  friend bool operator==(const ExitCause&, const ExitCause&) = default;
};

/// An OOM kill the kernel logged (`Killed process PID (comm)`), already matched to the
/// program by the port (its pid, or its cgroup).
struct KernelKill {
  pid_t pid = 0;
  std::string comm;
  std::string text;  ///< the record's words, e.g. `Killed process 4242 (python3)`
  friend bool operator==(const KernelKill&, const KernelKill&) = default;
};

/// What the OOM evidence port found for one exit. Each part is empty when that source is not
/// available (no cgroup leaf, /dev/kmsg not readable, /proc/vmstat not readable).
struct OomFacts {
  /// memory.events oom_kill of the program's own cgroup: the rise during this run.
  std::optional<std::int64_t> cgroup_oom_kills;
  std::string cgroup_path;          ///< the leaf, for the evidence text
  std::vector<KernelKill> kernel_kills;  ///< kmsg kills of the program's pids during the run
  /// /proc/vmstat oom_kill (machine-wide): the rise during this run.
  std::optional<std::int64_t> vmstat_oom_kills;
  friend bool operator==(const OomFacts&, const OomFacts&) = default;
};

/// Who ended the child, as the state machine knows it.
enum class EndedBy {
  Itself,       ///< nobody the agent knows of
  Stop,         ///< the agent's stop (operator, reload, update, shutdown): stopsignal
  StopTimeout,  ///< the agent sent SIGKILL after stopwaitsecs
  Guardian,     ///< a guardian's restart (see ExitFacts::guardian)
};

/// Everything the decision looks at.
struct ExitFacts {
  ExitInfo exit;
  bool expected = false;  ///< exit code in exitcodes
  EndedBy ended_by = EndedBy::Itself;
  std::optional<CauseKind> guardian;  ///< with EndedBy::Guardian: which guardian
  Evidence guardian_evidence;         ///< its words (source `sampler`, `output`, ...)
  int stopsignal = 15;                ///< the program's stopsignal (for the evidence text)
  std::int64_t stopwaitsecs = 10;
  /// The signal a `signal` request sent in this run (its death is the operator's doing).
  std::optional<int> operator_signal;
  OomFacts oom;
};

/// Whether an exit needs OOM evidence at all: death by SIGKILL the agent did not send, or a
/// shell status 137 (a wrapper's child killed). Cheap: the port is asked only then.
bool needs_oom_evidence(const ExitInfo& exit, EndedBy ended_by,
                        std::optional<int> operator_signal);

/// The decision, strongest first: a guardian's restart; the agent's stop (stop_timeout when
/// SIGKILL was sent); the program's cgroup or the kernel log naming its pid (oom_killed,
/// certain); a SIGKILL nobody sent while the machine-wide OOM counter rose (oom_killed,
/// probable); otherwise the wait status (signaled or exited). A wrapper shell's 137/139 stays
/// `exited` with a note and whatever OOM evidence there is.
ExitCause attribute_exit(const ExitFacts& facts);

/// A spawn failure: cause spawn_failed, the spawnerr as evidence.
ExitCause spawn_failure_cause(const std::string& spawn_error);

/// What a shell would print for the exit: the code, or 128 + the signal; nullopt when the
/// status is neither.
std::optional<int> shell_status(const ExitInfo& exit);

}  // namespace zagent
