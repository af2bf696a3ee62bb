// A guardian's restart (RestartRequested) through the one restart engine: only from RUNNING,
// stopsignal then SIGKILL, snapshot_command first, the exit recorded with the guardian's
// cause, a start whatever autorestart says that obeys restart_delay and the crash-loop limit,
// and an operator stop that wins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "agent/process/process_fsm.h"

namespace zagent {
namespace {

using namespace std::chrono_literals;
using S = ProcessState;

const SteadyTime kT0 = SteadyTime{} + 1h;
const WallTime kW0 = WallTime{} + 1'700'000'000s;
constexpr pid_t kPid = 42;

Now at(std::chrono::nanoseconds d) {
  return Now{kT0 + d, kW0 + std::chrono::duration_cast<WallTime::duration>(d)};
}

ProcessConfig web() {
  ProcessConfig c;
  c.name = "web";
  c.group = "web";
  c.program_name = "web";
  c.command = "/bin/web";
  c.autorestart = AutoRestart::Never;  // a guardian restarts whatever this says
  return c;
}

ProcessRecord running() {
  ProcessRecord r;
  r.state = S::Running;
  r.pid = kPid;
  r.last_start = kT0;
  r.last_start_wall = kW0;
  return r;
}

ExitInfo killed_by(int signo) { return exit_info_from_wait_status(signo, kW0, 0ms); }

const RestartRequested kTrip{CauseKind::MemoryLimit, {"sampler", "RSS 9.0GB > memory_limit 8.0GB"}};

Step must(const ProcessConfig& c, const ProcessRecord& r, const Event& e, Now n) {
  auto s = step(c, r, e, n);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().detail);
  return s ? *s : Step{r, {}};
}

template <typename T>
std::vector<T> actions_of(const Step& s) {
  std::vector<T> out;
  for (const Action& a : s.actions) {
    if (const auto* x = std::get_if<T>(&a)) {
      out.push_back(*x);
    }
  }
  return out;
}

TEST(GuardianRestart, RefusedOutsideRunning) {
  const ProcessConfig c = web();
  for (S state :
       {S::Stopped, S::Starting, S::Backoff, S::Stopping, S::Exited, S::Fatal, S::Unknown}) {
    ProcessRecord r = running();
    r.state = state;
    auto s = step(c, r, kTrip, at(5s));
    ASSERT_FALSE(s.has_value()) << state_name(state);
    EXPECT_EQ(s.error().fault, Fault::NotRunning) << state_name(state);
    EXPECT_FALSE(s.error().internal);
  }
}

TEST(GuardianRestart, StopsWithStopsignalThenRestartsWhateverAutorestartSays) {
  ProcessConfig c = web();
  c.stopasgroup = true;
  const Step stop = must(c, running(), kTrip, at(5s));
  EXPECT_EQ(stop.next.state, S::Stopping);
  EXPECT_TRUE(stop.next.guardian_stop.has_value());
  EXPECT_FALSE(stop.next.administrative_stop);
  ASSERT_EQ(actions_of<SendSignal>(stop).size(), 1u);
  EXPECT_EQ(actions_of<SendSignal>(stop)[0], (SendSignal{kPid, SIGTERM, true}));
  EXPECT_EQ(ended_by(stop.next), EndedBy::Guardian);

  const Step exit = must(c, stop.next, ChildExited(killed_by(SIGTERM)), at(6s));
  // EXITED (not expected), then at once STARTING.
  const auto changes = actions_of<StateChanged>(exit);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (StateChanged{S::Stopping, S::Exited, false}));
  EXPECT_EQ(changes[1], (StateChanged{S::Exited, S::Starting, true}));
  EXPECT_EQ(actions_of<SpawnChild>(exit).size(), 1u);
  EXPECT_FALSE(exit.next.guardian_stop.has_value());
  const auto crashes = actions_of<RecordCrash>(exit);
  ASSERT_EQ(crashes.size(), 1u);
  EXPECT_EQ(crashes[0].cause.kind, CauseKind::MemoryLimit);
  EXPECT_FALSE(crashes[0].cause.expected);
  EXPECT_EQ(crashes[0].cause.evidence[0], (Evidence{"sampler", "RSS 9.0GB > memory_limit 8.0GB"}));
  EXPECT_EQ(crashes[0].pid, kPid);
  ASSERT_TRUE(exit.next.last_cause.has_value());
  EXPECT_EQ(exit.next.last_cause->kind, CauseKind::MemoryLimit);
  EXPECT_THAT(actions_of<LogLine>(exit),
              ::testing::Contains(LogLine{LogLevel::Info,
                                          "stopped: web (terminated by SIGTERM) for a restart "
                                          "by memory_limit"}));
}

TEST(GuardianRestart, SigkillAfterStopwaitsecsKeepsTheGuardiansCause) {
  ProcessConfig c = web();
  c.stopwaitsecs = 3;
  const Step stop = must(c, running(), kTrip, at(0s));
  const Step kill = must(c, stop.next, DeadlineReached{}, at(3s));
  ASSERT_EQ(actions_of<SendSignal>(kill).size(), 1u);
  EXPECT_EQ(actions_of<SendSignal>(kill)[0].signo, SIGKILL);
  const Step exit = must(c, kill.next, ChildExited(killed_by(SIGKILL)), at(3100ms));
  EXPECT_EQ(actions_of<RecordCrash>(exit)[0].cause.kind, CauseKind::MemoryLimit);
  EXPECT_EQ(exit.next.state, S::Starting);
}

