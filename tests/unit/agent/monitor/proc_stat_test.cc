// Tree figures from the text of /proc: the stat and smaps_rollup parsers, tree membership by
// parent pid, and the sum over a tree.
#include "agent/monitor/proc_stat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent {
namespace {

using ::testing::ElementsAre;

// A stat line with the fields a sample reads: utime 14, stime 15, cutime 16, cstime 17,
// threads 20, starttime 22, rss 24 (pages).
std::string stat_line(pid_t pid, pid_t ppid, char state, int utime, int stime, int cutime,
                      int cstime, int threads, long rss_pages, const std::string& comm = "x") {
  return std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid) +
         " 1 1 0 -1 4194560 10 0 0 0 " + std::to_string(utime) + " " + std::to_string(stime) + " " +
         std::to_string(cutime) + " " + std::to_string(cstime) + " 20 0 " +
         std::to_string(threads) + " 0 555 12345678 " + std::to_string(rss_pages) +
         " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

ProcStat st(pid_t pid, pid_t ppid, char state = 'S', int ticks = 0, long rss = 0, int threads = 1) {
  ProcStat s;
  s.pid = pid;
  s.ppid = ppid;
  s.state = state;
  s.utime = static_cast<std::uint64_t>(ticks);
  s.rss_pages = rss;
  s.threads = threads;
  return s;
}

TEST(ProcStatParse, ReadsTheFieldsAfterTheLastParenthesis) {
  const auto s = parse_proc_stat(stat_line(42, 7, 'R', 100, 50, 30, 20, 9, 256, "we(ird) na)me"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->pid, 42);
  EXPECT_EQ(s->ppid, 7);
  EXPECT_EQ(s->state, 'R');
  EXPECT_EQ(s->utime, 100u);
  EXPECT_EQ(s->stime, 50u);
  EXPECT_EQ(s->cutime, 30u);
  EXPECT_EQ(s->cstime, 20u);
  EXPECT_EQ(s->threads, 9);
  EXPECT_EQ(s->starttime, 555u);
  EXPECT_EQ(s->rss_pages, 256);
}

TEST(ProcStatParse, RefusesTruncatedOrGarbledLines) {
  EXPECT_FALSE(parse_proc_stat("").has_value());
  EXPECT_FALSE(parse_proc_stat("garbage").has_value());
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3").has_value());
  EXPECT_FALSE(parse_proc_stat("x (y) S 1 1 1 0 -1 0 0 0 0 0 1 1 1 1 20 0 1 0 1 1 1").has_value());
  std::string bad = stat_line(42, 7, 'S', 1, 1, 1, 1, 1, 777);
  bad.replace(bad.find(" 777 "), 5, " 7x7 ");  // a field a sample reads is not a number
  EXPECT_FALSE(parse_proc_stat(bad).has_value());
}

TEST(ProcStatParse, PssIsTheSumOfPssLinesOnly) {
  const std::string rollup =
      "55d0c8e0a000-7ffd6b1f3000 ---p 00000000 00:00 0   [rollup]\n"
      "Rss:               10240 kB\n"
      "Pss:                4096 kB\n"
      "Pss_Anon:           2048 kB\n"
      "Pss_File:           2048 kB\n";
  EXPECT_EQ(parse_pss_bytes(rollup), std::optional<std::uint64_t>(4096u * 1024));
  EXPECT_EQ(parse_pss_bytes("Rss: 1 kB\n"), std::nullopt);
  EXPECT_EQ(parse_pss_bytes("Pss: lots kB\n"), std::nullopt);
}

TEST(TreeMembers, RootThenDescendantsButNotOthers) {
  // 100 -> 101 -> 103; 100 -> 102; 200 is someone else's; 104 is a child of 200.
  const std::vector<ProcStat> all = {st(1, 0),     st(101, 100), st(200, 1),  st(100, 1),
                                     st(103, 101), st(102, 100), st(104, 200)};
  std::vector<pid_t> pids;
  for (std::size_t i : tree_members(100, all)) {
    pids.push_back(all[i].pid);
  }
  EXPECT_THAT(pids, ElementsAre(100, 101, 102, 103));
}

TEST(TreeMembers, EmptyForAGoneOrZombieRoot) {
  const std::vector<ProcStat> all = {st(1, 0), st(100, 1, 'Z'), st(101, 100)};
  EXPECT_TRUE(tree_members(100, all).empty());
  EXPECT_TRUE(tree_members(555, all).empty());
}

TEST(SumTree, AddsCpuMemoryThreadsAndFdsOfEveryMember) {
  std::vector<ProcStat> all = {st(100, 1, 'S', 200, 10, 4), st(101, 100, 'R', 100, 20, 2)};
  all[0].cutime = 50;  // a reaped child's CPU stays in the parent's figures
  const std::vector<MemberExtras> extras = {{4096, 5}, {8192, 3}};
  const TreeFigures t = sum_tree(all, {0, 1}, extras, 100, 4096);
  EXPECT_EQ(t.processes, 2);
  EXPECT_DOUBLE_EQ(t.cpu_seconds, 3.5);  // (200 + 50 + 100) ticks at 100 per second
  EXPECT_EQ(t.rss_bytes, 30u * 4096);
  EXPECT_EQ(t.pss_bytes, std::optional<std::uint64_t>(12288));
  EXPECT_EQ(t.threads, 6);
  EXPECT_EQ(t.fds, std::optional<std::int64_t>(8));
}

TEST(SumTree, AnUnreadableMemberMakesPssAndFdsUnknownNotSmaller) {
  const std::vector<ProcStat> all = {st(100, 1, 'S', 0, 10), st(101, 100, 'S', 0, 20)};
  const TreeFigures t = sum_tree(all, {0, 1}, {{4096, 5}, {}}, 100, 4096);
  EXPECT_EQ(t.rss_bytes, 30u * 4096);
  EXPECT_EQ(t.pss_bytes, std::nullopt);
  EXPECT_EQ(t.fds, std::nullopt);
}

TEST(SumTree, AZombieMemberCountsItsCpuButNoMemory) {
  const std::vector<ProcStat> all = {st(100, 1, 'S', 100, 10), st(101, 100, 'Z', 100, 0)};
  const TreeFigures t = sum_tree(all, {0, 1}, {{4096, 1}, {}}, 100, 4096);
  EXPECT_EQ(t.processes, 2);
  EXPECT_DOUBLE_EQ(t.cpu_seconds, 2.0);
  EXPECT_EQ(t.pss_bytes, std::optional<std::uint64_t>(4096));
  EXPECT_EQ(t.fds, std::optional<std::int64_t>(1));
}

}  // namespace
}  // namespace zagent
