// The ports of crash attribution: where the OOM evidence comes from, where records and
// snapshots go, and who runs snapshot_command. The supervisor (pure) calls them; the daemon
// connects the real ones (agent/os/oom_evidence, agent/crash/crash_store,
// agent/os/snapshot_runner). Tests use fakes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/crash/crash_record.h"
#include "agent/process/exit_cause.h"
#include "agent/process/clock.h"

namespace zagent {

/// The counters at a spawn, to compare with at the exit.
struct OomBaseline {
  std::optional<std::int64_t> vmstat_oom_kills;  ///< /proc/vmstat oom_kill
  std::optional<std::int64_t> cgroup_oom_kills;  ///< the leaf's memory.events oom_kill
  SteadyTime spawned{};                          ///< kernel kills before this are not ours
  friend bool operator==(const OomBaseline&, const OomBaseline&) = default;
};

class OomEvidence {
 public:
  virtual ~OomEvidence() = default;
  /// The `cgroup.procs` file a new child of `program` (namespec) joins before exec, or ""
  /// (no cgroup: never a reason to fail a start).
  virtual std::string cgroup_procs_for(const std::string& program) = 0;
  /// Counters when `program`'s child was spawned. Cheap (a file read or two, no kmsg).
  virtual OomBaseline at_spawn(const std::string& program) = 0;
  /// What the sources say about an exit that needs evidence (needs_oom_evidence()). `pids`:
  /// the program's pid and the descendants the agent knows of. Reads the kernel log now.
  virtual OomFacts at_exit(const std::string& program, const std::vector<pid_t>& pids,
                           const OomBaseline& baseline) = 0;
  /// The program is gone from the config: its cgroup leaf may be removed once empty.
  virtual void forget(const std::string& program) = 0;
};

/// Where records and snapshots go.
class CrashSink {
 public:
  virtual ~CrashSink() = default;
  /// Keeps `record` as its program's newest; when `snapshot` is given, chooses a file name
  /// that never collides, sets record.snapshot to it and writes the file off the loop (after
  /// the caller's respawn, never delaying it). Returns the record as kept.
  virtual CrashRecord add(CrashRecord record, std::optional<nlohmann::json> snapshot) = 0;
};

/// What the resource monitor knows of a program when it ends.
class ResourceSource {
 public:
  virtual ~ResourceSource() = default;
  /// For the crash record: the newest sample and the trend; nullopt = nothing sampled.
  virtual std::optional<nlohmann::json> summary(const std::string& program) = 0;
  /// For the snapshot: the summary and the samples of the last minutes; nullopt = none.
  virtual std::optional<nlohmann::json> series(const std::string& program) = 0;
};

/// What the GPU monitor knows when a program ends.
class GpuStateSource {
 public:
  virtual ~GpuStateSource() = default;
  /// For the crash record: the program's devices and its GPU memory at the newest reading;
  /// nullopt = no reading, or the program uses no GPU.
  virtual std::optional<nlohmann::json> gpu_state(const std::string& program) = 0;
  /// For the snapshot: every device and its users (zagent.getGpuStatus); nullopt = no reading.
  virtual std::optional<nlohmann::json> gpu_snapshot() = 0;
};

/// Runs snapshot_command while the process is still alive.
class SnapshotRunner {
 public:
  virtual ~SnapshotRunner() = default;
  /// Runs `command` with /bin/sh -c; calls `done` with its output (stdout and stderr, capped)
  /// on the loop thread when it exits, or when `timeout` passes (then it is killed).
  virtual void run(const std::string& command, std::chrono::milliseconds timeout,
                   std::function<void(std::string output)> done) = 0;
};

}  // namespace zagent
