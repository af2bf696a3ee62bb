// SystemOomEvidence over files in a temp dir standing for cgroupfs, /dev/kmsg and
// /proc/vmstat; then once for real: a helper in a small memory cgroup is killed by the
// kernel's OOM killer, and the kernel log's record of it is found.
#include "agent/os/oom_evidence.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::read_file;
using test::TempDir;

std::string helper(std::string_view name) {
  return std::string(ZAGENT_HELPERS_DIR) + "/" + std::string(name);
}

void append(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A cgroup v2 tree as the agent sees it: the mount lists the memory controller, the agent
// sits in /agent, whose children may be given it.
class FakeCgroupTest : public ::testing::Test {
 protected:
  FakeCgroupTest() {
    dir_.write("cg/cgroup.controllers", "cpuset cpu io memory pids\n");
    dir_.write("cg/agent/cgroup.controllers", "cpu memory pids\n");
    dir_.write("cg/agent/cgroup.subtree_control", "");
    dir_.write("cg/agent/cgroup.procs", "");
    self_ = dir_.write("self-cgroup", "4:memory:/ignored\n0::/agent\n");
    options_.kmsg_path = dir_.file("no-kmsg");
    options_.vmstat_path = dir_.file("no-vmstat");
    options_.self_cgroup_path = self_;
    options_.cgroup_mounts = {dir_.file("not-mounted"), dir_.file("cg")};
    options_.use_cgroups = true;
  }

  std::string agent_dir() const { return dir_.file("cg/agent"); }

  TempDir dir_;
  std::string self_;
  OomEvidenceOptions options_;
};

TEST_F(FakeCgroupTest, LeafPerProgramReportsItsOomKillRise) {
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.describe(),
            "cgroup v2 leaves under " + agent_dir() + "; kmsg not readable (" + options_.kmsg_path +
                ": No such file or directory); vmstat not readable (" + options_.vmstat_path + ")");
  EXPECT_EQ(read_file(agent_dir() + "/cgroup.subtree_control"), "+memory");

  const std::string leaf = agent_dir() + "/zagent-web%3Aapi";
  EXPECT_FALSE(fs::exists(leaf));  // created at the first spawn, not before
  EXPECT_EQ(evidence.cgroup_procs_for("web:api"), leaf + "/cgroup.procs");
  EXPECT_TRUE(fs::is_directory(leaf));
  EXPECT_EQ(evidence.cgroup_procs_for("web:api"), leaf + "/cgroup.procs");

  dir_.write("cg/agent/zagent-web%3Aapi/memory.events",
             "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  const OomBaseline baseline = evidence.at_spawn("web:api");
  EXPECT_EQ(baseline.cgroup_oom_kills, 1);
  EXPECT_EQ(baseline.vmstat_oom_kills, std::nullopt);
  dir_.write("cg/agent/zagent-web%3Aapi/memory.events",
             "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\noom_group_kill 0\n");
  const OomFacts facts = evidence.at_exit("web:api", {4242}, baseline);
  EXPECT_EQ(facts.cgroup_oom_kills, 2);
  EXPECT_EQ(facts.cgroup_path, leaf);
  EXPECT_TRUE(facts.kernel_kills.empty());
  EXPECT_EQ(facts.vmstat_oom_kills, std::nullopt);

  // cgroupfs lets an empty cgroup go with its interface files; a plain directory does not.
  fs::remove(leaf + "/memory.events");
  evidence.forget("web:api");
  EXPECT_FALSE(fs::exists(leaf));
  evidence.forget("web:api");  // twice: nothing left to do
}

TEST_F(FakeCgroupTest, NoRiseIsZeroAndAProgramWithoutLeafHasNoCgroupFacts) {
  SystemOomEvidence evidence(options_);
  ASSERT_NE(evidence.cgroup_procs_for("db"), "");
  dir_.write("cg/agent/zagent-db/memory.events", "oom_kill 5\n");
  const OomBaseline baseline = evidence.at_spawn("db");
  const OomFacts facts = evidence.at_exit("db", {1}, baseline);
  EXPECT_EQ(facts.cgroup_oom_kills, 0);
  EXPECT_EQ(facts.cgroup_path, agent_dir() + "/zagent-db");

  const OomBaseline other = evidence.at_spawn("other");
  EXPECT_EQ(other.cgroup_oom_kills, std::nullopt);
  const OomFacts none = evidence.at_exit("other", {1}, other);
  EXPECT_EQ(none.cgroup_oom_kills, std::nullopt);
  EXPECT_EQ(none.cgroup_path, "");
}

TEST_F(FakeCgroupTest, LeafWithoutMemoryEventsGivesNoCgroupFacts) {
  SystemOomEvidence evidence(options_);
  ASSERT_NE(evidence.cgroup_procs_for("db"), "");
  const OomBaseline baseline = evidence.at_spawn("db");
  EXPECT_EQ(baseline.cgroup_oom_kills, std::nullopt);
  const OomFacts facts = evidence.at_exit("db", {1}, baseline);
  EXPECT_EQ(facts.cgroup_oom_kills, std::nullopt);
  EXPECT_EQ(facts.cgroup_path, "");
}

TEST_F(FakeCgroupTest, MemoryAlreadyEnabledIsNotWrittenAgain) {
  dir_.write("cg/agent/cgroup.subtree_control", "cpu memory\n");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(read_file(agent_dir() + "/cgroup.subtree_control"), "cpu memory\n");
  EXPECT_EQ(evidence.cgroup_procs_for("a"), agent_dir() + "/zagent-a/cgroup.procs");
}

TEST_F(FakeCgroupTest, TheAgentsOwnLeafFromAnEarlierRunIsSteppedOutOf) {
  dir_.write("self-cgroup", "0::/agent/zagent-agent\n");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), agent_dir() + "/zagent-a/cgroup.procs");
}

