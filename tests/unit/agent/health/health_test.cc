// Health checks and depends_on in the pure core: the keys and their errors, the check spec
// parser, the dependency check (unknown names, cycles) with the place, the supervisor's held
// spawns and shutdown waves, and the health monitor's schedule, gating and liveness restarts
// over a fake prober.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "agent/config/dependencies.h"
#include "agent/config/loader.h"
#include "agent/health/check_spec.h"
#include "agent/health/health_monitor.h"
#include "agent/process/supervisor.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_config_host.h"
#include "tests/support/fake_log_sink.h"
#include "tests/support/fake_spawner.h"

namespace zagent {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kMain = "/srv/z.conf";

// ---- the check spec ----

TEST(CheckSpec, HttpWithDefaultsAndPaths) {
  auto a = parse_healthcheck("http://127.0.0.1:7860/");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->kind, CheckKind::Http);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7860);
  EXPECT_EQ(a->target, "/");
  auto b = parse_healthcheck("  http://localhost/health?deep=1#x ");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->target, "/health?deep=1");
  EXPECT_EQ(b->text, "http://localhost/health?deep=1#x");
  auto c = parse_healthcheck("http://[::1]:8000");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->target, "/");
}

TEST(CheckSpec, TcpAndCommand) {
  auto t = parse_healthcheck("tcp://db:5432");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, CheckKind::Tcp);
  EXPECT_EQ(t->host, "db");
  EXPECT_EQ(t->port, 5432);
  auto c = parse_healthcheck("cmd:/usr/bin/check --flag");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->kind, CheckKind::Command);
  EXPECT_EQ(c->command, "/usr/bin/check --flag");
}

TEST(CheckSpec, ErrorsSayWhatIsWrong) {
  EXPECT_THAT(parse_healthcheck("https://x/").error().message, HasSubstr("unsupported scheme 'https'"));
  EXPECT_THAT(parse_healthcheck("tcp://db").error().message, HasSubstr("missing port"));
  EXPECT_THAT(parse_healthcheck("http://x:99999/").error().message, HasSubstr("invalid port"));
  EXPECT_THAT(parse_healthcheck("http://:80/").error().message, HasSubstr("missing host"));
  EXPECT_THAT(parse_healthcheck("cmd:").error().message, HasSubstr("missing command"));
  EXPECT_THAT(parse_healthcheck("localhost:80").error().message, HasSubstr("use http://"));
  EXPECT_THAT(parse_healthcheck("http://x/a b").error().message, HasSubstr("space"));
}

// ---- the keys and depends_on in the config ----

class HealthConfigTest : public ::testing::Test {
 protected:
  ConfigLoad load(const std::string& text) {
    host_.add_file(kMain, text);
    return load_config(kMain, {}, host_);
  }
  std::string error(const std::string& text) {
    auto result = load(text);
    EXPECT_FALSE(result.config.has_value());
    return result.errors.empty() ? "" : result.errors.front().render();
  }
  test::FakeConfigHost host_;
};

TEST_F(HealthConfigTest, DefaultsAndValues) {
  auto plain = load("[supervisord]\n[program:a]\ncommand=x\n");
  ASSERT_TRUE(plain.config.has_value());
  const ProcessConfig& p = plain.config->groups[0].processes[0];
  EXPECT_FALSE(p.healthcheck.has_value());
  EXPECT_EQ(p.healthcheck_interval, 10s);
  EXPECT_EQ(p.healthcheck_timeout, 5s);
  EXPECT_EQ(p.healthcheck_retries, 3);
  EXPECT_EQ(p.healthcheck_start_timeout, 300s);
  EXPECT_TRUE(p.depends_on.empty());

  auto set = load(
      "[supervisord]\n[program:db]\ncommand=x\n"
      "[program:web]\ncommand=x\nnumprocs=2\nprocess_name=web_%(process_num)d\n"
      "healthcheck=http://127.0.0.1:78%(process_num)02d/\nhealthcheck_interval=2\n"
      "healthcheck_timeout=0.5\nhealthcheck_retries=5\nhealthcheck_start_timeout=60\n"
      "depends_on=db\n");
  ASSERT_TRUE(set.config.has_value()) << set.errors.front().render();
  const auto& web = set.config->groups[1].processes;
  ASSERT_EQ(web.size(), 2U);
  EXPECT_EQ(web[1].healthcheck->port, 7801);  // %(process_num)s expanded per process
  EXPECT_EQ(web[0].healthcheck_interval, 2s);
  EXPECT_EQ(web[0].healthcheck_timeout, 500ms);
  EXPECT_EQ(web[0].healthcheck_retries, 5);
  EXPECT_EQ(web[0].healthcheck_start_timeout, 60s);
  EXPECT_THAT(web[0].depends_on, ElementsAre("db"));
}

