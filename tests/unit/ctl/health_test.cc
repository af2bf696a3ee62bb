// zctl's health verbs (`wait`, `health`) against a scripted client and a fake clock: exact
// text, exact exit status, exact calls and waits (docs/zctl.md "wait, health"); and that
// start/restart wait for RUNNING without a client-side time limit.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "ctl/commands.h"
#include "ctl/render.h"
#include "tests/unit/ctl/fake_client.h"

namespace zagent::ctl {
namespace {

using namespace std::chrono_literals;
using test::event_of;
using test::fault;
using test::info;
using test::ok;
using PS = ProcessState;
using Waits = std::vector<std::pair<int, std::optional<std::chrono::milliseconds>>>;

constexpr std::string_view kAllInfo = "supervisor.getAllProcessInfo";
constexpr std::string_view kHealth = "zagent.getHealth";
/// 2025-12-02 04:12:44 UTC.
constexpr double kEpoch = 1764648764.0;

/// `process` with a `health` object as the agent adds it.
Json with_health(Json process, const std::string& status, std::optional<std::string> last_error,
                 int failures = 0) {
  process["health"] = {{"status", status},
                       {"last_error", last_error ? Json(*last_error) : Json(nullptr)},
                       {"last_check", kEpoch},
                       {"consecutive_failures", failures}};
  return process;
}

Json running(const std::string& group, const std::string& name, int pid = 42) {
  return info(group, name, PS::Running, fmt::format("pid {}, uptime 0:00:10", pid), pid);
}

/// A process held by depends_on: STARTING without a pid.
Json held(const std::string& group, const std::string& name, const std::string& on) {
  return info(group, name, PS::Starting, fmt::format("waiting for {} (STARTING)", on));
}

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_.serverurl = "unix:///tmp/sup.sock";
    session_.client = &fake_;
    session_.output = &unused_;
    session_.now = [this] { return now_; };
    fake_.on_wait = [this](std::optional<std::chrono::milliseconds> timeout) {
      if (timeout) {
        now_ += *timeout;
      }
    };
    // LAST CHECK and the check times are local: make them UTC here.
    if (const char* tz = std::getenv("TZ")) {
      saved_tz_ = tz;
    }
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    EXPECT_TRUE(fake_.done()) << "left: " << fake_.remaining();
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

  CommandResult run(std::string_view line) { return run_captured(session_, line); }

  void expect(std::string_view line, std::string_view out, int exit_code) {
    const CommandResult r = run(line);
    EXPECT_EQ(r.out, out) << "for: " << line;
    EXPECT_EQ(r.err, "") << "for: " << line;
    EXPECT_EQ(r.exit_code, exit_code) << "for: " << line;
  }

  /// wait's first poll: the connection check and the states in one round trip.
  void first_poll(Json processes) {
    fake_.version_ok().expect(std::string(kAllInfo), Json::array(), ok(std::move(processes)));
  }
  /// A later poll, after a wait that lasted its whole timeout.
  void next_poll(Json processes) {
    fake_.event(event_of(Event::Kind::Timeout));
    fake_.expect(std::string(kAllInfo), Json::array(), ok(std::move(processes)));
  }

  test::FakeClient fake_;
  CapturingOutput unused_;
  Session session_;
  std::chrono::steady_clock::time_point now_{};
  std::optional<std::string> saved_tz_;
};

// ---------------------------------------------------------------------------------------------
// wait

TEST_F(HealthTest, WaitSucceedsAtOnceWhenAllAreReady) {
  first_poll(Json::array(
      {running("web", "web"), with_health(running("db", "db", 43), "passing", std::nullopt)}));
  expect("wait web db", "web: ready\ndb: ready\n", 0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2}) << "one round trip";
  EXPECT_TRUE(fake_.waits.empty());
}

TEST_F(HealthTest, WaitPollsEveryTenthOfASecondThroughStarting) {
  first_poll(Json::array({held("web", "web", "db"), info("db", "db", PS::Starting, "")}));
  next_poll(Json::array({held("web", "web", "db"), running("db", "db")}));
  next_poll(Json::array({running("web", "web", 44), running("db", "db")}));
  expect("wait web", "web: ready\n", 0);
  EXPECT_EQ(fake_.waits, (Waits{{-1, 100ms}, {-1, 100ms}}));
  EXPECT_EQ(fake_.batches, (std::vector<std::size_t>{2, 1, 1})) << "one check, then polls";
}

