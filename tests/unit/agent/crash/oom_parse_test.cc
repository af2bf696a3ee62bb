// The OOM evidence texts: kmsg records, the OOM killer's line, the counter files.
#include "agent/crash/oom_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace zagent {
namespace {

TEST(KmsgRecord, ParsesThePrefixAndTheFirstLine) {
  const auto r = parse_kmsg_record(
      "3,1234,5678901,-;Out of memory: Killed process 42 (x) total-vm:1kB\n"
      " SUBSYSTEM=memory\n DEVICE=+x:y\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->priority, 3u);
  EXPECT_EQ(r->seq, 1234u);
  EXPECT_EQ(r->ts_usec, 5678901u);
  EXPECT_EQ(r->message, "Out of memory: Killed process 42 (x) total-vm:1kB");
  EXPECT_TRUE(is_kernel_record(*r));
}

TEST(KmsgRecord, ExtraPrefixFieldsAndNoNewline) {
  const auto r = parse_kmsg_record("14,7,100,c,caller=T12;hello; world");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->priority, 14u);
  EXPECT_EQ(r->seq, 7u);
  EXPECT_EQ(r->ts_usec, 100u);
  EXPECT_EQ(r->message, "hello; world");
  EXPECT_FALSE(is_kernel_record(*r));  // facility 1: written by a process
}

TEST(KmsgRecord, EmptyMessage) {
  const auto r = parse_kmsg_record("6,1,2,-;\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, "");
}

TEST(KmsgRecord, MalformedPrefixes) {
  for (const char* bad :
       {"", "\n", "no semicolon at all", "3,1,2;three fields", "3,1;x", ";x", "a,1,2,-;x",
        "3,b,2,-;x", "3,1,c,-;x", "3,1,2,;empty flags", "3,,2,-;x", "-3,1,2,-;x", "3,1,2.5,-;x",
        " SUBSYSTEM=memory", "3,99999999999999999999999,2,-;x"}) {
    EXPECT_FALSE(parse_kmsg_record(bad).has_value()) << bad;
  }
}

struct KillRow {
  const char* message;
  bool found;
  pid_t pid;
  const char* comm;
  const char* text;
};

TEST(FindOomKill, Table) {
  const KillRow rows[] = {
      {"Out of memory: Killed process 4242 (python3) total-vm:123kB, anon-rss:1kB", true, 4242,
       "python3", "Killed process 4242 (python3)"},
      {"Memory cgroup out of memory: Killed process 17 (memory_hog) total-vm:36kB", true, 17,
       "memory_hog", "Killed process 17 (memory_hog)"},
      {"Killed process 9 (old) total-vm:1kB, anon-rss:1kB, file-rss:0kB", true, 9, "old",
       "Killed process 9 (old)"},
      {"Out of memory: Killed process 5 (a) b) c) total-vm:1kB", true, 5, "a) b) c",
       "Killed process 5 (a) b) c)"},
      {"Out of memory: Killed process 6 (sh)", true, 6, "sh", "Killed process 6 (sh)"},
      {"Out of memory: Killed process 8 () total-vm:1kB", true, 8, "", "Killed process 8 ()"},
      // Not the OOM killer's line.
      {"oom_reaper: reaped process 4242 (python3), now anon-rss:0kB", false, 0, "", ""},
      {"Out of memory: Kill process 4242 (python3) score 900 or sacrifice child", false, 0, "", ""},
      {"my app says: Killed process 1 (x) total-vm:1kB", false, 0, "", ""},
      {"Out of memory: Killed process x (python3)", false, 0, "", ""},
      {"Out of memory: Killed process 0 (python3)", false, 0, "", ""},
      {"Out of memory: Killed process 12", false, 0, "", ""},
      {"Out of memory: Killed process 12 python3", false, 0, "", ""},
      {"Out of memory: Killed process 12 (python3", false, 0, "", ""},
      {"Out of memory: Killed process 99999999999 (x)", false, 0, "", ""},
      {"", false, 0, "", ""},
  };
  for (const KillRow& row : rows) {
    const auto kill = find_oom_kill(row.message);
    ASSERT_EQ(kill.has_value(), row.found) << row.message;
    if (row.found) {
      EXPECT_EQ(*kill, (KernelKill{row.pid, row.comm, row.text})) << row.message;
    }
  }
}

TEST(CounterFiles, MemoryEventsOomKill) {
  const std::string events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
  EXPECT_EQ(memory_events_oom_kill(events), 2);
  EXPECT_EQ(memory_events_oom_kill("oom_group_kill 5\noom_kill 0"), 0);
  EXPECT_EQ(memory_events_oom_kill("low 0\nhigh 0\n"), std::nullopt);
  EXPECT_EQ(memory_events_oom_kill(""), std::nullopt);
  EXPECT_EQ(memory_events_oom_kill("oom_kill\n"), std::nullopt);
  EXPECT_EQ(memory_events_oom_kill("oom_kill x\n"), std::nullopt);
  EXPECT_EQ(memory_events_oom_kill("oom_kill 4 5\n"), std::nullopt);
}

TEST(CounterFiles, VmstatOomKill) {
  EXPECT_EQ(vmstat_oom_kill("nr_free_pages 1000\npgfault 5\noom_kill 7\nnr_foo 1\n"), 7);
  EXPECT_EQ(vmstat_oom_kill("nr_free_pages 1000\n"), std::nullopt);
  EXPECT_EQ(vmstat_oom_kill("xoom_kill 3\n"), std::nullopt);
  EXPECT_EQ(vmstat_oom_kill("oom_kill 9223372036854775807\n"), 9223372036854775807);
  EXPECT_EQ(vmstat_oom_kill("oom_kill 99999999999999999999\n"), std::nullopt);
}

}  // namespace
}  // namespace zagent