TEST_F(FakeCgroupTest, LeafNamesAreEscapedAndPrefixed) {
  options_.leaf_prefix = "t-";
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("g:a b/../c"),
            agent_dir() + "/t-g%3Aa%20b%2F..%2Fc/cgroup.procs");
  EXPECT_EQ(SystemOomEvidence::leaf_name("z-", "Ok_1.2-x"), "z-Ok_1.2-x");
  EXPECT_NE(SystemOomEvidence::leaf_name("z-", "a:b"), SystemOomEvidence::leaf_name("z-", "a_b"));
}

TEST_F(FakeCgroupTest, NotAskedForMeansNoLeaves) {
  options_.use_cgroups = false;
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(contains(evidence.describe(), "no cgroup leaves (not asked for)"));
  EXPECT_EQ(read_file(agent_dir() + "/cgroup.subtree_control"), "");
}

TEST_F(FakeCgroupTest, NoMemoryControllerMeansNoLeaves) {
  dir_.write("cg/agent/cgroup.controllers", "cpu pids\n");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(
      contains(evidence.describe(), "no cgroup leaves (no cgroup v2 memory controller for /agent)"))
      << evidence.describe();
  EXPECT_EQ(read_file(agent_dir() + "/cgroup.subtree_control"), "");
  EXPECT_FALSE(fs::exists(agent_dir() + "/zagent-a"));
}

TEST_F(FakeCgroupTest, NoUnifiedLineMeansNoLeaves) {
  dir_.write("self-cgroup", "4:memory:/agent\n");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(contains(evidence.describe(), "no cgroup v2 line")) << evidence.describe();
}

TEST_F(FakeCgroupTest, SubtreeControlThatCannotBeReadMeansNoLeaves) {
  // A directory where the file should be: reading it fails, even for root.
  fs::remove(agent_dir() + "/cgroup.subtree_control");
  fs::create_directory(agent_dir() + "/cgroup.subtree_control");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(contains(evidence.describe(), "no cgroup leaves (" + agent_dir() +
                                                "/cgroup.subtree_control not readable)"))
      << evidence.describe();
}

TEST_F(FakeCgroupTest, SubtreeControlThatRefusesTheWriteMeansNoLeaves) {
  // A file that reads but takes no write, even from root (it has no write operation).
  fs::remove(agent_dir() + "/cgroup.subtree_control");
  fs::create_symlink("/proc/version", agent_dir() + "/cgroup.subtree_control");
  SystemOomEvidence evidence(options_);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(contains(evidence.describe(), "no cgroup leaves (enabling memory in " + agent_dir() +
                                                "/cgroup.subtree_control: "))
      << evidence.describe();
  EXPECT_FALSE(fs::exists(agent_dir() + "/zagent-agent"));
}

