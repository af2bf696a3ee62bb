// Crash records, the output tail and the snapshot document (agent/crash/, pure).
#include "agent/crash/crash_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/crash/output_tail.h"
#include "agent/crash/snapshot.h"

namespace zagent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Channel = OutputTail::Channel;

CrashRecord oom_record(std::string program = "web", std::int64_t ended = 1'800'000'100) {
  CrashRecord r;
  r.program = std::move(program);
  r.cause.kind = CauseKind::OomKilled;
  r.cause.evidence = {{"kmsg", "Killed process 4242 (python3)"},
                      {"wait_status", "terminated by SIGKILL"}};
  r.signal = "SIGKILL";
  r.shell_status = 137;
  r.pid = 4242;
  r.started = 1'800'000'000;
  r.ended = ended;
  r.uptime_seconds = 100.25;
  r.description = "terminated by SIGKILL";
  r.last_stdout = {"loading model"};
  r.last_stderr = {"Traceback", "torch.OutOfMemoryError: CUDA out of memory"};
  r.snapshot = "/tmp/crashes/web-20270115T080140Z.json";
  return r;
}

TEST(CrashRecordTest, JsonHasTheContractFields) {
  const auto j = crash_record_json(oom_record());
  EXPECT_EQ(j["program"], "web");
  EXPECT_EQ(j["cause"], "oom_killed");
  EXPECT_EQ(j["confidence"], "certain");
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_EQ(j["signal"], "SIGKILL");
  EXPECT_EQ(j["core_dumped"], false);
  EXPECT_EQ(j["shell_status"], 137);
  EXPECT_EQ(j["expected"], false);
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["started"], 1'800'000'000);
  EXPECT_EQ(j["ended"], 1'800'000'100);
  EXPECT_EQ(j["uptime_seconds"], 100.25);
  EXPECT_EQ(j["evidence"][0],
            (nlohmann::json{{"source", "kmsg"}, {"text", "Killed process 4242 (python3)"}}));
  EXPECT_EQ(j["last_output"]["stderr"][1], "torch.OutOfMemoryError: CUDA out of memory");
  EXPECT_EQ(j["snapshot"], "/tmp/crashes/web-20270115T080140Z.json");
  EXPECT_TRUE(j["snapshot_error"].is_null());
}

TEST(CrashRecordTest, JsonRoundTrips) {
  CrashRecord spawn;
  spawn.program = "grp:worker";
  spawn.cause = spawn_failure_cause("can't find command 'x'");
  spawn.started = spawn.ended = 5;
  for (const CrashRecord& r : {oom_record(), spawn}) {
    const auto back = crash_record_from_json(crash_record_json(r));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, r);
  }
}

TEST(CrashRecordTest, BadJsonIsRefused) {
  auto j = crash_record_json(oom_record());
  EXPECT_FALSE(crash_record_from_json(nlohmann::json::array()).has_value());
  for (const char* key : {"program", "cause", "confidence", "started", "ended"}) {
    auto broken = j;
    broken.erase(key);
    EXPECT_FALSE(crash_record_from_json(broken).has_value()) << key;
  }
  auto bad_cause = j;
  bad_cause["cause"] = "eaten_by_grue";
  EXPECT_FALSE(crash_record_from_json(bad_cause).has_value());
  auto bad_pid = j;
  bad_pid["pid"] = "42";
  EXPECT_FALSE(crash_record_from_json(bad_pid).has_value());
}

TEST(CrashLogTest, NewestFirstCappedPerProgram) {
  CrashLog log;
  for (int i = 0; i < 60; ++i) {
    log.add(oom_record("web", 1000 + i));
  }
  log.add(oom_record("db", 1030));
  const auto web = log.newest("web", 0);
  ASSERT_EQ(web.size(), kRecordsPerProgram);
  EXPECT_EQ(web.front().ended, 1059);
  EXPECT_EQ(web.back().ended, 1010);
  const auto all = log.newest("", 3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].ended, 1059);
  EXPECT_EQ(log.newest("db", 0).size(), 1u);
  EXPECT_THAT(log.newest("nope", 0), IsEmpty());
  EXPECT_EQ(log.last("web")->ended, 1059);
  EXPECT_EQ(log.last("nope"), nullptr);
}

TEST(CrashLogTest, SameSecondKeepsInsertionOrderAndLoadSorts) {
  CrashLog log;
  CrashRecord a = oom_record("web", 7);
  a.pid = 1;
  CrashRecord b = oom_record("web", 7);
  b.pid = 2;
  log.add(a);
  log.add(b);
  EXPECT_EQ(log.newest("web", 1)[0].pid, 2);
  CrashLog loaded;
  loaded.load({oom_record("web", 9), oom_record("web", 3), oom_record("web", 5)});
  const auto order = loaded.newest("web", 0);
  EXPECT_EQ(order[0].ended, 9);
  EXPECT_EQ(order[2].ended, 3);
}

