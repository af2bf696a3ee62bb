// zctl's `top` verb and status's `resources` against a scripted client: the table's exact text
// (sizes, signs, uptime, `-` for null; the GPU column's own cases are in gpu_test.cc), unknown
// names, --json, --watch's arguments and its refreshes (docs/zctl.md "top").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

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
using test::os_error;
using test::std_error;
using ::testing::MatchesRegex;
using PS = ProcessState;

constexpr std::string_view kMethod = "zagent.getProcessStats";
constexpr std::string_view kHeader =
    "NAME     STATE     PID   CPU%  RSS   PSS   GPU  THREADS  TREND/H  UPTIME   RESTARTS\n";

/// The resources of the example in docs/rpc.md.
Json web_resources() {
  return Json::parse(R"j({"sampled_at":1764000000.5,"processes":3,"cpu_percent":12.5,
      "cpu_seconds":40.25,"rss_bytes":1288490188,"pss_bytes":1180000000,"threads":10,"fds":12,
      "memory_trend_bytes_per_hour":12582912.0,"memory_trend_seconds":540.0,
      "memory_limit_bytes":8589934592,"memory_limit_eta_seconds":3600.0})j");
}

Json web() {
  return {{"name", "web"},
          {"group", "web"},
          {"namespec", "web"},
          {"state", 20},
          {"statename", "RUNNING"},
          {"pid", 1234},
          {"uptime_seconds", 605.2},
          {"restarts", 0},
          {"resources", web_resources()}};
}

/// A running worker whose sample has no PSS, no CPU yet and a shrinking trend.
Json worker() {
  Json resources = web_resources();
  resources["pss_bytes"] = nullptr;
  resources["cpu_percent"] = nullptr;
  resources["rss_bytes"] = 512;
  resources["threads"] = 1;
  resources["memory_trend_bytes_per_hour"] = -1572864.0;
  return {{"name", "w1"},           {"group", "grp"}, {"namespec", "grp:w1"},       {"state", 20},
          {"statename", "RUNNING"}, {"pid", 77},      {"uptime_seconds", 183845.9}, {"restarts", 3},
          {"resources", resources}};
}

/// A stopped process from an older agent: no namespec, no resources, no restarts.
Json stopped() {
  return {{"name", "batch"},        {"group", "batch"}, {"state", 0},
          {"statename", "STOPPED"}, {"pid", 0},         {"uptime_seconds", 0}};
}

Json all() { return Json{{"name", ""}}; }
Json named(const std::string& name) { return Json{{"name", name}}; }

class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_.serverurl = "unix:///tmp/sup.sock";
    session_.client = &fake_;
    session_.output = &unused_;
    session_.now = [this] { return now_; };
    session_.catch_sigterm = [this](bool on) { sigterm_.push_back(on); };
  }
  void TearDown() override { EXPECT_TRUE(fake_.done()) << "left: " << fake_.remaining(); }

  CommandResult run(std::string_view line) { return run_captured(session_, line); }

  void expect(std::string_view line, std::string_view out, int exit_code) {
    const CommandResult r = run(line);
    EXPECT_EQ(r.out, out) << "for: " << line;
    EXPECT_EQ(r.err, "") << "for: " << line;
    EXPECT_EQ(r.exit_code, exit_code) << "for: " << line;
  }

  /// The connection check and the stats calls, as one round trip.
  void stats(std::vector<std::pair<Json, CallResult<Json>>> calls) {
    fake_.version_ok();
    for (auto& [params, reply] : calls) {
      fake_.expect(std::string(kMethod), std::move(params), std::move(reply));
    }
  }

  test::FakeClient fake_;
  CapturingOutput unused_;
  Session session_;
  std::chrono::steady_clock::time_point now_{};
  std::vector<bool> sigterm_;  ///< catch_sigterm's calls
};

// ---------------------------------------------------------------------------------------------
// the pure parts

