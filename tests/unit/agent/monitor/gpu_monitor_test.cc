// The GPU monitor over a real supervisor and fake ports: when it reads, the watermark and
// memory guards through the one restart engine, the start gate, and the wait for the old
// tree's GPU memory.
#include "agent/monitor/gpu_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <deque>

#include "agent/config/loader.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_config_host.h"
#include "tests/support/fake_log_sink.h"
#include "tests/support/fake_spawner.h"

namespace zagent {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

/// Readings are answered when the test says, as the worker thread would post them.
class FakeProbe final : public GpuProbe {
 public:
  std::string_view backend() const override { return "nvml"; }
  void read(std::function<void(GpuReading)> done) override {
    ++reads;
    pending.push_back(std::move(done));
  }
  /// Answers every pending reading with `r`; false when none was pending.
  bool answer(const GpuReading& r) {
    if (pending.empty()) {
      return false;
    }
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& done : waiting) {
      done(r);
    }
    return true;
  }
  std::deque<std::function<void(GpuReading)>> pending;
  int reads = 0;
};

class FakeLineage final : public ProcessLineage {
 public:
  std::optional<Entry> lookup(pid_t pid) override {
    const auto it = parents.find(pid);
    if (it == parents.end()) {
      return std::nullopt;
    }
    return Entry{it->second, 7};
  }
  bool host_pid_namespace() override { return host; }
  std::map<pid_t, pid_t> parents;
  bool host = true;
};

GpuReading reading(std::uint64_t free, std::vector<GpuProcessUse> processes = {}) {
  GpuReading r;
  r.ok = true;
  GpuDeviceReading d;
  d.index = 0;
  d.uuid = "GPU-11111111";
  d.name = "Fake H200";
  d.total_bytes = 80 * kGiB;
  d.free_bytes = free;
  d.used_bytes = 80 * kGiB - free;
  d.processes_known = true;
  d.processes = std::move(processes);
  r.devices.push_back(d);
  return r;
}

class GpuMonitorTest : public ::testing::Test {
 protected:
  void make(const std::string& text, bool with_probe = true) {
    host_.add_file("/srv/z.conf", "[supervisord]\n" + text);
    auto load = load_config("/srv/z.conf", {}, host_);
    ASSERT_TRUE(load.config.has_value()) << (load.errors.empty() ? "" : load.errors[0].render());
    config_ = *load.config;
    supervisor_ = std::make_unique<Supervisor>(config_, LogPaths{}, EnvironmentList{}, spawner_,
                                               clock_, log_);
    monitor_ = std::make_unique<GpuMonitor>(GpuOptions{5s, 500ms},
                                            with_probe ? &probe_ : nullptr, "gpu=off",
                                            *supervisor_, lineage_, spawner_, clock_, log_,
                                            [this] { ++changes_; });
    supervisor_->set_spawn_gate(monitor_.get());
  }
  // Runs the supervisor and the monitor to `d` from now, as the daemon's timer would; each
  // reading asked for meanwhile is answered with `r` at once.
  void run_for(std::chrono::milliseconds d, const std::optional<GpuReading>& r = std::nullopt) {
    const SteadyTime end = clock_.steady_now() + d;
    for (int guard = 0; guard < 100000; ++guard) {
      if (r) {
        probe_.answer(*r);
      }
      std::optional<SteadyTime> next = supervisor_->next_wakeup();
      if (auto m = monitor_->next_wakeup(); m && (!next || *m < *next)) {
        next = m;
      }
      if (!next || *next > end) {
        break;
      }
      clock_.advance_to(std::max(*next, clock_.steady_now()));
      supervisor_->tick();
      monitor_->tick();
    }
    clock_.advance_to(end);
  }
  pid_t pid(const std::string& name) { return spawner_.pid_of.at(name); }
  const ProcessEntry& entry(const std::string& name) { return *supervisor_->find(name, name); }
  int sigterms_to(pid_t p) {
    int n = 0;
    for (const auto& s : spawner_.signals) {
      n += s.pid == p && s.signo == SIGTERM;
    }
    return n;
  }