TEST_F(HealthTest, WaitEndsAtOnceAtFatal) {
  first_poll(Json::array(
      {info("web", "web", PS::Fatal, "Exited too quickly (process log may have details)"),
       held("db", "db", "cache"), running("ok", "ok")}));
  expect("wait web db ok",
         "web: FATAL (Exited too quickly (process log may have details))\n"
         "db: STARTING (waiting for cache (STARTING))\n"
         "ERROR: web is FATAL\n",
         1);
  EXPECT_TRUE(fake_.waits.empty());
}

TEST_F(HealthTest, WaitEndsAtOnceAtStoppedAndNamesEveryOneThatWillNotGetThere) {
  first_poll(Json::array(
      {info("web", "web", PS::Stopped, "Not started"), info("db", "db", PS::Fatal, "")}));
  expect("wait all", "web: STOPPED (Not started)\ndb: FATAL\nERROR: web is STOPPED, db is FATAL\n",
         1);
}

TEST_F(HealthTest, WaitTimesOutWithTheLinesOfTheProcessesNotReady) {
  const Json failing = with_health(
      info("db", "db", PS::Running, "pid 42, uptime 0:00:10, health: failing (2/3: HTTP 503)", 42),
      "failing", "HTTP 503", 2);
  const Json processes = Json::array({held("web", "web", "db"), failing, running("ok", "ok")});
  first_poll(processes);
  next_poll(processes);
  next_poll(processes);
  next_poll(processes);
  expect("wait --timeout 0.25 web db ok",
         "web: STARTING (waiting for db (STARTING))\n"
         "db: RUNNING (pid 42, uptime 0:00:10, health: failing (2/3: HTTP 503))\n"
         "ERROR: timed out after 0.25s\n",
         1);
  // Polls at 0, 100, 200 and at the deadline, 250 ms.
  EXPECT_EQ(fake_.waits, (Waits{{-1, 100ms}, {-1, 100ms}, {-1, 50ms}}));
}

TEST_F(HealthTest, WaitTimeoutZeroLooksOnce) {
  first_poll(Json::array({held("web", "web", "db")}));
  expect("wait --timeout=0 web",
         "web: STARTING (waiting for db (STARTING))\nERROR: timed out after 0s\n", 1);
  EXPECT_TRUE(fake_.waits.empty());
}

TEST_F(HealthTest, WaitDefaultsToFiveMinutes) {
  fake_.on_wait = [this](std::optional<std::chrono::milliseconds>) { now_ += 300s; };
  first_poll(Json::array({held("web", "web", "db")}));
  next_poll(Json::array({held("web", "web", "db")}));
  expect("wait web", "web: STARTING (waiting for db (STARTING))\nERROR: timed out after 300s\n", 1);
}

TEST_F(HealthTest, WaitKeepsWaitingWhileTheCheckFailsOrHasNotRun) {
  // An agent that left the health out of the description: zctl adds it.
  first_poll(Json::array({with_health(running("web", "web"), "failing", "HTTP 503", 1)}));
  next_poll(Json::array({with_health(running("web", "web"), "unknown", std::nullopt)}));
  next_poll(Json::array({with_health(running("web", "web"), "passing", std::nullopt)}));
  expect("wait web", "web: ready\n", 0);
  EXPECT_EQ(fake_.waits.size(), 2U);

  first_poll(Json::array({with_health(running("web", "web"), "failing", "HTTP 503", 1),
                          with_health(running("db", "db"), "unknown", std::nullopt)}));
  expect("wait --timeout 0 web db",
         "web: RUNNING (pid 42, uptime 0:00:10, health: failing: HTTP 503)\n"
         "db: RUNNING (pid 42, uptime 0:00:10, health: unknown)\n"
         "ERROR: timed out after 0s\n",
         1);
}

TEST_F(HealthTest, WaitAllIsEveryProcessInTheAgentsOrder) {
  first_poll(Json::array({running("grp", "a"), running("grp", "b"), running("web", "web")}));
  expect("wait web all", "grp:a: ready\ngrp:b: ready\nweb: ready\n", 0);
}

