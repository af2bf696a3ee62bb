// Health checks end to end (docs/health.md): the real agent checking a real HTTP server
// (tests/helpers/health_server: binds late, answers a status or hangs as its control file
// says), a start gated until the port answers, a start that never passes, a liveness restart
// with its crash record, a hung check that only times itself out, depends_on at start and at
// shutdown, and `zctl wait`'s exit codes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/e2e/agent_fixture.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;


class HealthTest : public AgentFixture {
 protected:
  /// `[program:NAME]` running health_server on `port`, steered by the file NAME.ctl, checked
  /// over HTTP; `extra` adds keys.
  std::string server_program(const std::string& name, int port, const std::string& extra,
                             int bind_after_ms = 0) const {
    return program(name,
                   helper("health_server") + " " + std::to_string(port) + " --bind-after-ms " +
                       std::to_string(bind_after_ms) + " --control " + dir_.file(name + ".ctl"),
                   "healthcheck=http://127.0.0.1:" + std::to_string(port) + "/\n" + extra);
  }
  void steer(const std::string& name, const std::string& what) const {
    dir_.write(name + ".ctl", what + "\n");
  }
  /// `zctl --json health NAME`'s first row, or null.
  Json health(const std::string& name) const {
    const Json j = Json::parse(ctl("--json health " + name).out, nullptr, false);
    return j.is_array() && !j.empty() ? j[0] : Json(nullptr);
  }
  /// The newest crash record of NAME, waiting for one; empty on timeout.
  Json wait_record(const std::string& name) const {
    Json last = Json::object();
    wait_until([&] {
      const Json all = Json::parse(ctl("--json crashes " + name).out, nullptr, false);
      if (all.is_array() && !all.empty()) {
        last = all[0];
        return true;
      }
      return false;
    });
    return last;
  }
  /// Where `text` first occurs in the main log (npos if not).
  size_t log_pos(const std::string& text) const { return main_log().find(text); }
};

TEST_F(HealthTest, AStartIsGatedUntilThePortAnswers) {
  const int port = free_port();
  // startsecs=1 passes long before the server binds (2 s): without gating it would be RUNNING.
  ASSERT_TRUE(start_agent(server_program("web", port, "startsecs=1\n", 2000)));
  ASSERT_TRUE(wait_until([&] { return !spawned_pids("web").empty(); }));
  // Observed RUNNING only once the server has said it listens.
  bool running = false;
  std::string out_when_running;
  ASSERT_TRUE(wait_until(
      [&] {
        running = std::regex_search(ctl("status web").out, std::regex("^web +RUNNING"));
        if (running) {
          out_when_running = ctl("tail web").out;
        }
        return running;
      },
      15s))
      << main_log();
  EXPECT_NE(out_when_running.find("listening"), std::string::npos)
      << "RUNNING before the server bound:\n"
      << main_log();
  const Json h = health("web");
  ASSERT_TRUE(h.is_object()) << ctl("--json health web").out;
  EXPECT_EQ(h["status"], "passing");
  // The first checks failed (refused) while the server had not bound yet.
  ASSERT_TRUE(h["checks"].is_array());
  ASSERT_GE(h["checks"].size(), 2u) << h.dump();
  EXPECT_EQ(h["checks"][0]["passed"], false) << h.dump();
  EXPECT_EQ(h["checks"].back()["passed"], true) << h.dump();
  EXPECT_EQ(h["checks"].back()["message"], "HTTP 200");

  // `zctl restart` waits for health as it waits for startsecs: back means passing again.
  const RunResult restart = ctl("restart web");
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_NE(restart.out.find("web: started"), std::string::npos) << restart.out;
  const Json after = health("web");
  EXPECT_EQ(after["status"], "passing") << after.dump();
  EXPECT_TRUE(std::regex_search(ctl("status web").out, std::regex("^web +RUNNING")));
}

