#include "agent/process/supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

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
using ::testing::Not;
using namespace std::chrono_literals;

// Raw wait statuses as waitpid reports them.
int exited_with(int code) { return (code & 0xff) << 8; }
int killed_by(int signo) { return signo & 0x7f; }

class SupervisorTest : public ::testing::Test {
 protected:
  /// Loads `[supervisord]` + `programs` and builds the supervisor.
  void make(const std::string& programs, EnvironmentList agent_env = {{"PATH", "/usr/bin"}}) {
    host_.add_file("/srv/z.conf", "[supervisord]\n" + programs);
    auto load = load_config("/srv/z.conf", {}, host_);
    ASSERT_TRUE(load.config.has_value()) << (load.errors.empty() ? "" : load.errors[0].render());
    config_ = *load.config;
    supervisor_ = std::make_unique<Supervisor>(config_, LogPaths{}, std::move(agent_env),
                                               spawner_, clock_, log_);
  }

  ProcessState state(const std::string& name) const {
    const ProcessEntry* e = supervisor_->find(name, name);
    return e == nullptr ? ProcessState::Unknown : e->record.state;
  }
  pid_t pid(const std::string& name) const { return spawner_.pid_of.at(name); }

  /// Advances the clock to the next wake-up and ticks; fails if nothing is timed.
  void run_until_next_wakeup() {
    auto wake = supervisor_->next_wakeup();
    ASSERT_TRUE(wake.has_value());
    clock_.advance_to(*wake);
    supervisor_->tick();
  }

  test::FakeConfigHost host_;
  test::FakeSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  AgentConfig config_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, StartSpawnsAutostartProcessesInPriorityOrder) {
  make("[program:late]\ncommand=/bin/late\npriority=900\n"
       "[program:early]\ncommand=/bin/early\npriority=10\n"
       "[program:manual]\ncommand=/bin/manual\nautostart=false\n");
  supervisor_->start();
  ASSERT_EQ(spawner_.spawned.size(), 2u);
  EXPECT_EQ(spawner_.spawned[0].name, "early");
  EXPECT_EQ(spawner_.spawned[1].name, "late");
  EXPECT_EQ(state("early"), ProcessState::Starting);
  EXPECT_EQ(state("manual"), ProcessState::Stopped);
  EXPECT_THAT(log_.lines, ElementsAre("INFO spawned: 'early' with pid 1000",
                                      "INFO spawned: 'late' with pid 1001"));
}

TEST_F(SupervisorTest, SpawnSpecCarriesConfigAndLayeredEnvironment) {
  host_.add_dir("/var/log/app");
  make("[program:web]\ncommand=/bin/web --port 7860\ndirectory=/srv\numask=002\n"
       "stdout_logfile=/var/log/app/web.log\nredirect_stderr=true\n"
       "environment=MODEL=\"sdxl\",SHARED=\"program\"\n"
       "[unix_http_server]\nfile=/tmp/z.sock\n",
       {{"PATH", "/usr/bin"}, {"SHARED", "agent"}, {"SUPERVISOR_ENABLED", "0"}});
  supervisor_->start();
  ASSERT_EQ(spawner_.spawned.size(), 1u);
  const SpawnSpec& spec = spawner_.spawned[0];
  EXPECT_EQ(spec.command, "/bin/web --port 7860");
  EXPECT_EQ(spec.directory, "/srv");
  EXPECT_EQ(spec.umask, 002u);
  EXPECT_EQ(spec.stdout_log.path, "/var/log/app/web.log");
  EXPECT_EQ(spec.stdout_log.maxbytes, kDefaultChildLogMaxBytes);
  EXPECT_EQ(spec.stdout_log.backups, 10);
  EXPECT_EQ(spec.stderr_log.path, "");
  EXPECT_TRUE(spec.redirect_stderr);
  EXPECT_THAT(spec.environment,
              ElementsAre("PATH=/usr/bin", "SHARED=program", "SUPERVISOR_ENABLED=1",
                          "SUPERVISOR_SERVER_URL=unix:///tmp/z.sock",
                          "SUPERVISOR_PROCESS_NAME=web", "SUPERVISOR_GROUP_NAME=web",
                          "MODEL=sdxl"));
}