TEST_F(HealthTest, WaitGroupMatchesItsProcessesOnce) {
  const Json processes =
      Json::array({running("grp", "a"), held("grp", "b", "a"), info("web", "web", PS::Fatal, "")});
  first_poll(processes);
  next_poll(Json::array({running("grp", "a"), running("grp", "b"), processes[2]}));
  expect("wait grp:b grp:*", "grp:b: ready\ngrp:a: ready\n", 0);
  first_poll(processes);
  expect("wait --timeout 0 grp:",
         "grp:b: STARTING (waiting for a (STARTING))\n"
         "ERROR: timed out after 0s\n",
         1);
}

TEST_F(HealthTest, WaitUnknownNamesEndItAtOnceAsStatusDoes) {
  first_poll(Json::array({held("web", "web", "db"), running("grp", "a")}));
  expect("wait web nosuch grp:nosuch nogroup:*",
         "nosuch: ERROR (no such process)\n"
         "grp:nosuch: ERROR (no such process)\n"
         "nogroup: ERROR (no such group)\n",
         4);
  EXPECT_TRUE(fake_.waits.empty());
}

TEST_F(HealthTest, WaitUsageErrorsNeedNoServer) {
  const std::string help = *help_topic("wait");
  expect("wait", "Error: wait requires a process name\n" + help, 2);
  expect("wait --timeout 5", "Error: wait requires a process name\n" + help, 2);
  expect("wait --timeout x web", "Error: --timeout requires a number of seconds\n" + help, 2);
  expect("wait --timeout -1 web", "Error: --timeout requires a number of seconds\n" + help, 2);
  expect("wait web --timeout", "Error: --timeout requires a number of seconds\n" + help, 2);
  expect("wait -x web", "Error: unknown option -x\n" + help, 2);
  EXPECT_TRUE(fake_.calls.empty());
}

