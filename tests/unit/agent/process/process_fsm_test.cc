#include "agent/process/process_fsm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <set>
#include <utility>

namespace zagent {

// gtest printers for the action alternatives (found by argument-dependent lookup).
void PrintTo(const SpawnChild& a, std::ostream* os) { *os << describe_action(a); }
void PrintTo(const SendSignal& a, std::ostream* os) { *os << describe_action(a); }
void PrintTo(const LogLine& a, std::ostream* os) { *os << describe_action(a); }
void PrintTo(const StateChanged& a, std::ostream* os) { *os << describe_action(a); }
void PrintTo(const RecordCrash& a, std::ostream* os) { *os << describe_action(a); }
void PrintTo(const RunSnapshotCommand& a, std::ostream* os) { *os << describe_action(a); }

namespace {

// supervisord's actions: everything but the crash records, which exit_cause_test.cc checks.
std::vector<Action> supervisord_actions(std::vector<Action> actions) {
  std::erase_if(actions, [](const Action& a) { return std::holds_alternative<RecordCrash>(a); });
  return actions;
}

using namespace std::chrono_literals;
using S = ProcessState;

// ---- time: moves only by building Now values ----

const SteadyTime kT0 = SteadyTime{} + 1h;
const WallTime kW0 = WallTime{} + 1'700'000'000s;

Now at(std::chrono::nanoseconds offset) {
  return Now{kT0 + offset, kW0 + std::chrono::duration_cast<WallTime::duration>(offset)};
}
SteadyTime t(std::chrono::nanoseconds offset) { return kT0 + offset; }
WallTime w(std::chrono::nanoseconds offset) {
  return kW0 + std::chrono::duration_cast<WallTime::duration>(offset);
}

constexpr pid_t kPid = 42;

// ---- config and records ----

ProcessConfig web() {
  ProcessConfig c;
  c.name = "web";
  c.group = "web";
  c.program_name = "web";
  c.command = "/bin/web";
  return c;  // startsecs=1, startretries=3, exitcodes=0, SIGTERM, stopwaitsecs=10
}

ExitInfo exited_with(int code) { return exit_info_from_wait_status(code << 8, kW0, 0ms); }
ExitInfo killed_by(int signo) { return exit_info_from_wait_status(signo, kW0, 0ms); }

ProcessRecord never_started() { return ProcessRecord{}; }

// STARTING, SpawnChild emitted at 0 s, no pid yet.
ProcessRecord starting_without_pid(int backoff = 0) {
  ProcessRecord r;
  r.state = S::Starting;
  r.backoff = backoff;
  r.last_start = t(0s);
  r.last_start_wall = w(0s);
  return r;
}

// STARTING with a child spawned at 0 s (startsecs=1).
ProcessRecord starting(int backoff = 0) {
  ProcessRecord r = starting_without_pid(backoff);
  r.pid = kPid;
  r.deadline = t(1s + 1ns);
  return r;
}

ProcessRecord running() {
  ProcessRecord r = starting();
  r.state = S::Running;
  r.deadline.reset();
  return r;
}

// BACKOFF after one failure at 0.5 s.
ProcessRecord backoff() {
  ProcessRecord r = starting_without_pid();
  r.state = S::Backoff;
  r.backoff = 1;
  r.deadline = t(1500ms + 1ns);
  r.spawn_error = "Exited too quickly (process log may have details)";
  r.last_stop_wall = w(500ms);
  r.last_exit = exited_with(1);
  return r;
}

// STOPPING: a stop RPC at 5 s (stopwaitsecs=10), waiting line logged then.
ProcessRecord stopping() {
  ProcessRecord r = running();
  r.state = S::Stopping;
  r.killing = true;
  r.administrative_stop = true;
  r.deadline = t(15s);
  r.next_stop_report = t(7s + 1ns);
  return r;
}

ProcessRecord exited() {
  ProcessRecord r = running();
  r.state = S::Exited;
  r.pid = 0;
  r.exit_status = 1;
  r.last_exit = exited_with(1);
  r.last_stop_wall = w(5s);
  r.spawn_error = "Bad exit code 1";
  return r;
}

ProcessRecord fatal() {
  ProcessRecord r = starting_without_pid();
  r.state = S::Fatal;
  r.spawn_error = "Exited too quickly (process log may have details)";
  return r;
}

ProcessRecord unknown() {
  ProcessRecord r = running();
  r.state = S::Unknown;
  return r;
}

ProcessRecord shutting(ProcessRecord r) {
  r.shutting_down = true;
  return r;
}

// zagent extensions: restart_delay=2s; the child (spawned at 0 s) exited at 5 s and its
// autorestart is due at 7 s.
void delay_2s(ProcessConfig& c) { c.restart_delay = 2s; }

ProcessRecord exited_restart_pending() {
  ProcessRecord r = exited();
  r.consecutive_restarts = 1;
  r.deadline = t(7s);
  return r;
}

// RUNNING (spawned at 0 s) after `streak` delayed autorestarts.
ProcessRecord running_after_restarts(int streak) {
  ProcessRecord r = running();
  r.consecutive_restarts = streak;
  return r;
}

// RUNNING with autorestarts decided at the given offsets.
ProcessRecord running_with_restarts(std::vector<std::chrono::nanoseconds> offsets) {
  ProcessRecord r = running();
  for (const auto offset : offsets) {
    r.recent_restarts.push_back(t(offset));
  }
  return r;
}

// crashloop_max_restarts=2 within `window`.
std::function<void(ProcessConfig&)> crashloop(std::int64_t window) {
  return [window](ProcessConfig& c) {
    c.crashloop_max_restarts = 2;
    c.crashloop_window_secs = window;
  };
}

// ---- expected actions ----

Action Log(LogLevel level, std::string text) { return LogLine{level, std::move(text)}; }
Action Info(std::string text) { return Log(LogLevel::Info, std::move(text)); }
Action Warn(std::string text) { return Log(LogLevel::Warn, std::move(text)); }
Action Debug(std::string text) { return Log(LogLevel::Debug, std::move(text)); }
Action Crit(std::string text) { return Log(LogLevel::Critical, std::move(text)); }
Action Changed(S from, S to, bool expected = true) { return StateChanged{from, to, expected}; }
Action Spawn() { return SpawnChild{}; }
Action Kill(int signo, bool to_group = false) { return SendSignal{kPid, signo, to_group}; }

const std::string kTooQuickly = "Exited too quickly (process log may have details)";
const std::string kSuccess1 =
    "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)";
const std::string kGaveUp = "gave up: web entered FATAL state, too many start retries too quickly";
const std::string kCrashLoop2In60 = "crash loop: 2 restarts within 60 seconds";

// ---- the (state, event) table ----

struct Row {
  std::string name;
  ProcessRecord before;
  Event event;
  Now now;
  S state;                                    ///< expected next.state
  std::vector<Action> actions;                ///< expected, exactly
  std::optional<Fault> fault = std::nullopt;  ///< set: the event must be refused
  bool internal = false;                      ///< expected FsmError::internal
  std::function<void(ProcessConfig&)> configure = nullptr;
  std::function<void(const ProcessRecord&)> check = nullptr;
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

Row refused(std::string name, ProcessRecord before, Event event, Fault fault) {
  const S state = before.state;
  return Row{.name = std::move(name),
             .before = std::move(before),
             .event = std::move(event),
             .now = at(10s),
             .state = state,
             .actions = {},
             .fault = fault};
}

Row internal_error(std::string name, ProcessRecord before, Event event) {
  Row row = refused(std::move(name), std::move(before), std::move(event), Fault::Failed);
  row.internal = true;
  return row;
}

Row no_op(std::string name, ProcessRecord before, Event event, Now now) {
  const S state = before.state;
  return Row{.name = std::move(name),
             .before = before,
             .event = std::move(event),
             .now = now,
             .state = state,
             .actions = {},
             .check = [before](const ProcessRecord& r) { EXPECT_EQ(r, before); }};
}

Row shutdown_flag(std::string name, ProcessRecord before) {
  const S state = before.state;
  ProcessRecord expected = before;
  expected.shutting_down = true;
  return Row{.name = std::move(name),
             .before = std::move(before),
             .event = ShutdownBegun{},
             .now = at(10s),
             .state = state,
             .actions = {},
             .check = [expected](const ProcessRecord& r) { EXPECT_EQ(r, expected); }};
}

// A spawn from a stopped state at 10 s: fresh per-run fields.
std::function<void(const ProcessRecord&)> check_fresh_spawn() {
  return [](const ProcessRecord& r) {
    EXPECT_EQ(r.pid, 0);
    EXPECT_EQ(r.last_start, t(10s));
    EXPECT_EQ(r.last_start_wall, w(10s));
    EXPECT_EQ(r.spawn_error, "");
    EXPECT_EQ(r.exit_status, std::nullopt);
    EXPECT_FALSE(r.administrative_stop);
    EXPECT_FALSE(r.killing);
    EXPECT_EQ(r.deadline, std::nullopt);
  };
}

std::vector<Row> transition_table() {
  std::vector<Row> rows;
  const Event exit1 = ChildExited{exited_with(1)};

  // ---------------- snapshot_command done: only a waiting SIGKILL reacts ----------------
  for (const auto& [name, record] :
       std::vector<std::pair<std::string, ProcessRecord>>{{"Stopped", never_started()},
                                                          {"Starting", starting()},
                                                          {"Running", running()},
                                                          {"Backoff", backoff()},
                                                          {"Stopping", stopping()},
                                                          {"Exited", exited()},
                                                          {"Fatal", fatal()},
                                                          {"Unknown", unknown()}}) {
    rows.push_back(no_op(name + "_SnapshotCommandDoneNothingWaits_NoOp", record,
                         SnapshotCommandDone{}, at(10s)));
  }
  {
    ProcessRecord waiting = stopping();
    waiting.snapshot_taken = true;
    waiting.snapshot_pending = true;
    rows.push_back({.name = "Stopping_SnapshotCommandDone_SigkillNow",
                    .before = waiting,
                    .event = SnapshotCommandDone{},
                    .now = at(16s),
                    .state = S::Stopping,
                    .actions = {Warn("killing 'web' (42) with SIGKILL"),
                                Debug("killing web (pid 42) with signal SIGKILL"), Kill(SIGKILL)},
                    .check = [](const ProcessRecord& r) { EXPECT_TRUE(r.sigkill_sent); }});
  }

  // ---------------- a guardian's restart: only RUNNING takes it (guardian_restart_test.cc) ----
  for (const auto& [name, record] :
       std::vector<std::pair<std::string, ProcessRecord>>{{"Stopped", never_started()},
                                                          {"Starting", starting()},
                                                          {"Backoff", backoff()},
                                                          {"Stopping", stopping()},
                                                          {"Exited", exited()},
                                                          {"Fatal", fatal()},
                                                          {"Unknown", unknown()}}) {
    rows.push_back(refused(name + "_RestartRequested_NotRunning", record,
                           RestartRequested{CauseKind::CpuLimit, {"sampler", "CPU 99%"}},
                           Fault::NotRunning));
  }
  rows.push_back({.name = "Running_RestartRequested_Stopping",
                  .before = running(),
                  .event = RestartRequested{CauseKind::CpuLimit, {"sampler", "CPU 99%"}},
                  .now = at(5s),
                  .state = S::Stopping,
                  .actions = {Debug("killing web (pid 42) with signal SIGTERM"),
                              Changed(S::Running, S::Stopping), Kill(SIGTERM)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.deadline, t(15s));
                    EXPECT_EQ(r.next_stop_report, std::nullopt);
                    EXPECT_FALSE(r.administrative_stop);
                    ASSERT_TRUE(r.guardian_stop.has_value());
                    EXPECT_EQ(r.guardian_stop->cause, CauseKind::CpuLimit);
                  }});

