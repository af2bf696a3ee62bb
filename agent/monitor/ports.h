// The resource monitor's port: who reads the process trees (agent/os/proc_sampler over /proc;
// tests use fakes).
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "agent/monitor/proc_stat.h"

namespace zagent {

class TreeSampler {
 public:
  virtual ~TreeSampler() = default;
  /// The figures of each tree rooted at `roots` (same order), all read in one pass over the
  /// machine's processes; nullopt for a root that is gone.
  virtual std::vector<std::optional<TreeFigures>> sample(const std::vector<pid_t>& roots) = 0;
};

}  // namespace zagent

namespace zagent {

/// Who a pid is, for the GPU monitor's attribution: its parent and start time from
/// /proc/PID/stat (agent/os/proc_lineage; tests use fakes).
class ProcessLineage {
 public:
  struct Entry {
    pid_t ppid = 0;
    unsigned long long start_time = 0;  ///< clock ticks after boot (/proc/PID/stat field 22)
  };
  virtual ~ProcessLineage() = default;
  /// nullopt when the pid is gone or unreadable.
  virtual std::optional<Entry> lookup(pid_t pid) = 0;
  /// False when the agent runs in a pid namespace of its own (a container): the pids the
  /// driver reports are the host's and mean nothing here.
  virtual bool host_pid_namespace() = 0;
};

}  // namespace zagent