TEST_F(HealthTest, WaitConnectionCheck) {
  fake_.expect("supervisor.getVersion", Json::array(), test::os_error(ENOENT));
  expect("wait web", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(HealthTest, WaitEndsWhenALaterPollFails) {
  first_poll(Json::array({held("web", "web", "db")}));
  fake_.event(event_of(Event::Kind::Closed));
  fake_.expect(std::string(kAllInfo), Json::array(), test::kind_error(CallError::Kind::Closed));
  expect("wait web",
         "error: <class 'http.client.RemoteDisconnected'>, Remote end closed connection without "
         "response: file: zctl line: 0\n",
         1);
}

TEST_F(HealthTest, WaitCtrlCEndsQuietly) {
  first_poll(Json::array({held("web", "web", "db")}));
  fake_.event(event_of(Event::Kind::Interrupted));
  CapturingOutput capture;
  session_.output = &capture;
  const Outcome out = run_line(session_, "wait web");
  EXPECT_TRUE(out.interrupted);
  EXPECT_EQ(capture.out_, "");
}

Json parse(const std::string& text) { return Json::parse(text); }

TEST_F(HealthTest, WaitJson) {
  const Json web = with_health(running("web", "web"), "passing", std::nullopt);
  first_poll(Json::array({web, running("grp", "a")}));
  CommandResult r = run("wait web grp:a --json");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  EXPECT_EQ(parse(r.out), Json::parse(R"j({"ready":true,"timed_out":false,"errors":[],"processes":[
      {"name":"web","statename":"RUNNING","description":"pid 42, uptime 0:00:10","ready":true,
       "health":{"status":"passing","last_error":null,"last_check":1764648764.0,
                 "consecutive_failures":0}},
      {"name":"grp:a","statename":"RUNNING","description":"pid 42, uptime 0:00:10",
       "ready":true,"health":null}]})j"));

  first_poll(Json::array({held("web", "web", "db"), running("grp", "a")}));
  r = run("wait --json --timeout 0 all");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(parse(r.out), Json::parse(R"j({"ready":false,"timed_out":true,"errors":[],
      "error":"ERROR: timed out after 0s","processes":[
      {"name":"web","statename":"STARTING","description":"waiting for db (STARTING)",
       "ready":false,"health":null},
      {"name":"grp:a","statename":"RUNNING","description":"pid 42, uptime 0:00:10",
       "ready":true,"health":null}]})j"));

  first_poll(Json::array({info("web", "web", PS::Fatal, "")}));
  r = run("wait --json web");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(parse(r.out)["error"], "ERROR: web is FATAL");
  EXPECT_EQ(parse(r.out)["timed_out"], false);

  first_poll(Json::array());
  r = run("wait --json nosuch");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(parse(r.out), Json::parse(R"j({"ready":false,"timed_out":false,"processes":[],
      "errors":[{"name":"nosuch","error":"no such process"}]})j"));

  r = run("wait --json");
  EXPECT_EQ(parse(r.out), Json({{"error", "Error: wait requires a process name"}}));
  EXPECT_EQ(r.exit_code, 2);
}

// ---------------------------------------------------------------------------------------------
// health

/// A zagent.getHealth row.
Json health_row(const std::string& group, const std::string& name, std::optional<std::string> check,
                const std::string& status = "unknown", Json last_error = nullptr, int failures = 0,
                Json checks = Json::array()) {
  return {{"name", name},
          {"group", group},
          {"statename", "RUNNING"},
          {"healthcheck", check ? Json(*check) : Json(nullptr)},
          {"status", status},
          {"last_error", std::move(last_error)},
          {"last_check", check && !checks.empty() ? Json(kEpoch) : Json(nullptr)},
          {"consecutive_failures", failures},
          {"retries", 3},
          {"interval", 10.0},
          {"checks", std::move(checks)}};
}

Json check_of(double at, bool passed, const std::string& message, int duration_ms) {
  return {{"time", at}, {"passed", passed}, {"message", message}, {"duration_ms", duration_ms}};
}

Json web_checks() {
  return Json::array({check_of(kEpoch - 20, true, "HTTP 200", 12),
                      check_of(kEpoch - 10, false, "timed out after 5s", 5003),
                      check_of(kEpoch, false, "HTTP 503", 8)});
}

Json web_row() {
  return health_row("web", "web", "http://127.0.0.1:8080/health", "failing", "HTTP 503", 2,
                    web_checks());
}

Json every_row() {
  return Json::array({web_row(),
                      health_row("grp", "db", "tcp:127.0.0.1:5432", "passing", nullptr, 0,
                                 Json::array({check_of(kEpoch - 1, true, "connected", 1)})),
                      health_row("batch", "batch", std::nullopt)});
}

void expect_health(test::FakeClient& fake, Json params, CallResult<Json> reply) {
  fake.version_ok().expect(std::string(kHealth), std::move(params), std::move(reply));
}

TEST_F(HealthTest, HealthTableOfEveryProcess) {
  expect_health(fake_, Json::array(), ok(every_row()));
  expect("health",
         "NAME    CHECK                         STATUS   FAILS  LAST CHECK  LAST ERROR\n"
         "web     http://127.0.0.1:8080/health  failing  2/3    04:12:44    HTTP 503\n"
         "grp:db  tcp:127.0.0.1:5432            passing  0/3    04:12:44    -\n"
         "batch   -                             -        -      -           -\n",
         0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2}) << "one round trip";
  expect_health(fake_, Json::array(), ok(every_row()));
  EXPECT_EQ(run("health all").exit_code, 0);
  expect_health(fake_, Json::array(), ok(Json::array()));
  expect("health", "", 0);
}

TEST_F(HealthTest, HealthOfANamedProcessListsItsLastChecks) {
  expect_health(fake_, Json::array({"web"}), ok(Json::array({web_row()})));
  expect("health web",
         "NAME  CHECK                         STATUS   FAILS  LAST CHECK  LAST ERROR\n"
         "web   http://127.0.0.1:8080/health  failing  2/3    04:12:44    HTTP 503\n"
         "\n"
         "04:12:24  pass  12ms    HTTP 200\n"
         "04:12:34  FAIL  5003ms  timed out after 5s\n"
         "04:12:44  FAIL  8ms     HTTP 503\n",
         0);
}

TEST_F(HealthTest, HealthOfAGroupHeadsEachProcesssChecks) {
  const Json rows =
      Json::array({health_row("grp", "a", "cmd:/bin/true", "passing", nullptr, 0,
                              Json::array({check_of(kEpoch, true, "exit status 0", 3)})),
                   health_row("grp", "b", "cmd:/bin/false"), health_row("grp", "c", std::nullopt)});
  expect_health(fake_, Json::array({"grp:*"}), ok(rows));
  expect("health grp:*",
         "NAME   CHECK           STATUS   FAILS  LAST CHECK  LAST ERROR\n"
         "grp:a  cmd:/bin/true   passing  0/3    04:12:44    -\n"
         "grp:b  cmd:/bin/false  unknown  0/3    -           -\n"
         "grp:c  -               -        -      -           -\n"
         "\n"
         "grp:a:\n"
         "04:12:44  pass  3ms  exit status 0\n"
         "\n"
         "grp:b:\n"
         "no checks yet\n",
         0);
}

