// Health checks gating RUNNING in the state machine: STARTING -> RUNNING needs startsecs and
// a passing check of this run; no pass within healthcheck_start_timeout is a failed start
// (the child stopped, then BACKOFF or FATAL by startretries, cause health_failed); a late
// result changes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "agent/process/process_fsm.h"

namespace zagent {
namespace {

using namespace std::chrono_literals;
using S = ProcessState;
using ::testing::HasSubstr;

const SteadyTime kT0 = SteadyTime{} + 1h;
const WallTime kW0 = WallTime{} + 1'700'000'000s;
constexpr pid_t kPid = 42;

Now at(std::chrono::nanoseconds d) {
  return Now{kT0 + d, kW0 + std::chrono::duration_cast<WallTime::duration>(d)};
}

ProcessConfig checked_web() {
  ProcessConfig c;
  c.name = "web";
  c.group = "web";
  c.program_name = "web";
  c.command = "/bin/web";
  c.healthcheck = HealthCheckSpec{CheckKind::Http, "127.0.0.1", 7860, "/", "", "http://127.0.0.1:7860/"};
  c.healthcheck_start_timeout = 300s;
  return c;  // startsecs=1, startretries=3
}

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

// Spawned at 0 s through the machine itself.
ProcessRecord spawned(const ProcessConfig& c) {
  ProcessRecord r = must(c, ProcessRecord{}, StartRequested{}, at(0s)).next;
  return must(c, r, SpawnSucceeded{kPid}, at(0s)).next;
}

TEST(HealthGating, StartsecsAloneDoesNotMakeItRunning) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = spawned(c);
  EXPECT_EQ(r.state, S::Starting);
  ASSERT_TRUE(r.deadline.has_value());
  EXPECT_EQ(*r.deadline, kT0 + 1s + 1ns);  // startsecs first
  const Step s = must(c, r, DeadlineReached{}, at(1s + 1ns));
  EXPECT_EQ(s.next.state, S::Starting);
  EXPECT_TRUE(s.actions.empty());
  ASSERT_TRUE(s.next.deadline.has_value());
  EXPECT_EQ(*s.next.deadline, kT0 + 300s);  // then the start timeout, from the spawn
}

TEST(HealthGating, PassAfterStartsecsEntersRunningAtOnce) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  const Step s = must(c, r, HealthChecked{true, "HTTP 200"}, at(4s));
  EXPECT_EQ(s.next.state, S::Running);
  ASSERT_EQ(actions_of<StateChanged>(s).size(), 1U);
  EXPECT_EQ(actions_of<StateChanged>(s)[0].to, S::Running);
  EXPECT_THAT(actions_of<LogLine>(s).at(0).text, HasSubstr("success: web entered RUNNING"));
  EXPECT_FALSE(s.next.deadline.has_value());
}

TEST(HealthGating, PassBeforeStartsecsWaitsForStartsecs) {
  const ProcessConfig c = checked_web();
  const Step passed = must(c, spawned(c), HealthChecked{true, "HTTP 200"}, at(200ms));
  EXPECT_EQ(passed.next.state, S::Starting);
  EXPECT_TRUE(passed.next.health_passed);
  EXPECT_TRUE(passed.actions.empty());
  const Step s = must(c, passed.next, DeadlineReached{}, at(1s + 1ns));
  EXPECT_EQ(s.next.state, S::Running);
}

TEST(HealthGating, StartsecsZeroStillWaitsForAPass) {
  ProcessConfig c = checked_web();
  c.startsecs = 0;
  ProcessRecord r = spawned(c);
  EXPECT_EQ(r.state, S::Starting);
  EXPECT_EQ(*r.deadline, kT0 + 300s);
  EXPECT_EQ(must(c, r, HealthChecked{true, "connected"}, at(10ms)).next.state, S::Running);
}

TEST(HealthGating, WithoutACheckStartsecsIsEnough) {
  ProcessConfig c = checked_web();
  c.healthcheck.reset();
  const Step s = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns));
  EXPECT_EQ(s.next.state, S::Running);
}

TEST(HealthGating, FailuresAreKeptAsTheLastError) {
  const ProcessConfig c = checked_web();
  const Step s = must(c, spawned(c), HealthChecked{false, "connection refused"}, at(1s));
  EXPECT_EQ(s.next.state, S::Starting);
  EXPECT_EQ(s.next.health_error, "connection refused");
  EXPECT_TRUE(s.actions.empty());
}