TEST(TopRender, HumanSizes) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(512), "512B");
  EXPECT_EQ(human_size(1023), "1023B");
  EXPECT_EQ(human_size(1023.6), "1.0K");
  EXPECT_EQ(human_size(1024), "1.0K");
  EXPECT_EQ(human_size(1536), "1.5K");
  EXPECT_EQ(human_size(1048575), "1.0M") << "not 1024.0K";
  EXPECT_EQ(human_size(12582912), "12.0M");
  EXPECT_EQ(human_size(1288490188), "1.2G");
  EXPECT_EQ(human_size(1099511627776.0), "1.0T");
  EXPECT_EQ(human_size(1099511627776.0 * 2048), "2048.0T") << "T is the largest unit";
  EXPECT_EQ(human_size(-5), "0B");
}

TEST(TopRender, SignedSizes) {
  EXPECT_EQ(signed_human_size(12582912), "+12.0M");
  EXPECT_EQ(signed_human_size(-1572864), "-1.5M");
  EXPECT_EQ(signed_human_size(0), "+0B");
  EXPECT_EQ(signed_human_size(-0.4), "+0B");
  EXPECT_EQ(signed_human_size(-700), "-700B");
}

TEST(TopRender, UptimeHoursAreNotWrappedIntoDays) {
  EXPECT_EQ(hours_uptime_text(0), "0:00:00");
  EXPECT_EQ(hours_uptime_text(605.9), "0:10:05");
  EXPECT_EQ(hours_uptime_text(51 * 3600 + 4 * 60 + 5), "51:04:05");
  EXPECT_EQ(hours_uptime_text(-1), "0:00:00");
}

TEST(TopRender, TableWithNullsAsDashes) {
  TopRow full{"web", "RUNNING", 1234,     12.5,  1288490188, 1180000000, 3 * 1073741824.0,
              true,  10,        12582912, 605.2, 0};
  TopRow bare;
  bare.namespec = "grp:long-name";
  bare.statename = "STOPPED";
  bare.uptime_seconds = 99;  // not running: no uptime all the same
  EXPECT_EQ(
      top_table({full, bare}),
      "NAME           STATE    PID   CPU%  RSS   PSS   GPU    THREADS  TREND/H  UPTIME   "
      "RESTARTS\n"
      "web            RUNNING  1234  12.5  1.2G  1.1G  3.0G~  10       +12.0M   0:10:05  0\n"
      "grp:long-name  STOPPED  -     -     -     -     -      -        -        -        -\n");
  EXPECT_EQ(top_table({}),
            "NAME  STATE  PID  CPU%  RSS  PSS  GPU  THREADS  TREND/H  UPTIME  RESTARTS\n");
}

TEST(TopRender, Title) {
  EXPECT_EQ(top_title(2, "14:03:07"), "zctl top - every 2s - 14:03:07");
  EXPECT_EQ(top_title(0.5, "00:00:00"), "zctl top - every 0.5s - 00:00:00");
}

TEST(TopRender, ColumnTable) {
  EXPECT_EQ(column_table({}), "");
  EXPECT_EQ(column_table({{"A", "B"}, {"ééé", "x"}}), "A    B\nééé  x\n");
}

// ---------------------------------------------------------------------------------------------
// top

TEST_F(TopTest, EveryProcessIsOneCallInTheConnectionChecksRoundTrip) {
  stats({{all(), ok(Json::array({web(), worker(), stopped()}))}});
  expect("top",
         "NAME    STATE    PID   CPU%  RSS   PSS   GPU  THREADS  TREND/H  UPTIME    RESTARTS\n"
         "web     RUNNING  1234  12.5  1.2G  1.1G  -    10       +12.0M   0:10:05   0\n"
         "grp:w1  RUNNING  77    -     512B  -     -    1        -1.5M    51:04:05  3\n"
         "batch   STOPPED  -     -     -     -     -    -        -        -         -\n",
         0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2});
  stats({{all(), ok(Json::array({web()}))}});
  EXPECT_EQ(run("top all web").exit_code, 0) << "all means every process";
}

