#include "agent/os/oom_evidence.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "agent/crash/oom_parse.h"

namespace zagent {

namespace {

// Kernel kills remembered between reads: an exit is asked about right after its reap, so
// only the last few matter.
constexpr std::size_t kKeptKills = 64;
// Reads of the kernel log in one at_exit(): a log that never stops growing (a flood of
// messages) must not keep the loop thread; what is left is read at the next exit.
constexpr int kMaxKmsgReads = 4096;
// The kernel stamps its log with its scheduler clock and the agent's steady time is
// CLOCK_MONOTONIC: both count from boot without suspend, but are not the same clock.
constexpr std::int64_t kClockToleranceUsec = 1'000'000;

// A whole small file (cgroup and /proc files are generated at read, in any size).
std::optional<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string text;
  std::array<char, 4096> buf;
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      text.append(buf.data(), static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

// Writes `text` to an existing file in one write() (a cgroup file takes one command per
// write); 0, or the errno of the failure.
int write_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  ssize_t n = 0;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  const int err = n < 0 ? errno : (static_cast<std::size_t>(n) != text.size() ? EIO : 0);
  ::close(fd);
  return err;
}

// Whether a space-separated list (cgroup.controllers, cgroup.subtree_control) names `word`.
bool lists_word(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    const auto start = list.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) {
      return false;
    }
    list.remove_prefix(start);
    const auto end = list.find_first_of(" \t\n");
    if (list.substr(0, end) == word) {
      return true;
    }
    list.remove_prefix(end == std::string_view::npos ? list.size() : end);
  }
  return false;
}

// The cgroup v2 path of the `0::/path` line of /proc/self/cgroup.
std::optional<std::string> unified_path(std::string_view text) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.starts_with("0::/")) {
      return std::string(line.substr(3));
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> read_counter(const std::string& path, std::string_view key) {
  const auto text = read_small_file(path);
  return text ? counter_value(*text, key) : std::nullopt;
}

std::optional<std::int64_t> rise(std::optional<std::int64_t> before,
                                 std::optional<std::int64_t> now) {
  if (!before || !now) {
    return std::nullopt;
  }
  return std::max<std::int64_t>(0, *now - *before);
}

}  // namespace

SystemOomEvidence::SystemOomEvidence(OomEvidenceOptions options) : options_(std::move(options)) {
  std::string kmsg_words;
  kmsg_fd_ = ::open(options_.kmsg_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (kmsg_fd_ >= 0) {
    // Only kills logged from now on: what the buffer already holds is older than any child.
    ::lseek(kmsg_fd_, 0, SEEK_END);
    kmsg_words = "kmsg open";
  } else {
    kmsg_words = "kmsg not readable (" + options_.kmsg_path + ": " + std::strerror(errno) + ")";
  }
  vmstat_readable_ = read_counter(options_.vmstat_path, "oom_kill").has_value();
  probe_cgroups();
  description_ +=
      "; " + kmsg_words + "; " +
      (vmstat_readable_ ? "vmstat readable" : "vmstat not readable (" + options_.vmstat_path + ")");
}

SystemOomEvidence::~SystemOomEvidence() {
  if (kmsg_fd_ >= 0) {
    ::close(kmsg_fd_);
  }
}

void SystemOomEvidence::probe_cgroups() {
  if (!options_.use_cgroups) {
    description_ = "no cgroup leaves (not asked for)";
    return;
  }
  const auto self = read_small_file(options_.self_cgroup_path);
  const auto relative = self ? unified_path(*self) : std::nullopt;
  if (!relative) {
    description_ = "no cgroup leaves (no cgroup v2 line in " + options_.self_cgroup_path + ")";
    return;
  }
  std::string rel = *relative;
  // An agent started again inside the leaf an earlier run moved it to uses the same parent.
  const std::string agent_leaf_name = options_.leaf_prefix + "agent";
  if (rel.size() > agent_leaf_name.size() && rel.ends_with("/" + agent_leaf_name)) {
    rel.resize(rel.size() - agent_leaf_name.size() - 1);
  }
  if (rel == "/") {
    rel.clear();
  }
  std::string dir;
  for (const std::string& mount : options_.cgroup_mounts) {
    const auto controllers = read_small_file(mount + rel + "/cgroup.controllers");
    if (controllers && lists_word(*controllers, "memory")) {
      dir = mount + rel;
      break;
    }
  }
  if (dir.empty()) {
    description_ = "no cgroup leaves (no cgroup v2 memory controller for " +
                   (rel.empty() ? std::string("/") : rel) + ")";
    return;
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    description_ = "no cgroup leaves (" + dir + ": " + std::strerror(errno) + ")";
    return;
  }
  const std::string subtree = dir + "/cgroup.subtree_control";
  const auto enabled = read_small_file(subtree);
  if (!enabled) {
    description_ = "no cgroup leaves (" + subtree + " not readable)";
    return;
  }
  std::string moved;
  if (!lists_word(*enabled, "memory")) {
    int err = write_file(subtree, "+memory");
    if (err == EBUSY) {
      // cgroup v2's "no internal processes" rule: a cgroup with processes of its own cannot
      // give its children a controller. The agent's own cgroup has the agent in it, so the
      // agent moves into a leaf of its own first.
      const std::string leaf = dir + "/" + agent_leaf_name;
      const bool made = ::mkdir(leaf.c_str(), 0755) == 0;
      const std::string pid = std::to_string(::getpid());
      if (write_file(leaf + "/cgroup.procs", pid) == 0) {
        err = write_file(subtree, "+memory");
        if (err != 0) {
          // Another process shares the cgroup: put everything back as it was.
          write_file(dir + "/cgroup.procs", pid);
        } else {
          moved = leaf;
        }
      }
      if (moved.empty() && made) {
        ::rmdir(leaf.c_str());
      }
    }
    if (err != 0) {
      description_ =
          "no cgroup leaves (enabling memory in " + subtree + ": " + std::strerror(err) + ")";
      return;
    }
  }
  cgroup_dir_ = dir;
  description_ = "cgroup v2 leaves under " + dir;
  if (!moved.empty()) {
    description_ += " (the agent moved to " + moved + ")";
  }
}

std::string SystemOomEvidence::leaf_name(const std::string& prefix, const std::string& program) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string name = prefix;
  for (const char c : program) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '-') {
      name += c;
    } else {
      name += '%';
      name += kHex[u >> 4];
      name += kHex[u & 0xF];
    }
  }
  return name;
}