TEST(HealthGating, StartTimeoutStopsTheChildThenBackoffWithTheReason) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  r = must(c, r, HealthChecked{false, "HTTP 503"}, at(299s)).next;
  const Step timed_out = must(c, r, DeadlineReached{}, at(300s));
  EXPECT_EQ(timed_out.next.state, S::Starting);  // still starting while it is stopped
  EXPECT_TRUE(timed_out.next.health_start_failed);
  EXPECT_EQ(timed_out.next.spawn_error, "health check did not pass within 300 s: HTTP 503");
  ASSERT_EQ(actions_of<SendSignal>(timed_out).size(), 1U);
  EXPECT_EQ(actions_of<SendSignal>(timed_out)[0], (SendSignal{kPid, SIGTERM, false}));
  EXPECT_EQ(*timed_out.next.deadline, kT0 + 310s);  // stopwaitsecs, then SIGKILL

  // A late pass no longer counts.
  EXPECT_EQ(must(c, timed_out.next, HealthChecked{true, "HTTP 200"}, at(301s)).next,
            timed_out.next);

  const Step killed = must(c, timed_out.next, DeadlineReached{}, at(310s));
  ASSERT_EQ(actions_of<SendSignal>(killed).size(), 1U);
  EXPECT_EQ(actions_of<SendSignal>(killed)[0].signo, SIGKILL);
  EXPECT_EQ(killed.next.state, S::Starting);

  const Step exited = must(
      c, timed_out.next, ChildExited{exit_info_from_wait_status(SIGTERM, kW0 + 301s, 301s)},
      at(301s));
  EXPECT_EQ(exited.next.state, S::Backoff);
  EXPECT_EQ(exited.next.backoff, 1);
  EXPECT_EQ(exited.next.spawn_error, "health check did not pass within 300 s: HTTP 503");
  EXPECT_FALSE(exited.next.health_start_failed);
  const auto crashes = actions_of<RecordCrash>(exited);
  ASSERT_EQ(crashes.size(), 1U);
  EXPECT_EQ(crashes[0].cause.kind, CauseKind::HealthFailed);
  EXPECT_FALSE(crashes[0].cause.expected);
  ASSERT_TRUE(exited.next.last_cause.has_value());
  EXPECT_EQ(exited.next.last_cause->kind, CauseKind::HealthFailed);
}

TEST(HealthGating, NoCheckFinishedIsSaid) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  const Step s = must(c, r, DeadlineReached{}, at(300s));
  EXPECT_EQ(s.next.spawn_error, "health check did not pass within 300 s: no check finished");
}

TEST(HealthGating, FailedStartsUseStartretries) {
  ProcessConfig c = checked_web();
  c.startretries = 0;
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  r = must(c, r, DeadlineReached{}, at(300s)).next;
  const Step s = must(c, r, ChildExited{exit_info_from_wait_status(SIGTERM, kW0, 300s)}, at(300s));
  EXPECT_EQ(s.next.state, S::Fatal);
}

TEST(HealthGating, AStopDuringTheFailedStartStopsForGood) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  r = must(c, r, DeadlineReached{}, at(300s)).next;
  const Step stop = must(c, r, StopRequested{false}, at(301s));
  EXPECT_EQ(stop.next.state, S::Stopping);
  EXPECT_TRUE(actions_of<SendSignal>(stop).empty());  // the signal is already out
  const Step s =
      must(c, stop.next, ChildExited{exit_info_from_wait_status(SIGTERM, kW0, 301s)}, at(302s));
  EXPECT_EQ(s.next.state, S::Stopped);
}

TEST(HealthGating, AnExitBeforeAPassIsAFailedStartEvenAfterStartsecs) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), DeadlineReached{}, at(1s + 1ns)).next;
  const Step s = must(c, r, ChildExited{exit_info_from_wait_status(1 << 8, kW0, 5s)}, at(5s));
  EXPECT_EQ(s.next.state, S::Backoff);
  EXPECT_EQ(s.next.spawn_error, "Exited before its health check passed");
}

TEST(HealthGating, ANewSpawnForgetsTheLastRunsChecks) {
  const ProcessConfig c = checked_web();
  ProcessRecord r = must(c, spawned(c), HealthChecked{true, "HTTP 200"}, at(200ms)).next;
  r = must(c, r, DeadlineReached{}, at(1s + 1ns)).next;
  ASSERT_EQ(r.state, S::Running);
  r = must(c, r, ChildExited{exit_info_from_wait_status(1 << 8, kW0, 5s)}, at(5s)).next;
  ASSERT_EQ(r.state, S::Starting);  // autorestart
  EXPECT_FALSE(r.health_passed);
  EXPECT_TRUE(r.health_error.empty());
}

TEST(HealthGating, ResultsOutsideAGatedStartChangeNothing) {
  const ProcessConfig c = checked_web();
  ProcessRecord running = must(c, spawned(c), HealthChecked{true, "HTTP 200"}, at(200ms)).next;
  running = must(c, running, DeadlineReached{}, at(1s + 1ns)).next;
  ASSERT_EQ(running.state, S::Running);
  EXPECT_EQ(must(c, running, HealthChecked{false, "HTTP 503"}, at(20s)).next, running);
  ProcessRecord held = must(c, ProcessRecord{}, StartRequested{}, at(0s)).next;
  EXPECT_EQ(must(c, held, HealthChecked{true, "HTTP 200"}, at(1s)).next, held);
}

}  // namespace
}  // namespace zagent