TEST_F(HealthTest, HealthOfAProcessWithoutACheck) {
  expect_health(fake_, Json::array({"batch"}),
                ok(Json::array({health_row("batch", "batch", std::nullopt)})));
  expect("health batch", "batch: no health check configured\n", 0);
}

TEST_F(HealthTest, HealthJsonIsTheAgentsArray) {
  expect_health(fake_, Json::array(), ok(every_row()));
  CommandResult r = run("health --json");
  EXPECT_EQ(parse(r.out), every_row());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  EXPECT_EQ(r.exit_code, 0);
  const Json batch = Json::array({health_row("batch", "batch", std::nullopt)});
  expect_health(fake_, Json::array({"batch"}), ok(batch));
  r = run("health batch --json");
  EXPECT_EQ(parse(r.out), batch);
  expect_health(fake_, Json::array({"nosuch"}), fault(Fault::BadName, "nosuch"));
  r = run("health --json nosuch");
  EXPECT_EQ(parse(r.out), Json({{"error", "nosuch: ERROR (no such process)"}}));
  EXPECT_EQ(r.exit_code, 4);
}

TEST_F(HealthTest, HealthUnknownNamesExitAsStatusDoes) {
  expect_health(fake_, Json::array({"nosuch"}), fault(Fault::BadName, "nosuch"));
  expect("health nosuch", "nosuch: ERROR (no such process)\n", 4);
  expect_health(fake_, Json::array({"nogroup:*"}), fault(Fault::BadName, "nogroup"));
  expect("health nogroup:*", "nogroup: ERROR (no such group)\n", 4);
}

TEST_F(HealthTest, HealthFromAnAgentWithoutTheMethod) {
  for (auto reply : {test::std_error(rpc::StdError::MethodNotFound), fault(Fault::UnknownMethod)}) {
    expect_health(fake_, Json::array(), std::move(reply));
    expect("health",
           "Error: the agent does not serve zagent.getHealth (supervisord, or a zagent without "
           "health checks)\n",
           1);
  }
}

TEST_F(HealthTest, HealthBadReply) {
  expect_health(fake_, Json::array(), ok(Json::array({"garbage"})));
  expect("health",
         "error: <class 'zagent.ProtocolError'>, unexpected reply to zagent.getHealth: "
         "file: zctl line: 0\n",
         1);
}

TEST_F(HealthTest, HealthUsageErrorsNeedNoServer) {
  const std::string help = *help_topic("health");
  expect("health a b", "Error: too many arguments\n" + help, 1);
  expect("health -n 2", "Error: unknown option -n\n" + help, 2);
  EXPECT_TRUE(fake_.calls.empty());
}

TEST_F(HealthTest, HelpTopicsButSupervisorctlsIndex) {
  EXPECT_TRUE(run("help wait").out.starts_with("wait <name>\t\t")) << run("help wait").out;
  EXPECT_TRUE(run("help health").out.starts_with("health\t\t\t"));
  EXPECT_EQ(help_index().find("wait"), std::string::npos);
  EXPECT_EQ(help_index().find("health"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// start/restart: a health-gated STARTING may last minutes

TEST_F(HealthTest, StartAndRestartWaitForRunningWithoutAClientTimeout) {
  // The FakeClient fails a call made through call_with_timeout unless it was scripted so: the
  // waits go through call(), which SocketClient never gives up on.
  fake_.version_ok().expect("supervisor.startProcess", Json::array({"web", true}), ok(true));
  expect("start web", "web: started\n", 0);
  fake_.version_ok()
      .expect("supervisor.stopProcess", Json::array({"web", true}), ok(true))
      .expect("supervisor.startProcess", Json::array({"web", true}), ok(true));
  expect("restart web", "web: stopped\nweb: started\n", 0);
  fake_.version_ok().expect("supervisor.startProcessGroup", Json::array({"grp", true}),
                            ok(Json::array({test::result("grp", "a", Fault::Success)})));
  expect("start grp:*", "grp:a: started\n", 0);
  EXPECT_TRUE(fake_.timeouts.empty());
}

}  // namespace
}  // namespace zagent::ctl