  // ---------------- a spawn gate holds STARTING before the child exists ----------------
  for (const auto& [name, record] :
       std::vector<std::pair<std::string, ProcessRecord>>{{"Stopped", never_started()},
                                                          {"Starting", starting()},
                                                          {"Running", running()},
                                                          {"Backoff", backoff()},
                                                          {"Stopping", stopping()},
                                                          {"Exited", exited()},
                                                          {"Fatal", fatal()},
                                                          {"Unknown", unknown()}}) {
    rows.push_back(internal_error(name + "_SpawnHeld_Internal", record, SpawnHeld{"waiting"}));
  }
  // ---------------- a check's result without a healthcheck changes nothing ----------------
  // (the gating rules with a check: health_gating_test.cc)
  for (const auto& [name, record] :
       std::vector<std::pair<std::string, ProcessRecord>>{{"Stopped", never_started()},
                                                          {"Starting", starting()},
                                                          {"Running", running()},
                                                          {"Backoff", backoff()},
                                                          {"Stopping", stopping()},
                                                          {"Exited", exited()},
                                                          {"Fatal", fatal()},
                                                          {"Unknown", unknown()}}) {
    rows.push_back(no_op(name + "_HealthChecked_NoOp", record, HealthChecked{true, "HTTP 200"},
                         at(10s)));
  }
  rows.push_back({.name = "StartingWithoutPid_SpawnHeld_Waiting",
                  .before = starting_without_pid(),
                  .event = SpawnHeld{"waiting for 12.0 GiB free on GPU 0 (3.1 GiB free)"},
                  .now = at(1s),
                  .state = S::Starting,
                  .actions = {Info("waiting: web waiting for 12.0 GiB free on GPU 0 (3.1 GiB "
                                   "free)")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.waiting, "waiting for 12.0 GiB free on GPU 0 (3.1 GiB free)");
                    EXPECT_EQ(r.pid, 0);
                  }});
  {
    ProcessRecord held = starting_without_pid();
    held.waiting = "waiting for a GPU reading";
    rows.push_back({.name = "Held_SpawnHeld_NewTextNoLine",
                    .before = held,
                    .event = SpawnHeld{"waiting for 1.0 GiB free on GPU 0 (0.5 GiB free)"},
                    .now = at(2s),
                    .state = S::Starting,
                    .actions = {},
                    .check = [](const ProcessRecord& r) {
                      EXPECT_EQ(r.waiting, "waiting for 1.0 GiB free on GPU 0 (0.5 GiB free)");
                    }});
    rows.push_back({.name = "Held_StopRequested_Stopped",
                    .before = held,
                    .event = StopRequested{},
                    .now = at(2s),
                    .state = S::Stopped,
                    .actions = {Changed(S::Starting, S::Stopped),
                                Info("stopped: web (waiting cancelled)")},
                    .check = [](const ProcessRecord& r) {
                      EXPECT_TRUE(r.waiting.empty());
                      EXPECT_TRUE(r.administrative_stop);
                    }});
    rows.push_back({.name = "Held_SpawnSucceeded_StartsecsFromTheSpawn",
                    .before = held,
                    .event = SpawnSucceeded{kPid},
                    .now = at(20s),
                    .state = S::Starting,
                    .actions = {Info("spawned: 'web' with pid 42")},
                    .check = [](const ProcessRecord& r) {
                      EXPECT_TRUE(r.waiting.empty());
                      EXPECT_EQ(r.last_start, t(20s));
                      EXPECT_EQ(r.deadline, t(21s + 1ns));
                    }});
    rows.push_back({.name = "Held_DeadlineReached_NoOp",
                    .before = held,
                    .event = DeadlineReached{},
                    .now = at(30s),
                    .state = S::Starting,
                    .actions = {},
                    .check = [held](const ProcessRecord& r) { EXPECT_EQ(r, held); }});
  }

