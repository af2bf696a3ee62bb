// The supervisor's side of crash attribution: what it asks the ports and what it records.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "agent/config/loader.h"
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

int exited_with(int code) { return (code & 0xff) << 8; }
int killed_by(int signo) { return signo & 0x7f; }

class FakeOom final : public OomEvidence {
 public:
  std::string cgroup_procs_for(const std::string& program) override {
    return "/cg/" + program + "/cgroup.procs";
  }
  OomBaseline at_spawn(const std::string& program) override {
    spawns.push_back(program);
    return OomBaseline{7, std::nullopt, {}};
  }
  OomFacts at_exit(const std::string& program, const std::vector<pid_t>& pids,
                   const OomBaseline& baseline) override {
    exits.push_back(program);
    asked_pids = pids;
    last_baseline = baseline;
    return facts;
  }
  void forget(const std::string& program) override { forgotten.push_back(program); }

  OomFacts facts;
  std::vector<std::string> spawns, exits, forgotten;
  std::vector<pid_t> asked_pids;
  OomBaseline last_baseline;
};

class FakeSink final : public CrashSink {
 public:
  CrashRecord add(CrashRecord record, std::optional<nlohmann::json> snapshot) override {
    if (snapshot) {
      record.snapshot = "/crashes/" + std::to_string(records.size()) + ".json";
    }
    records.push_back(record);
    snapshots.push_back(std::move(snapshot));
    return record;
  }
  std::vector<CrashRecord> records;
  std::vector<std::optional<nlohmann::json>> snapshots;
};

class FakeRunner final : public SnapshotRunner {
 public:
  void run(const std::string& command, std::chrono::milliseconds timeout,
           std::function<void(std::string)> done) override {
    commands.push_back(command);
    timeouts.push_back(timeout);
    pending.push_back(std::move(done));
  }
  std::vector<std::string> commands;
  std::vector<std::chrono::milliseconds> timeouts;
  std::vector<std::function<void(std::string)>> pending;
};

class CrashSupervisorTest : public ::testing::Test {
 protected:
  void make(const std::string& programs) {
    host_.add_file("/srv/z.conf", "[supervisord]\n" + programs);
    auto load = load_config("/srv/z.conf", {}, host_);
    ASSERT_TRUE(load.config.has_value()) << (load.errors.empty() ? "" : load.errors[0].render());
    config_ = *load.config;
    supervisor_ = std::make_unique<Supervisor>(config_, LogPaths{},
                                               EnvironmentList{{"PATH", "/usr/bin"}}, spawner_,
                                               clock_, log_);
    supervisor_->set_crash_ports({&oom_, &sink_, &runner_});
  }
  const ProcessEntry& entry(const std::string& name) const {
    return *supervisor_->find(name, name);
  }
  void run_until_next_wakeup() {
    auto wake = supervisor_->next_wakeup();
    ASSERT_TRUE(wake.has_value());
    clock_.advance_to(*wake);
    supervisor_->tick();
  }
  /// Starts `name` and lets it reach RUNNING (startsecs=1).
  pid_t start_running(const std::string& name) {
    supervisor_->start();
    clock_.advance(2s);
    supervisor_->tick();
    return spawner_.pid_of.at(name);
  }