TEST_F(FakeCgroupTest, ReadOnlyCgroupDirectoryMeansNoLeaves) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root writes into a directory whatever its mode";
  }
  fs::permissions(agent_dir(), fs::perms::owner_read | fs::perms::owner_exec);
  SystemOomEvidence evidence(options_);
  fs::permissions(agent_dir(), fs::perms::owner_all);
  EXPECT_EQ(evidence.cgroup_procs_for("a"), "");
  EXPECT_TRUE(contains(evidence.describe(), "no cgroup leaves (" + agent_dir() + ": "))
      << evidence.describe();
}

// --- The kernel log, as a regular file appended to. ---

constexpr auto kSpawned = SteadyTime(std::chrono::seconds(1000));

std::string record(unsigned priority, std::uint64_t seq, std::chrono::microseconds ts,
                   const std::string& message) {
  return std::to_string(priority) + "," + std::to_string(seq) + "," + std::to_string(ts.count()) +
         ",-;" + message + "\n";
}

std::string oom_line(pid_t pid, const std::string& comm) {
  return "Out of memory: Killed process " + std::to_string(pid) + " (" + comm +
         ") total-vm:10240kB, anon-rss:8192kB, file-rss:0kB, shmem-rss:0kB, UID:0";
}

class FakeKmsgTest : public ::testing::Test {
 protected:
  FakeKmsgTest() {
    options_.kmsg_path = dir_.file("kmsg");
    options_.vmstat_path = dir_.file("vmstat");
    options_.self_cgroup_path = dir_.file("no-self-cgroup");
    options_.use_cgroups = false;
  }
  OomBaseline baseline() const {
    OomBaseline b;
    b.spawned = kSpawned;
    return b;
  }

  TempDir dir_;
  OomEvidenceOptions options_;
};

TEST_F(FakeKmsgTest, KillsOfTheProgramsPidsDuringTheRunAreFound) {
  // Logged before the agent started: never read, though its pid and time would match.
  dir_.write("kmsg", record(3, 1, 1001s, oom_line(77, "before")));
  SystemOomEvidence evidence(options_);
  EXPECT_TRUE(contains(evidence.describe(), "; kmsg open;")) << evidence.describe();

  append(options_.kmsg_path,
         record(6, 2, 990s, "an unrelated message") +
             record(3, 3, 995s, oom_line(100, "earlier")) +   // before the spawn
             record(3, 4, 1001s, oom_line(999, "other")) +    // not one of our pids
             record(12, 5, 1001s, oom_line(101, "forged")) +  // written by a process
             record(3, 6, 1002s, oom_line(101, "hog")) + " SUBSYSTEM=memory\n" +
             record(3, 7, 1002s, "oom_reaper: reaped process 101 (hog), now anon-rss:0kB") +
             "garbage line\n" +
             record(3, 8, 999'500'000us, oom_line(102, "child")));  // within the tolerance
  OomFacts facts = evidence.at_exit("p", {77, 100, 101, 102}, baseline());
  EXPECT_EQ(facts.kernel_kills,
            (std::vector<KernelKill>{{101, "hog", "Killed process 101 (hog)"},
                                     {102, "child", "Killed process 102 (child)"}}));
  EXPECT_EQ(facts.cgroup_oom_kills, std::nullopt);

  // Each kill is reported once.
  facts = evidence.at_exit("p", {77, 100, 101, 102}, baseline());
  EXPECT_TRUE(facts.kernel_kills.empty());

  // A record read in two pieces.
  const std::string late = record(3, 9, 1010s, oom_line(103, "late"));
  append(options_.kmsg_path, late.substr(0, 20));
  EXPECT_TRUE(evidence.at_exit("p", {103}, baseline()).kernel_kills.empty());
  append(options_.kmsg_path, late.substr(20));
  EXPECT_EQ(evidence.at_exit("p", {103}, baseline()).kernel_kills,
            (std::vector<KernelKill>{{103, "late", "Killed process 103 (late)"}}));
}