  // ---------------- STOPPED ----------------
  rows.push_back({.name = "Stopped_StartRequested_Starting",
                  .before = never_started(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Stopped, S::Starting), Spawn()},
                  .check = check_fresh_spawn()});
  rows.push_back({.name = "Stopped_StartRequestedAfterBackoffStop_KeepsBackoffCount",
                  .before =
                      [] {
                        ProcessRecord r = backoff();
                        r.state = S::Stopped;
                        r.deadline.reset();
                        r.administrative_stop = true;
                        return r;
                      }(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Stopped, S::Starting), Spawn()},
                  .check = [](const ProcessRecord& r) { EXPECT_EQ(r.backoff, 1); }});
  rows.push_back(refused("Stopped_StartRequestedDuringShutdown_ShutdownState",
                         shutting(never_started()), StartRequested{}, Fault::ShutdownState));
  rows.push_back(refused("Stopped_StopRequested_NotRunning", never_started(), StopRequested{},
                         Fault::NotRunning));
  rows.push_back(
      internal_error("Stopped_SpawnSucceeded_Internal", never_started(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Stopped_SpawnFailed_Internal", never_started(), SpawnFailed{"x"}));
  rows.push_back(internal_error("Stopped_ChildExited_Internal", never_started(), exit1));
  rows.push_back(
      no_op("Stopped_DeadlineReached_NoOp", never_started(), DeadlineReached{}, at(10s)));
  rows.push_back(shutdown_flag("Stopped_ShutdownBegun_StaysStopped", never_started()));
  rows.push_back(refused("Stopped_SignalRequested_NotRunning", never_started(),
                         SignalRequested{SIGHUP}, Fault::NotRunning));
  rows.push_back(
      internal_error("Stopped_SignalFailed_Internal", never_started(), SignalFailed{"x"}));

  // ---------------- STARTING ----------------
  rows.push_back(refused("Starting_StartRequested_AlreadyStarted", starting(), StartRequested{},
                         Fault::AlreadyStarted));
  rows.push_back({.name = "Starting_StopRequested_Stopping",
                  .before = starting(),
                  .event = StopRequested{},
                  .now = at(500ms),
                  .state = S::Stopping,
                  .actions = {Debug("killing web (pid 42) with signal SIGTERM"),
                              Changed(S::Starting, S::Stopping), Kill(SIGTERM),
                              Info("waiting for web to stop")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_TRUE(r.killing);
                    EXPECT_TRUE(r.administrative_stop);
                    EXPECT_EQ(r.deadline, t(10500ms));
                    EXPECT_EQ(r.next_stop_report, t(2500ms + 1ns));
                    EXPECT_EQ(r.pid, kPid);
                  }});
  rows.push_back(
      {.name = "Starting_StopRequestedStopasgroupNoReport_SignalsGroupSilently",
       .before = starting(),
       .event = StopRequested{.report_progress = false},
       .now = at(500ms),
       .state = S::Stopping,
       .actions = {Debug("killing web (pid 42) process group with signal SIGINT"),
                   Changed(S::Starting, S::Stopping), Kill(SIGINT, true)},
       .configure =
           [](ProcessConfig& c) {
             c.stopasgroup = true;
             c.killasgroup = true;
             c.stopsignal = SIGINT;
           },
       .check = [](const ProcessRecord& r) { EXPECT_EQ(r.next_stop_report, std::nullopt); }});
  rows.push_back(refused("Starting_StopRequestedBeforePid_Failed", starting_without_pid(),
                         StopRequested{}, Fault::Failed));
  rows.push_back({.name = "Starting_SpawnSucceeded_WaitsForStartsecs",
                  .before = starting_without_pid(),
                  .event = SpawnSucceeded{kPid},
                  .now = at(1ms),
                  .state = S::Starting,
                  .actions = {Info("spawned: 'web' with pid 42")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.pid, kPid);
                    // supervisord compat: strictly more than startsecs after laststart.
                    EXPECT_EQ(r.deadline, t(1s + 1ns));
                  }});
  rows.push_back({.name = "Starting_SpawnSucceededStartsecsZero_Running",
                  .before = starting_without_pid(/*backoff=*/2),
                  .event = SpawnSucceeded{kPid},
                  .now = at(1ms),
                  .state = S::Running,
                  .actions = {Info("spawned: 'web' with pid 42"), Changed(S::Starting, S::Running),
                              Info("success: web entered RUNNING state, process has stayed up "
                                   "for > than 0 seconds (startsecs)")},
                  .configure = [](ProcessConfig& c) { c.startsecs = 0; },
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_EQ(r.backoff, 0);
                        EXPECT_EQ(r.deadline, std::nullopt);
                      }});
  rows.push_back(
      internal_error("Starting_SpawnSucceededWithPid_Internal", starting(), SpawnSucceeded{7}));
  rows.push_back({.name = "Starting_SpawnFailed_Backoff",
                  .before = starting_without_pid(),
                  .event = SpawnFailed{"can't find command '/bin/web'"},
                  .now = at(0s),
                  .state = S::Backoff,
                  .actions = {Info("spawnerr: can't find command '/bin/web'"),
                              Changed(S::Starting, S::Backoff)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.spawn_error, "can't find command '/bin/web'");
                    EXPECT_EQ(r.backoff, 1);
                    EXPECT_EQ(r.deadline, t(1s + 1ns));
                    EXPECT_EQ(r.pid, 0);
                  }});
  rows.push_back(
      {.name = "Starting_SpawnFailedRetriesExhausted_Fatal",
       .before = starting_without_pid(/*backoff=*/3),
       .event = SpawnFailed{"can't find command '/bin/web'"},
       .now = at(0s),
       .state = S::Fatal,
       .actions = {Info("spawnerr: can't find command '/bin/web'"),
                   Changed(S::Starting, S::Backoff), Changed(S::Backoff, S::Fatal), Info(kGaveUp)},
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.backoff, 0);
         EXPECT_EQ(r.deadline, std::nullopt);
         EXPECT_EQ(r.spawn_error, "can't find command '/bin/web'");
       }});
  rows.push_back({.name = "Starting_SpawnFailedDuringShutdown_FatalSilently",
                  .before = shutting(starting_without_pid()),
                  .event = SpawnFailed{"oops"},
                  .now = at(0s),
                  .state = S::Fatal,
                  .actions = {Info("spawnerr: oops"), Changed(S::Starting, S::Backoff),
                              Changed(S::Backoff, S::Fatal)}});
  rows.push_back(
      internal_error("Starting_SpawnFailedWithPid_Internal", starting(), SpawnFailed{"x"}));
  rows.push_back({.name = "Starting_ChildExitedBeforeStartsecs_Backoff",
                  .before = starting(),
                  .event = exit1,
                  .now = at(500ms),
                  .state = S::Backoff,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Starting, S::Backoff)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.spawn_error, kTooQuickly);
                    EXPECT_EQ(r.exit_status, std::nullopt);
                    EXPECT_EQ(r.pid, 0);
                    EXPECT_EQ(r.backoff, 1);
                    EXPECT_EQ(r.deadline, t(1500ms + 1ns));
                    EXPECT_EQ(r.last_stop_wall, w(500ms));
                    EXPECT_EQ(r.last_exit, exited_with(1));
                  }});
  rows.push_back({.name = "Starting_ChildExitedExpectedCodeBeforeStartsecs_Backoff",
                  .before = starting(),
                  .event = ChildExited{exited_with(0)},
                  .now = at(999ms),
                  .state = S::Backoff,
                  .actions = {Warn("exited: web (exit status 0; not expected)"),
                              Changed(S::Starting, S::Backoff)}});
  rows.push_back(
      {.name = "Starting_ChildExitedAtExactlyStartsecs_RunningThenExitedAndRestarted",
       .before = starting(/*backoff=*/2),
       .event = exit1,
       .now = at(1s),
       .state = S::Starting,
       .actions = {Changed(S::Starting, S::Running), Info(kSuccess1),
                   Warn("exited: web (exit status 1; not expected)"),
                   Changed(S::Running, S::Exited, false), Changed(S::Exited, S::Starting), Spawn()},
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.backoff, 0);
         EXPECT_EQ(r.last_start, t(1s));
       }});
  rows.push_back(
      internal_error("Starting_ChildExitedBeforePid_Internal", starting_without_pid(), exit1));
  rows.push_back({.name = "Starting_DeadlineReachedAfterStartsecs_Running",
                  .before = starting(/*backoff=*/2),
                  .event = DeadlineReached{},
                  .now = at(1s + 1ns),
                  .state = S::Running,
                  .actions = {Changed(S::Starting, S::Running), Info(kSuccess1)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.backoff, 0);
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_EQ(r.pid, kPid);
                  }});
  rows.push_back(no_op("Starting_DeadlineReachedAtExactlyStartsecs_StaysStarting", starting(),
                       DeadlineReached{}, at(1s)));
  rows.push_back(no_op("Starting_DeadlineReachedBeforePid_NoOp", starting_without_pid(),
                       DeadlineReached{}, at(5s)));
  rows.push_back(shutdown_flag("Starting_ShutdownBegun_StaysStarting", starting()));
  rows.push_back({.name = "Starting_SignalRequested_SendsToPidNotGroup",
                  .before = starting(),
                  .event = SignalRequested{SIGHUP},
                  .now = at(500ms),
                  .state = S::Starting,
                  .actions = {Debug("sending web (pid 42) sig SIGHUP"), Kill(SIGHUP)},
                  .configure = [](ProcessConfig& c) {
                    c.stopasgroup = true;
                    c.killasgroup = true;
                  }});
  rows.push_back(refused("Starting_SignalRequestedBeforePid_Failed", starting_without_pid(),
                         SignalRequested{SIGHUP}, Fault::Failed));
  rows.push_back({.name = "Starting_SignalFailed_Unknown",
                  .before = starting(),
                  .event = SignalFailed{.reason = "EPERM", .during_stop = false},
                  .now = at(500ms),
                  .state = S::Unknown,
                  .actions = {Crit("unknown problem sending sig web (42):EPERM"),
                              Changed(S::Starting, S::Unknown)}});

  // ---------------- RUNNING ----------------
  rows.push_back(refused("Running_StartRequested_AlreadyStarted", running(), StartRequested{},
                         Fault::AlreadyStarted));
  rows.push_back({.name = "Running_StopRequested_Stopping",
                  .before = running(),
                  .event = StopRequested{},
                  .now = at(5s),
                  .state = S::Stopping,
                  .actions = {Debug("killing web (pid 42) with signal SIGTERM"),
                              Changed(S::Running, S::Stopping), Kill(SIGTERM),
                              Info("waiting for web to stop")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.deadline, t(15s));
                    EXPECT_EQ(r.next_stop_report, t(7s + 1ns));
                    EXPECT_TRUE(r.administrative_stop);
                    EXPECT_FALSE(r.sigkill_sent);
                  }});
  rows.push_back({.name = "Running_StopRequestedStopasgroup_SignalsGroup",
                  .before = running(),
                  .event = StopRequested{},
                  .now = at(5s),
                  .state = S::Stopping,
                  .actions = {Debug("killing web (pid 42) process group with signal SIGTERM"),
                              Changed(S::Running, S::Stopping), Kill(SIGTERM, true),
                              Info("waiting for web to stop")},
                  .configure = [](ProcessConfig& c) {
                    c.stopasgroup = true;
                    c.killasgroup = true;
                  }});
  rows.push_back(
      internal_error("Running_SpawnSucceeded_Internal", running(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Running_SpawnFailed_Internal", running(), SpawnFailed{"x"}));
  rows.push_back(
      {.name = "Running_ChildExitedUnexpected_ExitedAndRestarted",
       .before = running(),
       .event = exit1,
       .now = at(5s),
       .state = S::Starting,
       .actions = {Warn("exited: web (exit status 1; not expected)"),
                   Changed(S::Running, S::Exited, false), Changed(S::Exited, S::Starting), Spawn()},
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.last_start, t(5s));
         EXPECT_EQ(r.last_stop_wall, w(5s));
         EXPECT_EQ(r.last_exit, exited_with(1));
         EXPECT_EQ(r.backoff, 0);
         EXPECT_EQ(r.pid, 0);
       }});
  rows.push_back({.name = "Running_ChildExitedExpected_Exited",
                  .before = running(),
                  .event = ChildExited{exited_with(0)},
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Info("exited: web (exit status 0; expected)"),
                              Changed(S::Running, S::Exited, true)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.exit_status, 0);
                    EXPECT_EQ(r.spawn_error, "");
                    EXPECT_EQ(r.pid, 0);
                  }});
  rows.push_back({.name = "Running_ChildExitedUnexpectedAutorestartFalse_ExitedWithBadExitCode",
                  .before = running(),
                  .event = ChildExited{exited_with(2)},
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 2; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure = [](ProcessConfig& c) { c.autorestart = AutoRestart::Never; },
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_EQ(r.exit_status, 2);
                        EXPECT_EQ(r.spawn_error, "Bad exit code 2");
                      }});
  rows.push_back({.name = "Running_ChildExitedDuringShutdown_StaysExited",
                  .before = shutting(running()),
                  .event = ChildExited{killed_by(SIGHUP)},
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (terminated by SIGHUP; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure = [](ProcessConfig& c) { c.autorestart = AutoRestart::Always; },
                  .check = [](const ProcessRecord& r) { EXPECT_EQ(r.exit_status, -1); }});
  rows.push_back(no_op("Running_DeadlineReached_NoOp", running(), DeadlineReached{}, at(50s)));
  rows.push_back(shutdown_flag("Running_ShutdownBegun_StaysRunning", running()));
  rows.push_back({.name = "Running_SignalRequested_SendsToPid",
                  .before = running(),
                  .event = SignalRequested{SIGUSR1},
                  .now = at(5s),
                  .state = S::Running,
                  .actions = {Debug("sending web (pid 42) sig SIGUSR1"), Kill(SIGUSR1)}});
  rows.push_back({.name = "Running_SignalFailed_Unknown",
                  .before = running(),
                  .event = SignalFailed{.reason = "EPERM", .during_stop = false},
                  .now = at(5s),
                  .state = S::Unknown,
                  .actions = {Crit("unknown problem sending sig web (42):EPERM"),
                              Changed(S::Running, S::Unknown)},
                  .check = [](const ProcessRecord& r) { EXPECT_EQ(r.pid, kPid); }});

  // ---------------- BACKOFF ----------------
  rows.push_back(refused("Backoff_StartRequested_AlreadyStarted", backoff(), StartRequested{},
                         Fault::AlreadyStarted));
  rows.push_back({.name = "Backoff_StopRequested_StoppedWithoutSignal",
                  .before = backoff(),
                  .event = StopRequested{},
                  .now = at(1s),
                  .state = S::Stopped,
                  .actions = {Debug("Attempted to kill web, which is in BACKOFF state."),
                              Changed(S::Backoff, S::Stopped)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_TRUE(r.administrative_stop);
                    EXPECT_EQ(r.backoff, 1);  // supervisord compat: not reset
                  }});
  rows.push_back(
      internal_error("Backoff_SpawnSucceeded_Internal", backoff(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Backoff_SpawnFailed_Internal", backoff(), SpawnFailed{"x"}));
  rows.push_back(internal_error("Backoff_ChildExited_Internal", backoff(), exit1));
  rows.push_back({.name = "Backoff_DeadlineReachedAfterDelay_Starting",
                  .before = backoff(),
                  .event = DeadlineReached{},
                  .now = at(1500ms + 1ns),
                  .state = S::Starting,
                  .actions = {Changed(S::Backoff, S::Starting), Spawn()},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.backoff, 1);
                    EXPECT_EQ(r.last_start, t(1500ms + 1ns));
                    EXPECT_EQ(r.spawn_error, "");
                  }});
  rows.push_back(no_op("Backoff_DeadlineReachedAtExactDelay_StaysBackoff", backoff(),
                       DeadlineReached{}, at(1500ms)));
  rows.push_back({.name = "Backoff_ShutdownBegun_FatalSilently",
                  .before = backoff(),
                  .event = ShutdownBegun{},
                  .now = at(1s),
                  .state = S::Fatal,
                  .actions = {Changed(S::Backoff, S::Fatal)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_TRUE(r.shutting_down);
                    EXPECT_EQ(r.backoff, 0);
                    EXPECT_EQ(r.deadline, std::nullopt);
                  }});
  rows.push_back(refused("Backoff_SignalRequested_NotRunning", backoff(), SignalRequested{SIGHUP},
                         Fault::NotRunning));
  rows.push_back(internal_error("Backoff_SignalFailed_Internal", backoff(), SignalFailed{"x"}));

  // ---------------- STOPPING ----------------
  rows.push_back({.name = "Stopping_StartRequested_WarnsAlreadyRunning",
                  .before = stopping(),
                  .event = StartRequested{},
                  .now = at(6s),
                  .state = S::Stopping,
                  .actions = {Warn("process 'web' already running")}});
  rows.push_back(
      refused("Stopping_StopRequested_NotRunning", stopping(), StopRequested{}, Fault::NotRunning));
  rows.push_back(
      internal_error("Stopping_SpawnSucceeded_Internal", stopping(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Stopping_SpawnFailed_Internal", stopping(), SpawnFailed{"x"}));
  rows.push_back(
      {.name = "Stopping_ChildExitedBySigterm_StoppedWarn",
       .before = stopping(),
       .event = ChildExited{killed_by(SIGTERM)},
       .now = at(5100ms),
       .state = S::Stopped,
       .actions = {Changed(S::Stopping, S::Stopped), Warn("stopped: web (terminated by SIGTERM)")},
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.exit_status, -1);
         EXPECT_EQ(r.pid, 0);
         EXPECT_FALSE(r.killing);
         EXPECT_EQ(r.deadline, std::nullopt);
         EXPECT_EQ(r.next_stop_report, std::nullopt);
         EXPECT_EQ(r.last_stop_wall, w(5100ms));
         EXPECT_TRUE(r.administrative_stop);
       }});
  rows.push_back(
      {.name = "Stopping_ChildExitedExpectedStatus_StoppedInfo",
       .before = stopping(),
       .event = ChildExited{exited_with(0)},
       .now = at(5100ms),
       .state = S::Stopped,
       .actions = {Changed(S::Stopping, S::Stopped), Info("stopped: web (exit status 0)")}});
  rows.push_back(
      {.name = "Stopping_ChildExitedUnexpectedStatus_StoppedWarn",
       .before = stopping(),
       .event = ChildExited{exited_with(3)},
       .now = at(5100ms),
       .state = S::Stopped,
       .actions = {Changed(S::Stopping, S::Stopped), Warn("stopped: web (exit status 3)")}});
  rows.push_back(
      {.name = "Stopping_ChildExitedSignalInExitcodes_StoppedWarn",
       .before = stopping(),
       .event = ChildExited{killed_by(SIGTERM)},
       .now = at(5100ms),
       .state = S::Stopped,
       .actions = {Changed(S::Stopping, S::Stopped), Warn("stopped: web (terminated by SIGTERM)")},
       .configure = [](ProcessConfig& c) {
         c.exitcodes = {0, 15, 143};
       }});
  rows.push_back(
      {.name = "Stopping_ChildExitedAutorestartTrue_NoRestart",
       .before = stopping(),
       .event = ChildExited{exited_with(1)},
       .now = at(5100ms),
       .state = S::Stopped,
       .actions = {Changed(S::Stopping, S::Stopped), Warn("stopped: web (exit status 1)")},
       .configure = [](ProcessConfig& c) { c.autorestart = AutoRestart::Always; }});
  rows.push_back(
      no_op("Stopping_DeadlineReachedNothingDue_NoOp", stopping(), DeadlineReached{}, at(7s)));
  rows.push_back({.name = "Stopping_DeadlineReachedReportDue_LogsWaiting",
                  .before = stopping(),
                  .event = DeadlineReached{},
                  .now = at(7s + 1ns),
                  .state = S::Stopping,
                  .actions = {Info("waiting for web to stop")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.next_stop_report, t(9s + 2ns));
                    EXPECT_EQ(r.deadline, t(15s));
                  }});
  rows.push_back({.name = "Stopping_DeadlineReachedAtStopwaitsecs_SigkillToPid",
                  .before = stopping(),
                  .event = DeadlineReached{},
                  .now = at(15s),
                  .state = S::Stopping,
                  .actions = {Warn("killing 'web' (42) with SIGKILL"),
                              Debug("killing web (pid 42) with signal SIGKILL"), Kill(SIGKILL),
                              Info("waiting for web to stop")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_TRUE(r.sigkill_sent);
                    EXPECT_TRUE(r.killing);
                    EXPECT_EQ(r.deadline, t(25s));
                    EXPECT_EQ(r.next_stop_report, t(17s + 1ns));
                  }});
  rows.push_back({.name = "Stopping_DeadlineReachedKillasgroup_SigkillToGroup",
                  .before =
                      [] {
                        ProcessRecord r = stopping();
                        r.next_stop_report.reset();
                        return r;
                      }(),
                  .event = DeadlineReached{},
                  .now = at(15s),
                  .state = S::Stopping,
                  .actions = {Warn("killing 'web' (42) with SIGKILL"),
                              Debug("killing web (pid 42) process group with signal SIGKILL"),
                              Kill(SIGKILL, true)},
                  .configure = [](ProcessConfig& c) { c.killasgroup = true; }});
  rows.push_back({.name = "Stopping_DeadlineReachedStopasgroupWithoutKillasgroup_SigkillToPid",
                  .before =
                      [] {
                        ProcessRecord r = stopping();
                        r.next_stop_report.reset();
                        return r;
                      }(),
                  .event = DeadlineReached{},
                  .now = at(16s),
                  .state = S::Stopping,
                  .actions = {Warn("killing 'web' (42) with SIGKILL"),
                              Debug("killing web (pid 42) with signal SIGKILL"), Kill(SIGKILL)},
                  .configure = [](ProcessConfig& c) { c.stopasgroup = true; }});
  rows.push_back(shutdown_flag("Stopping_ShutdownBegun_StaysStopping", stopping()));
  rows.push_back({.name = "Stopping_SignalRequested_SendsToPid",
                  .before = stopping(),
                  .event = SignalRequested{SIGCONT},
                  .now = at(6s),
                  .state = S::Stopping,
                  .actions = {Debug("sending web (pid 42) sig SIGCONT"), Kill(SIGCONT)}});
  rows.push_back({.name = "Stopping_SignalFailed_Unknown",
                  .before = stopping(),
                  .event = SignalFailed{.reason = "Operation not permitted"},
                  .now = at(5s),
                  .state = S::Unknown,
                  .actions = {Crit("unknown problem killing web (42):Operation not permitted"),
                              Changed(S::Stopping, S::Unknown)},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_FALSE(r.killing);
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_EQ(r.next_stop_report, std::nullopt);
                  }});

  // ---------------- EXITED ----------------
  rows.push_back({.name = "Exited_StartRequested_Starting",
                  .before = exited(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Exited, S::Starting), Spawn()},
                  .check = check_fresh_spawn()});
  rows.push_back(refused("Exited_StartRequestedDuringShutdown_ShutdownState", shutting(exited()),
                         StartRequested{}, Fault::ShutdownState));
  rows.push_back(
      refused("Exited_StopRequested_NotRunning", exited(), StopRequested{}, Fault::NotRunning));
  rows.push_back(internal_error("Exited_SpawnSucceeded_Internal", exited(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Exited_SpawnFailed_Internal", exited(), SpawnFailed{"x"}));
  rows.push_back(internal_error("Exited_ChildExited_Internal", exited(), exit1));
  rows.push_back(no_op("Exited_DeadlineReached_NoOp", exited(), DeadlineReached{}, at(10s)));
  rows.push_back(shutdown_flag("Exited_ShutdownBegun_StaysExited", exited()));
  rows.push_back(refused("Exited_SignalRequested_NotRunning", exited(), SignalRequested{SIGHUP},
                         Fault::NotRunning));
  rows.push_back(internal_error("Exited_SignalFailed_Internal", exited(), SignalFailed{"x"}));

  // ---------------- FATAL ----------------
  rows.push_back({.name = "Fatal_StartRequested_StartingWithFreshRetries",
                  .before = fatal(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Fatal, S::Starting), Spawn()},
                  .check = [](const ProcessRecord& r) {
                    check_fresh_spawn()(r);
                    EXPECT_EQ(r.backoff, 0);
                  }});
  rows.push_back(
      refused("Fatal_StopRequested_NotRunning", fatal(), StopRequested{}, Fault::NotRunning));
  rows.push_back(internal_error("Fatal_SpawnSucceeded_Internal", fatal(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Fatal_SpawnFailed_Internal", fatal(), SpawnFailed{"x"}));
  rows.push_back(internal_error("Fatal_ChildExited_Internal", fatal(), exit1));
  rows.push_back(no_op("Fatal_DeadlineReached_NoOp", fatal(), DeadlineReached{}, at(100s)));
  rows.push_back(shutdown_flag("Fatal_ShutdownBegun_StaysFatal", fatal()));
  rows.push_back(refused("Fatal_SignalRequested_NotRunning", fatal(), SignalRequested{SIGHUP},
                         Fault::NotRunning));
  rows.push_back(internal_error("Fatal_SignalFailed_Internal", fatal(), SignalFailed{"x"}));

  // ---------------- UNKNOWN ----------------
  rows.push_back(
      refused("Unknown_StartRequested_Failed", unknown(), StartRequested{}, Fault::Failed));
  rows.push_back(
      refused("Unknown_StopRequested_NotRunning", unknown(), StopRequested{}, Fault::NotRunning));
  rows.push_back(
      internal_error("Unknown_SpawnSucceeded_Internal", unknown(), SpawnSucceeded{kPid}));
  rows.push_back(internal_error("Unknown_SpawnFailed_Internal", unknown(), SpawnFailed{"x"}));
  rows.push_back({.name = "Unknown_ChildExited_StaysUnknownWithoutPid",
                  .before = unknown(),
                  .event = ChildExited{killed_by(SIGKILL)},
                  .now = at(10s),
                  .state = S::Unknown,
                  .actions = {Warn("exited: web (terminated by SIGKILL; not expected)")},
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.pid, 0);
                    EXPECT_EQ(r.exit_status, -1);
                  }});
  rows.push_back(no_op("Unknown_DeadlineReached_NoOp", unknown(), DeadlineReached{}, at(10s)));
  rows.push_back(shutdown_flag("Unknown_ShutdownBegun_StaysUnknown", unknown()));
  rows.push_back(refused("Unknown_SignalRequested_NotRunning", unknown(), SignalRequested{SIGHUP},
                         Fault::NotRunning));
  rows.push_back(internal_error("Unknown_SignalFailed_Internal", unknown(), SignalFailed{"x"}));
  // ---------------- zagent extensions: restart delay, backoff, crash-loop limit ----------------
  rows.push_back({.name = "Running_ChildExitedWithRestartDelay_ExitedWithDeadline",
                  .before = running(),
                  .event = exit1,
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.deadline, t(7s));
                    EXPECT_EQ(next_wakeup(r), t(7s));
                    EXPECT_EQ(r.consecutive_restarts, 1);
                    EXPECT_EQ(r.exit_status, 1);
                    EXPECT_EQ(r.spawn_error, "Bad exit code 1");
                    EXPECT_EQ(r.pid, 0);
                  }});
  rows.push_back({.name = "Running_ChildExitedRestartDelayNoAutorestart_ExitedWithoutDeadline",
                  .before = running(),
                  .event = ChildExited{exited_with(0)},
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Info("exited: web (exit status 0; expected)"),
                              Changed(S::Running, S::Exited, true)},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_EQ(r.consecutive_restarts, 0);
                  }});
  rows.push_back({.name = "Running_ChildExitedRestartDelayDuringShutdown_ExitedWithoutDeadline",
                  .before = shutting(running()),
                  .event = exit1,
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) { EXPECT_EQ(r.deadline, std::nullopt); }});
  rows.push_back({.name = "Running_ChildExitedThirdQuickRestart_DelayDoubledTwice",
                  .before = running_after_restarts(2),
                  .event = exit1,
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure =
                      [](ProcessConfig& c) {
                        c.restart_delay = 1s;
                        c.restart_delay_max = 10s;
                      },
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_EQ(r.consecutive_restarts, 3);
                        EXPECT_EQ(r.deadline, t(9s));  // 1 s doubled twice
                      }});
  rows.push_back({.name = "Running_ChildExitedFifthQuickRestart_DelayCapped",
                  .before = running_after_restarts(4),
                  .event = exit1,
                  .now = at(5s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure =
                      [](ProcessConfig& c) {
                        c.restart_delay = 1s;
                        c.restart_delay_max = 10s;
                      },
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_EQ(r.consecutive_restarts, 5);
                        EXPECT_EQ(r.deadline, t(15s));  // 16 s capped at 10 s
                      }});
  rows.push_back({.name = "Running_ChildExitedAfterRunAsLongAsCap_DelaySequenceStartsOver",
                  .before = running_after_restarts(4),
                  .event = exit1,
                  .now = at(10s),
                  .state = S::Exited,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false)},
                  .configure =
                      [](ProcessConfig& c) {
                        c.restart_delay = 1s;
                        c.restart_delay_max = 10s;
                      },
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_EQ(r.consecutive_restarts, 1);
                        EXPECT_EQ(r.deadline, t(11s));
                      }});
  rows.push_back({.name = "Running_ChildExitedCrashLoop_FatalWithReason",
                  .before = running_with_restarts({1s, 3s}),
                  .event = exit1,
                  .now = at(5s),
                  .state = S::Fatal,
                  .actions = {Warn("exited: web (exit status 1; not expected)"),
                              Changed(S::Running, S::Exited, false), Changed(S::Exited, S::Fatal),
                              Info("gave up: web entered FATAL state, " + kCrashLoop2In60)},
                  .configure = crashloop(60),
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.spawn_error, kCrashLoop2In60);
                    EXPECT_EQ(r.exit_status, 1);
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_TRUE(r.recent_restarts.empty());
                    EXPECT_EQ(r.last_exit, exited_with(1));
                  }});
  rows.push_back({.name = "Running_ChildExitedCrashLoopExpectedExitAutorestartTrue_Fatal",
                  .before = running_with_restarts({1s, 3s}),
                  .event = ChildExited{exited_with(0)},
                  .now = at(5s),
                  .state = S::Fatal,
                  .actions = {Info("exited: web (exit status 0; expected)"),
                              Changed(S::Running, S::Exited, true), Changed(S::Exited, S::Fatal),
                              Info("gave up: web entered FATAL state, " + kCrashLoop2In60)},
                  .configure = [](ProcessConfig& c) {
                    crashloop(60)(c);
                    c.autorestart = AutoRestart::Always;
                  }});
  rows.push_back(
      {.name = "Running_ChildExitedOldRestartLeftWindow_Restarts",
       .before = running_with_restarts({1s, 3s}),
       .event = exit1,
       .now = at(5s),
       .state = S::Starting,
       .actions = {Warn("exited: web (exit status 1; not expected)"),
                   Changed(S::Running, S::Exited, false), Changed(S::Exited, S::Starting), Spawn()},
       .configure = crashloop(4),  // the one at 1 s is exactly 4 s old: outside
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.recent_restarts, (std::vector<SteadyTime>{t(3s), t(5s)}));
       }});
  rows.push_back(
      {.name = "Running_ChildExitedUnderCrashLoopLimit_RestartsAndRemembers",
       .before = running_with_restarts({3s}),
       .event = exit1,
       .now = at(5s),
       .state = S::Starting,
       .actions = {Warn("exited: web (exit status 1; not expected)"),
                   Changed(S::Running, S::Exited, false), Changed(S::Exited, S::Starting), Spawn()},
       .configure = crashloop(60),
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.recent_restarts, (std::vector<SteadyTime>{t(3s), t(5s)}));
       }});
  rows.push_back({.name = "Exited_DeadlineReachedRestartDue_Starting",
                  .before = exited_restart_pending(),
                  .event = DeadlineReached{},
                  .now = at(7s),
                  .state = S::Starting,
                  .actions = {Changed(S::Exited, S::Starting), Spawn()},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) {
                    EXPECT_EQ(r.last_start, t(7s));
                    EXPECT_EQ(r.deadline, std::nullopt);
                    EXPECT_EQ(r.consecutive_restarts, 1);  // kept: the streak goes on
                    EXPECT_EQ(r.spawn_error, "");
                    EXPECT_EQ(r.exit_status, std::nullopt);
                  }});
  rows.push_back(no_op("Exited_DeadlineReachedBeforeRestartDelay_StaysExited",
                       exited_restart_pending(), DeadlineReached{}, at(7s - 1ns)));
  rows.push_back(
      {.name = "Exited_StopRequestedRestartPending_StoppedAndCancelled",
       .before = exited_restart_pending(),
       .event = StopRequested{},
       .now = at(6s),
       .state = S::Stopped,
       .actions = {Debug("cancelled the delayed restart of web"), Changed(S::Exited, S::Stopped)},
       .configure = delay_2s,
       .check = [](const ProcessRecord& r) {
         EXPECT_EQ(r.deadline, std::nullopt);
         EXPECT_EQ(next_wakeup(r), std::nullopt);
         EXPECT_TRUE(r.administrative_stop);
         EXPECT_EQ(r.exit_status, 1);
       }});
  rows.push_back({.name = "Exited_ShutdownBegunRestartPending_CancelsRestart",
                  .before = exited_restart_pending(),
                  .event = ShutdownBegun{},
                  .now = at(6s),
                  .state = S::Exited,
                  .actions = {},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) {
                    EXPECT_TRUE(r.shutting_down);
                    EXPECT_EQ(r.deadline, std::nullopt);
                  }});
  rows.push_back(no_op(
      "Exited_DeadlineReachedAfterShutdownCancelled_StaysExited",
      [] {
        ProcessRecord r = shutting(exited_restart_pending());
        r.deadline.reset();
        return r;
      }(),
      DeadlineReached{}, at(100s)));
  rows.push_back({.name = "Exited_StartRequestedRestartPending_StartsAtOnceWithFreshHistory",
                  .before = exited_restart_pending(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Exited, S::Starting), Spawn()},
                  .configure = delay_2s,
                  .check = [](const ProcessRecord& r) {
                    check_fresh_spawn()(r);
                    EXPECT_EQ(r.consecutive_restarts, 0);
                  }});
  rows.push_back(refused("Exited_SignalRequestedRestartPending_NotRunning",
                         exited_restart_pending(), SignalRequested{SIGHUP}, Fault::NotRunning));
  rows.push_back({.name = "Fatal_StartRequestedAfterRestarts_FreshCrashLoopBudget",
                  .before =
                      [] {
                        ProcessRecord r = fatal();
                        r.recent_restarts = {t(1s), t(2s)};
                        r.consecutive_restarts = 3;
                        return r;
                      }(),
                  .event = StartRequested{},
                  .now = at(10s),
                  .state = S::Starting,
                  .actions = {Changed(S::Fatal, S::Starting), Spawn()},
                  .configure = crashloop(60),
                  .check =
                      [](const ProcessRecord& r) {
                        EXPECT_TRUE(r.recent_restarts.empty());
                        EXPECT_EQ(r.consecutive_restarts, 0);
                      }});
  return rows;
}