TEST_F(HealthConfigTest, BadValuesNameTheKeyAndPlace) {
  EXPECT_THAT(error("[supervisord]\n[program:a]\ncommand=x\nhealthcheck=ftp://x/\n"),
              HasSubstr("invalid value for healthcheck: 'ftp://x/'"));
  EXPECT_THAT(error("[supervisord]\n[program:a]\ncommand=x\nhealthcheck_interval=0\n"),
              HasSubstr("healthcheck_interval"));
  EXPECT_THAT(error("[supervisord]\n[program:a]\ncommand=x\nhealthcheck_retries=0\n"),
              HasSubstr("healthcheck_retries"));
}

TEST_F(HealthConfigTest, UnknownDependencyIsAnErrorAtItsLine) {
  const std::string e =
      error("[supervisord]\n[program:web]\ncommand=x\ndepends_on=db, redis\n[program:db]\ncommand=y\n");
  EXPECT_THAT(e, HasSubstr("depends_on: no program or group named 'redis'"));
  EXPECT_THAT(e, HasSubstr("section 'program:web'"));
  EXPECT_THAT(e, HasSubstr("line 4"));
}

TEST_F(HealthConfigTest, CycleIsAnErrorWithItsPath) {
  const std::string e = error(
      "[supervisord]\n[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\n"
      "depends_on=a\n");
  EXPECT_THAT(e, HasSubstr("depends_on: a cycle: "));
  EXPECT_THAT(e, HasSubstr("a -> b -> a"));
  EXPECT_THAT(error("[supervisord]\n[program:a]\ncommand=x\ndepends_on=a\n"),
              HasSubstr("a cycle: a -> a"));
}

TEST(Dependencies, NamesAGroupAProcessOrANamespec) {
  EXPECT_TRUE(names_process("models", "models", "sdxl"));
  EXPECT_TRUE(names_process("sdxl", "models", "sdxl"));
  EXPECT_TRUE(names_process("models:sdxl", "models", "sdxl"));
  EXPECT_FALSE(names_process("models:flux", "models", "sdxl"));
  EXPECT_FALSE(names_process("model", "models", "sdxl"));
}

// ---- the supervisor: held spawns and the shutdown order ----

int exited_with(int code) { return (code & 0xff) << 8; }

class OrderTest : public ::testing::Test {
 protected:
  void make(const std::string& programs) {
    host_.add_file(kMain, "[supervisord]\n" + programs);
    auto load = load_config(kMain, {}, host_);
    ASSERT_TRUE(load.config.has_value()) << (load.errors.empty() ? "" : load.errors[0].render());
    config_ = *load.config;
    supervisor_ = std::make_unique<Supervisor>(config_, LogPaths{}, EnvironmentList{{"PATH", "/bin"}},
                                               spawner_, clock_, log_);
  }
  const ProcessEntry& entry(const std::string& name) const {
    return *supervisor_->find(name, name);
  }
  ProcessState state(const std::string& name) const { return entry(name).record.state; }
  void tick_to_wakeup() {
    auto wake = supervisor_->next_wakeup();
    ASSERT_TRUE(wake.has_value());
    clock_.advance_to(*wake);
    supervisor_->tick();
  }
  std::vector<std::string> spawned() const {
    std::vector<std::string> names;
    for (const auto& s : spawner_.spawned) {
      names.push_back(s.name);
    }
    return names;
  }