  test::FakeConfigHost host_;
  test::FakeSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  FakeProbe probe_;
  FakeLineage lineage_;
  AgentConfig config_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<GpuMonitor> monitor_;
  int changes_ = 0;
};

TEST_F(GpuMonitorTest, NothingIsReadWithoutAGpuKey) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  supervisor_->start();
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_FALSE(monitor_->next_wakeup());
  run_for(60s);
  EXPECT_EQ(probe_.reads, 0);
  // A client asks: one reading, and the answer waits for it.
  bool answered = false;
  monitor_->request(1s, [&] { answered = true; });
  EXPECT_FALSE(answered);
  EXPECT_EQ(probe_.reads, 1);
  ASSERT_TRUE(probe_.answer(reading(40 * kGiB)));
  EXPECT_TRUE(answered);
  EXPECT_EQ(changes_, 2);  // the request (a new deadline), then the reading
  // Fresh enough: answered at once.
  answered = false;
  monitor_->request(1s, [&] { answered = true; });
  EXPECT_TRUE(answered);
  EXPECT_EQ(probe_.reads, 1);
  EXPECT_EQ(monitor_->status_json()["devices"][0]["memory_free_bytes"], 40 * kGiB);
}

TEST_F(GpuMonitorTest, AClientWaitsAtMostTheClientWait) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  supervisor_->start();
  bool answered = false;
  monitor_->request(1s, [&] { answered = true; });
  EXPECT_EQ(monitor_->next_wakeup(), clock_.steady_now() + kClientWait);
  run_for(kClientWait - 1ms);
  EXPECT_FALSE(answered);
  run_for(1ms);
  EXPECT_TRUE(answered);  // the probe never answered: the client gets what there is
  EXPECT_EQ(monitor_->status_json()["ok"], false);
  // The late reading still lands.
  ASSERT_TRUE(probe_.answer(reading(40 * kGiB)));
  EXPECT_EQ(monitor_->status_json()["ok"], true);
}

TEST_F(GpuMonitorTest, WatermarkRestartsOnlyTheProgramWithTheKey) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_min_free=4GB\ngpu_min_free_for=10\n"
       "[program:other]\ncommand=/bin/other\nstartsecs=0\n");
  supervisor_->start();
  const pid_t web = pid("web");
  const pid_t other = pid("other");
  run_for(30s, reading(40 * kGiB));
  EXPECT_EQ(probe_.reads, 7);  // at the start, then every 5 s while web runs
  EXPECT_EQ(sigterms_to(web), 0);
  // Free memory drops under 4 GiB: a restart once it stayed there 10 s.
  run_for(9s, reading(3 * kGiB));
  EXPECT_EQ(sigterms_to(web), 0);
  run_for(6s, reading(3 * kGiB));
  EXPECT_EQ(sigterms_to(web), 1);
  EXPECT_EQ(sigterms_to(other), 0);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("WARN guard gpu_watermark tripped for web: GPU 0 free "
                                             "3.0 GiB < gpu_min_free 4.0 GiB for 10s, restarting")));
  EXPECT_EQ(entry("web").record.state, ProcessState::Stopping);
  // One restart at a time: no second signal while it stops.
  run_for(5s, reading(3 * kGiB));
  EXPECT_EQ(sigterms_to(web), 1);
  supervisor_->on_child_exit(web, 15);
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_NE(pid("web"), web);
  ASSERT_TRUE(entry("web").record.last_cause);
  EXPECT_EQ(entry("web").record.last_cause->kind, CauseKind::GpuWatermark);
}