class ProcessFsmTransitionTest : public ::testing::TestWithParam<Row> {};

TEST_P(ProcessFsmTransitionTest, Step) {
  const Row& row = GetParam();
  ProcessConfig config = web();
  if (row.configure) {
    row.configure(config);
  }
  const auto result = step(config, row.before, row.event, row.now);
  if (row.fault) {
    ASSERT_TRUE(result.has_error()) << "expected " << fault_name(*row.fault);
    EXPECT_EQ(result.error().fault, *row.fault) << result.error().detail;
    EXPECT_EQ(result.error().internal, row.internal) << result.error().detail;
    return;
  }
  ASSERT_TRUE(result.has_value()) << fault_name(result.error().fault) << ": "
                                  << result.error().detail;
  EXPECT_EQ(state_name(result->next.state), state_name(row.state));
  EXPECT_EQ(supervisord_actions(result->actions), row.actions);
  if (row.check) {
    row.check(result->next);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ProcessFsmTransitionTest, ::testing::ValuesIn(transition_table()),
                         [](const ::testing::TestParamInfo<Row>& row) { return row.param.name; });

TEST(ProcessFsmTableTest, CoversEveryStateEventPair) {
  std::set<std::pair<S, EventKind>> seen;
  for (const Row& row : transition_table()) {
    seen.emplace(row.before.state, event_kind(row.event));
  }
  for (const S state : kAllProcessStates) {
    for (int k = 0; k < static_cast<int>(std::variant_size_v<Event>); ++k) {
      const auto kind = static_cast<EventKind>(k);
      EXPECT_TRUE(seen.contains({state, kind}))
          << "no row for " << state_name(state) << " x " << event_kind_name(kind);
    }
  }
}

TEST(ProcessFsmTableTest, RefusalsLeaveNoTrace) {
  const ProcessConfig config = web();
  const auto result = step(config, running(), StartRequested{}, at(3s));
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error(), (FsmError{Fault::AlreadyStarted, "web", false}));
  const auto unknown_start = step(config, unknown(), StartRequested{}, at(3s));
  ASSERT_TRUE(unknown_start.has_error());
  EXPECT_EQ(unknown_start.error().detail, "web is in an unknown process state");
  const auto no_pid = step(config, starting_without_pid(), StopRequested{}, at(3s));
  ASSERT_TRUE(no_pid.has_error());
  EXPECT_EQ(no_pid.error().detail, "attempted to kill web with sig SIGTERM but it wasn't running");
}