TEST_F(TopTest, EachNameIsOneCallAndUnknownNamesComeFirstAndExitOne) {
  stats({{named("web"), ok(Json::array({web()}))},
         {named("nosuch"), fault(Fault::BadName, "nosuch")},
         {named("grp:*"), ok(Json::array({worker()}))},
         {named("gone:*"), fault(Fault::BadName, "gone")}});
  expect("top web nosuch grp:* gone:*",
         "nosuch: ERROR (no such process)\n"
         "gone: ERROR (no such group)\n"
         "NAME    STATE    PID   CPU%  RSS   PSS   GPU  THREADS  TREND/H  UPTIME    RESTARTS\n"
         "web     RUNNING  1234  12.5  1.2G  1.1G  -    10       +12.0M   0:10:05   0\n"
         "grp:w1  RUNNING  77    -     512B  -     -    1        -1.5M    51:04:05  3\n",
         1);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{5});
}

TEST_F(TopTest, OnlyUnknownNamesPrintNoTable) {
  stats({{named("nosuch"), fault(Fault::BadName, "nosuch")}});
  expect("top nosuch", "nosuch: ERROR (no such process)\n", 1);
}

TEST_F(TopTest, NothingConfiguredIsTheHeader) {
  stats({{all(), ok(Json::array())}});
  expect("top", "NAME  STATE  PID  CPU%  RSS  PSS  GPU  THREADS  TREND/H  UPTIME  RESTARTS\n", 0);
}

