// SystemTreeSampler: over a fake /proc (files the test writes) for the pass rules, and over
// the real /proc for a tree the test forks.
#include "agent/os/proc_sampler.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

using test::TempDir;

std::string stat_line(pid_t pid, pid_t ppid, int utime, long rss_pages, int starttime = 1) {
  return std::to_string(pid) + " (p) S " + std::to_string(ppid) + " 1 1 0 -1 0 0 0 0 0 " +
         std::to_string(utime) + " 0 0 0 20 0 1 0 " + std::to_string(starttime) + " 1000 " +
         std::to_string(rss_pages) + " 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
}

class FakeProc {
 public:
  void process(pid_t pid, pid_t ppid, int utime, long rss_pages, int pss_kb, int fds,
               int starttime = 1) {
    const std::string d = std::to_string(pid);
    std::filesystem::create_directories(dir_.path() / d / "fd");
    dir_.write(d + "/stat", stat_line(pid, ppid, utime, rss_pages, starttime));
    dir_.write(d + "/smaps_rollup", "Rss: 1 kB\nPss: " + std::to_string(pss_kb) + " kB\n");
    for (int i = 0; i < fds; ++i) {
      dir_.write(d + "/fd/" + std::to_string(i), "");
    }
  }
  void loadavg(long last_pid) {
    dir_.write("loadavg", "0.00 0.01 0.05 1/234 " + std::to_string(last_pid) + "\n");
  }
  void remove(pid_t pid) { std::filesystem::remove_all(dir_.path() / std::to_string(pid)); }
  std::string root() const { return dir_.path().string(); }

 private:
  TempDir dir_;
};

TEST(SystemTreeSampler, SumsEachTreeFromAFakeProc) {
  FakeProc proc;
  const long page = ::sysconf(_SC_PAGESIZE);
  proc.process(1, 0, 0, 10, 40, 1);
  proc.process(100, 1, 100, 10, 40, 3);   // root of tree A
  proc.process(101, 100, 50, 20, 80, 2);  // its child
  proc.process(200, 1, 7, 5, 20, 4);      // root of tree B
  proc.process(300, 1, 0, 99, 99, 9);     // someone else's
  SystemTreeSampler sampler(proc.root());
  const auto out = sampler.sample({100, 200, 555});
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_EQ(out[0]->processes, 2);
  EXPECT_EQ(out[0]->rss_bytes, static_cast<std::uint64_t>(30 * page));
  EXPECT_EQ(out[0]->pss_bytes, std::optional<std::uint64_t>(120 * 1024));
  EXPECT_EQ(out[0]->fds, std::optional<std::int64_t>(5));
  EXPECT_DOUBLE_EQ(out[0]->cpu_seconds, 150.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)));
  ASSERT_TRUE(out[1].has_value());
  EXPECT_EQ(out[1]->processes, 1);
  EXPECT_EQ(out[1]->fds, std::optional<std::int64_t>(4));
  EXPECT_FALSE(out[2].has_value());  // gone
}

TEST(SystemTreeSampler, ALightPassRereadsMembersAndNewPidsOnly) {
  FakeProc proc;
  proc.process(1, 0, 0, 1, 4, 1);
  proc.process(100, 1, 0, 10, 40, 3);
  proc.process(300, 1, 0, 99, 99, 9);
  SystemTreeSampler sampler(proc.root());
  (void)sampler.sample({100});  // full pass: every stat line
  EXPECT_EQ(sampler.stat_reads(), 3u);
  // The member grows; a new child appears; the foreign process's file changes (unread).
  proc.process(100, 1, 10, 20, 999, 7);
  proc.process(101, 100, 0, 5, 8, 1);
  proc.process(300, 100, 0, 99, 99, 9);
  const auto light = sampler.sample({100});
  EXPECT_EQ(sampler.stat_reads(), 2u);  // 100 (member) and 101 (new)
  ASSERT_TRUE(light[0].has_value());
  EXPECT_EQ(light[0]->processes, 2);  // 300 is still known as someone else's
  EXPECT_EQ(light[0]->rss_bytes, static_cast<std::uint64_t>(25 * ::sysconf(_SC_PAGESIZE)));
  // 100's PSS and fds are a pass old; the new child's are read.
  EXPECT_EQ(light[0]->pss_bytes, std::optional<std::uint64_t>((40 + 8) * 1024));
  EXPECT_EQ(light[0]->fds, std::optional<std::int64_t>(4));
  for (std::uint64_t i = 2; i < SystemTreeSampler::kFullEvery; ++i) {
    (void)sampler.sample({100});
  }
  const auto full = sampler.sample({100});  // the full pass: everything afresh
  EXPECT_EQ(sampler.stat_reads(), 4u);
  ASSERT_TRUE(full[0].has_value());
  EXPECT_EQ(full[0]->processes, 3);  // a reused pid found at last
  // PSS: 300 is a new member (read), 100 and 101 keep theirs until the details pass.
  EXPECT_EQ(full[0]->pss_bytes, std::optional<std::uint64_t>((40 + 8 + 99) * 1024));
  for (std::uint64_t i = SystemTreeSampler::kFullEvery + 1; i < SystemTreeSampler::kDetailsEvery;
       ++i) {
    (void)sampler.sample({100});
  }
  const auto details = sampler.sample({100});
  ASSERT_TRUE(details[0].has_value());
  EXPECT_EQ(details[0]->pss_bytes, std::optional<std::uint64_t>((999 + 8 + 99) * 1024));
  EXPECT_EQ(details[0]->fds, std::optional<std::int64_t>(7 + 1 + 9));
}