// ---- scenarios: several steps, time moves only through Now values ----

// Applies events in order, stopping the test on a refusal; collects every action.
class Driver {
 public:
  explicit Driver(ProcessConfig config, ProcessRecord record = {})
      : config_(std::move(config)), record_(std::move(record)) {}

  std::vector<Action> apply(const Event& event, Now now) {
    auto result = step(config_, record_, event, now);
    if (!result) {
      ADD_FAILURE() << fault_name(result.error().fault) << ": " << result.error().detail;
      return {};
    }
    Step next = std::move(result).value();
    record_ = next.next;
    for (const Action& a : next.actions) {
      if (std::holds_alternative<SpawnChild>(a)) {
        spawn_times.push_back(now.steady - kT0);
      }
      if (const auto* log = std::get_if<LogLine>(&a)) {
        log_lines.push_back(std::string(log_level_tag(log->level)) + " " + log->text);
      }
    }
    return supervisord_actions(next.actions);
  }

  /// Sends DeadlineReached at the record's next wakeup; false if nothing is timed.
  bool tick() {
    const auto wake = next_wakeup(record_);
    if (!wake) {
      return false;
    }
    apply(DeadlineReached{}, at(*wake - kT0));
    return true;
  }

  const ProcessRecord& record() const { return record_; }
  S state() const { return record_.state; }