  test::FakeConfigHost host_;
  test::FakeSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  AgentConfig config_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(OrderTest, DependentWaitsForRunningWhateverThePriority) {
  // web's priority would start it first; depends_on wins.
  make("[program:web]\ncommand=/bin/web\npriority=1\ndepends_on=db\n"
       "[program:db]\ncommand=/bin/db\npriority=900\n");
  supervisor_->start();
  EXPECT_THAT(spawned(), ElementsAre("db"));
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(entry("web").record.waiting, "waiting for db (STARTING)");
  // The first hold is logged (db not yet started), later texts only update the description.
  EXPECT_THAT(log_.lines, Contains("INFO waiting: web waiting for db (STOPPED)"));
  tick_to_wakeup();  // db: startsecs passed -> RUNNING, web spawns
  EXPECT_EQ(state("db"), ProcessState::Running);
  EXPECT_THAT(spawned(), ElementsAre("db", "web"));
  EXPECT_TRUE(entry("web").record.waiting.empty());
}

TEST_F(OrderTest, AStoppedDependencyIsNamedAndAStopCancelsTheWait) {
  make("[program:web]\ncommand=/bin/web\ndepends_on=db\n"
       "[program:db]\ncommand=/bin/db\nautostart=false\n");
  supervisor_->start();
  EXPECT_THAT(spawned(), IsEmpty());
  EXPECT_EQ(entry("web").record.waiting, "waiting for db (STOPPED)");
  ASSERT_TRUE(supervisor_->stop_process("web", "web").has_value());
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(OrderTest, ACheckedDependencyMustPassItsCheck) {
  make("[program:web]\ncommand=/bin/web\ndepends_on=db\n"
       "[program:db]\ncommand=/bin/db\nhealthcheck=tcp://127.0.0.1:5432\n");
  supervisor_->start();
  tick_to_wakeup();  // startsecs passed, no check yet
  EXPECT_EQ(state("db"), ProcessState::Starting);
  EXPECT_THAT(spawned(), ElementsAre("db"));
  const pid_t db = entry("db").record.pid;
  EXPECT_TRUE(supervisor_->health_checked("db", "db", db,
                                          CheckRecord{clock_.wall_now(), true, "connected", 1ms}));
  EXPECT_EQ(state("db"), ProcessState::Running);
  EXPECT_THAT(spawned(), ElementsAre("db", "web"));
  // A result for an old pid is dropped.
  EXPECT_FALSE(supervisor_->health_checked("db", "db", db + 100, CheckRecord{}));
}

TEST_F(OrderTest, ShutdownStopsDependentsFirstWhateverThePriority) {
  // By priority alone db (999) would stop before web (1).
  make("[program:web]\ncommand=/bin/web\npriority=1\ndepends_on=db\n"
       "[program:db]\ncommand=/bin/db\n");
  supervisor_->start();
  tick_to_wakeup();
  tick_to_wakeup();
  ASSERT_EQ(state("web"), ProcessState::Running);
  ASSERT_EQ(state("db"), ProcessState::Running);
  supervisor_->begin_shutdown();
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_EQ(state("db"), ProcessState::Running);
  supervisor_->on_child_exit(entry("web").record.pid, SIGTERM);
  EXPECT_EQ(state("web"), ProcessState::Stopped);
  EXPECT_EQ(state("db"), ProcessState::Stopping);
  supervisor_->on_child_exit(entry("db").record.pid, exited_with(0));
  EXPECT_TRUE(supervisor_->shutdown_complete());
}

TEST_F(OrderTest, WithoutDependenciesShutdownKeepsThePriorityOrder) {
  make("[program:a]\ncommand=/bin/a\npriority=1\n[program:b]\ncommand=/bin/b\npriority=2\n");
  supervisor_->start();
  tick_to_wakeup();
  supervisor_->begin_shutdown();
  EXPECT_EQ(state("b"), ProcessState::Stopping);
  EXPECT_EQ(state("a"), ProcessState::Running);
}

// ---- the health monitor over a fake prober ----

class FakeProber final : public HealthProber {
 public:
  void check(const CheckRequest& request, std::function<void(CheckResult)> done) override {
    requests.push_back(request);
    pending.push_back(std::move(done));
  }
  /// Finishes the oldest check in flight.
  void finish(bool passed, std::string message) {
    ASSERT_FALSE(pending.empty());
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    done(CheckResult{passed, std::move(message), 3ms});
  }
  std::vector<CheckRequest> requests;
  std::vector<std::function<void(CheckResult)>> pending;
};

class MonitorTest : public OrderTest {
 protected:
  void make_monitor(const std::string& programs) {
    make(programs);
    monitor_ = std::make_unique<HealthMonitor>(*supervisor_, prober_, clock_, log_,
                                               [this]() { ++results_; });
    supervisor_->set_spawn_listener([this](const ProcessEntry& e) { monitor_->on_spawned(e); });
  }
  /// Moves the clock to the earliest of both wake-ups and ticks both.
  void step() {
    auto a = supervisor_->next_wakeup();
    auto b = monitor_->next_wakeup();
    ASSERT_TRUE(a || b);
    SteadyTime t = a && b ? std::min(*a, *b) : (a ? *a : *b);
    clock_.advance_to(std::max(t, clock_.steady_now()));
    supervisor_->tick();
    monitor_->tick();
  }

  FakeProber prober_;
  std::unique_ptr<HealthMonitor> monitor_;
  int results_ = 0;
};

constexpr const char* kWeb =
    "[program:web]\ncommand=/bin/web\nhealthcheck=http://127.0.0.1:7860/\n"
    "healthcheck_interval=10\nhealthcheck_timeout=2\nhealthcheck_retries=2\n"
    "environment=MODEL=\"x\"\n";

TEST_F(MonitorTest, ChecksAtOnceThenEverySecondWhileStarting) {
  make_monitor(kWeb);
  supervisor_->start();
  ASSERT_EQ(monitor_->next_wakeup(), clock_.steady_now());
  monitor_->tick();
  ASSERT_EQ(prober_.requests.size(), 1U);
  EXPECT_EQ(prober_.requests[0].spec.port, 7860);
  EXPECT_EQ(prober_.requests[0].timeout, 2s);
  EXPECT_EQ(monitor_->next_wakeup(), std::nullopt);  // one check at a time
  const SteadyTime started = clock_.steady_now();
  clock_.advance(20ms);
  prober_.finish(false, "connection refused");
  EXPECT_EQ(results_, 1);
  EXPECT_EQ(monitor_->next_wakeup(), started + 1s);
  EXPECT_EQ(entry("web").health.status, HealthStatus::Failing);
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(entry("web").record.health_error, "connection refused");
}

TEST_F(MonitorTest, APassGatesRunningThenChecksFollowTheInterval) {
  make_monitor(kWeb);
  supervisor_->start();
  monitor_->tick();
  prober_.finish(false, "connection refused");
  step();  // 1 s: the startsecs deadline and the next check
  ASSERT_EQ(prober_.pending.size(), 1U);
  EXPECT_EQ(state("web"), ProcessState::Starting);
  prober_.finish(true, "HTTP 200");  // at 1 s: startsecs (strictly more than 1 s) not yet
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_TRUE(entry("web").record.health_passed);
  step();
  EXPECT_EQ(state("web"), ProcessState::Running);
  EXPECT_EQ(entry("web").health.status, HealthStatus::Passing);
  step();  // the check due from STARTING's cadence
  ASSERT_EQ(prober_.pending.size(), 1U);
  const SteadyTime started = clock_.steady_now();
  prober_.finish(true, "HTTP 200");
  EXPECT_EQ(*monitor_->next_wakeup() - started, 10s);  // RUNNING: healthcheck_interval
  const Json health = health_json(entry("web"));
  EXPECT_EQ(health["status"], "passing");
  EXPECT_EQ(health["consecutive_failures"], 0);
  EXPECT_EQ(health["last_error"], "connection refused");
}

TEST_F(MonitorTest, RetriesFailuresInARowRestartWithHealthFailed) {
  make_monitor(kWeb);
  supervisor_->start();
  monitor_->tick();
  prober_.finish(true, "HTTP 200");
  step();  // 1 s: the next check starts, startsecs not yet over
  prober_.finish(true, "HTTP 200");
  step();  // RUNNING
  ASSERT_EQ(state("web"), ProcessState::Running);
  step();  // the next check
  prober_.finish(false, "HTTP 503");
  EXPECT_EQ(state("web"), ProcessState::Running);
  EXPECT_EQ(health_description(entry("web")), ", health: failing (1/2: HTTP 503)");
  EXPECT_THAT(log_.lines, Contains("WARN health: web failing (1/2): HTTP 503"));
  step();
  prober_.finish(false, "timed out after 2 s");
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  ASSERT_TRUE(entry("web").record.guardian_stop.has_value());
  EXPECT_EQ(entry("web").record.guardian_stop->cause, CauseKind::HealthFailed);
  EXPECT_EQ(entry("web").record.guardian_stop->evidence.text,
            "2 checks failed in a row: HTTP 503; timed out after 2 s");
  EXPECT_EQ(monitor_->next_wakeup(), std::nullopt);  // no checks while it stops
  const pid_t old = entry("web").record.pid;
  supervisor_->on_child_exit(old, SIGTERM);
  EXPECT_EQ(state("web"), ProcessState::Starting);  // restarted whatever autorestart says
  ASSERT_TRUE(entry("web").record.last_cause.has_value());
  EXPECT_EQ(entry("web").record.last_cause->kind, CauseKind::HealthFailed);
  EXPECT_EQ(entry("web").health.status, HealthStatus::Unknown);  // a new run
  EXPECT_EQ(monitor_->next_wakeup(), clock_.steady_now());
}

TEST_F(MonitorTest, ARecoveryIsLoggedAndResetsTheCount) {
  make_monitor(kWeb);
  supervisor_->start();
  monitor_->tick();
  prober_.finish(true, "HTTP 200");
  step();  // 1 s: the next check starts, startsecs not yet over
  prober_.finish(true, "HTTP 200");
  step();  // RUNNING
  ASSERT_EQ(state("web"), ProcessState::Running);
  step();  // the next check
  prober_.finish(false, "HTTP 500");
  step();
  prober_.finish(true, "HTTP 200");
  EXPECT_EQ(entry("web").health.consecutive_failures, 0);
  EXPECT_THAT(log_.lines, Contains("INFO health: web passing again (HTTP 200)"));
  EXPECT_EQ(health_description(entry("web")), "");
}

TEST_F(MonitorTest, ALateResultOfAnEndedRunIsDropped) {
  make_monitor(kWeb);
  supervisor_->start();
  monitor_->tick();
  supervisor_->stop_process("web", "web");
  supervisor_->on_child_exit(entry("web").record.pid == 0 ? 1000 : entry("web").record.pid,
                             SIGTERM);
  EXPECT_EQ(state("web"), ProcessState::Stopped);
  prober_.finish(true, "HTTP 200");
  EXPECT_EQ(entry("web").health.recent.size(), 0U);
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(MonitorTest, CommandChecksGetTheProgramsEnvironment) {
  make_monitor("[program:w]\ncommand=/bin/w\nhealthcheck=cmd:/bin/check --deep\n"
               "environment=MODEL=\"sdxl\"\ndirectory=/srv\n");
  host_.add_dir("/srv");
  supervisor_->start();
  monitor_->tick();
  ASSERT_EQ(prober_.requests.size(), 1U);
  EXPECT_EQ(prober_.requests[0].spec.command, "/bin/check --deep");
  EXPECT_THAT(prober_.requests[0].environment, Contains("MODEL=sdxl"));
}

TEST_F(MonitorTest, DetailJsonListsTheLastChecks) {
  make_monitor(kWeb);
  supervisor_->start();
  monitor_->tick();
  prober_.finish(false, "connection refused");
  const Json j = health_detail_json(entry("web"));
  EXPECT_EQ(j["healthcheck"], "http://127.0.0.1:7860/");
  EXPECT_EQ(j["status"], "failing");
  EXPECT_EQ(j["retries"], 2);
  EXPECT_EQ(j["interval"], 10.0);
  ASSERT_EQ(j["checks"].size(), 1U);
  EXPECT_EQ(j["checks"][0]["message"], "connection refused");
  EXPECT_EQ(j["checks"][0]["passed"], false);
  EXPECT_EQ(j["checks"][0]["duration_ms"], 3);
}

}  // namespace
}  // namespace zagent