TEST(SystemTreeSampler, NoNewPidNoListing) {
  FakeProc proc;
  proc.process(1, 0, 0, 1, 4, 1);
  proc.process(100, 1, 0, 10, 40, 3);
  proc.process(300, 1, 0, 99, 99, 9);
  proc.loadavg(500);
  SystemTreeSampler sampler(proc.root());
  (void)sampler.sample({100});
  EXPECT_TRUE(sampler.listed());
  proc.process(100, 1, 20, 30, 40, 3);
  const auto quiet = sampler.sample({100});
  EXPECT_FALSE(sampler.listed());
  EXPECT_EQ(sampler.stat_reads(), 1u);  // the member only
  ASSERT_TRUE(quiet[0].has_value());
  EXPECT_EQ(quiet[0]->rss_bytes, static_cast<std::uint64_t>(30 * ::sysconf(_SC_PAGESIZE)));
  proc.process(101, 100, 0, 5, 8, 1);
  proc.loadavg(501);  // a process was created: list again
  const auto busy = sampler.sample({100});
  EXPECT_TRUE(sampler.listed());
  ASSERT_TRUE(busy[0].has_value());
  EXPECT_EQ(busy[0]->processes, 2);
  proc.remove(101);
  const auto gone = sampler.sample({100});
  EXPECT_FALSE(sampler.listed());
  ASSERT_TRUE(gone[0].has_value());
  EXPECT_EQ(gone[0]->processes, 1);  // a member that ended is dropped without a listing
}

TEST(SystemTreeSampler, AReusedMemberPidGetsItsOwnFigures) {
  FakeProc proc;
  proc.process(100, 1, 0, 10, 40, 3, /*starttime=*/5);
  SystemTreeSampler sampler(proc.root());
  (void)sampler.sample({100});
  proc.process(100, 1, 0, 10, 77, 3, /*starttime=*/9);  // another process, same pid
  const auto out = sampler.sample({100});
  ASSERT_TRUE(out[0].has_value());
  EXPECT_EQ(out[0]->pss_bytes, std::optional<std::uint64_t>(77 * 1024));
}

TEST(SystemTreeSampler, ARealForkedTreeIsFound) {
  constexpr std::size_t kMiB = 1024 * 1024;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t root = ::fork();
  ASSERT_GE(root, 0);
  if (root == 0) {
    // The root: one child, each holding 16 MiB touched, then both wait to be killed.
    const pid_t child = ::fork();
    char* block = static_cast<char*>(std::malloc(16 * kMiB));
    for (std::size_t i = 0; i < 16 * kMiB; i += 4096) {
      static_cast<volatile char*>(block)[i] = 1;
    }
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the root
      if (::getppid() == 1) {
        ::_exit(0);
      }
      (void)::write(ready[1], "c", 1);
      ::pause();
      ::_exit(0);
    }
    (void)::write(ready[1], "r", 1);
    ::pause();
    ::kill(child, SIGKILL);
    ::_exit(0);
  }
  ::close(ready[1]);
  char c[2];
  ASSERT_EQ(::read(ready[0], c, 1), 1);
  ASSERT_EQ(::read(ready[0], c + 1, 1), 1);
  ::close(ready[0]);
  SystemTreeSampler sampler;
  const auto out = sampler.sample({root});
  ::kill(root, SIGKILL);  // its child follows (PR_SET_PDEATHSIG)
  ::waitpid(root, nullptr, 0);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_EQ(out[0]->processes, 2);
  EXPECT_GE(out[0]->rss_bytes, 32 * kMiB);
  EXPECT_GE(out[0]->threads, 2);
  if (::geteuid() == 0) {
    ASSERT_TRUE(out[0]->pss_bytes.has_value());
    EXPECT_GE(*out[0]->pss_bytes, 30 * kMiB);
    ASSERT_TRUE(out[0]->fds.has_value());
    EXPECT_GE(*out[0]->fds, 2);
  }
}

TEST(SystemTreeSampler, AKeptStatFileShowsFreshFiguresAndAnEndedProcessIsGone) {
  const pid_t spin = ::fork();
  ASSERT_GE(spin, 0);
  if (spin == 0) {
    for (;;) {
      static_cast<void>(::getppid());  // busy: user and system time
    }
  }
  SystemTreeSampler sampler;
  const auto first = sampler.sample({spin});
  ASSERT_TRUE(first[0].has_value());
  // Read again through the kept file (a quiet or listing pass alike) until the CPU moved.
  bool moved = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!moved && std::chrono::steady_clock::now() < until) {
    const auto again = sampler.sample({spin});
    moved = again[0] && again[0]->cpu_seconds >= first[0]->cpu_seconds + 0.05;
  }
  ::kill(spin, SIGKILL);
  ::waitpid(spin, nullptr, 0);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(sampler.sample({spin})[0].has_value());
}

}  // namespace
}  // namespace zagent