  std::vector<std::chrono::nanoseconds> spawn_times;
  std::vector<std::string> log_lines;

 private:
  ProcessConfig config_;
  ProcessRecord record_;
};

std::vector<std::int64_t> as_millis(const std::vector<std::chrono::nanoseconds>& v) {
  std::vector<std::int64_t> out;
  for (const auto d : v) {
    out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }
  return out;
}

TEST(ProcessFsmScenarioTest, BackoffScheduleWithSpawnErrors) {
  // startretries=3 and a spawn that always fails in the parent: attempts at t0, t0+1,
  // t0+3, t0+6 (each N s after the N-th failure), then FATAL.
  Driver d(web());
  d.apply(StartRequested{}, at(0s));
  d.apply(SpawnFailed{"can't find command '/bin/web'"}, at(0s));
  while (d.state() == S::Backoff) {
    ASSERT_TRUE(d.tick());
    ASSERT_EQ(d.state(), S::Starting);
    d.apply(SpawnFailed{"can't find command '/bin/web'"}, at(d.spawn_times.back()));
  }
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_THAT(as_millis(d.spawn_times), ::testing::ElementsAre(0, 1000, 3000, 6000));
  EXPECT_EQ(d.log_lines.back(), "INFO " + kGaveUp);
  EXPECT_EQ(std::count(d.log_lines.begin(), d.log_lines.end(),
                       "INFO spawnerr: can't find command '/bin/web'"),
            4);
  EXPECT_EQ(d.record().backoff, 0);
  EXPECT_FALSE(next_wakeup(d.record()));
}

TEST(ProcessFsmScenarioTest, BackoffScheduleWithQuickExits) {
  // Each run dies 200 ms after its spawn: retries at failure + 1, + 2, + 3 seconds.
  Driver d(web());
  d.apply(StartRequested{}, at(0s));
  for (int attempt = 1; attempt <= 4; ++attempt) {
    const auto spawned_at = d.spawn_times.back();
    d.apply(SpawnSucceeded{kPid}, at(spawned_at));
    d.apply(ChildExited{exited_with(3)}, at(spawned_at + 200ms));
    if (attempt < 4) {
      ASSERT_EQ(d.state(), S::Backoff);
      EXPECT_EQ(d.record().backoff, attempt);
      ASSERT_TRUE(d.tick());
    }
  }
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_THAT(as_millis(d.spawn_times), ::testing::ElementsAre(0, 1200, 3400, 6600));
  EXPECT_EQ(d.record().spawn_error, kTooQuickly);
  EXPECT_THAT(d.log_lines, ::testing::Contains("WARN exited: web (exit status 3; not expected)"));
  EXPECT_EQ(d.log_lines.back(), "INFO " + kGaveUp);
}

TEST(ProcessFsmScenarioTest, StartretriesZeroGivesUpAfterFirstFailure) {
  ProcessConfig config = web();
  config.startretries = 0;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  d.apply(SpawnSucceeded{kPid}, at(0s));
  const auto actions = d.apply(ChildExited{exited_with(1)}, at(100ms));
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_EQ(actions, (std::vector<Action>{Warn("exited: web (exit status 1; not expected)"),
                                          Changed(S::Starting, S::Backoff),
                                          Changed(S::Backoff, S::Fatal), Info(kGaveUp)}));
  EXPECT_EQ(d.spawn_times.size(), 1u);
}

TEST(ProcessFsmScenarioTest, FatalStartGetsFreshRetryBudget) {
  ProcessConfig config = web();
  config.startretries = 1;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  d.apply(SpawnFailed{"boom"}, at(0s));
  ASSERT_TRUE(d.tick());
  d.apply(SpawnFailed{"boom"}, at(d.spawn_times.back()));
  ASSERT_EQ(d.state(), S::Fatal);
  d.apply(StartRequested{}, at(10s));
  d.apply(SpawnFailed{"boom"}, at(10s));
  EXPECT_EQ(d.state(), S::Backoff);
  EXPECT_EQ(d.record().backoff, 1);
}

TEST(ProcessFsmScenarioTest, StartsecsZeroNeverExitsTooQuickly) {
  ProcessConfig config = web();
  config.startsecs = 0;
  config.autorestart = AutoRestart::Never;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  d.apply(SpawnSucceeded{kPid}, at(0s));
  EXPECT_EQ(d.state(), S::Running);
  const auto actions = d.apply(ChildExited{exited_with(1)}, at(0s));
  EXPECT_EQ(d.state(), S::Exited);
  EXPECT_EQ(actions, (std::vector<Action>{Warn("exited: web (exit status 1; not expected)"),
                                          Changed(S::Running, S::Exited, false)}));
  EXPECT_EQ(d.record().backoff, 0);
}

TEST(ProcessFsmScenarioTest, RunningResetsBackoff) {
  Driver d(web());
  d.apply(StartRequested{}, at(0s));
  d.apply(SpawnFailed{"x"}, at(0s));
  ASSERT_TRUE(d.tick());
  d.apply(SpawnSucceeded{kPid}, at(d.spawn_times.back()));
  EXPECT_EQ(d.record().backoff, 1);
  ASSERT_TRUE(d.tick());
  EXPECT_EQ(d.state(), S::Running);
  EXPECT_EQ(d.record().backoff, 0);
}

struct AutorestartCase {
  AutoRestart autorestart;
  const char* exit_kind;  // "expected", "unexpected", "signal"
  bool restarts;
};

TEST(ProcessFsmScenarioTest, AutorestartMatrix) {
  const AutorestartCase cases[] = {
      {AutoRestart::Never, "expected", false},       {AutoRestart::Never, "unexpected", false},
      {AutoRestart::Never, "signal", false},         {AutoRestart::Unexpected, "expected", false},
      {AutoRestart::Unexpected, "unexpected", true}, {AutoRestart::Unexpected, "signal", true},
      {AutoRestart::Always, "expected", true},       {AutoRestart::Always, "unexpected", true},
      {AutoRestart::Always, "signal", true},
  };
  for (const AutorestartCase& c : cases) {
    SCOPED_TRACE(std::string(autorestart_word(c.autorestart)) + " x " + c.exit_kind);
    ProcessConfig config = web();
    config.autorestart = c.autorestart;
    config.exitcodes = {0, 2};
    const std::string kind = c.exit_kind;
    const ExitInfo exit = kind == "expected"     ? exited_with(2)
                          : kind == "unexpected" ? exited_with(1)
                                                 : killed_by(SIGHUP);
    const bool expected = kind == "expected";
    const std::string how = kind == "expected"     ? "exit status 2; expected"
                            : kind == "unexpected" ? "exit status 1; not expected"
                                                   : "terminated by SIGHUP; not expected";
    const auto result = step(config, running(), ChildExited{exit}, at(30s));
    ASSERT_TRUE(result.has_value());
    std::vector<Action> want{
        Log(expected ? LogLevel::Info : LogLevel::Warn, "exited: web (" + how + ")"),
        Changed(S::Running, S::Exited, expected)};
    if (c.restarts) {
      want.push_back(Changed(S::Exited, S::Starting));
      want.push_back(Spawn());
    }
    EXPECT_EQ(supervisord_actions(result->actions), want);
    EXPECT_EQ(result->next.state, c.restarts ? S::Starting : S::Exited);
    // supervisord compat: restarted at once, without delay or backoff.
    EXPECT_EQ(result->next.backoff, 0);
  }
}