TEST_F(FakeKmsgTest, AKillReadEarlierIsKeptForTheExitThatAsks) {
  dir_.write("kmsg", "");
  SystemOomEvidence evidence(options_);
  append(options_.kmsg_path, record(3, 1, 1001s, oom_line(200, "a")));
  // Another program's exit reads the log first.
  EXPECT_TRUE(evidence.at_exit("other", {300}, baseline()).kernel_kills.empty());
  EXPECT_EQ(evidence.at_exit("p", {200}, baseline()).kernel_kills,
            (std::vector<KernelKill>{{200, "a", "Killed process 200 (a)"}}));
}

TEST_F(FakeKmsgTest, OnlyTheNewestKillsAreKept) {
  dir_.write("kmsg", "");
  SystemOomEvidence evidence(options_);
  std::string many;
  for (int i = 0; i < 100; ++i) {
    many += record(3, static_cast<std::uint64_t>(i), 1001s, oom_line(1000 + i, "k"));
  }
  append(options_.kmsg_path, many);
  EXPECT_TRUE(evidence.at_exit("p", {1000}, baseline()).kernel_kills.empty());
  EXPECT_EQ(evidence.at_exit("p", {1099}, baseline()).kernel_kills.size(), 1u);
}

TEST_F(FakeKmsgTest, NoKernelLogMeansNoKernelKills) {
  SystemOomEvidence evidence(options_);
  EXPECT_TRUE(contains(evidence.describe(), "kmsg not readable (" + options_.kmsg_path))
      << evidence.describe();
  dir_.write("kmsg", record(3, 1, 1001s, oom_line(5, "x")));
  EXPECT_TRUE(evidence.at_exit("p", {5}, baseline()).kernel_kills.empty());
}

TEST_F(FakeKmsgTest, VmstatRiseDuringTheRun) {
  dir_.write("vmstat", "nr_free_pages 100\noom_kill 5\nnr_foo 1\n");
  SystemOomEvidence evidence(options_);
  EXPECT_TRUE(contains(evidence.describe(), "; vmstat readable")) << evidence.describe();
  const OomBaseline baseline = evidence.at_spawn("p");
  EXPECT_EQ(baseline.vmstat_oom_kills, 5);
  dir_.write("vmstat", "nr_free_pages 90\noom_kill 7\nnr_foo 1\n");
  EXPECT_EQ(evidence.at_exit("p", {1}, baseline).vmstat_oom_kills, 2);
}

TEST_F(FakeKmsgTest, NoVmstatMeansNoVmstatFacts) {
  SystemOomEvidence evidence(options_);
  EXPECT_TRUE(contains(evidence.describe(), "vmstat not readable")) << evidence.describe();
  const OomBaseline baseline = evidence.at_spawn("p");
  EXPECT_EQ(baseline.vmstat_oom_kills, std::nullopt);
  dir_.write("vmstat", "oom_kill 7\n");
  EXPECT_EQ(evidence.at_exit("p", {1}, baseline).vmstat_oom_kills, std::nullopt);
}

// --- For real. ---

bool write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// A memory cgroup with a 32 MiB limit (and no swap), next to nothing else: cgroup v2 where
// this process's cgroup gives its children the memory controller, or else cgroup v1's memory
// hierarchy. Removed (once empty) when the object goes away.
class MemoryCgroup {
 public:
  static constexpr const char* kLimit = "33554432";