  test::FakeConfigHost host_;
  test::FakeSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  FakeOom oom_;
  FakeSink sink_;
  FakeRunner runner_;
  AgentConfig config_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(CrashSupervisorTest, SpawnJoinsTheCgroupAndFeedsTheTail) {
  make("[program:web]\ncommand=/bin/web\n");
  supervisor_->start();
  ASSERT_EQ(spawner_.spawned.size(), 1u);
  EXPECT_EQ(spawner_.spawned[0].cgroup_procs, "/cg/web/cgroup.procs");
  EXPECT_EQ(spawner_.spawned[0].output_tail, entry("web").tail);
  EXPECT_THAT(oom_.spawns, ElementsAre("web"));
}

TEST_F(CrashSupervisorTest, UnexpectedExitLeavesARecordASnapshotAndACrashLine) {
  make("[program:web]\ncommand=/bin/web\n");
  const pid_t pid = start_running("web");
  entry("web").tail->append(OutputTail::Channel::Stderr, "Traceback\nValueError: boom\n");
  clock_.advance(8s);
  ASSERT_TRUE(supervisor_->on_child_exit(pid, exited_with(1)));
  EXPECT_THAT(oom_.exits, IsEmpty());  // an exit code needs no OOM evidence
  ASSERT_EQ(sink_.records.size(), 1u);
  const CrashRecord& r = sink_.records[0];
  EXPECT_EQ(r.program, "web");
  EXPECT_EQ(r.cause.kind, CauseKind::Exited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.shell_status, 1);
  EXPECT_EQ(r.pid, pid);
  EXPECT_DOUBLE_EQ(r.uptime_seconds, 10.0);
  EXPECT_EQ(r.ended - r.started, 10);
  EXPECT_THAT(r.last_stderr, ElementsAre("Traceback", "ValueError: boom"));
  ASSERT_TRUE(sink_.snapshots[0].has_value());
  EXPECT_EQ((*sink_.snapshots[0])["output"]["stderr"][1], "ValueError: boom");
  // The crash line follows supervisord's exited: line, before the restart's spawned: line.
  const auto& lines = log_.lines;
  const auto exited = std::find(lines.begin(), lines.end(),
                                "WARN exited: web (exit status 1; not expected)");
  ASSERT_NE(exited, lines.end());
  ASSERT_NE(exited + 1, lines.end());
  EXPECT_EQ(*(exited + 1), "WARN crash: web exited with status 1 (certain: wait_status \"exit "
                           "status 1\"); snapshot /crashes/0.json");
  EXPECT_THAT(*(exited + 2), HasSubstr("spawned: 'web'"));
  EXPECT_EQ(entry("web").record.last_cause->kind, CauseKind::Exited);
}

TEST_F(CrashSupervisorTest, ExpectedExitIsRecordedQuietly) {
  make("[program:web]\ncommand=/bin/web\nautorestart=true\n");
  const pid_t pid = start_running("web");
  supervisor_->on_child_exit(pid, exited_with(0));
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_TRUE(sink_.records[0].cause.expected);
  EXPECT_FALSE(sink_.snapshots[0].has_value());
  EXPECT_THAT(log_.lines, ::testing::Not(Contains(HasSubstr("crash:"))));
}

TEST_F(CrashSupervisorTest, SigkillAsksForEvidence) {
  make("[program:web]\ncommand=/bin/web\n");
  const pid_t pid = start_running("web");
  oom_.facts.kernel_kills.push_back({pid, "python3", "Killed process 1000 (python3)"});
  supervisor_->on_child_exit(pid, killed_by(SIGKILL));
  EXPECT_THAT(oom_.exits, ElementsAre("web"));
  EXPECT_THAT(oom_.asked_pids, ElementsAre(pid));
  EXPECT_EQ(oom_.last_baseline.vmstat_oom_kills, 7);
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_EQ(sink_.records[0].cause.kind, CauseKind::OomKilled);
  EXPECT_EQ(sink_.records[0].signal, "SIGKILL");
  EXPECT_EQ(sink_.records[0].shell_status, 137);
  EXPECT_THAT(log_.lines, Contains("WARN crash: web was killed by the kernel OOM killer (certain: "
                                   "kmsg \"Killed process 1000 (python3)\"); snapshot "
                                   "/crashes/0.json"));
}

TEST_F(CrashSupervisorTest, OperatorStopIsNoCrash) {
  make("[program:web]\ncommand=/bin/web\n");
  const pid_t pid = start_running("web");
  ASSERT_TRUE(supervisor_->stop_process("web", "web"));
  supervisor_->on_child_exit(pid, killed_by(SIGTERM));
  EXPECT_THAT(sink_.records, IsEmpty());
  EXPECT_EQ(entry("web").record.last_cause->kind, CauseKind::Stopped);
}

TEST_F(CrashSupervisorTest, StopTimeoutRunsSnapshotCommandThenSigkills) {
  make("[program:web]\ncommand=/bin/web\nstopwaitsecs=3\nsnapshot_timeout=4\n"
       "snapshot_command=py-spy dump --pid %(pid)s --name %(program_name)s\n");
  const pid_t pid = start_running("web");
  ASSERT_TRUE(supervisor_->stop_process("web", "web"));
  run_until_next_wakeup();  // the stop report
  while (runner_.commands.empty()) {
    run_until_next_wakeup();
  }
  EXPECT_THAT(runner_.commands,
              ElementsAre("py-spy dump --pid " + std::to_string(pid) + " --name web"));
  EXPECT_EQ(runner_.timeouts[0], 4s);
  EXPECT_THAT(spawner_.signals, ::testing::Not(Contains(test::FakeSpawner::Signal{pid, SIGKILL,
                                                                                 false})));
  runner_.pending[0]("Thread 0x1 (idle): MainThread\n");
  EXPECT_THAT(spawner_.signals, Contains(test::FakeSpawner::Signal{pid, SIGKILL, false}));
  supervisor_->on_child_exit(pid, killed_by(SIGKILL));
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_EQ(sink_.records[0].cause.kind, CauseKind::StopTimeout);
  ASSERT_TRUE(sink_.snapshots[0].has_value());
  EXPECT_EQ((*sink_.snapshots[0])["snapshot_command"]["output"],
            "Thread 0x1 (idle): MainThread\n");
  EXPECT_EQ(state_name(entry("web").record.state), "STOPPED");
}

TEST_F(CrashSupervisorTest, SpawnFailureIsRecordedWithoutSnapshot) {
  make("[program:web]\ncommand=/bin/web\nstartretries=0\n");
  spawner_.fail_next["web"] = "can't find command '/bin/web'";
  supervisor_->start();
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_EQ(sink_.records[0].cause.kind, CauseKind::SpawnFailed);
  EXPECT_FALSE(sink_.records[0].pid.has_value());
  EXPECT_FALSE(sink_.records[0].shell_status.has_value());
  EXPECT_FALSE(sink_.snapshots[0].has_value());
  EXPECT_THAT(log_.lines, Contains("WARN crash: web could not be spawned (certain: agent "
                                   "\"can't find command '/bin/web'\")"));
}

TEST_F(CrashSupervisorTest, PythonFaulthandlerSetsTheVariable) {
  make("[program:web]\ncommand=/bin/web\npython_faulthandler=true\n"
       "[program:plain]\ncommand=/bin/plain\n");
  supervisor_->start();
  ASSERT_EQ(spawner_.spawned.size(), 2u);
  for (const auto& spec : spawner_.spawned) {
    const bool has = std::find(spec.environment.begin(), spec.environment.end(),
                               "PYTHONFAULTHANDLER=1") != spec.environment.end();
    EXPECT_EQ(has, spec.name == "web") << spec.name;
  }
}

TEST_F(CrashSupervisorTest, RemovedGroupIsForgotten) {
  make("[program:web]\ncommand=/bin/web\nautostart=false\n");
  ASSERT_TRUE(supervisor_->remove_group("web"));
  EXPECT_THAT(oom_.forgotten, ElementsAre("web"));
}

}  // namespace
}  // namespace zagent