TEST(ProcessFsmScenarioTest, StopEscalatesToSigkillWithTheVerifiedTimeline) {
  // spec/states.md §4: `trap "" TERM`, stopwaitsecs=2.
  for (const bool group : {false, true}) {
    SCOPED_TRACE(group ? "killasgroup" : "pid");
    ProcessConfig config = web();
    config.stopwaitsecs = 2;
    config.stopasgroup = group;
    config.killasgroup = group;
    Driver d(config, running());
    const std::string as_group = group ? "process group " : "";

    EXPECT_EQ(
        d.apply(StopRequested{}, at(10s)),
        (std::vector<Action>{Debug("killing web (pid 42) " + as_group + "with signal SIGTERM"),
                             Changed(S::Running, S::Stopping), Kill(SIGTERM, group),
                             Info("waiting for web to stop")}));
    EXPECT_EQ(next_wakeup(d.record()), t(12s));
    ASSERT_TRUE(d.tick());
    EXPECT_EQ(d.state(), S::Stopping);
    EXPECT_EQ(next_wakeup(d.record()), t(12s + 1ns));
    ASSERT_TRUE(d.tick());
    EXPECT_THAT(d.log_lines,
                ::testing::ElementsAre(
                    "DEBG killing web (pid 42) " + as_group + "with signal SIGTERM",
                    "INFO waiting for web to stop", "WARN killing 'web' (42) with SIGKILL",
                    "DEBG killing web (pid 42) " + as_group + "with signal SIGKILL",
                    "INFO waiting for web to stop"));
    // SIGKILL does not work either: it is sent again at every deadline.
    EXPECT_EQ(next_wakeup(d.record()), t(14s));
    ASSERT_TRUE(d.tick());
    EXPECT_EQ(d.log_lines.at(5), "WARN killing 'web' (42) with SIGKILL");
    EXPECT_EQ(d.apply(ChildExited{killed_by(SIGKILL)}, at(14100ms)),
              (std::vector<Action>{Changed(S::Stopping, S::Stopped),
                                   Warn("stopped: web (terminated by SIGKILL)")}));
    EXPECT_FALSE(next_wakeup(d.record()));
  }
}

TEST(ProcessFsmScenarioTest, WaitingLinesAtMostEveryTwoSeconds) {
  Driver d(web(), running());  // stopwaitsecs=10
  d.apply(StopRequested{}, at(0s));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(d.tick());
  }
  // Reports at 0, 2+, 4+, 6+, 8+; SIGKILL at 10 comes after them.
  EXPECT_EQ(std::count(d.log_lines.begin(), d.log_lines.end(), "INFO waiting for web to stop"), 5);
  EXPECT_EQ(d.record().next_stop_report, t(10s + 5ns));
  EXPECT_FALSE(d.record().sigkill_sent);
}

TEST(ProcessFsmScenarioTest, ManualStopIsNeverUndone) {
  ProcessConfig config = web();
  config.autorestart = AutoRestart::Always;
  Driver d(config, running());
  d.apply(StopRequested{}, at(10s));
  d.apply(ChildExited{exited_with(1)}, at(10100ms));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_FALSE(d.tick());
  d.apply(DeadlineReached{}, at(100s));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_TRUE(d.spawn_times.empty());
  EXPECT_FALSE(wants_autostart(config, d.record()));
}

TEST(ProcessFsmScenarioTest, StopInBackoffStopsRetrying) {
  Driver d(web(), backoff());
  d.apply(StopRequested{}, at(1s));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_FALSE(d.tick());
  EXPECT_TRUE(d.spawn_times.empty());
}

TEST(ProcessFsmScenarioTest, ShutdownStopsRespawning) {
  ProcessConfig config = web();
  config.autorestart = AutoRestart::Always;
  Driver d(config, running());
  d.apply(ShutdownBegun{}, at(10s));
  d.apply(StopRequested{.report_progress = false}, at(10s));
  d.apply(ChildExited{killed_by(SIGTERM)}, at(10100ms));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_THAT(d.log_lines, ::testing::ElementsAre("DEBG killing web (pid 42) with signal SIGTERM",
                                                  "WARN stopped: web (terminated by SIGTERM)"));
  EXPECT_FALSE(wants_autostart(config, d.record()));

  // A STARTING process that dies too quickly during shutdown does not retry.
  Driver s(config, starting());
  s.apply(ShutdownBegun{}, at(100ms));
  s.apply(ChildExited{exited_with(1)}, at(200ms));
  EXPECT_EQ(s.state(), S::Fatal);
  EXPECT_FALSE(s.tick());
  const auto refused_start = step(config, s.record(), StartRequested{}, at(1s));
  ASSERT_TRUE(refused_start.has_error());
  EXPECT_EQ(refused_start.error().fault, Fault::ShutdownState);
}

TEST(ProcessFsmScenarioTest, AutostartOnlyWhenNeverStarted) {
  ProcessConfig config = web();
  EXPECT_TRUE(wants_autostart(config, never_started()));
  EXPECT_FALSE(wants_autostart(config, shutting(never_started())));
  EXPECT_FALSE(wants_autostart(config, exited()));
  ProcessRecord stopped_after_run = exited();
  stopped_after_run.state = S::Stopped;
  EXPECT_FALSE(wants_autostart(config, stopped_after_run));
  config.autostart = false;
  EXPECT_FALSE(wants_autostart(config, never_started()));
}

// ---- zagent extensions: restart delay, exponential backoff, crash-loop limit ----

// One run: the spawn just emitted succeeds, reaches RUNNING (startsecs=1) and exits with
// status 1 `uptime` after its spawn. Returns the exit offset.
std::chrono::nanoseconds run_for(Driver& d, std::chrono::nanoseconds uptime) {
  const auto spawned_at = d.spawn_times.back();
  d.apply(SpawnSucceeded{kPid}, at(spawned_at));
  EXPECT_TRUE(d.tick());
  EXPECT_EQ(d.state(), S::Running);
  d.apply(ChildExited{exited_with(1)}, at(spawned_at + uptime));
  return spawned_at + uptime;
}

TEST(ProcessFsmRestartPolicyTest, DelayDoublesUpToTheCapAndStartsOverAfterALongRun) {
  ProcessConfig config = web();
  config.restart_delay = 1s;
  config.restart_delay_max = 4s;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  std::vector<std::int64_t> gaps;
  for (const auto uptime : {2s, 2s, 2s, 2s, 2s, 5s, 2s}) {
    const auto exited_at = run_for(d, uptime);
    ASSERT_EQ(d.state(), S::Exited);
    ASSERT_TRUE(d.tick());
    ASSERT_EQ(d.state(), S::Starting);
    gaps.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(d.spawn_times.back() - exited_at)
            .count());
  }
  // 1, 2, 4, capped at 4; the 5 s run (>= restart_delay_max) starts the sequence over.
  EXPECT_THAT(gaps, ::testing::ElementsAre(1000, 2000, 4000, 4000, 4000, 1000, 2000));
}

TEST(ProcessFsmRestartPolicyTest, ConstantDelayWithoutRestartDelayMax) {
  ProcessConfig config = web();
  config.restart_delay = 1500ms;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  for (int i = 0; i < 4; ++i) {
    const auto exited_at = run_for(d, 2s);
    ASSERT_TRUE(d.tick());
    EXPECT_EQ(d.spawn_times.back() - exited_at, 1500ms);
  }
}

TEST(ProcessFsmRestartPolicyTest, CrashLoopGivesUpAndAStartGivesAFreshBudget) {
  ProcessConfig config = web();
  config.crashloop_max_restarts = 3;
  config.crashloop_window_secs = 60;
  const std::string reason = "crash loop: 3 restarts within 60 seconds";
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  while (d.state() != S::Fatal && d.spawn_times.size() < 10) {
    run_for(d, 2s);
  }
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_EQ(d.spawn_times.size(), 4u);  // the first start and 3 restarts
  EXPECT_EQ(d.record().spawn_error, reason);
  EXPECT_EQ(d.log_lines.back(), "INFO gave up: web entered FATAL state, " + reason);
  EXPECT_FALSE(next_wakeup(d.record()));
  EXPECT_FALSE(wants_autostart(config, d.record()));

  d.apply(StartRequested{}, at(100s));
  while (d.state() != S::Fatal && d.spawn_times.size() < 20) {
    run_for(d, 2s);
  }
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_EQ(d.spawn_times.size(), 8u);
}

TEST(ProcessFsmRestartPolicyTest, CrashLoopWindowSlides) {
  ProcessConfig config = web();
  config.crashloop_max_restarts = 2;
  config.crashloop_window_secs = 10;
  {
    // A restart every 6 s: never more than 2 inside any 10 s.
    Driver d(config);
    d.apply(StartRequested{}, at(0s));
    for (int i = 0; i < 10; ++i) {
      run_for(d, 6s);
      ASSERT_EQ(d.state(), S::Starting) << "run " << i;
      EXPECT_LE(d.record().recent_restarts.size(), 2u);
    }
  }
  {
    // A restart every 4 s: the third exit (at 12 s) finds restarts at 4 s and 8 s.
    Driver d(config);
    d.apply(StartRequested{}, at(0s));
    while (d.state() != S::Fatal && d.spawn_times.size() < 10) {
      run_for(d, 4s);
    }
    EXPECT_EQ(d.state(), S::Fatal);
    EXPECT_THAT(as_millis(d.spawn_times), ::testing::ElementsAre(0, 4000, 8000));
    EXPECT_EQ(d.record().spawn_error, "crash loop: 2 restarts within 10 seconds");
  }
}

TEST(ProcessFsmRestartPolicyTest, CrashLoopCountsDelayedRestartsToo) {
  ProcessConfig config = web();
  config.restart_delay = 1s;
  config.crashloop_max_restarts = 1;
  Driver d(config);
  d.apply(StartRequested{}, at(0s));
  run_for(d, 2s);
  ASSERT_EQ(d.state(), S::Exited);
  ASSERT_TRUE(d.tick());
  run_for(d, 2s);
  EXPECT_EQ(d.state(), S::Fatal);
  EXPECT_EQ(d.record().spawn_error, "crash loop: 1 restarts within 60 seconds");
}

