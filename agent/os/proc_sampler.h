// The TreeSampler over /proc: one pass over /proc/*/stat finds every program's descendants;
// smaps_rollup (PSS) and fd/ (open fds) are read for the tree members only. Runs on the
// event loop: a pass is a few system calls per process on the machine (docs/monitoring.md).
#pragma once

#include <string>

#include "agent/monitor/ports.h"

namespace zagent {

class SystemTreeSampler final : public TreeSampler {
 public:
  /// `proc_root`: /proc, or a fake tree in tests.
  explicit SystemTreeSampler(std::string proc_root = "/proc");
  std::vector<std::optional<TreeFigures>> sample(const std::vector<pid_t>& roots) override;

 private:
  std::string root_;
  long ticks_per_second_;
  long page_size_;
  std::string buffer_;  // reused for every file read
};

}  // namespace zagent
