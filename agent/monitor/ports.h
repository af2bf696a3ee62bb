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