std::string SystemOomEvidence::cgroup_procs_for(const std::string& program) {
  if (cgroup_dir_.empty()) {
    return "";
  }
  auto it = leaves_.find(program);
  if (it == leaves_.end()) {
    std::string leaf = cgroup_dir_ + "/" + leaf_name(options_.leaf_prefix, program);
    // EEXIST: left by an earlier run of the agent; it is the same program's, so reused.
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
      return "";
    }
    it = leaves_.emplace(program, std::move(leaf)).first;
  }
  return it->second + "/cgroup.procs";
}

OomBaseline SystemOomEvidence::at_spawn(const std::string& program) {
  OomBaseline baseline;
  baseline.spawned = std::chrono::steady_clock::now();
  if (vmstat_readable_) {
    baseline.vmstat_oom_kills = read_counter(options_.vmstat_path, "oom_kill");
  }
  if (const auto it = leaves_.find(program); it != leaves_.end()) {
    baseline.cgroup_oom_kills = read_counter(it->second + "/memory.events", "oom_kill");
  }
  return baseline;
}

OomFacts SystemOomEvidence::at_exit(const std::string& program, const std::vector<pid_t>& pids,
                                    const OomBaseline& baseline) {
  OomFacts facts;
  if (const auto it = leaves_.find(program); it != leaves_.end()) {
    facts.cgroup_oom_kills =
        rise(baseline.cgroup_oom_kills, read_counter(it->second + "/memory.events", "oom_kill"));
    if (facts.cgroup_oom_kills) {
      facts.cgroup_path = it->second;
    }
  }
  if (vmstat_readable_) {
    facts.vmstat_oom_kills =
        rise(baseline.vmstat_oom_kills, read_counter(options_.vmstat_path, "oom_kill"));
  }
  if (kmsg_fd_ >= 0) {
    read_kmsg();
    const std::int64_t since =
        std::chrono::duration_cast<std::chrono::microseconds>(baseline.spawned.time_since_epoch())
            .count() -
        kClockToleranceUsec;
    for (auto it = kills_.begin(); it != kills_.end();) {
      const bool ours = std::find(pids.begin(), pids.end(), it->kill.pid) != pids.end() &&
                        static_cast<std::int64_t>(it->ts_usec) >= since;
      if (ours) {
        // Reported once: a later process that reuses the pid must not get it again.
        facts.kernel_kills.push_back(std::move(it->kill));
        it = kills_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return facts;
}

void SystemOomEvidence::forget(const std::string& program) {
  const auto it = leaves_.find(program);
  if (it == leaves_.end()) {
    return;
  }
  // EBUSY: a process of the program still lives in it (it outlived its stop); the leaf
  // stays, and a program of the same name added later reuses it.
  ::rmdir(it->second.c_str());
  leaves_.erase(it);
}

void SystemOomEvidence::read_kmsg() {
  // /dev/kmsg gives one whole record per read() (EINVAL if the buffer cannot hold it; a
  // record is at most 8 KiB); a regular file gives any number of lines, perhaps ending in
  // the middle of one, kept for the next read.
  std::array<char, 16384> buf;
  for (int reads = 0; reads < kMaxKmsgReads; ++reads) {
    const ssize_t n = ::read(kmsg_fd_, buf.data(), buf.size());
    if (n == 0) {
      break;
    }
    if (n < 0) {
      // EPIPE: the kernel overwrote records we had not read yet; the next read goes on
      // from the oldest one left.
      if (errno == EINTR || errno == EPIPE) {
        continue;
      }
      break;  // EAGAIN: nothing more for now
    }
    kmsg_partial_.append(buf.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto eol = kmsg_partial_.find('\n'); eol != std::string::npos;
         eol = kmsg_partial_.find('\n', start)) {
      take_kmsg_line(std::string_view(kmsg_partial_).substr(start, eol - start));
      start = eol + 1;
    }
    kmsg_partial_.erase(0, start);
    if (kmsg_partial_.size() > buf.size()) {
      kmsg_partial_.clear();  // no kernel record is this long: not a kernel log
    }
  }
}

void SystemOomEvidence::take_kmsg_line(std::string_view line) {
  if (line.empty() || line.front() == ' ') {
    return;  // a continuation line (` SUBSYSTEM=...`)
  }
  const auto record = parse_kmsg_record(line);
  if (!record || !is_kernel_record(*record)) {
    return;
  }
  auto kill = find_oom_kill(record->message);
  if (!kill) {
    return;
  }
  kills_.push_back(SeenKill{std::move(*kill), record->ts_usec});
  if (kills_.size() > kKeptKills) {
    kills_.pop_front();
  }
}

}  // namespace zagent