TEST_F(SupervisorTest, SupervisordEnvironmentIsUnderTheProgramsOwn) {
  host_.add_file("/srv/z.conf",
                 "[supervisord]\nenvironment=A=\"global\",B=\"global\"\n"
                 "[program:p]\ncommand=x\nenvironment=B=\"own\"\n");
  auto load = load_config("/srv/z.conf", {}, host_);
  ASSERT_TRUE(load.config);
  const auto env = child_environment({}, load.config->supervisord.environment,
                                     load.config->groups[0].processes[0], "");
  EXPECT_THAT(env, ElementsAre("SUPERVISOR_ENABLED=1", "SUPERVISOR_PROCESS_NAME=p",
                               "SUPERVISOR_GROUP_NAME=p", "A=global", "B=own"));
}

TEST_F(SupervisorTest, RunningAfterStartsecsThenNoWakeupWhenIdle) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=2\n");
  supervisor_->start();
  clock_.advance(1s);
  supervisor_->tick();
  EXPECT_EQ(state("web"), ProcessState::Starting);
  run_until_next_wakeup();
  EXPECT_EQ(state("web"), ProcessState::Running);
  EXPECT_THAT(log_.lines,
              Contains("INFO success: web entered RUNNING state, process has stayed up for > "
                       "than 2 seconds (startsecs)"));
  // supervisord wakes every second; zagent has nothing timed and must not wake at all.
  EXPECT_EQ(supervisor_->next_wakeup(), std::nullopt);
}

TEST_F(SupervisorTest, UnexpectedExitFromRunningRestartsAtOnce) {
  make("[program:web]\ncommand=/bin/web\n");
  supervisor_->start();
  run_until_next_wakeup();
  ASSERT_EQ(state("web"), ProcessState::Running);
  const pid_t first = pid("web");
  clock_.advance(10s);
  ASSERT_TRUE(supervisor_->on_child_exit(first, killed_by(SIGKILL)));
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_NE(pid("web"), first);
  EXPECT_THAT(log_.lines, Contains("WARN exited: web (terminated by SIGKILL; not expected)"));
  EXPECT_EQ(log_.lines.back(), "INFO spawned: 'web' with pid " + std::to_string(pid("web")));
}

TEST_F(SupervisorTest, ExpectedExitStaysExited) {
  make("[program:job]\ncommand=/bin/job\n");
  supervisor_->start();
  run_until_next_wakeup();
  ASSERT_TRUE(supervisor_->on_child_exit(pid("job"), exited_with(0)));
  EXPECT_EQ(state("job"), ProcessState::Exited);
  EXPECT_EQ(spawner_.spawned.size(), 1u);
  EXPECT_EQ(supervisor_->next_wakeup(), std::nullopt);
}

TEST_F(SupervisorTest, QuickExitsBackOffThenGiveUp) {
  make("[program:crash]\ncommand=/bin/crash\nstartretries=3\n");
  supervisor_->start();
  std::vector<SteadyTime> spawn_times = {clock_.steady_now()};
  for (int attempt = 0; attempt < 4; ++attempt) {
    clock_.advance(200ms);
    ASSERT_TRUE(supervisor_->on_child_exit(pid("crash"), exited_with(1)));
    if (attempt < 3) {
      ASSERT_EQ(state("crash"), ProcessState::Backoff);
      run_until_next_wakeup();
      ASSERT_EQ(state("crash"), ProcessState::Starting);
      spawn_times.push_back(clock_.steady_now());
    }
  }
  EXPECT_EQ(state("crash"), ProcessState::Fatal);
  EXPECT_EQ(spawner_.spawned.size(), 4u);  // 1 + startretries
  // The N-th retry waits N seconds after the N-th failure.
  EXPECT_GT(spawn_times[1] - spawn_times[0], 1s);
  EXPECT_GT(spawn_times[2] - spawn_times[1], 2s);
  EXPECT_GT(spawn_times[3] - spawn_times[2], 3s);
  EXPECT_EQ(log_.lines.back(),
            "INFO gave up: crash entered FATAL state, too many start retries too quickly");
  EXPECT_EQ(supervisor_->next_wakeup(), std::nullopt);
}

