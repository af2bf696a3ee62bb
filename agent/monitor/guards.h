// The resource guards' decisions (memory_limit, memory_growth, cpu_limit): given the newest
// sample, the CPU share and the trend, whether a guard trips now. Pure; the monitor calls it
// after every sample and asks the supervisor for the restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/monitor/sample_history.h"
#include "agent/process/exit_cause.h"

namespace zagent {

/// What the guards remember about one run of a program between samples.
struct GuardState {
  std::optional<SteadyTime> memory_over_since;  ///< first sample over memory_limit
  std::optional<SteadyTime> cpu_over_since;     ///< first sample over cpu_limit
  bool growth_reported = false;  ///< memory_growth warned; again only after it fell back
  friend bool operator==(const GuardState&, const GuardState&) = default;
};

/// A guard tripped.
struct GuardTrip {
  CauseKind cause = CauseKind::MemoryLimit;
  bool restart = true;  ///< false: memory_growth_action=warn (the line only)
  std::string line;     ///< the main-log text (WARN), naming the guard, figure and limit
  std::string reason;   ///< the figure and the limit, for the crash record's evidence
  friend bool operator==(const GuardTrip&, const GuardTrip&) = default;
};

struct GuardInput {
  const TreeSample& latest;
  std::optional<double> cpu_percent;
  std::optional<MemoryTrend> trend;
  std::chrono::milliseconds trend_window;
  bool running = false;  ///< the process is RUNNING (guards act only then)
};

/// Whether the config has any guard that needs samples.
bool has_resource_guards(const ProcessConfig& config);

/// The trend window of a program: its own memory_trend_window, else [supervisord]'s.
std::chrono::milliseconds trend_window_of(const ProcessConfig& config,
                                          std::chrono::milliseconds agent_default);

/// The growth guard decides only once the trend covers a quarter of its window, with at least
/// three samples, so a program that loads a model at start is not taken for a leak.
bool trend_is_settled(const MemoryTrend& trend, std::chrono::milliseconds window);

/// Checks memory_limit, then cpu_limit, then memory_growth; updates `state`. Outside RUNNING
/// the state is reset and nothing trips.
std::optional<GuardTrip> evaluate_guards(const ProcessConfig& config, const std::string& namespec,
                                         GuardState& state, const GuardInput& input);

/// 1024-based, as the config's sizes: `512B`, `1.5KB`, `8.0GB`.
std::string format_bytes(double bytes);

}  // namespace zagent