TEST_F(GpuMonitorTest, GpuMemoryLimitCountsTheProgramsTree) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_memory_limit=20GB\n");
  supervisor_->start();
  const pid_t web = pid("web");
  lineage_.parents[web + 100] = web;  // a worker child of web holds the memory
  run_for(6s, reading(40 * kGiB, {{web + 100, 10 * kGiB}}));
  EXPECT_EQ(sigterms_to(web), 0);
  EXPECT_EQ(monitor_->program_json(entry("web"))["memory_bytes"], 10 * kGiB);
  run_for(5s, reading(40 * kGiB, {{web + 100, 21 * kGiB}}));
  EXPECT_EQ(sigterms_to(web), 1);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("guard gpu_memory_limit tripped for web: GPU memory "
                                             "21.0 GiB > gpu_memory_limit 20.0 GiB, restarting")));
}

TEST_F(GpuMonitorTest, StartGateHoldsUntilMemoryFreesThenSpawns) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_start_min_free=12GB\n");
  supervisor_->start();
  EXPECT_EQ(entry("web").record.state, ProcessState::Starting);
  EXPECT_EQ(entry("web").record.pid, 0);
  EXPECT_EQ(entry("web").record.waiting, "waiting for a GPU reading");
  EXPECT_TRUE(spawner_.spawned.empty());
  ASSERT_TRUE(probe_.answer(reading(static_cast<std::uint64_t>(3.1 * kGiB))));
  EXPECT_EQ(entry("web").record.waiting, "waiting for 12.0 GiB free on GPU 0 (3.1 GiB free)");
  EXPECT_THAT(log_.lines, Contains("INFO waiting: web waiting for a GPU reading"));
  run_for(20s, reading(static_cast<std::uint64_t>(3.1 * kGiB)));
  EXPECT_TRUE(spawner_.spawned.empty());
  run_for(1s, reading(20 * kGiB));
  ASSERT_EQ(spawner_.spawned.size(), 1U);
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_TRUE(entry("web").record.waiting.empty());
}

TEST_F(GpuMonitorTest, StartGateTimesOutIntoBackoff) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_start_min_free=12GB\n"
       "gpu_start_timeout=30\nstartretries=0\n");
  supervisor_->start();
  run_for(29s, reading(2 * kGiB));
  EXPECT_EQ(entry("web").record.state, ProcessState::Starting);
  run_for(2s, reading(2 * kGiB));
  EXPECT_TRUE(spawner_.spawned.empty());
  EXPECT_EQ(entry("web").record.state, ProcessState::Fatal);
  EXPECT_EQ(entry("web").record.spawn_error, "waiting for 12.0 GiB free on GPU 0 (2.0 GiB free)");
}

TEST_F(GpuMonitorTest, AStopCancelsAHeldStart) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_start_min_free=12GB\n");
  supervisor_->start();
  ASSERT_TRUE(probe_.answer(reading(2 * kGiB)));
  ASSERT_TRUE(supervisor_->stop_process("web", "web"));
  EXPECT_EQ(entry("web").record.state, ProcessState::Stopped);
  run_for(60s, reading(40 * kGiB));
  EXPECT_TRUE(spawner_.spawned.empty());
  EXPECT_EQ(entry("web").record.state, ProcessState::Stopped);
}

TEST_F(GpuMonitorTest, RespawnWaitsForTheOldTreesGpuMemoryAndKillsLeftovers) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_devices=0\nstopwaitsecs=10\n");
  supervisor_->start();
  const pid_t web = pid("web");
  const pid_t worker = web + 100;
  lineage_.parents[worker] = web;
  run_for(6s, reading(30 * kGiB, {{worker, 8 * kGiB}}));
  // web dies; its worker lives on and holds the memory.
  spawner_.alive.insert(worker);
  supervisor_->on_child_exit(web, 9);
  EXPECT_EQ(entry("web").record.state, ProcessState::Starting);
  EXPECT_EQ(entry("web").record.pid, 0);
  EXPECT_THAT(spawner_.signals, Contains(test::FakeSpawner::Signal{worker, SIGKILL, false}));
  EXPECT_THAT(log_.lines, Contains(HasSubstr("killing leftover GPU processes of web with SIGKILL: " +
                                             std::to_string(worker))));
  ASSERT_TRUE(probe_.answer(reading(30 * kGiB, {{worker, 8 * kGiB}})));
  EXPECT_EQ(entry("web").record.waiting,
            "waiting for the old process tree to release GPU memory (pids " +
                std::to_string(worker) + ": 8.0 GiB)");
  const std::size_t spawns = spawner_.spawned.size();
  // The driver lets go of it: the spawn follows at the next reading.
  run_for(1s, reading(38 * kGiB, {{4242, 1 * kGiB}}));
  EXPECT_EQ(spawner_.spawned.size(), spawns + 1);
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_THAT(log_.lines,
              Contains(HasSubstr("web: GPU 0 memory still held by other pids: 4242 (1.0 GiB)")));
}