TEST_F(SupervisorTest, SpawnErrorIsAStateNotACrash) {
  make("[program:missing]\ncommand=/nonexistent/cmd\nstartretries=0\n");
  spawner_.fail_next["missing"] = "can't find command '/nonexistent/cmd'";
  supervisor_->start();
  EXPECT_EQ(state("missing"), ProcessState::Fatal);
  EXPECT_THAT(log_.lines,
              ElementsAre("INFO spawnerr: can't find command '/nonexistent/cmd'",
                          "INFO gave up: missing entered FATAL state, too many start retries too "
                          "quickly"));
}

TEST_F(SupervisorTest, UnknownPidIsNotOurs) {
  make("[program:web]\ncommand=/bin/web\n");
  supervisor_->start();
  EXPECT_FALSE(supervisor_->on_child_exit(4242, exited_with(0)));
  EXPECT_EQ(state("web"), ProcessState::Starting);
}

TEST_F(SupervisorTest, StopSendsStopsignalThenSigkillAfterStopwaitsecs) {
  make("[program:stubborn]\ncommand=/bin/stubborn\nstopsignal=INT\nstopwaitsecs=5\n"
       "stopasgroup=true\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("stubborn");
  ASSERT_TRUE(supervisor_->stop_process("stubborn", "stubborn"));
  EXPECT_EQ(state("stubborn"), ProcessState::Stopping);
  ASSERT_EQ(spawner_.signals.size(), 1u);
  EXPECT_EQ(spawner_.signals[0], (test::FakeSpawner::Signal{p, SIGINT, true}));
  clock_.advance(5s);
  supervisor_->tick();
  ASSERT_EQ(spawner_.signals.size(), 2u);
  EXPECT_EQ(spawner_.signals[1], (test::FakeSpawner::Signal{p, SIGKILL, true}));
  EXPECT_THAT(log_.lines, Contains("WARN killing 'stubborn' (" + std::to_string(p) +
                                   ") with SIGKILL"));
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGKILL)));
  EXPECT_EQ(state("stubborn"), ProcessState::Stopped);
  EXPECT_EQ(log_.lines.back(), "WARN stopped: stubborn (terminated by SIGKILL)");
  EXPECT_EQ(spawner_.spawned.size(), 1u);  // a manual stop is never undone
}

TEST_F(SupervisorTest, StopAsGroupKillsDescendantsThatLeftTheGroup) {
  make("[program:gen]\ncommand=/bin/gen\nstopasgroup=true\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("gen");
  spawner_.descendants_of[p] = {{5001, 77}, {5002, 78}};
  spawner_.alive = {5002};  // 5001 exited with its parent
  ASSERT_TRUE(supervisor_->stop_process("gen", "gen"));
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGTERM)));
  EXPECT_EQ(spawner_.signals.back(), (test::FakeSpawner::Signal{5002, SIGKILL, false}));
  EXPECT_EQ(log_.lines.back(), "WARN killing leftover descendants of gen with SIGKILL: 5002");
  EXPECT_TRUE(supervisor_->find("gen", "gen")->stop_descendants.empty());
}

TEST_F(SupervisorTest, KillAsGroupKillsDescendantsThatLeftTheGroup) {
  make("[program:gen]\ncommand=/bin/gen\nkillasgroup=true\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("gen");
  spawner_.descendants_of[p] = {{5002, 78}};
  spawner_.alive = {5002};
  ASSERT_TRUE(supervisor_->stop_process("gen", "gen"));
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGTERM)));
  EXPECT_EQ(spawner_.signals.back(), (test::FakeSpawner::Signal{5002, SIGKILL, false}));
}

