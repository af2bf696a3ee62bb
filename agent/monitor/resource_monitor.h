// The resource monitor: samples every live program's process tree on the agent's one timer
// (sample_interval) or when a client asks, keeps each run's history (SampleRing), runs the
// resource guards after each sample and the output guard on each match, and asks the
// supervisor for a guardian's restart. Pure over its ports (TreeSampler, Clock, LogSink); the
// daemon connects /proc and the timer. Runs on the event-loop thread only.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/crash/ports.h"
#include "agent/monitor/guards.h"
#include "agent/monitor/ports.h"
#include "agent/monitor/sample_history.h"
#include "agent/process/supervisor.h"

namespace zagent {

struct MonitorOptions {
  std::chrono::milliseconds interval{10'000};  ///< 0 = sample only on request
  std::chrono::milliseconds trend_window{1'800'000};
};

/// How far back a snapshot's series goes.
inline constexpr std::chrono::minutes kSnapshotSeries{5};

class ResourceMonitor final : public ResourceSource {
 public:
  ResourceMonitor(MonitorOptions options, Supervisor& supervisor, TreeSampler& sampler,
                  Clock& clock, LogSink& log);

  /// sample_interval=0: the trees are sampled only when a client asks.
  bool samples_on_request() const { return options_.interval.count() <= 0; }
  /// When tick() has a sample to take; nullopt with sample_interval=0 or while no program
  /// has a child.
  std::optional<SteadyTime> next_wakeup() const;
  /// Takes the periodic sample if it is due. Call when the timer fires.
  void tick();
  /// Samples every live program now (a client asked), unless the newest sample is younger
  /// than `fresh`.
  void sample_now(std::chrono::milliseconds fresh = std::chrono::milliseconds(500));

  /// restart_on_output matched a line of `group:name` (posted by the daemon, so the process
  /// may have ended meanwhile: then nothing happens).
  void on_output_match(const std::string& group, const std::string& name, const OutputMatch& match);

  /// The `resources` object of zagent.getProcessStats for one process, or null.
  nlohmann::json resources_json(const ProcessEntry& entry) const;

  // ResourceSource (crash records and snapshots)
  std::optional<nlohmann::json> summary(const std::string& program) override;
  std::optional<nlohmann::json> series(const std::string& program) override;

 private:
  struct History {
    pid_t pid = 0;  // the run the samples belong to
    SteadyTime started{};
    SampleRing ring{std::chrono::minutes(30)};
    GuardState guards;
    std::uint64_t seen = 0;  // the last pass that found its child
  };
  void sample_all();
  std::chrono::milliseconds window_of(const ProcessConfig& config) const;
  std::optional<double> cpu_of(const History& h) const;
  nlohmann::json summary_json(const History& h, const ProcessConfig& config) const;

  MonitorOptions options_;
  Supervisor& supervisor_;
  TreeSampler& sampler_;
  Clock& clock_;
  LogSink& log_;
  std::map<std::string, History> history_;  // namespec -> the current run's samples
  std::optional<SteadyTime> last_sample_;   // the last pass (periodic or on request)
  std::uint64_t pass_ = 0;                  // passes so far
  mutable SteadyTime next_due_;             // moved on by next_wakeup() after an idle time
};

}  // namespace zagent