TEST_F(TopTest, ConnectionCheck) {
  fake_.expect("supervisor.getVersion", Json::array(), os_error(ENOENT));
  expect("top", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(TopTest, AgentWithoutTheMethodIsAnErrorLine) {
  stats({{all(), std_error(rpc::StdError::MethodNotFound)}});
  const CommandResult r = run("top");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with("error: ")) << r.out;
}

TEST_F(TopTest, BadReply) {
  stats({{all(), ok(Json::array({"garbage"}))}});
  expect("top",
         "error: <class 'zagent.ProtocolError'>, unexpected reply to zagent.getProcessStats: "
         "file: zctl line: 0\n",
         1);
}

TEST_F(TopTest, JsonKeepsTheAgentsObjectsAndAddsNamespec) {
  stats({{named("web"), ok(Json::array({web()}))},
         {named("batch"), ok(Json::array({stopped()}))},
         {named("nosuch"), fault(Fault::BadName, "nosuch")}});
  const CommandResult r = run("top --json web batch nosuch");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  Json batch = stopped();
  batch["namespec"] = "batch";
  EXPECT_EQ(Json::parse(r.out),
            Json({{"processes", Json::array({web(), batch})},
                  {"errors", Json::array({{{"name", "nosuch"}, {"error", "no such process"}}})}}));
}

TEST_F(TopTest, HelpTopicButSupervisorctlsIndex) {
  expect("help top",
         "top\t\t\tShow the resource use of every process: CPU, memory, threads\n"
         "top <name> [...]\tShow the resource use of the named processes or groups\n"
         "top --watch <secs>\tRedraw every <secs> seconds until Ctrl-C\n",
         0);
  // `stop` holds "top": look for the word.
  EXPECT_THAT(command_names(), ::testing::Not(::testing::Contains("top")));
  EXPECT_THAT(command_names(), ::testing::Contains("stop"));
}

// ---------------------------------------------------------------------------------------------
// --watch

TEST_F(TopTest, WatchUsageErrorsNeedNoServer) {
  const std::string error =
      "Error: --watch requires a positive number of seconds\n" + *help_topic("top");
  for (const char* line :
       {"top --watch", "top --watch 0", "top --watch -1", "top --watch x", "top --watch 2s",
        "top --watch=", "top --watch nan", "top --watch inf", "top web --watch"}) {
    expect(line, error, 2);
  }
  expect("top -x", "Error: unknown option -x\n" + *help_topic("top"), 2);
  session_.json = true;
  const CommandResult r = run("top --watch 0");
  EXPECT_EQ(Json::parse(r.out),
            Json({{"error", "Error: --watch requires a positive number of seconds"}}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(fake_.calls.empty());
  EXPECT_TRUE(sigterm_.empty());
}

constexpr std::string_view kWebTable =
    "NAME  STATE    PID   CPU%  RSS   PSS   GPU  THREADS  TREND/H  UPTIME   RESTARTS\n"
    "web   RUNNING  1234  12.5  1.2G  1.1G  -    10       +12.0M   0:10:05  0\n";

TEST_F(TopTest, WatchOffATerminalSeparatesTablesByAnEmptyLine) {
  stats({{named("web"), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Timeout));
  stats({{named("web"), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Interrupted));
  expect("top --watch=0.25 web", std::string(kWebTable) + "\n" + std::string(kWebTable), 0);
  ASSERT_EQ(fake_.waits.size(), 2U);
  EXPECT_EQ(fake_.waits[0], std::make_pair(-1, std::optional(250ms)));
  EXPECT_EQ(sigterm_, std::vector<bool>({true, false})) << "SIGTERM stops it while it runs";
}

TEST_F(TopTest, WatchOnATerminalRedrawsWithATitle) {
  session_.terminal = true;
  stats({{named("web"), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Timeout));
  stats({{named("web"), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Interrupted));
  const CommandResult r = run("top --watch 2 web");
  EXPECT_EQ(r.exit_code, 0);
  const std::string screen = "\x1b[H\x1b[2Jzctl top - every 2s - ";
  ASSERT_EQ(r.out.size(), 2 * (screen.size() + 9 + kWebTable.size())) << r.out;
  const std::string first = r.out.substr(0, r.out.size() / 2);
  EXPECT_EQ(first.substr(0, screen.size()), screen);
  EXPECT_THAT(first.substr(screen.size(), 9), MatchesRegex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\n"));
  EXPECT_EQ(first.substr(screen.size() + 9), kWebTable);
  EXPECT_EQ(r.out.substr(r.out.size() / 2, screen.size()), screen);
}

TEST_F(TopTest, WatchWaitsOnlyWhatIsLeftAfterANotification) {
  stats({{all(), ok(Json::array({web()}))}});
  fake_.event(test::notification("zagent.logData", Json::object()));
  fake_.event(event_of(Event::Kind::Interrupted));
  session_.now = [this] {
    const auto t = now_;
    now_ += 400ms;
    return t;
  };
  EXPECT_EQ(run("top --watch 1").exit_code, 0);
  ASSERT_EQ(fake_.waits.size(), 2U);
  EXPECT_EQ(fake_.waits[0].second, 600ms);
  EXPECT_EQ(fake_.waits[1].second, 200ms);
}

TEST_F(TopTest, WatchJsonIsOneLinePerRefresh) {
  session_.terminal = true;  // no escape codes in JSON all the same
  stats({{all(), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Timeout));
  stats({{all(), ok(Json::array())}});
  fake_.event(event_of(Event::Kind::Interrupted));
  const CommandResult r = run("top --json --watch 1");
  EXPECT_EQ(r.exit_code, 0);
  const Json first{{"processes", Json::array({web()})}, {"errors", Json::array()}};
  const Json second{{"processes", Json::array()}, {"errors", Json::array()}};
  EXPECT_EQ(r.out, first.dump() + "\n" + second.dump() + "\n");
}

TEST_F(TopTest, WatchEndsWithTheConnectionErrorWhenTheAgentGoesAway) {
  stats({{named("web"), ok(Json::array({web()}))}});
  fake_.event(event_of(Event::Kind::Closed));
  fake_.expect("supervisor.getVersion", Json::array(), os_error(ENOENT));
  expect("top --watch 1 web", std::string(kWebTable) + "unix:///tmp/sup.sock no such file\n", 7);
  EXPECT_EQ(sigterm_, std::vector<bool>({true, false}));
}

TEST_F(TopTest, WatchStopsAtAnUnknownName) {
  stats({{named("web"), ok(Json::array({web()}))}, {named("nosuch"), fault(Fault::BadName)}});
  expect("top --watch 1 web nosuch", "nosuch: ERROR (no such process)\n" + std::string(kWebTable),
         1);
}

TEST_F(TopTest, CtrlCDuringARefreshEndsTheWatchQuietly) {
  fake_.version_ok().expect(std::string(kMethod), all(),
                            test::kind_error(CallError::Kind::Interrupted));
  const Outcome out = run_line(session_, "top --watch 1");
  EXPECT_FALSE(out.interrupted);
  EXPECT_EQ(out.exit_code, 0);
}

// ---------------------------------------------------------------------------------------------
// status --json

TEST_F(TopTest, StatusJsonRowsCarryTheResourcesByNamespec) {
  Json w1 = worker();
  w1.erase("namespec");  // matched by group and name all the same
  Json idle = web();
  idle["name"] = "idle";
  idle["group"] = "idle";
  idle["namespec"] = "idle";
  idle["resources"] = nullptr;
  fake_.version_ok()
      .expect("supervisor.getAllProcessInfo", Json::array(),
              ok(Json::array({info("grp", "w1", PS::Running, "pid 77", 77),
                              info("idle", "idle", PS::Starting, ""),
                              info("new", "new", PS::Stopped, "Not started"),
                              info("web", "web", PS::Running, "pid 1234", 1234)})))
      .expect(std::string(kMethod), all(), ok(Json::array({web(), w1, idle})));
  const CommandResult r = run("status --json");
  EXPECT_EQ(r.exit_code, 3);
  const Json doc = Json::parse(r.out);
  ASSERT_EQ(doc["processes"].size(), 4U);
  EXPECT_EQ(doc["processes"][0]["resources"], worker()["resources"]);
  EXPECT_TRUE(doc["processes"][1]["resources"].is_null()) << "no sample yet";
  ASSERT_TRUE(doc["processes"][2].contains("resources"));
  EXPECT_TRUE(doc["processes"][2]["resources"].is_null()) << "not in the reply";
  EXPECT_EQ(doc["processes"][3]["resources"], web_resources());
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{3}) << "one round trip";
}

TEST_F(TopTest, StatusJsonFromAnAgentWithoutTheMethodHasNullResources) {
  for (auto reply : {std_error(rpc::StdError::MethodNotFound), fault(Fault::UnknownMethod)}) {
    fake_.version_ok()
        .expect("supervisor.getProcessInfo", Json::array({"web"}),
                ok(info("web", "web", PS::Running, "pid 1234", 1234)))
        .expect(std::string(kMethod), all(), reply);
    const CommandResult r = run("status --json web");
    EXPECT_EQ(r.exit_code, 0);
    const Json doc = Json::parse(r.out);
    ASSERT_EQ(doc["processes"].size(), 1U);
    EXPECT_EQ(doc["processes"][0]["namespec"], "web");
    ASSERT_TRUE(doc["processes"][0].contains("resources"));
    EXPECT_TRUE(doc["processes"][0]["resources"].is_null());
  }
}

TEST_F(TopTest, StatusTextMakesNoStatsCall) {
  fake_.version_ok().expect("supervisor.getAllProcessInfo", Json::array(),
                            ok(Json::array({info("web", "web", PS::Running, "pid 1234", 1234)})));
  expect("status", "web                              RUNNING   pid 1234\n", 0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2});
}

}  // namespace
}  // namespace zagent::ctl
