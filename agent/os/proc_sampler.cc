#include "agent/os/proc_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
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
    if (n == 0) {
      return true;
    }
    out.append(chunk, static_cast<std::size_t>(n));
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
      page_size_(::sysconf(_SC_PAGESIZE)) {}

std::vector<std::optional<TreeFigures>> SystemTreeSampler::sample(const std::vector<pid_t>& roots) {
  std::vector<std::optional<TreeFigures>> out(roots.size());
  Fd proc(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (proc.fd < 0) {
    return out;
  }
  // Every process's stat line: the parent links make the trees.
  std::vector<ProcStat> all;
  {
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
      path.assign(e->d_name).append("/stat");
      if (read_at(proc.fd, path.c_str(), buffer_)) {
        if (auto stat = parse_proc_stat(buffer_)) {
          all.push_back(*stat);
        }
      }
    }
    ::closedir(dir);
  }
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const std::vector<std::size_t> members = tree_members(roots[i], all);
    if (members.empty()) {
      continue;
    }
    std::vector<MemberExtras> extras(members.size());
    for (std::size_t k = 0; k < members.size(); ++k) {
      const ProcStat& s = all[members[k]];
      if (s.state == 'Z') {
        continue;
      }
      char path[40];
      std::snprintf(path, sizeof path, "%d/smaps_rollup", static_cast<int>(s.pid));
      if (read_at(proc.fd, path, buffer_)) {
        extras[k].pss_bytes = parse_pss_bytes(buffer_);
      }
      extras[k].fds = count_fds(proc.fd, s.pid);
    }
    out[i] = sum_tree(all, members, extras, ticks_per_second_, page_size_);
  }
  return out;
}

}  // namespace zagent
