#include "agent/os/proc_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace zagent {
namespace {

// An fd that closes itself.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// Reads the whole (small) file `path` under `dir` into `out`; false when it cannot be read.
bool read_at(int dir, const char* path, std::string& out) {
  Fd f(::openat(dir, path, O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) {
    return false;
  }
  out.clear();
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(f.fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    out.append(chunk, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < sizeof chunk) {
      return true;  // a /proc file comes whole in one read: no second read for the end
    }
  }
}

// The number of entries in `pid`/fd, without . and ..; nullopt when it cannot be listed.
std::optional<std::int64_t> count_fds(int proc, pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "%d/fd", static_cast<int>(pid));
  const int fd = ::openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return std::nullopt;
  }
  std::int64_t count = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++count;
    }
  }
  ::closedir(dir);
  return count;
}

bool all_digits(const char* s) {
  if (*s == '\0') {
    return false;
  }
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

SystemTreeSampler::SystemTreeSampler(std::string proc_root)
    : root_(std::move(proc_root)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)) {
  // A quarter of the soft fd limit at most: the children's pipes come first.
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    fd_budget_ = static_cast<std::size_t>(limit.rlim_cur / 4);
  }
}

SystemTreeSampler::~SystemTreeSampler() {
  for (const auto& [pid, fd] : stat_fds_) {
    ::close(fd);
  }
}

bool SystemTreeSampler::read_member_stat(int proc, pid_t pid) {
  ++stat_reads_;
  const auto pread_stat = [this](int fd) {
    buffer_.resize(4096);
    const ssize_t n = ::pread(fd, buffer_.data(), buffer_.size(), 0);
    buffer_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return n > 0;
  };
  if (const auto it = stat_fds_.find(pid); it != stat_fds_.end()) {
    if (pread_stat(it->second)) {
      return true;
    }
    ::close(it->second);  // that process is gone (its pid may be someone else's now)
    stat_fds_.erase(it);
    return false;
  }
  char path[32];
  std::snprintf(path, sizeof path, "%d/stat", static_cast<int>(pid));
  const int fd = ::openat(proc, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool ok = pread_stat(fd);
  if (ok && stat_fds_.size() < fd_budget_) {
    stat_fds_.emplace(pid, fd);  // kept open: the next pass is one pread
  } else {
    ::close(fd);
  }
  return ok;
}

std::vector<std::optional<TreeFigures>> SystemTreeSampler::sample(
    const std::vector<pid_t>& roots) {
  std::vector<std::optional<TreeFigures>> out(roots.size());
  Fd proc(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (proc.fd < 0) {
    return out;
  }
  const bool full = passes_ % kFullEvery == 0;
  const bool details = passes_ % kDetailsEvery == 0;
  ++passes_;
  stat_reads_ = 0;
  listed_ = false;
  // The last pid the kernel handed out: while it stays the same, no process (or thread) was
  // created, so no tree can have a new member and /proc need not be listed.
  std::optional<long> last_pid;
  if (read_at(proc.fd, "loadavg", buffer_)) {
    const std::size_t space = buffer_.find_last_of(' ');
    if (space != std::string::npos) {
      last_pid = std::strtol(buffer_.c_str() + space + 1, nullptr, 10);
    }
  }
  const bool quiet = !full && last_pid && last_pid == last_pid_;
  last_pid_ = last_pid;
  // Every process's stat line (fresh for members and new pids): the parent links.
  std::vector<ProcStat> all;
  all.reserve(known_.size() + 16);
  if (quiet) {
    for (const auto& [pid, known] : known_) {
      if (!known.member) {
        all.push_back(known.stat);
        continue;
      }
      if (read_member_stat(proc.fd, pid)) {
        if (auto stat = parse_proc_stat(buffer_)) {
          all.push_back(*stat);
        }
      }
    }
  } else {
    listed_ = true;
    const int dup = ::dup(proc.fd);
    DIR* dir = dup >= 0 ? ::fdopendir(dup) : nullptr;
    if (dir == nullptr) {
      if (dup >= 0) {
        ::close(dup);
      }
      return out;
    }
    std::string path;
    while (const dirent* e = ::readdir(dir)) {
      if (!all_digits(e->d_name)) {
        continue;
      }
      const auto pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
      const auto it = known_.find(pid);
      if (!full && it != known_.end() && !it->second.member) {
        all.push_back(it->second.stat);
        continue;
      }
      if (it != known_.end() && it->second.member) {
        if (read_member_stat(proc.fd, pid)) {
          if (auto stat = parse_proc_stat(buffer_)) {
            all.push_back(*stat);
          }
        }
        continue;
      }
      path.assign(e->d_name).append("/stat");
      ++stat_reads_;
      if (read_at(proc.fd, path.c_str(), buffer_)) {
        if (auto stat = parse_proc_stat(buffer_)) {
          all.push_back(*stat);
        }
      }
    }
    ::closedir(dir);
  }
  const ProcessIndex index(all);
  std::unordered_map<pid_t, Known> next;
  next.reserve(all.size());
  for (const ProcStat& s : all) {
    next.emplace(s.pid, Known{s, false, {}});
  }
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const std::vector<std::size_t> members = index.tree(roots[i]);
    if (members.empty()) {
      continue;
    }
    std::vector<MemberExtras> extras(members.size());
    for (std::size_t k = 0; k < members.size(); ++k) {
      const ProcStat& s = all[members[k]];
      Known& known = next.at(s.pid);
      known.member = true;
      if (s.state == 'Z') {
        continue;
      }
      const auto before = known_.find(s.pid);
      if (!details && before != known_.end() && before->second.member &&
          before->second.stat.starttime == s.starttime) {
        extras[k] = before->second.extras;  // the same process: its figures of a pass ago
      } else {
        char path[40];
        std::snprintf(path, sizeof path, "%d/smaps_rollup", static_cast<int>(s.pid));
        if (read_at(proc.fd, path, buffer_)) {
          extras[k].pss_bytes = parse_pss_bytes(buffer_);
        }
        extras[k].fds = count_fds(proc.fd, s.pid);
      }
      known.extras = extras[k];
    }
    out[i] = sum_tree(all, members, extras, ticks_per_second_, page_size_);
  }
  known_ = std::move(next);
  // The kept stat files of processes no longer in a tree are closed.
  std::erase_if(stat_fds_, [this](const auto& item) {
    const auto it = known_.find(item.first);
    if (it != known_.end() && it->second.member) {
      return false;
    }
    ::close(item.second);
    return true;
  });
  return out;
}

}  // namespace zagent
