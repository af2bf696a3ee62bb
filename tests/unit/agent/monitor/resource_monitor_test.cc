// The resource monitor over a real supervisor and fake ports: when it samples, what it keeps,
// and how a guard's trip becomes a restart through the one restart engine.
#include "agent/monitor/resource_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "agent/config/loader.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_config_host.h"
#include "tests/support/fake_log_sink.h"
#include "tests/support/fake_spawner.h"

namespace zagent {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

constexpr std::uint64_t kMB = 1024 * 1024;

class FakeSampler final : public TreeSampler {
 public:
  std::vector<std::optional<TreeFigures>> sample(const std::vector<pid_t>& roots) override {
    ++passes;
    asked = roots;
    std::vector<std::optional<TreeFigures>> out;
    for (pid_t pid : roots) {
      auto it = trees.find(pid);
      out.push_back(it == trees.end() ? std::nullopt : std::optional<TreeFigures>(it->second));
    }
    return out;
  }
  std::map<pid_t, TreeFigures> trees;
  std::vector<pid_t> asked;
  int passes = 0;
};

TreeFigures rss(std::uint64_t bytes, double cpu_seconds = 0) {
  TreeFigures f;
  f.processes = 1;
  f.rss_bytes = bytes;
  f.cpu_seconds = cpu_seconds;
  f.threads = 1;
  return f;
}

int killed_by(int signo) { return signo & 0x7f; }

class ResourceMonitorTest : public ::testing::Test {
 protected:
  void make(const std::string& text, std::chrono::milliseconds interval = 10s) {
    host_.add_file("/srv/z.conf", "[supervisord]\n" + text);
    auto load = load_config("/srv/z.conf", {}, host_);
    ASSERT_TRUE(load.config.has_value()) << (load.errors.empty() ? "" : load.errors[0].render());
    config_ = *load.config;
    supervisor_ = std::make_unique<Supervisor>(config_, LogPaths{}, EnvironmentList{}, spawner_,
                                               clock_, log_);
    monitor_ = std::make_unique<ResourceMonitor>(MonitorOptions{interval, 30min}, *supervisor_,
                                                 sampler_, clock_, log_);
  }
  // Runs the supervisor and the monitor to `t` from now, as the daemon's timer would.
  void run_for(std::chrono::milliseconds d) {
    const SteadyTime end = clock_.steady_now() + d;
    for (;;) {
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
  std::vector<test::FakeSpawner::Signal> signals_to(pid_t p) {
    std::vector<test::FakeSpawner::Signal> out;
    for (const auto& s : spawner_.signals) {
      if (s.pid == p) {
        out.push_back(s);
      }
    }
    return out;
  }

  test::FakeConfigHost host_;
  test::FakeSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  FakeSampler sampler_;
  AgentConfig config_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<ResourceMonitor> monitor_;
};

TEST_F(ResourceMonitorTest, SamplesEveryIntervalAndOnlyLiveChildren) {
  make("[program:web]\ncommand=/bin/web\n[program:off]\ncommand=/bin/off\nautostart=false\n");
  supervisor_->start();
  sampler_.trees[pid("web")] = rss(10 * kMB);
  EXPECT_EQ(monitor_->next_wakeup(), clock_.steady_now() + 10s);
  run_for(9s);
  EXPECT_EQ(sampler_.passes, 0);
  run_for(2s);
  EXPECT_EQ(sampler_.passes, 1);
  EXPECT_EQ(sampler_.asked, std::vector<pid_t>{pid("web")});
  run_for(20s);
  EXPECT_EQ(sampler_.passes, 3);
  const nlohmann::json r = monitor_->resources_json(entry("web"));
  EXPECT_EQ(r["rss_bytes"], 10 * kMB);
  EXPECT_EQ(r["memory_limit_bytes"], nullptr);
  EXPECT_DOUBLE_EQ(r["memory_trend_bytes_per_hour"].get<double>(), 0.0);
  EXPECT_TRUE(monitor_->resources_json(entry("off")).is_null());
}

TEST_F(ResourceMonitorTest, NoChildNoWakeUpAndTheFirstSampleAnIntervalAfterOne) {
  make("[program:web]\ncommand=/bin/web\nautostart=false\n");
  supervisor_->start();
  EXPECT_FALSE(monitor_->next_wakeup().has_value());
  run_for(1h);
  ASSERT_TRUE(supervisor_->start_process("web", "web").has_value());
  EXPECT_EQ(monitor_->next_wakeup(), clock_.steady_now() + 10s);
  run_for(10s);
  EXPECT_EQ(sampler_.passes, 1);
}

TEST_F(ResourceMonitorTest, CpuPercentFromTwoSamplesOrSinceTheSpawn) {
  make("[program:web]\ncommand=/bin/web\n");
  supervisor_->start();
  sampler_.trees[pid("web")] = rss(kMB, 5.0);
  run_for(10s);
  // One sample: 5 CPU seconds in the 10 s since the spawn.
  EXPECT_DOUBLE_EQ(monitor_->resources_json(entry("web"))["cpu_percent"].get<double>(), 50.0);
  sampler_.trees[pid("web")] = rss(kMB, 15.0);
  run_for(10s);
  EXPECT_DOUBLE_EQ(monitor_->resources_json(entry("web"))["cpu_percent"].get<double>(), 100.0);
}

TEST_F(ResourceMonitorTest, IntervalZeroNeverWakesAndSamplesOnRequest) {
  make("[program:web]\ncommand=/bin/web\n", 0ms);
  supervisor_->start();
  EXPECT_FALSE(monitor_->next_wakeup().has_value());
  EXPECT_TRUE(monitor_->samples_on_request());
  sampler_.trees[pid("web")] = rss(kMB);
  run_for(1h);
  EXPECT_EQ(sampler_.passes, 0);
  monitor_->sample_now();
  monitor_->sample_now();  // fresh enough: not again
  EXPECT_EQ(sampler_.passes, 1);
  EXPECT_EQ(monitor_->resources_json(entry("web"))["rss_bytes"], kMB);
}

TEST_F(ResourceMonitorTest, MemoryLimitRestartsThroughTheStopAndStartPath) {
  make("[program:web]\ncommand=/bin/web\nmemory_limit=100MB\nautorestart=false\n");
  supervisor_->start();
  const pid_t first = pid("web");
  sampler_.trees[first] = rss(150 * kMB);
  run_for(10s);
  EXPECT_THAT(log_.lines,
              Contains("WARN guard memory_limit tripped for web: RSS 150.0MB > memory_limit "
                       "100.0MB for 0s, restarting"));
  ASSERT_EQ(signals_to(first).size(), 1u);
  EXPECT_EQ(signals_to(first)[0].signo, SIGTERM);
  EXPECT_EQ(entry("web").record.state, ProcessState::Stopping);
  // The exit restarts it although autorestart=false; the cause is the guard's.
  ASSERT_TRUE(supervisor_->on_child_exit(first, killed_by(SIGTERM)));
  EXPECT_EQ(entry("web").record.state, ProcessState::Starting);
  EXPECT_NE(pid("web"), first);
  ASSERT_TRUE(entry("web").record.last_cause.has_value());
  EXPECT_EQ(entry("web").record.last_cause->kind, CauseKind::MemoryLimit);
  EXPECT_EQ(entry("web").record.last_cause->evidence[0].source, "sampler");
  EXPECT_EQ(entry("web").spawns, 2);
}

TEST_F(ResourceMonitorTest, NoGuardNoSignalWhateverTheFigures) {
  make("[program:web]\ncommand=/bin/web\n");
  supervisor_->start();
  sampler_.trees[pid("web")] = rss(1'000'000 * kMB, 1e6);
  run_for(10min);
  EXPECT_THAT(spawner_.signals, IsEmpty());
  EXPECT_EQ(entry("web").record.state, ProcessState::Running);
}

TEST_F(ResourceMonitorTest, AGuardWaitsForRunning) {
  make("[program:web]\ncommand=/bin/web\nmemory_limit=1MB\nstartsecs=30\n", 1s);
  supervisor_->start();
  sampler_.trees[pid("web")] = rss(50 * kMB);
  run_for(29s);
  EXPECT_THAT(spawner_.signals, IsEmpty());  // STARTING: sampled, not acted on
  EXPECT_GT(sampler_.passes, 20);
  run_for(3s);
  EXPECT_EQ(spawner_.signals.size(), 1u);
}

TEST_F(ResourceMonitorTest, CpuLimitCountsFromTheFirstSampleOver) {
  make("[program:spin]\ncommand=/bin/spin\ncpu_limit=90\ncpu_limit_for=30\n");
  supervisor_->start();
  const pid_t p = pid("spin");
  double cpu = 0;
  sampler_.trees[p] = rss(kMB, cpu);
  run_for(10s);  // first sample: 0% since the spawn
  for (int i = 0; i < 3; ++i) {
    cpu += 10;  // a whole core
    sampler_.trees[p] = rss(kMB, cpu);
    run_for(10s);
    EXPECT_THAT(spawner_.signals, IsEmpty()) << i;
  }
  cpu += 10;
  sampler_.trees[p] = rss(kMB, cpu);
  run_for(10s);  // over since 20 s, now 50 s: 30 s over
  ASSERT_EQ(spawner_.signals.size(), 1u);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("guard cpu_limit tripped for spin: CPU 100% > "
                                             "cpu_limit 90% for 30s, restarting")));
}

TEST_F(ResourceMonitorTest, GrowthWarnDoesNotTouchTheProgram) {
  make("[program:leak]\ncommand=/bin/leak\nmemory_growth_limit=100MB\nmemory_trend_window=60\n",
       1s);
  supervisor_->start();
  const pid_t p = pid("leak");
  for (int s = 0; s < 40; ++s) {
    sampler_.trees[p] = rss(kMB * static_cast<std::uint64_t>(10 + s));  // 3.5 GB an hour
    run_for(1s);
  }
  EXPECT_THAT(spawner_.signals, IsEmpty());
  int warnings = 0;
  for (const auto& line : log_.lines) {
    warnings += line.find("guard memory_growth tripped for leak") != std::string::npos;
  }
  EXPECT_EQ(warnings, 1);
  const auto r = monitor_->resources_json(entry("leak"));
  EXPECT_NEAR(r["memory_trend_bytes_per_hour"].get<double>(), 3600.0 * kMB, 1e3);
}

TEST_F(ResourceMonitorTest, GrowthRestartWithTheRestartAction) {
  make(
      "[program:leak]\ncommand=/bin/leak\nmemory_growth_limit=100MB\n"
      "memory_growth_action=restart\nmemory_trend_window=20\n",
      1s);
  supervisor_->start();
  const pid_t p = pid("leak");
  for (int s = 0; s < 10 && spawner_.signals.empty(); ++s) {
    sampler_.trees[p] = rss(kMB * static_cast<std::uint64_t>(10 + s));
    run_for(1s);
  }
  ASSERT_EQ(signals_to(p).size(), 1u);
  ASSERT_TRUE(supervisor_->on_child_exit(p, killed_by(SIGTERM)));
  EXPECT_EQ(entry("leak").record.last_cause->kind, CauseKind::MemoryGrowth);
}

TEST_F(ResourceMonitorTest, OutputMatchRestartsOnlyWhileRunning) {
  make("[program:gpu]\ncommand=/bin/gpu\nrestart_on_output=@cuda_oom\nstartsecs=5\n");
  std::vector<std::tuple<std::string, std::string, std::string>> matches;
  supervisor_->set_output_trigger(
      [&](const std::string& g, const std::string& n, const OutputMatch& m) {
        matches.emplace_back(g, n, m.line);
      });
  supervisor_->start();
  ASSERT_EQ(spawner_.spawned.size(), 1u);
  ASSERT_TRUE(spawner_.spawned[0].output_watch);
  spawner_.spawned[0].output_watch->feed(OutputTail::Channel::Stderr,
                                         "torch.cuda.OutOfMemoryError: CUDA out of memory.\n");
  ASSERT_EQ(matches.size(), 1u);
  monitor_->on_output_match("gpu", "gpu", OutputMatch{OutputTail::Channel::Stderr, "x"});
  EXPECT_THAT(spawner_.signals, IsEmpty());  // STARTING
  run_for(6s);
  monitor_->on_output_match("gpu", "gpu",
                            OutputMatch{OutputTail::Channel::Stderr, std::get<2>(matches[0])});
  ASSERT_EQ(spawner_.signals.size(), 1u);
  monitor_->on_output_match("gpu", "gpu", OutputMatch{OutputTail::Channel::Stderr, "again"});
  EXPECT_EQ(spawner_.signals.size(), 1u);  // one restart at a time
  EXPECT_THAT(log_.lines, Contains("WARN guard output_pattern tripped for gpu: stderr line matched "
                                   "@cuda_oom: torch.cuda.OutOfMemoryError: CUDA out of memory., "
                                   "restarting"));
  ASSERT_TRUE(supervisor_->on_child_exit(pid("gpu"), killed_by(SIGTERM)));
  const ExitCause& cause = *entry("gpu").record.last_cause;
  EXPECT_EQ(cause.kind, CauseKind::OutputPattern);
  EXPECT_EQ(cause.evidence[0].source, "output");
  EXPECT_THAT(cause.evidence[0].text, HasSubstr("torch.cuda.OutOfMemoryError"));
}

TEST_F(ResourceMonitorTest, ACrashRecordCarriesTheSamples) {
  make("[program:web]\ncommand=/bin/web\n", 1s);
  supervisor_->start();
  sampler_.trees[pid("web")] = rss(7 * kMB);
  run_for(60s);
  const auto summary = monitor_->summary("web");
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ((*summary)["rss_bytes"], 7 * kMB);
  const auto series = monitor_->series("web");
  ASSERT_TRUE(series.has_value());
  // Samples at 1..60 s; the ring keeps those >= 30 min / 192 apart (1, 11, ..., 51) and the
  // newest (60).
  EXPECT_EQ((*series)["samples"].size(), 7u);
  EXPECT_FALSE(monitor_->summary("nope").has_value());
}

TEST_F(ResourceMonitorTest, IntervalZeroWithGuardsSaysSo) {
  make("[program:web]\ncommand=/bin/web\nmemory_limit=1GB\n", 0ms);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("web: memory_limit, memory_growth_limit and "
                                             "cpu_limit act only on samples")));
}

}  // namespace
}  // namespace zagent