TEST_F(GpuMonitorTest, OldTreeWaitEndsAtStopwaitsecs) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_devices=0\nstopwaitsecs=3\n");
  supervisor_->start();
  const pid_t web = pid("web");
  lineage_.parents[web + 1] = web;
  run_for(6s, reading(30 * kGiB, {{web + 1, 8 * kGiB}}));
  supervisor_->on_child_exit(web, 9);
  const std::size_t spawns = spawner_.spawned.size();
  run_for(2s, reading(30 * kGiB, {{web + 1, 8 * kGiB}}));
  EXPECT_EQ(spawner_.spawned.size(), spawns);
  run_for(2s, reading(30 * kGiB, {{web + 1, 8 * kGiB}}));
  EXPECT_EQ(spawner_.spawned.size(), spawns + 1);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("still hold 8.0 GiB of GPU memory after stopwaitsecs "
                                             "(3 s); starting anyway")));
}

TEST_F(GpuMonitorTest, FailedReadingsAreLoggedOnceAndHoldTheGate) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_start_min_free=1GB\n");
  supervisor_->start();
  GpuReading failed;
  failed.error = "NVML call nvmlDeviceGetMemoryInfo_v2 did not return within 2 s";
  run_for(3s, failed);
  EXPECT_EQ(entry("web").record.waiting, "waiting for a GPU reading (" + failed.error + ")");
  EXPECT_EQ(std::count(log_.lines.begin(), log_.lines.end(),
                       "WARN GPU reading failed (nvml): " + failed.error),
            1);
  run_for(1s, reading(40 * kGiB));
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_THAT(log_.lines, Contains("INFO GPU readings work again (nvml)"));
}

TEST_F(GpuMonitorTest, WithoutAProbeTheKeysWarnAndTheGateIsOpen) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_start_min_free=12GB\n", false);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("WARN web: the GPU keys do nothing while GPU "
                                             "monitoring is off (gpu=off)")));
  supervisor_->start();
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
  EXPECT_FALSE(monitor_->next_wakeup());
  EXPECT_EQ(monitor_->status_json()["backend"], "off");
}

TEST_F(GpuMonitorTest, CrashRecordStateNamesTheProgramsDevices) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\ngpu_min_free=1GB\n");
  supervisor_->start();
  const pid_t web = pid("web");
  run_for(6s, reading(30 * kGiB, {{web, 5 * kGiB}}));
  const auto state = monitor_->gpu_state("web");
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["memory_bytes"], 5 * kGiB);
  EXPECT_EQ((*state)["devices"][0]["uuid"], "GPU-11111111");
  EXPECT_EQ((*state)["devices"][0]["program_memory_bytes"], 5 * kGiB);
  EXPECT_EQ((*state)["devices"][0]["memory_free_bytes"], 30 * kGiB);
  const nlohmann::json status = monitor_->status_json();
  EXPECT_EQ(status["attribution"], "pids");
  EXPECT_EQ(status["devices"][0]["programs"][0]["namespec"], "web");
  EXPECT_EQ(status["devices"][0]["programs"][0]["pids"][0], web);
}

}  // namespace
}  // namespace zagent
