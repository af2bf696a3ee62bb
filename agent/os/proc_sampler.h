// The TreeSampler over /proc. A pass lists /proc and reads the stat line of the processes it
// must: every tree member (CPU, RSS, threads) and every pid it has not seen before (its parent
// may be a member). A process seen outside every tree keeps its cached line: it cannot join a
// tree (a parent is never changed to a tree member), except through a reused pid, which the
// full pass every kFullEvery passes catches. While /proc/loadavg's last pid stays the same no
// process was created and /proc is not listed at all. PSS (smaps_rollup, which makes the
// kernel walk the page tables) and the open fds are read for new members and every
// kDetailsEvery passes, and reused in between. A member's stat file is kept open and read
// again with pread (an open file of an ended process never shows its pid's next owner).
// Runs on the event loop (docs/monitoring.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/monitor/ports.h"

namespace zagent {

class SystemTreeSampler final : public TreeSampler {
 public:
  /// Every this many passes, /proc is listed and every stat line read afresh.
  static constexpr std::uint64_t kFullEvery = 6;
  /// Every this many passes, the PSS and fd count of every member is read afresh (5 minutes
  /// at the default sample_interval); in between, a member's are those of its first pass.
  static constexpr std::uint64_t kDetailsEvery = 30;

  /// `proc_root`: /proc, or a fake tree in tests.
  explicit SystemTreeSampler(std::string proc_root = "/proc");
  ~SystemTreeSampler() override;
  SystemTreeSampler(const SystemTreeSampler&) = delete;
  SystemTreeSampler& operator=(const SystemTreeSampler&) = delete;
  std::vector<std::optional<TreeFigures>> sample(const std::vector<pid_t>& roots) override;

  /// Stat lines read by the last pass, and whether it listed /proc (for tests).
  std::size_t stat_reads() const { return stat_reads_; }
  bool listed() const { return listed_; }

 private:
  /// A member's stat line into buffer_: one pread of its kept stat file, or an open (kept
  /// while fd_budget_ allows). False when the process is gone.
  bool read_member_stat(int proc, pid_t pid);

  struct Known {
    ProcStat stat;
    bool member = false;  // in some program's tree at the last pass
    MemberExtras extras;  // members only
  };
  std::string root_;
  long ticks_per_second_;
  long page_size_;
  std::string buffer_;  // reused for every file read
  std::unordered_map<pid_t, Known> known_;  // the last pass
  std::uint64_t passes_ = 0;
  std::size_t stat_reads_ = 0;
  bool listed_ = false;
  std::optional<long> last_pid_;  // /proc/loadavg's last field at the last pass
  std::unordered_map<pid_t, int> stat_fds_;  // members' /proc/PID/stat, kept open
  std::size_t fd_budget_ = 256;              // the most kept open
};

}  // namespace zagent
