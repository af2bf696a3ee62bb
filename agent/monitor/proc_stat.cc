#include "agent/monitor/proc_stat.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace zagent {
namespace {

// The next space-separated field of `rest`, or "" at the end.
std::string_view next_field(std::string_view& rest) {
  const std::size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  const std::size_t end = rest.find(' ');
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat s;
  const std::size_t open = text.find(" (");
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  if (!parse_number(text.substr(0, open), s.pid)) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) {
    rest.remove_suffix(1);
  }
  // Field 3 (state) onwards; index i below is the field number.
  int field = 3;
  bool ok = true;
  for (std::string_view f = next_field(rest); !f.empty() && field <= 24;
       f = next_field(rest), ++field) {
    switch (field) {
      case 3:
        s.state = f.size() == 1 ? f[0] : '?';
        break;
      case 4:
        ok = ok && parse_number(f, s.ppid);
        break;
      case 14:
        ok = ok && parse_number(f, s.utime);
        break;
      case 15:
        ok = ok && parse_number(f, s.stime);
        break;
      case 16:
        ok = ok && parse_number(f, s.cutime);
        break;
      case 17:
        ok = ok && parse_number(f, s.cstime);
        break;
      case 20:
        ok = ok && parse_number(f, s.threads);
        break;
      case 22:
        ok = ok && parse_number(f, s.starttime);
        break;
      case 24:
        ok = ok && parse_number(f, s.rss_pages);
        break;
      default:
        break;
    }
  }
  if (!ok || field <= 24) {
    return std::nullopt;
  }
  return s;
}

std::optional<std::uint64_t> parse_pss_bytes(std::string_view smaps) {
  std::optional<std::uint64_t> total;
  std::size_t pos = 0;
  while (pos < smaps.size()) {
    std::size_t end = smaps.find('\n', pos);
    if (end == std::string_view::npos) {
      end = smaps.size();
    }
    std::string_view line = smaps.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with("Pss:")) {
      continue;  // Pss_Anon:, Pss_File: ... are parts of Pss:
    }
    line.remove_prefix(4);
    std::string_view kb = next_field(line);
    std::uint64_t value = 0;
    if (!parse_number(kb, value)) {
      return std::nullopt;
    }
    total = total.value_or(0) + value * 1024;
  }
  return total;
}

ProcessIndex::ProcessIndex(const std::vector<ProcStat>& all) : all_(all) {
  children_.reserve(all.size());
  by_pid_.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    children_.emplace_back(all[i].ppid, i);
    by_pid_.emplace_back(all[i].pid, i);
  }
  std::sort(children_.begin(), children_.end());
  std::sort(by_pid_.begin(), by_pid_.end());
}

std::vector<std::size_t> ProcessIndex::tree(pid_t root) const {
  std::vector<std::size_t> members;
  const auto at = std::lower_bound(by_pid_.begin(), by_pid_.end(),
                                   std::pair<pid_t, std::size_t>(root, 0));
  if (at == by_pid_.end() || at->first != root || all_[at->second].state == 'Z') {
    return members;
  }
  members.push_back(at->second);
  // Breadth first; `members` doubles as the queue. A pid is never its own ancestor in /proc,
  // but a snapshot read over time could show a cycle: the size bound ends any loop.
  for (std::size_t next = 0; next < members.size() && members.size() <= all_.size(); ++next) {
    const pid_t parent = all_[members[next]].pid;
    auto it = std::lower_bound(children_.begin(), children_.end(),
                               std::pair<pid_t, std::size_t>(parent, 0));
    for (; it != children_.end() && it->first == parent; ++it) {
      if (it->second != members[next]) {
        members.push_back(it->second);
      }
    }
  }
  return members;
}

std::vector<std::size_t> tree_members(pid_t root, const std::vector<ProcStat>& all) {
  return ProcessIndex(all).tree(root);
}

TreeFigures sum_tree(const std::vector<ProcStat>& all, const std::vector<std::size_t>& members,
                     const std::vector<MemberExtras>& extras, long ticks_per_second,
                     long page_size) {
  TreeFigures t;
  std::uint64_t ticks = 0;
  std::uint64_t pss = 0;
  std::int64_t fds = 0;
  bool pss_known = true;
  bool fds_known = true;
  for (std::size_t k = 0; k < members.size(); ++k) {
    const ProcStat& s = all[members[k]];
    t.processes += 1;
    ticks += s.utime + s.stime + s.cutime + s.cstime;
    t.threads += s.threads;
    if (s.state == 'Z') {
      continue;  // nothing resident, no fds
    }
    t.rss_bytes += static_cast<std::uint64_t>(std::max<std::int64_t>(s.rss_pages, 0)) *
                   static_cast<std::uint64_t>(page_size);
    const MemberExtras* x = k < extras.size() ? &extras[k] : nullptr;
    if (x != nullptr && x->pss_bytes) {
      pss += *x->pss_bytes;
    } else {
      pss_known = false;
    }
    if (x != nullptr && x->fds) {
      fds += *x->fds;
    } else {
      fds_known = false;
    }
  }
  t.cpu_seconds = ticks_per_second > 0
                      ? static_cast<double>(ticks) / static_cast<double>(ticks_per_second)
                      : 0.0;
  if (pss_known && !members.empty()) {
    t.pss_bytes = pss;
  }
  if (fds_known && !members.empty()) {
    t.fds = fds;
  }
  return t;
}

}  // namespace zagent