TEST(CrashLogTest, SnapshotFailureDropsThePath) {
  CrashLog log;
  log.add(oom_record());
  log.snapshot_failed("web", "/tmp/crashes/web-20270115T080140Z.json", "Permission denied");
  EXPECT_FALSE(log.last("web")->snapshot.has_value());
  EXPECT_EQ(log.last("web")->snapshot_error, "Permission denied");
}

TEST(OutputTailTest, LastLinesAcrossChunks) {
  OutputTail tail;
  tail.append(Channel::Stdout, "one\ntw");
  tail.append(Channel::Stdout, "o\nthree\npart");
  tail.append(Channel::Stderr, "err\n");
  EXPECT_THAT(tail.last_lines(Channel::Stdout, 2), ElementsAre("three", "part"));
  EXPECT_THAT(tail.last_lines(Channel::Stdout, 10), ElementsAre("one", "two", "three", "part"));
  EXPECT_THAT(tail.last_lines(Channel::Stderr, 10), ElementsAre("err"));
  EXPECT_THAT(tail.last_lines(Channel::Stdout, 0), IsEmpty());
  tail.clear();
  EXPECT_THAT(tail.last_lines(Channel::Stdout, 5), IsEmpty());
}

TEST(OutputTailTest, KeepsOnlyTheCap) {
  OutputTail tail;
  const std::string line(1000, 'x');
  for (int i = 0; i < 500; ++i) {
    tail.append(Channel::Stdout, line + "\n");
  }
  tail.append(Channel::Stdout, "last\n");
  const auto lines = tail.last_lines(Channel::Stdout, 1000);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "last");
  std::size_t bytes = 0;
  for (const auto& l : lines) {
    bytes += l.size() + 1;
  }
  EXPECT_LE(bytes, OutputTail::kCapBytes + 1);
  // One huge write keeps only its end.
  tail.append(Channel::Stderr, std::string(3 * OutputTail::kCapBytes, 'y') + "\nend");
  EXPECT_EQ(tail.last_lines(Channel::Stderr, 1)[0], "end");
}

TEST(SnapshotTest, HidesEnvironmentValuesUnlessAsked) {
  ProcessConfig config;
  config.name = "web";
  config.group = "web";
  config.command = "python app.py";
  config.environment = {{"HF_TOKEN", "secret"}};
  config.snapshot_command = "py-spy dump --pid %(pid)s";
  const CrashRecord record = oom_record();
  const std::vector<std::string> env{"PATH=/usr/bin", "HF_TOKEN=secret"};
  const auto hidden = snapshot_json(
      SnapshotInput{record, config, env, false, {"a"}, {"b"}, std::string("dump"), std::nullopt,
                    std::nullopt});
  EXPECT_EQ(hidden["environment"], (nlohmann::json{"PATH", "HF_TOKEN"}));
  EXPECT_FALSE(hidden["config"].contains("environment"));
  EXPECT_THAT(hidden.dump(), ::testing::Not(::testing::HasSubstr("secret")));
  EXPECT_EQ(hidden["record"]["cause"], "oom_killed");
  EXPECT_EQ(hidden["config"]["command"], "python app.py");
  EXPECT_EQ(hidden["output"]["stdout"][0], "a");
  EXPECT_EQ(hidden["snapshot_command"]["output"], "dump");
  EXPECT_TRUE(hidden.contains("resources"));
  EXPECT_TRUE(hidden.contains("gpu"));
  const auto shown =
      snapshot_json(
      SnapshotInput{record, config, env, true, {}, {}, std::nullopt, std::nullopt, std::nullopt});
  EXPECT_EQ(shown["environment"]["HF_TOKEN"], "secret");
  EXPECT_TRUE(shown["snapshot_command"].is_null());
}

TEST(SnapshotTest, CrashLineWords) {
  EXPECT_EQ(crash_line("web", oom_record()),
            "web was killed by the kernel OOM killer (certain: kmsg \"Killed process 4242 "
            "(python3)\"); snapshot /tmp/crashes/web-20270115T080140Z.json");
  CrashRecord exit1 = oom_record();
  exit1.cause = ExitCause{
      CauseKind::Exited, Confidence::Certain, false, {{"wait_status", "exit status 1"}}, ""};
  exit1.exit_code = 1;
  exit1.snapshot.reset();
  EXPECT_EQ(crash_line("web", exit1),
            "web exited with status 1 (certain: wait_status \"exit status 1\")");
}

}  // namespace
}  // namespace zagent
