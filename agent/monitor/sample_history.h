// A program's resource history: tree samples in a fixed-size ring, the CPU share between two
// samples, and the memory trend (a least-squares slope over a window) with the time left
// until a limit. Pure; times are the steady clock's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "agent/monitor/proc_stat.h"
#include "agent/process/clock.h"

namespace zagent {

/// One sample of one tree.
struct TreeSample {
  SteadyTime at;
  WallTime wall;
  TreeFigures figures;
  friend bool operator==(const TreeSample&, const TreeSample&) = default;
};

/// The samples of one run of a program, oldest first, at most kCapacity of them: bounded
/// memory whatever the number of programs. When the window needs more samples than fit, only
/// samples at least window / kCapacity apart are kept (the newest always is, in `latest`).
class SampleRing {
 public:
  static constexpr std::size_t kCapacity = 192;

  /// `window`: the trend window the ring must cover.
  explicit SampleRing(std::chrono::milliseconds window = std::chrono::minutes(30));

  void push(const TreeSample& sample);
  void clear();

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0 && !latest_; }
  /// The newest sample (kept even when the ring skipped it).
  const std::optional<TreeSample>& latest() const { return latest_; }
  /// The sample before the newest one, for the CPU share; nullopt with fewer than two.
  const std::optional<TreeSample>& previous() const { return previous_; }
  /// The i-th kept sample, oldest first (i < size()).
  const TreeSample& at(std::size_t i) const;
  /// The kept samples taken at or after `since`, oldest first, plus the newest one.
  std::vector<TreeSample> since(SteadyTime since) const;

 private:
  std::vector<TreeSample> slots_;  // grows to kCapacity once, then wraps
  std::size_t first_ = 0;          // index of the oldest kept sample
  std::size_t count_ = 0;
  std::chrono::milliseconds spacing_;  // the least gap between two kept samples
  std::optional<TreeSample> latest_;
  std::optional<TreeSample> previous_;
};

/// The tree's CPU use between two samples, in % of one core (200 = two cores busy); nullopt
/// when no time passed. A tree that lost a member without reaping it can show less CPU time
/// than before: that counts as 0.
std::optional<double> cpu_percent(const TreeSample& before, const TreeSample& after);

/// The memory trend: RSS growth per hour, from a least-squares fit over the samples of the
/// last `window`, using what history there is.
struct MemoryTrend {
  double bytes_per_hour = 0;
  double span_seconds = 0;  ///< the time the fitted samples cover
  std::size_t samples = 0;
  friend bool operator==(const MemoryTrend&, const MemoryTrend&) = default;
};

/// nullopt with fewer than two samples in the window or no time between them.
std::optional<MemoryTrend> memory_trend(const SampleRing& ring, SteadyTime now,
                                        std::chrono::milliseconds window);

/// Seconds until `current` reaches `limit` at `bytes_per_hour`: 0 when already there, nullopt
/// when it is not growing.
std::optional<double> seconds_to_limit(std::uint64_t current, std::uint64_t limit,
                                       double bytes_per_hour);

}  // namespace zagent