TEST(GuardianRestart, ObeysRestartDelay) {
  ProcessConfig c = web();
  c.restart_delay = 5s;
  const Step stop = must(c, running(), kTrip, at(10s));
  const Step exit = must(c, stop.next, ChildExited(killed_by(SIGTERM)), at(11s));
  EXPECT_EQ(exit.next.state, S::Exited);
  EXPECT_TRUE(actions_of<SpawnChild>(exit).empty());
  ASSERT_TRUE(exit.next.deadline.has_value());
  EXPECT_EQ(*exit.next.deadline, kT0 + 16s);
  const Step later = must(c, exit.next, DeadlineReached{}, at(16s));
  EXPECT_EQ(later.next.state, S::Starting);
}

TEST(GuardianRestart, CountsInTheCrashLoopLimit) {
  ProcessConfig c = web();
  c.crashloop_max_restarts = 2;
  c.crashloop_window_secs = 60;
  ProcessRecord r = running();
  for (int i = 0; i < 2; ++i) {
    const Step stop = must(c, r, kTrip, at(std::chrono::seconds(10 * i + 2)));
    const Step exit =
        must(c, stop.next, ChildExited(killed_by(SIGTERM)), at(std::chrono::seconds(10 * i + 3)));
    ASSERT_EQ(exit.next.state, S::Starting) << i;
    r = exit.next;
    r.state = S::Running;
    r.pid = kPid + i + 1;
  }
  const Step stop = must(c, r, kTrip, at(25s));
  const Step exit = must(c, stop.next, ChildExited(killed_by(SIGTERM)), at(26s));
  EXPECT_EQ(exit.next.state, S::Fatal);
  EXPECT_THAT(exit.next.spawn_error, ::testing::HasSubstr("crash loop"));
}

TEST(GuardianRestart, NoRestartDuringShutdown) {
  const ProcessConfig c = web();
  const Step stop = must(c, running(), kTrip, at(0s));
  const Step down = must(c, stop.next, ShutdownBegun{}, at(1s));
  const Step exit = must(c, down.next, ChildExited(killed_by(SIGTERM)), at(2s));
  EXPECT_EQ(exit.next.state, S::Exited);
  EXPECT_TRUE(actions_of<SpawnChild>(exit).empty());
}

TEST(GuardianRestart, AnOperatorStopWinsAndLeavesItStopped) {
  const ProcessConfig c = web();
  const Step stop = must(c, running(), kTrip, at(0s));
  ASSERT_TRUE(step(c, stop.next, kTrip, at(0s)).has_error());  // one restart at a time
  const Step op = must(c, stop.next, StopRequested{false}, at(1s));
  EXPECT_FALSE(op.next.guardian_stop.has_value());
  EXPECT_TRUE(op.next.administrative_stop);
  EXPECT_TRUE(actions_of<SendSignal>(op).empty());  // the signal is already out
  const Step exit = must(c, op.next, ChildExited(killed_by(SIGTERM)), at(2s));
  EXPECT_EQ(exit.next.state, S::Stopped);
  EXPECT_TRUE(actions_of<SpawnChild>(exit).empty());
}

TEST(GuardianRestart, SnapshotCommandRunsBeforeTheStopSignal) {
  ProcessConfig c = web();
  c.snapshot_command = "py-spy dump --pid %(pid)s";
  c.snapshot_timeout = 4;
  const Step first = must(c, running(), kTrip, at(0s));
  EXPECT_EQ(first.next.state, S::Stopping);
  EXPECT_TRUE(actions_of<SendSignal>(first).empty());
  ASSERT_EQ(actions_of<RunSnapshotCommand>(first).size(), 1u);
  EXPECT_EQ(actions_of<RunSnapshotCommand>(first)[0].pid, kPid);
  // Done early: the stop signal goes out then.
  const Step done = must(c, first.next, SnapshotCommandDone{}, at(1s));
  ASSERT_EQ(actions_of<SendSignal>(done).size(), 1u);
  EXPECT_EQ(actions_of<SendSignal>(done)[0].signo, SIGTERM);
  EXPECT_EQ(*done.next.deadline, kT0 + 11s);  // stopwaitsecs from the signal
  // The SIGKILL after stopwaitsecs does not run the snapshot again.
  const Step kill = must(c, done.next, DeadlineReached{}, at(11s));
  EXPECT_TRUE(actions_of<RunSnapshotCommand>(kill).empty());
  EXPECT_EQ(actions_of<SendSignal>(kill)[0].signo, SIGKILL);
}

TEST(GuardianRestart, ASnapshotOutOfTimeDoesNotHoldTheSignalBack) {
  ProcessConfig c = web();
  c.snapshot_command = "sleep 100";
  c.snapshot_timeout = 4;
  const Step first = must(c, running(), kTrip, at(0s));
  EXPECT_TRUE(actions_of<SendSignal>(must(c, first.next, DeadlineReached{}, at(3s))).empty());
  const Step late = must(c, first.next, DeadlineReached{}, at(4s));
  ASSERT_EQ(actions_of<SendSignal>(late).size(), 1u);
  EXPECT_EQ(actions_of<SendSignal>(late)[0].signo, SIGTERM);
  // The command's late end changes nothing more.
  EXPECT_TRUE(actions_of<SendSignal>(must(c, late.next, SnapshotCommandDone{}, at(5s))).empty());
}

TEST(GuardianRestart, AStopDuringTheSnapshotStillSendsTheSignalAfterIt) {
  ProcessConfig c = web();
  c.snapshot_command = "true";
  const Step first = must(c, running(), kTrip, at(0s));
  const Step op = must(c, first.next, StopRequested{false}, at(1s));
  const Step done = must(c, op.next, SnapshotCommandDone{}, at(2s));
  ASSERT_EQ(actions_of<SendSignal>(done).size(), 1u);
  const Step exit = must(c, done.next, ChildExited(killed_by(SIGTERM)), at(3s));
  EXPECT_EQ(exit.next.state, S::Stopped);
}

}  // namespace
}  // namespace zagent