  /// The reason when none could be made.
  std::string create() {
    const auto self = read_file("/proc/self/cgroup");
    const std::string name = "/zagent-oomtest-" + std::to_string(::getpid());
    std::string v1;
    std::string v2;
    std::size_t pos = 0;
    while (pos < self.size()) {
      const auto eol = self.find('\n', pos);
      const std::string line = self.substr(pos, eol - pos);
      pos = eol == std::string::npos ? self.size() : eol + 1;
      if (line.starts_with("0::")) {
        v2 = line.substr(3);
      } else if (const auto at = line.find(":memory:"); at != std::string::npos) {
        v1 = line.substr(at + 8);
      }
    }
    for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      const std::string base = std::string(mount) + (v2 == "/" ? "" : v2);
      if (!v2.empty() && contains(read_file(base + "/cgroup.subtree_control"), "memory") &&
          ::mkdir((base + name).c_str(), 0755) == 0) {
        dir_ = base + name;
        if (!write_text(dir_ + "/memory.max", kLimit)) {
          return "cannot set " + dir_ + "/memory.max";
        }
        if (fs::exists(dir_ + "/memory.swap.max")) {
          write_text(dir_ + "/memory.swap.max", "0");
        }
        return "";
      }
    }
    if (!v1.empty()) {
      const std::string base = "/sys/fs/cgroup/memory" + (v1 == "/" ? "" : v1);
      if (::mkdir((base + name).c_str(), 0755) == 0) {
        dir_ = base + name;
        if (!write_text(dir_ + "/memory.limit_in_bytes", kLimit)) {
          return "cannot set " + dir_ + "/memory.limit_in_bytes";
        }
        if (fs::exists(dir_ + "/memory.memsw.limit_in_bytes")) {
          write_text(dir_ + "/memory.memsw.limit_in_bytes", kLimit);
        }
        return "";
      }
      return "cannot create a memory cgroup under " + base + ": " + std::strerror(errno);
    }
    return "no writable memory cgroup (v2 with memory for children, or v1 memory)";
  }

  ~MemoryCgroup() {
    if (dir_.empty()) {
      return;
    }
    // The cgroup goes once its last task is reaped; the kernel may take a moment after that.
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (::rmdir(dir_.c_str()) != 0 && errno == EBUSY &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
  }

  std::string procs() const { return dir_ + "/cgroup.procs"; }

 private:
  std::string dir_;  // the cgroup's directory; "" = none made
};

// Kills and reaps the child when the test ends, however it ends.
struct ChildReaper {
  pid_t pid = -1;
  ~ChildReaper() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST(RealOomKill, TheKernelLogNamesTheKilledPid) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: a memory cgroup with a limit";
  }
  const int probe = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (probe < 0) {
    GTEST_SKIP() << "/dev/kmsg is not readable here: " << std::strerror(errno);
  }
  ::close(probe);
  MemoryCgroup cgroup;  // before the reaper: removed after the child is gone
  if (const std::string why = cgroup.create(); !why.empty()) {
    GTEST_SKIP() << why;
  }

  SystemOomEvidence evidence;  // the real sources; kmsg at its end from here on
  ASSERT_TRUE(contains(evidence.describe(), "kmsg open")) << evidence.describe();
  const OomBaseline baseline = evidence.at_spawn("hog");

  const std::string join = helper("join_cgroup");
  const std::string hog = helper("memory_hog");
  const std::string procs = cgroup.procs();
  ChildReaper child;
  child.pid = ::fork();
  ASSERT_GE(child.pid, 0);
  if (child.pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execl(join.c_str(), join.c_str(), procs.c_str(), hog.c_str(), nullptr);
    ::_exit(126);
  }

  int status = 0;
  const auto until = std::chrono::steady_clock::now() + 60s;
  pid_t reaped = 0;
  while ((reaped = ::waitpid(child.pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(reaped, child.pid) << "memory_hog was not killed within 60 s";
  const pid_t pid = std::exchange(child.pid, -1);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "wait status " << status << " (127: join_cgroup failed, see stderr)";

  // The kernel logs the kill right after sending SIGKILL; the reap may come first.
  OomFacts facts;
  const auto log_until = std::chrono::steady_clock::now() + 5s;
  do {
    facts = evidence.at_exit("hog", {pid}, baseline);
  } while (facts.kernel_kills.empty() && std::chrono::steady_clock::now() < log_until &&
           (std::this_thread::sleep_for(10ms), true));
  EXPECT_EQ(facts.kernel_kills,
            (std::vector<KernelKill>{
                {pid, "memory_hog", "Killed process " + std::to_string(pid) + " (memory_hog)"}}));
  if (facts.vmstat_oom_kills) {
    // Read at the last at_exit: the rise since the spawn, this kill included.
    EXPECT_GE(*facts.vmstat_oom_kills, 1);
  }
}

}  // namespace
}  // namespace zagent