TEST_F(HealthTest, AStartThatNeverPassesGoesToBackoffWithTheLastError) {
  const int port = free_port();  // nobody listens: every check is refused
  ASSERT_TRUE(start_agent(program("dead", helper("sleep_forever"),
                                  "startsecs=0\nstartretries=1\nhealthcheck=tcp://127.0.0.1:" +
                                      std::to_string(port) +
                                      "\nhealthcheck_start_timeout=2\nstopwaitsecs=2\n")));
  ASSERT_TRUE(wait_state("dead", "BACKOFF", 15s)) << main_log();
  EXPECT_TRUE(wait_log("health check did not pass within 2 s: ")) << main_log();
  const Json r = wait_record("dead");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "health_failed") << r.dump();
  ASSERT_TRUE(r["health"].is_object()) << r.dump();
  EXPECT_EQ(r["health"]["status"], "failing") << r.dump();
  // startretries=1: the second failed start is the last.
  ASSERT_TRUE(wait_state("dead", "FATAL", 15s)) << main_log();
  EXPECT_EQ(spawned_pids("dead").size(), 2u) << main_log();
}

TEST_F(HealthTest, FailuresInARowRestartARunningProgramWithCauseHealthFailed) {
  const int port = free_port();
  ASSERT_TRUE(start_agent(server_program(
      "web", port, "startsecs=0\nhealthcheck_interval=0.3\nhealthcheck_retries=2\n")));
  ASSERT_TRUE(wait_state("web", "RUNNING")) << main_log();
  const pid_t first = last_pid("web");
  steer("web", "503");
  ASSERT_TRUE(wait_log("WARN health: web failing (1/2): HTTP 503")) << main_log();
  ASSERT_TRUE(wait_log("WARN health: web failing (2/2): HTTP 503, restarting")) << main_log();
  const Json r = wait_record("web");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "health_failed") << r.dump();
  EXPECT_EQ(r["pid"], first);
  ASSERT_FALSE(r["evidence"].empty()) << r.dump();
  EXPECT_EQ(r["evidence"][0]["source"], "health") << r.dump();
  EXPECT_NE(r["evidence"][0]["text"].get<std::string>().find("2 checks failed in a row: HTTP 503"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(r["health"]["consecutive_failures"], 2) << r.dump();
  // `zctl why` names the cause.
  const RunResult why = ctl("why web");
  EXPECT_NE(why.out.find("health_failed"), std::string::npos) << why.out;
  // The new run is gated again: it stays STARTING while the server answers 503, then
  // passes once it answers 200.
  ASSERT_TRUE(wait_until([&] { return spawned_pids("web").size() >= 2; })) << main_log();
  EXPECT_TRUE(std::regex_search(ctl("status web").out, std::regex("^web +STARTING")))
      << ctl("status web").out;
  steer("web", "200");
  ASSERT_TRUE(wait_state("web", "RUNNING")) << main_log();
  EXPECT_NE(last_pid("web"), first);
}

TEST_F(HealthTest, AHungCheckTimesOutWithoutStallingTheAgentOrOtherChecks) {
  const int port = free_port();
  const int other_port = free_port();
  ASSERT_TRUE(start_agent(
      server_program("web", port,
                     "startsecs=0\nhealthcheck_interval=0.5\nhealthcheck_timeout=1\n"
                     "healthcheck_retries=100\n") +
      server_program("other", other_port, "startsecs=0\nhealthcheck_interval=0.2\n")));
  ASSERT_TRUE(wait_state("web", "RUNNING")) << main_log();
  ASSERT_TRUE(wait_state("other", "RUNNING")) << main_log();
  steer("web", "hang");
  ASSERT_TRUE(wait_log("WARN health: web failing (1/100): timed out after 1 s")) << main_log();
  // While web's checks hang, the agent answers and other's checks go on passing.
  const double other_before = health("other")["last_check"].get<double>();
  for (int i = 0; i < 5; ++i) {
    const RunResult status = ctl("status");
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_TRUE(std::regex_search(status.out, std::regex("web +RUNNING .*health: failing")))
        << status.out;
  }
  EXPECT_TRUE(wait_until([&] {
    const Json o = health("other");
    return o.is_object() && o["status"] == "passing" && o["last_check"].get<double>() > other_before;
  })) << ctl("--json health other").out;
  steer("web", "200");
  EXPECT_TRUE(wait_log("INFO health: web passing again (HTTP 200)", 15s)) << main_log();
  EXPECT_EQ(health("web")["status"], "passing");
}

TEST_F(HealthTest, DependsOnWinsOverPriorityAtStartAndAtShutdown) {
  const int port = free_port();
  // Priority says app first (1 before 999); depends_on says db first.
  ASSERT_TRUE(start_agent(
      server_program("db", port, "startsecs=0\npriority=999\n", 1500) +
      program("app", helper("sleep_forever"), "startsecs=0\npriority=1\ndepends_on=db\n")));
  ASSERT_TRUE(wait_until([&] {
    return ctl("status app").out.find("waiting for db (STARTING)") != std::string::npos;
  })) << ctl("status").out;
  EXPECT_TRUE(spawned_pids("app").empty());
  ASSERT_TRUE(wait_state("app", "RUNNING", 15s)) << main_log();
  const size_t db_running = log_pos("success: db entered RUNNING state");
  const size_t app_spawned = log_pos("spawned: 'app'");
  ASSERT_NE(db_running, std::string::npos) << main_log();
  ASSERT_NE(app_spawned, std::string::npos) << main_log();
  EXPECT_LT(db_running, app_spawned) << main_log();
  // The first wait is logged once (db may not have been spawned yet at that moment).
  EXPECT_EQ(count_log("waiting: app waiting for db ("), 1u) << main_log();

  stop_agent();
  const size_t app_stopped = log_pos("stopped: app");
  const size_t db_stopped = log_pos("stopped: db");
  ASSERT_NE(app_stopped, std::string::npos) << main_log();
  ASSERT_NE(db_stopped, std::string::npos) << main_log();
  EXPECT_LT(app_stopped, db_stopped) << main_log();
}

TEST_F(HealthTest, ZctlWaitExitCodes) {
  const int port = free_port();
  const int nobody = free_port();
  ASSERT_TRUE(start_agent(
      server_program("web", port, "startsecs=0\n", 500) +
      program("never", helper("sleep_forever"),
              "startsecs=0\nhealthcheck=tcp://127.0.0.1:" + std::to_string(nobody) + "\n") +
      program("off", helper("sleep_forever"), "autostart=false\n") +
      program("broken", "/nonexistent/zagent-test-binary", "startretries=0\n")));
  // Ready: 0 once web passes.
  const RunResult ready = ctl("wait --timeout 15 web");
  EXPECT_EQ(ready.exit_code, 0) << ready.out << ready.err;
  // Never passing: 1 at the timeout, naming what it still waits for.
  const RunResult timeout = ctl("wait --timeout 1 web never");
  EXPECT_EQ(timeout.exit_code, 1) << timeout.out << timeout.err;
  EXPECT_NE((timeout.out + timeout.err).find("never"), std::string::npos) << timeout.out;
  // STOPPED and FATAL: 1 at once, well before a long timeout.
  const RunResult stopped = ctl("wait --timeout 300 off");
  EXPECT_EQ(stopped.exit_code, 1) << stopped.out << stopped.err;
  EXPECT_NE((stopped.out + stopped.err).find("STOPPED"), std::string::npos) << stopped.out;
  ASSERT_TRUE(wait_state("broken", "FATAL")) << main_log();
  const RunResult fatal = ctl("wait --timeout 300 broken");
  EXPECT_EQ(fatal.exit_code, 1) << fatal.out << fatal.err;
  EXPECT_NE((fatal.out + fatal.err).find("FATAL"), std::string::npos) << fatal.out;
  // An unknown name: 4, as supervisorctl's other verbs.
  const RunResult unknown = ctl("wait nosuch");
  EXPECT_EQ(unknown.exit_code, 4) << unknown.out << unknown.err;
  // --json: the state of each name.
  const Json j = Json::parse(ctl("--json wait --timeout 5 web").out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << ctl("--json wait --timeout 5 web").out;
  EXPECT_EQ(j["ready"], true) << j.dump();
  ASSERT_EQ(j["processes"].size(), 1u) << j.dump();
  EXPECT_EQ(j["processes"][0]["name"], "web") << j.dump();
  EXPECT_EQ(j["processes"][0]["health"]["status"], "passing") << j.dump();
}

}  // namespace
}  // namespace zagent::test::e2e
