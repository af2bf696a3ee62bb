#include "agent/monitor/guards.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace zagent {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  const double s = std::chrono::duration<double>(d).count();
  return std::fmod(s, 1.0) == 0.0 ? fmt::format("{:.0f}s", s) : fmt::format("{:.1f}s", s);
}

std::string percent_text(double p) {
  return std::fmod(p, 1.0) == 0.0 ? fmt::format("{:.0f}%", p) : fmt::format("{:.1f}%", p);
}

// The `_for` rule: over the limit at this sample, and for long enough since the first sample
// over it. Returns how long it has been over when it trips.
std::optional<std::chrono::milliseconds> over_for(bool over, std::optional<SteadyTime>& since,
                                                  SteadyTime now,
                                                  std::chrono::milliseconds needed) {
  if (!over) {
    since.reset();
    return std::nullopt;
  }
  if (!since) {
    since = now;
  }
  const auto lasted = std::chrono::duration_cast<std::chrono::milliseconds>(now - *since);
  if (lasted < needed) {
    return std::nullopt;
  }
  return lasted;
}

GuardTrip trip(CauseKind cause, bool restart, const std::string& namespec, std::string reason) {
  GuardTrip t;
  t.cause = cause;
  t.restart = restart;
  t.line = fmt::format("guard {} tripped for {}: {}, {}", cause_name(cause), namespec, reason,
                       restart ? "restarting" : "warning only");
  t.reason = std::move(reason);
  return t;
}

}  // namespace

bool has_resource_guards(const ProcessConfig& c) {
  return c.memory_limit > 0 || c.memory_growth_limit > 0 || c.cpu_limit > 0;
}

std::chrono::milliseconds trend_window_of(const ProcessConfig& config,
                                          std::chrono::milliseconds agent_default) {
  return config.memory_trend_window.value_or(agent_default);
}

bool trend_is_settled(const MemoryTrend& trend, std::chrono::milliseconds window) {
  return trend.samples >= 3 &&
         trend.span_seconds >= std::chrono::duration<double>(window).count() / 4.0;
}

std::optional<GuardTrip> evaluate_guards(const ProcessConfig& c, const std::string& namespec,
                                         GuardState& state, const GuardInput& in) {
  if (!in.running) {
    state = GuardState{};
    return std::nullopt;
  }
  const SteadyTime now = in.latest.at;
  const auto rss = static_cast<double>(in.latest.figures.rss_bytes);
  if (c.memory_limit > 0) {
    const bool over = in.latest.figures.rss_bytes > static_cast<std::uint64_t>(c.memory_limit);
    if (auto lasted = over_for(over, state.memory_over_since, now, c.memory_limit_for)) {
      return trip(
          CauseKind::MemoryLimit, true, namespec,
          fmt::format("RSS {} > memory_limit {} for {}", format_bytes(rss),
                      format_bytes(static_cast<double>(c.memory_limit)), seconds_text(*lasted)));
    }
  }
  if (c.cpu_limit > 0) {
    const bool over = in.cpu_percent && *in.cpu_percent > c.cpu_limit;
    if (auto lasted = over_for(over, state.cpu_over_since, now, c.cpu_limit_for)) {
      return trip(CauseKind::CpuLimit, true, namespec,
                  fmt::format("CPU {} > cpu_limit {} for {}", percent_text(*in.cpu_percent),
                              percent_text(c.cpu_limit), seconds_text(*lasted)));
    }
  }
  if (c.memory_growth_limit > 0 && in.trend && trend_is_settled(*in.trend, in.trend_window)) {
    const auto limit = static_cast<double>(c.memory_growth_limit);
    if (in.trend->bytes_per_hour <= limit) {
      state.growth_reported = false;
    } else if (c.memory_growth_action == GrowthAction::Restart || !state.growth_reported) {
      state.growth_reported = true;
      return trip(
          CauseKind::MemoryGrowth, c.memory_growth_action == GrowthAction::Restart, namespec,
          fmt::format(
              "RSS growth {}/h > memory_growth_limit {}/h over the last {} "
              "(RSS {})",
              format_bytes(in.trend->bytes_per_hour), format_bytes(limit),
              seconds_text(std::chrono::milliseconds(std::llround(in.trend->span_seconds * 1000))),
              format_bytes(rss)));
    }
  }
  return std::nullopt;
}

std::string format_bytes(double bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"KB", "MB", "GB", "TB", "PB"};
  const bool negative = bytes < 0;
  double v = std::fabs(bytes);
  if (v < 1024) {
    return fmt::format("{}{:.0f}B", negative ? "-" : "", v);
  }
  std::size_t unit = 0;
  v /= 1024;
  while (v >= 1024 && unit + 1 < kUnits.size()) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{}{:.1f}{}", negative ? "-" : "", v, kUnits[unit]);
}

}  // namespace zagent