TEST(ProcessFsmRestartPolicyTest, ShutdownCancelsAPendingDelayedRestart) {
  ProcessConfig config = web();
  config.restart_delay = 5s;
  Driver d(config, running());
  d.apply(ChildExited{exited_with(1)}, at(10s));
  ASSERT_EQ(d.state(), S::Exited);
  EXPECT_EQ(next_wakeup(d.record()), t(15s));
  d.apply(ShutdownBegun{}, at(11s));
  EXPECT_EQ(next_wakeup(d.record()), std::nullopt);
  d.apply(DeadlineReached{}, at(20s));
  EXPECT_EQ(d.state(), S::Exited);
  EXPECT_TRUE(d.spawn_times.empty());
  const auto refused_start = step(config, d.record(), StartRequested{}, at(21s));
  ASSERT_TRUE(refused_start.has_error());
  EXPECT_EQ(refused_start.error().fault, Fault::ShutdownState);
}

TEST(ProcessFsmRestartPolicyTest, StopCancelsAPendingDelayedRestart) {
  ProcessConfig config = web();
  config.restart_delay = 5s;
  Driver d(config, running());
  d.apply(ChildExited{exited_with(1)}, at(10s));
  d.apply(StopRequested{}, at(11s));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_FALSE(d.tick());
  d.apply(DeadlineReached{}, at(100s));
  EXPECT_EQ(d.state(), S::Stopped);
  EXPECT_TRUE(d.spawn_times.empty());
  EXPECT_FALSE(wants_autostart(config, d.record()));
  // Once cancelled, a second stop is NOT_RUNNING as for any stopped process.
  const auto again = step(config, d.record(), StopRequested{}, at(101s));
  ASSERT_TRUE(again.has_error());
  EXPECT_EQ(again.error().fault, Fault::NotRunning);
}

TEST(ProcessFsmRestartPolicyTest, DefaultsLeaveNoTraceInTheRecord) {
  // Without the keys a restart is supervisord's: at once, and no history is kept.
  Driver d(web(), running());
  d.apply(ChildExited{exited_with(1)}, at(10s));
  EXPECT_EQ(d.state(), S::Starting);
  EXPECT_EQ(d.record().consecutive_restarts, 0);
  EXPECT_TRUE(d.record().recent_restarts.empty());
}

TEST(ProcessFsmHelpersTest, RestartDelayFor) {
  ProcessConfig c = web();
  EXPECT_EQ(restart_delay_for(c, 1), 0ms);
  EXPECT_EQ(restart_delay_for(c, 50), 0ms);
  c.restart_delay_max = 10s;  // no effect without restart_delay
  EXPECT_EQ(restart_delay_for(c, 5), 0ms);
  c.restart_delay = 500ms;
  EXPECT_EQ(restart_delay_for(c, 1), 500ms);
  EXPECT_EQ(restart_delay_for(c, 2), 1s);
  EXPECT_EQ(restart_delay_for(c, 5), 8s);
  EXPECT_EQ(restart_delay_for(c, 6), 10s);
  EXPECT_EQ(restart_delay_for(c, 64), 10s);
  c.restart_delay_max = 200ms;  // not above restart_delay: constant
  EXPECT_EQ(restart_delay_for(c, 3), 500ms);
  c.restart_delay = 1'000'000'000s;  // the largest the config accepts, doubled: no overflow
  c.restart_delay_max = 1'000'000'000s;
  EXPECT_EQ(restart_delay_for(c, 64), 1'000'000'000s);
}

TEST(ProcessFsmHelpersTest, NextWakeupIsTheEarlierTime) {
  ProcessRecord r;
  EXPECT_EQ(next_wakeup(r), std::nullopt);
  r.deadline = t(5s);
  EXPECT_EQ(next_wakeup(r), t(5s));
  r.next_stop_report = t(3s);
  EXPECT_EQ(next_wakeup(r), t(3s));
  r.deadline.reset();
  EXPECT_EQ(next_wakeup(r), t(3s));
}

TEST(ProcessFsmHelpersTest, ExitInfoFromWaitStatus) {
  const ExitInfo one = exit_info_from_wait_status(1 << 8, w(3s), 2500ms);
  EXPECT_EQ(one.exit_code, 1);
  EXPECT_EQ(one.signal, std::nullopt);
  EXPECT_FALSE(one.core_dumped);
  EXPECT_EQ(one.at, w(3s));
  EXPECT_EQ(one.uptime, 2500ms);
  EXPECT_EQ(describe_exit(one), "exit status 1");

  const ExitInfo term = exit_info_from_wait_status(SIGTERM, kW0, 0ms);
  EXPECT_EQ(term.exit_code, -1);
  EXPECT_EQ(term.signal, SIGTERM);
  EXPECT_EQ(describe_exit(term), "terminated by SIGTERM");

  const ExitInfo core = exit_info_from_wait_status(SIGSEGV | 0x80, kW0, 0ms);
  EXPECT_TRUE(core.core_dumped);
  EXPECT_EQ(describe_exit(core), "terminated by SIGSEGV (core dumped)");

  ExitInfo odd;
  odd.signal = 99;
  EXPECT_EQ(describe_exit(odd), "terminated by signal 99");

  const ExitInfo stopped = exit_info_from_wait_status(0x137f, kW0, 0ms);
  EXPECT_EQ(stopped.exit_code, -1);
  EXPECT_EQ(describe_exit(stopped), "unknown termination cause 0x137f");
  EXPECT_EQ(describe_exit(exit_info_from_wait_status(0, kW0, 0ms)), "exit status 0");
}

TEST(ProcessFsmHelpersTest, DescribeAction) {
  EXPECT_EQ(describe_action(Spawn()), "spawn");
  EXPECT_EQ(describe_action(Kill(SIGKILL, true)), "signal group 42 SIGKILL");
  EXPECT_EQ(describe_action(Warn("x")), "log WARN x");
  EXPECT_EQ(describe_action(Changed(S::Running, S::Exited, false)),
            "state RUNNING -> EXITED (not expected)");
}

// ---- common/process_state.h and common/faults.h ----

TEST(ProcessStateTest, CodesAndNames) {
  const std::pair<S, std::pair<int, const char*>> expected[] = {
      {S::Stopped, {0, "STOPPED"}},  {S::Starting, {10, "STARTING"}}, {S::Running, {20, "RUNNING"}},
      {S::Backoff, {30, "BACKOFF"}}, {S::Stopping, {40, "STOPPING"}}, {S::Exited, {100, "EXITED"}},
      {S::Fatal, {200, "FATAL"}},    {S::Unknown, {1000, "UNKNOWN"}},
  };
  for (const auto& [state, code_name] : expected) {
    EXPECT_EQ(static_cast<int>(state), code_name.first);
    EXPECT_EQ(state_name(state), code_name.second);
    EXPECT_EQ(process_state_from_code(code_name.first), state);
  }
  EXPECT_EQ(process_state_from_code(5), std::nullopt);
}

TEST(ProcessStateTest, StateClasses) {
  std::string stopped;
  std::string running;
  std::string signallable;
  for (const S state : kAllProcessStates) {
    const std::string name(state_name(state));
    stopped += is_stopped_state(state) ? name + " " : "";
    running += is_running_state(state) ? name + " " : "";
    signallable += is_signallable_state(state) ? name + " " : "";
  }
  EXPECT_EQ(stopped, "STOPPED EXITED FATAL UNKNOWN ");
  EXPECT_EQ(running, "STARTING RUNNING BACKOFF ");
  EXPECT_EQ(signallable, "STARTING RUNNING STOPPING ");
}

TEST(ProcessStateTest, SupervisorStates) {
  EXPECT_EQ(state_name(SupervisorState::Fatal), "FATAL");
  EXPECT_EQ(state_name(SupervisorState::Running), "RUNNING");
  EXPECT_EQ(state_name(SupervisorState::Restarting), "RESTARTING");
  EXPECT_EQ(state_name(SupervisorState::Shutdown), "SHUTDOWN");
  EXPECT_EQ(static_cast<int>(SupervisorState::Shutdown), -1);
  EXPECT_EQ(supervisor_state_from_code(2), SupervisorState::Fatal);
  EXPECT_EQ(supervisor_state_from_code(3), std::nullopt);
}

TEST(ProcessStateTest, FaultCodesAndNames) {
  const std::pair<Fault, std::pair<int, const char*>> expected[] = {
      {Fault::UnknownMethod, {1, "UNKNOWN_METHOD"}},
      {Fault::IncorrectParameters, {2, "INCORRECT_PARAMETERS"}},
      {Fault::BadArguments, {3, "BAD_ARGUMENTS"}},
      {Fault::SignatureUnsupported, {4, "SIGNATURE_UNSUPPORTED"}},
      {Fault::ShutdownState, {6, "SHUTDOWN_STATE"}},
      {Fault::BadName, {10, "BAD_NAME"}},
      {Fault::BadSignal, {11, "BAD_SIGNAL"}},
      {Fault::NoFile, {20, "NO_FILE"}},
      {Fault::NotExecutable, {21, "NOT_EXECUTABLE"}},
      {Fault::Failed, {30, "FAILED"}},
      {Fault::AbnormalTermination, {40, "ABNORMAL_TERMINATION"}},
      {Fault::SpawnError, {50, "SPAWN_ERROR"}},
      {Fault::AlreadyStarted, {60, "ALREADY_STARTED"}},
      {Fault::NotRunning, {70, "NOT_RUNNING"}},
      {Fault::Success, {80, "SUCCESS"}},
      {Fault::AlreadyAdded, {90, "ALREADY_ADDED"}},
      {Fault::StillRunning, {91, "STILL_RUNNING"}},
      {Fault::CantReread, {92, "CANT_REREAD"}},
  };
  for (const auto& [fault, code_name] : expected) {
    EXPECT_EQ(fault_code(fault), code_name.first);
    EXPECT_EQ(fault_name(fault), code_name.second);
    EXPECT_EQ(fault_from_code(code_name.first), fault);
  }
  EXPECT_EQ(fault_from_code(5), std::nullopt);
  EXPECT_EQ(fault_from_code(0), std::nullopt);
}

}  // namespace
}  // namespace zagent
