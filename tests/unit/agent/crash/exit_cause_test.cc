// The cause of an exit (agent/process/exit_cause.h): table rows over the decision, and the
// FSM's crash records.
#include "agent/process/exit_cause.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "agent/process/process_fsm.h"

namespace zagent {
namespace {

using ::testing::ElementsAre;

ExitInfo exited(int code) { return exit_info_from_wait_status((code & 0xff) << 8, {}, {}); }
ExitInfo killed(int signo, bool core = false) {
  return exit_info_from_wait_status((signo & 0x7f) | (core ? 0x80 : 0), {}, {});
}

OomFacts kmsg_kill(pid_t pid) {
  OomFacts f;
  f.kernel_kills.push_back({pid, "python3", "Killed process " + std::to_string(pid) + " (python3)"});
  return f;
}
OomFacts cgroup_kill() {
  OomFacts f;
  f.cgroup_oom_kills = 1;
  f.cgroup_path = "/sys/fs/cgroup/zagent/web";
  return f;
}
OomFacts vmstat_rise() {
  OomFacts f;
  f.vmstat_oom_kills = 2;
  return f;
}

struct CauseRow {
  std::string name;
  ExitFacts facts;
  CauseKind kind;
  Confidence confidence;
  std::vector<std::string> sources;  // evidence sources, in order
  bool has_note = false;
};

void PrintTo(const CauseRow& row, std::ostream* os) { *os << row.name; }

ExitFacts facts(ExitInfo exit, EndedBy by = EndedBy::Itself, OomFacts oom = {}) {
  ExitFacts f;
  f.exit = exit;
  f.expected = !exit.signal && exit.exit_code == 0;
  f.ended_by = by;
  f.oom = std::move(oom);
  return f;
}

std::vector<CauseRow> cause_rows() {
  ExitFacts guardian = facts(killed(SIGTERM), EndedBy::Guardian);
  guardian.guardian = CauseKind::MemoryLimit;
  guardian.guardian_evidence = {"agent", "rss 5.1 GB over memory_limit 4 GB"};
  ExitFacts asked = facts(killed(SIGKILL), EndedBy::Itself, vmstat_rise());
  asked.operator_signal = SIGKILL;
  return {
      {"ExitCode", facts(exited(1)), CauseKind::Exited, Confidence::Certain, {"wait_status"}},
      {"ExitZero", facts(exited(0)), CauseKind::Exited, Confidence::Certain, {"wait_status"}},
      {"Segfault", facts(killed(SIGSEGV)), CauseKind::Signaled, Confidence::Certain,
       {"wait_status"}},
      {"SegfaultCore", facts(killed(SIGSEGV, true)), CauseKind::Signaled, Confidence::Certain,
       {"wait_status"}},
      {"SigkillNoEvidence", facts(killed(SIGKILL)), CauseKind::Signaled, Confidence::Certain,
       {"wait_status"}},
      {"SigkillKmsg", facts(killed(SIGKILL), EndedBy::Itself, kmsg_kill(42)),
       CauseKind::OomKilled, Confidence::Certain, {"kmsg", "wait_status"}},
      {"SigkillCgroup", facts(killed(SIGKILL), EndedBy::Itself, cgroup_kill()),
       CauseKind::OomKilled, Confidence::Certain, {"cgroup", "wait_status"}},
      {"SigkillVmstatOnly", facts(killed(SIGKILL), EndedBy::Itself, vmstat_rise()),
       CauseKind::OomKilled, Confidence::Probable, {"vmstat", "agent", "wait_status"}},
      {"SigtermWithVmstatIsNoOom", facts(killed(SIGTERM), EndedBy::Itself, vmstat_rise()),
       CauseKind::Signaled, Confidence::Certain, {"wait_status"}},
      {"OperatorSigkill", asked, CauseKind::Signaled, Confidence::Certain,
       {"agent", "wait_status"}},
      {"Shell137WithKmsg", facts(exited(137), EndedBy::Itself, kmsg_kill(43)), CauseKind::Exited,
       Confidence::Certain, {"wait_status", "kmsg"}, true},
      {"Shell137Alone", facts(exited(137)), CauseKind::Exited, Confidence::Certain,
       {"wait_status"}, true},
      {"Shell139", facts(exited(139)), CauseKind::Exited, Confidence::Certain, {"wait_status"},
       true},
      {"Stop", facts(killed(SIGTERM), EndedBy::Stop), CauseKind::Stopped, Confidence::Certain,
       {"agent", "wait_status"}},
      {"StopTimeout", facts(killed(SIGKILL), EndedBy::StopTimeout, kmsg_kill(42)),
       CauseKind::StopTimeout, Confidence::Certain, {"agent", "wait_status"}},
      {"Guardian", guardian, CauseKind::MemoryLimit, Confidence::Certain,
       {"agent", "wait_status"}},
  };
}

class ExitCauseTest : public ::testing::TestWithParam<CauseRow> {};

TEST_P(ExitCauseTest, Decides) {
  const CauseRow& row = GetParam();
  const ExitCause cause = attribute_exit(row.facts);
  EXPECT_EQ(cause_name(cause.kind), cause_name(row.kind));
  EXPECT_EQ(confidence_name(cause.confidence), confidence_name(row.confidence));
  std::vector<std::string> sources;
  for (const auto& e : cause.evidence) {
    sources.push_back(e.source);
  }
  EXPECT_EQ(sources, row.sources);
  EXPECT_EQ(!cause.note.empty(), row.has_note) << cause.note;
  EXPECT_EQ(cause.expected, row.facts.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, ExitCauseTest, ::testing::ValuesIn(cause_rows()),
                         [](const auto& row) { return row.param.name; });

TEST(ExitCauseTest, EvidenceTexts) {
  const ExitCause oom = attribute_exit(facts(killed(SIGKILL), EndedBy::Itself, kmsg_kill(4242)));
  EXPECT_EQ(oom.evidence[0].text, "Killed process 4242 (python3)");
  EXPECT_EQ(oom.evidence[1].text, "terminated by SIGKILL");
  const ExitCause vm = attribute_exit(facts(killed(SIGKILL), EndedBy::Itself, vmstat_rise()));
  EXPECT_THAT(vm.evidence[0].text, ::testing::HasSubstr("machine-wide"));
  const ExitCause shell = attribute_exit(facts(exited(137)));
  EXPECT_EQ(shell.note, "exit status 137 = 128 + 9: a wrapper shell's child was killed by SIGKILL");
  ExitFacts timeout = facts(killed(SIGKILL), EndedBy::StopTimeout);
  timeout.stopwaitsecs = 3;
  EXPECT_EQ(attribute_exit(timeout).evidence[0].text,
            "SIGKILL sent after stopwaitsecs (3 s) ran out");
  const ExitCause spawn = spawn_failure_cause("can't find command 'nope'");
  EXPECT_EQ(spawn.kind, CauseKind::SpawnFailed);
  EXPECT_THAT(spawn.evidence, ElementsAre(Evidence{"agent", "can't find command 'nope'"}));
}

TEST(ExitCauseTest, EvidenceIsAskedOnlyForDeathsNobodyExplains) {
  EXPECT_TRUE(needs_oom_evidence(killed(SIGKILL), EndedBy::Itself, std::nullopt));
  EXPECT_TRUE(needs_oom_evidence(exited(137), EndedBy::Itself, std::nullopt));
  EXPECT_FALSE(needs_oom_evidence(killed(SIGKILL), EndedBy::StopTimeout, std::nullopt));
  EXPECT_FALSE(needs_oom_evidence(killed(SIGKILL), EndedBy::Itself, SIGKILL));
  EXPECT_FALSE(needs_oom_evidence(killed(SIGSEGV), EndedBy::Itself, std::nullopt));
  EXPECT_FALSE(needs_oom_evidence(exited(1), EndedBy::Itself, std::nullopt));
}

TEST(ExitCauseTest, ShellStatus) {
  EXPECT_EQ(shell_status(exited(3)), 3);
  EXPECT_EQ(shell_status(killed(SIGKILL)), 137);
  EXPECT_EQ(shell_status(killed(SIGSEGV, true)), 139);
}

TEST(ExitCauseTest, NamesRoundTrip) {
  for (const char* name : {"exited", "signaled", "oom_killed", "spawn_failed", "stopped",
                           "stop_timeout", "memory_limit", "memory_growth", "cpu_limit",
                           "output_pattern", "gpu_watermark", "gpu_memory_limit",
                           "health_failed"}) {
    const auto kind = cause_from_name(name);
    ASSERT_TRUE(kind.has_value()) << name;
    EXPECT_EQ(cause_name(*kind), name);
  }
  EXPECT_FALSE(cause_from_name("killed").has_value());
  EXPECT_EQ(confidence_from_name("probable"), Confidence::Probable);
  EXPECT_FALSE(confidence_from_name("sure").has_value());
}

// ---- the state machine keeps the cause and asks for records ----

using namespace std::chrono_literals;
constexpr pid_t kPid = 42;
const SteadyTime kT0{std::chrono::hours(1)};
Now at(std::chrono::nanoseconds offset) {
  return Now{kT0 + offset, WallTime{std::chrono::seconds(1'800'000'000) + offset}};
}

ProcessConfig web() {
  ProcessConfig c;
  c.name = "web";
  c.group = "web";
  c.command = "/bin/web";
  return c;
}

ProcessRecord running() {
  ProcessRecord r;
  r.state = ProcessState::Running;
  r.pid = kPid;
  r.last_start = kT0;
  r.last_start_wall = at(0s).wall;
  return r;
}

std::vector<RecordCrash> crashes(const Step& step) {
  std::vector<RecordCrash> out;
  for (const auto& a : step.actions) {
    if (const auto* c = std::get_if<RecordCrash>(&a)) {
      out.push_back(*c);
    }
  }
  return out;
}

TEST(FsmCrashTest, UnexpectedExitIsRecordedBeforeTheRestart) {
  const auto result = step(web(), running(), ChildExited{exited(1)}, at(30s));
  ASSERT_TRUE(result.has_value());
  const auto c = crashes(*result);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].cause.kind, CauseKind::Exited);
  EXPECT_EQ(c[0].pid, kPid);
  EXPECT_EQ(c[0].started, at(0s).wall);
  ASSERT_TRUE(result->next.last_cause.has_value());
  EXPECT_EQ(result->next.last_cause->kind, CauseKind::Exited);
  // The record comes before the spawn of the restart.
  std::size_t crash_at = 0;
  std::size_t spawn_at = 0;
  for (std::size_t i = 0; i < result->actions.size(); ++i) {
    if (std::holds_alternative<RecordCrash>(result->actions[i])) crash_at = i;
    if (std::holds_alternative<SpawnChild>(result->actions[i])) spawn_at = i;
  }
  EXPECT_LT(crash_at, spawn_at);
}

TEST(FsmCrashTest, OomFactsReachTheCause) {
  const auto result =
      step(web(), running(), ChildExited{killed(SIGKILL), kmsg_kill(kPid)}, at(30s));
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(crashes(*result).size(), 1u);
  EXPECT_EQ(crashes(*result)[0].cause.kind, CauseKind::OomKilled);
}

TEST(FsmCrashTest, OperatorStopIsNoCrashButKeepsItsCause) {
  auto stopping = step(web(), running(), StopRequested{}, at(10s));
  ASSERT_TRUE(stopping.has_value());
  const auto done = step(web(), stopping->next, ChildExited{killed(SIGTERM)}, at(11s));
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(crashes(*done).empty());
  EXPECT_EQ(done->next.last_cause->kind, CauseKind::Stopped);
}

TEST(FsmCrashTest, StopTimeoutIsRecorded) {
  auto stopping = step(web(), running(), StopRequested{}, at(10s));
  ASSERT_TRUE(stopping.has_value());
  auto killing = step(web(), stopping->next, DeadlineReached{}, at(21s));
  ASSERT_TRUE(killing.has_value());
  EXPECT_TRUE(killing->next.sigkill_sent);
  const auto done = step(web(), killing->next, ChildExited{killed(SIGKILL)}, at(21s));
  ASSERT_TRUE(done.has_value());
  ASSERT_EQ(crashes(*done).size(), 1u);
  EXPECT_EQ(crashes(*done)[0].cause.kind, CauseKind::StopTimeout);
}

TEST(FsmCrashTest, SnapshotCommandRunsBeforeTheSigkillAndBoundsIt) {
  ProcessConfig config = web();
  config.snapshot_command = "py-spy dump --pid %(pid)s";
  config.snapshot_timeout = 5;
  auto stopping = step(config, running(), StopRequested{}, at(10s));
  auto due = step(config, stopping->next, DeadlineReached{}, at(20s));
  ASSERT_TRUE(due.has_value());
  EXPECT_FALSE(due->next.sigkill_sent);
  EXPECT_THAT(due->actions, ::testing::Contains(Action(RunSnapshotCommand{kPid})));
  EXPECT_EQ(due->next.deadline, at(25s).steady);
  // Its deadline passes without an answer: the SIGKILL goes out anyway.
  auto late = step(config, due->next, DeadlineReached{}, at(25s));
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(late->next.sigkill_sent);
  EXPECT_THAT(late->actions, ::testing::Contains(Action(SendSignal{kPid, SIGKILL, false})));
  // An answer after the SIGKILL changes nothing.
  auto after = step(config, late->next, SnapshotCommandDone{}, at(26s));
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->actions.empty());
}

TEST(FsmCrashTest, SpawnFailureIsRecorded) {
  ProcessRecord starting;
  starting.state = ProcessState::Starting;
  starting.last_start = kT0;
  const auto result = step(web(), starting, SpawnFailed{"can't find command '/bin/web'"}, at(0s));
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(crashes(*result).size(), 1u);
  EXPECT_EQ(crashes(*result)[0].cause.kind, CauseKind::SpawnFailed);
  EXPECT_FALSE(crashes(*result)[0].exit.has_value());
}

TEST(FsmCrashTest, TooQuickExitIsRecordedAsUnexpected) {
  ProcessRecord starting;
  starting.state = ProcessState::Starting;
  starting.pid = kPid;
  starting.last_start = kT0;
  const auto result = step(web(), starting, ChildExited{exited(0)}, at(100ms));
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(crashes(*result).size(), 1u);
  EXPECT_FALSE(crashes(*result)[0].cause.expected);
}

TEST(FsmCrashTest, SignalRequestMarksTheDeath) {
  auto signalled = step(web(), running(), SignalRequested{SIGKILL}, at(1s));
  ASSERT_TRUE(signalled.has_value());
  EXPECT_EQ(signalled->next.operator_signal, SIGKILL);
  const auto done = step(web(), signalled->next, ChildExited{killed(SIGKILL)}, at(2s));
  EXPECT_EQ(crashes(*done)[0].cause.evidence[0].text, "SIGKILL was sent by a signal request");
}

}  // namespace
}  // namespace zagent
