// What one process tree uses, from the text of /proc: the parsers of /proc/PID/stat and
// /proc/PID/smaps_rollup, the tree's members by parent pid, and the sum over the members.
// Pure: the adapter (agent/os/proc_sampler) reads the files and hands the text in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace zagent {

/// The fields of /proc/PID/stat a tree sample needs (proc(5)); times in clock ticks.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  std::uint64_t utime = 0;      ///< field 14
  std::uint64_t stime = 0;      ///< field 15
  std::uint64_t cutime = 0;     ///< field 16: waited-for children, so a reaped child's CPU stays
  std::uint64_t cstime = 0;     ///< field 17
  std::int64_t threads = 0;     ///< field 20
  std::uint64_t starttime = 0;  ///< field 22: ticks after boot (tells a reused pid)
  std::int64_t rss_pages = 0;   ///< field 24
  friend bool operator==(const ProcStat&, const ProcStat&) = default;
};

/// One /proc/PID/stat line. The command name may hold spaces and parentheses: the fields
/// start after the last ')'. nullopt when the text is not such a line.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

/// The `Pss:` figure of /proc/PID/smaps_rollup (or smaps, summed), in bytes; nullopt when
/// there is none.
std::optional<std::uint64_t> parse_pss_bytes(std::string_view smaps);

/// The parent links of one snapshot of every process of the machine, indexed once so that
/// each program's tree is found in time proportional to its size.
class ProcessIndex {
 public:
  explicit ProcessIndex(const std::vector<ProcStat>& all);
  /// The members of the tree rooted at `root` as indexes into `all`: the root first, then its
  /// descendants breadth first, children in the order of `all`. Empty when the root is not in
  /// `all` or is a zombie.
  std::vector<std::size_t> tree(pid_t root) const;

 private:
  const std::vector<ProcStat>& all_;
  std::vector<std::pair<pid_t, std::size_t>> children_;  // (parent pid, index), sorted
  std::vector<std::pair<pid_t, std::size_t>> by_pid_;    // (pid, index), sorted
};

/// ProcessIndex(all).tree(root), for one tree.
std::vector<std::size_t> tree_members(pid_t root, const std::vector<ProcStat>& all);

/// What a member adds beyond its stat line; each part is nullopt when it could not be read
/// (another user's process, a process that just ended).
struct MemberExtras {
  std::optional<std::uint64_t> pss_bytes;
  std::optional<std::int64_t> fds;
};

/// The sum over one tree at one moment (zombies count as members with nothing resident).
struct TreeFigures {
  std::int64_t processes = 0;
  double cpu_seconds = 0;  ///< user + system of the members and the children they reaped
  std::uint64_t rss_bytes = 0;
  std::optional<std::uint64_t> pss_bytes;  ///< nullopt when some member's PSS is unknown
  std::int64_t threads = 0;
  std::optional<std::int64_t> fds;  ///< nullopt when some member's fds are unknown
  friend bool operator==(const TreeFigures&, const TreeFigures&) = default;
};

/// Sums the members (indexes into `all`, as tree_members() returns them) with their extras
/// (same order). `ticks_per_second` is sysconf(_SC_CLK_TCK), `page_size` sysconf(_SC_PAGESIZE).
TreeFigures sum_tree(const std::vector<ProcStat>& all, const std::vector<std::size_t>& members,
                     const std::vector<MemberExtras>& extras, long ticks_per_second,
                     long page_size);

}  // namespace zagent