TEST_F(SupervisorTest, KillAsTreeKillsDescendantsWithoutSignallingTheGroup) {
  make("[program:gen]\ncommand=/bin/gen\nkillastree=true\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("gen");
  spawner_.descendants_of[p] = {{5002, 78}};
  spawner_.alive = {5002};
  ASSERT_TRUE(supervisor_->stop_process("gen", "gen"));
  ASSERT_EQ(spawner_.signals.size(), 1u);
  EXPECT_EQ(spawner_.signals[0], (test::FakeSpawner::Signal{p, SIGTERM, false}));
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGTERM)));
  EXPECT_EQ(spawner_.signals.back(), (test::FakeSpawner::Signal{5002, SIGKILL, false}));
}

// Issue 12, item 4: a config without stopasgroup/killasgroup keeps supervisord's meaning. Only
// the program's pid is signalled; its other descendants (sshd's sessions) outlive the stop.
TEST_F(SupervisorTest, StopWithoutGroupKeysLeavesDescendantsAsSupervisord) {
  make("[program:gen]\ncommand=/bin/gen\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("gen");
  spawner_.descendants_of[p] = {{5001, 77}, {5002, 78}};
  spawner_.alive = {5001, 5002};
  ASSERT_TRUE(supervisor_->stop_process("gen", "gen"));
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGTERM)));
  ASSERT_EQ(spawner_.signals.size(), 1u);
  EXPECT_EQ(spawner_.signals[0], (test::FakeSpawner::Signal{p, SIGTERM, false}));
  EXPECT_THAT(log_.lines, Not(Contains(HasSubstr("leftover"))));
}

TEST_F(SupervisorTest, CrashDoesNotTouchDescendants) {
  make("[program:gen]\ncommand=/bin/gen\n");
  supervisor_->start();
  run_until_next_wakeup();
  const pid_t p = pid("gen");
  spawner_.descendants_of[p] = {{5001, 77}};
  spawner_.alive = {5001};
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGSEGV)));
  EXPECT_TRUE(spawner_.signals.empty());
}

TEST_F(SupervisorTest, StopOfStoppedProcessIsNotRunning) {
  make("[program:manual]\ncommand=/bin/m\nautostart=false\n");
  supervisor_->start();
  auto r = supervisor_->stop_process("manual", "manual");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fault, Fault::NotRunning);
  EXPECT_EQ(supervisor_->start_process("nosuch", "nosuch").error().fault, Fault::BadName);
}

TEST_F(SupervisorTest, ShutdownStopsGroupsInDescendingPriorityOneAtATime) {
  make("[program:db]\ncommand=/bin/db\npriority=1\n"
       "[program:api]\ncommand=/bin/api\npriority=500\n"
       "[program:web]\ncommand=/bin/web\npriority=999\n"
       "[program:retry]\ncommand=/bin/retry\npriority=700\n");
  supervisor_->start();
  clock_.advance(100ms);
  ASSERT_TRUE(supervisor_->on_child_exit(pid("retry"), exited_with(1)));  // -> BACKOFF
  while (state("retry") != ProcessState::Starting) {  // others reach RUNNING; retry respawns
    run_until_next_wakeup();
  }
  clock_.advance(100ms);
  ASSERT_TRUE(supervisor_->on_child_exit(pid("retry"), exited_with(1)));
  ASSERT_EQ(state("retry"), ProcessState::Backoff);
  log_.lines.clear();
  spawner_.signals.clear();

  supervisor_->begin_shutdown();
  EXPECT_EQ(state("retry"), ProcessState::Fatal);  // BACKOFF -> FATAL, silently
  EXPECT_EQ(log_.lines.front(), "INFO waiting for db, api, web to die");
  ASSERT_EQ(spawner_.signals.size(), 1u);
  EXPECT_EQ(spawner_.signals[0].pid, pid("web"));  // priority 999 first

  ASSERT_TRUE(supervisor_->on_child_exit(pid("web"), killed_by(SIGTERM)));
  ASSERT_EQ(spawner_.signals.size(), 2u);
  EXPECT_EQ(spawner_.signals[1].pid, pid("api"));
  ASSERT_TRUE(supervisor_->on_child_exit(pid("api"), killed_by(SIGTERM)));
  ASSERT_EQ(spawner_.signals.size(), 3u);
  EXPECT_EQ(spawner_.signals[2].pid, pid("db"));
  EXPECT_FALSE(supervisor_->shutdown_complete());

  // The die report repeats every 3 s while something is left.
  clock_.advance(3s);
  supervisor_->tick();
  EXPECT_EQ(log_.lines.back(), "INFO waiting for db to die");

  ASSERT_TRUE(supervisor_->on_child_exit(pid("db"), exited_with(0)));
  EXPECT_TRUE(supervisor_->shutdown_complete());
  EXPECT_EQ(spawner_.spawned.size(), 5u);  // 4 starts + 1 retry; nothing respawned after
  EXPECT_EQ(supervisor_->next_wakeup(), std::nullopt);
}

TEST_F(SupervisorTest, ShutdownWithNothingRunningCompletesAtOnce) {
  make("[program:manual]\ncommand=/bin/m\nautostart=false\n");
  supervisor_->start();
  supervisor_->begin_shutdown();
  EXPECT_TRUE(supervisor_->shutdown_complete());
  EXPECT_THAT(log_.lines, IsEmpty());
}

TEST_F(SupervisorTest, GroupChangesSayWhyTheyWereRefused) {
  make("[program:web]\ncommand=/bin/web\n"
       "[program:db]\ncommand=/bin/db\nautostart=false\n");
  supervisor_->start();  // web autostarts
  const GroupConfig web = *supervisor_->group_config("web");
  const auto added = supervisor_->add_group(web, LogPaths{});
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error(), GroupRefusal::AlreadyExists);

  GroupConfig other = web;
  other.name = "nosuch";
  const auto missing = supervisor_->update_group(other, LogPaths{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), GroupRefusal::NotFound);

  GroupConfig changed = web;
  changed.processes[0].command = "/bin/web2";
  const auto running = supervisor_->update_group(changed, LogPaths{});
  ASSERT_FALSE(running.has_value());
  EXPECT_EQ(running.error(), GroupRefusal::NotStopped);
  EXPECT_EQ(supervisor_->group_config("web"), web);  // nothing changed

  // An unchanged running process does not block an update; a stopped one may change.
  EXPECT_TRUE(supervisor_->update_group(web, LogPaths{}).has_value());
  GroupConfig db = *supervisor_->group_config("db");
  db.processes[0].command = "/bin/db2";
  EXPECT_TRUE(supervisor_->update_group(db, LogPaths{}).has_value());
  EXPECT_EQ(supervisor_->group_config("db"), db);

  const auto busy = supervisor_->remove_group("web");
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error(), GroupRefusal::NotStopped);
  const auto gone = supervisor_->remove_group("nosuch");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error(), GroupRefusal::NotFound);
  ASSERT_TRUE(supervisor_->remove_group("db").has_value());
  EXPECT_TRUE(supervisor_->add_group(db, LogPaths{}).has_value());
  EXPECT_NE(supervisor_->find_group("db"), nullptr);
}

TEST_F(SupervisorTest, ServerUrl) {
  AgentConfig c;
  EXPECT_EQ(agent_server_url(c), "");
  c.inet_http_server = InetHttpServerConfig{{"", 9001}, "", ""};
  EXPECT_EQ(agent_server_url(c), "http://localhost:9001");
  c.unix_http_server = UnixHttpServerConfig{};
  c.unix_http_server->file = "/run/z.sock";
  EXPECT_EQ(agent_server_url(c), "unix:///run/z.sock");
}

}  // namespace
}  // namespace zagent
