// What the agent knows of one program's health checks: the current run's status and the last
// checks. Plain data kept with the process entry; the health monitor writes it, the RPC
// methods read it. Pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/process/clock.h"

namespace zagent {

enum class HealthStatus {
  Unknown,  ///< no check of this run has finished
  Passing,  ///< the last check passed
  Failing,  ///< the last check failed
};

/// "unknown", "passing", "failing".
std::string_view health_status_name(HealthStatus status);

/// One finished check.
struct CheckRecord {
  WallTime at{};  ///< when it started
  bool passed = false;
  std::string message;
  std::chrono::milliseconds duration{0};
  friend bool operator==(const CheckRecord&, const CheckRecord&) = default;
};

struct HealthState {
  /// Checks kept for `zctl health` (across runs).
  static constexpr std::size_t kHistory = 10;

  HealthStatus status = HealthStatus::Unknown;
  int consecutive_failures = 0;  ///< in this run
  std::string last_error;        ///< the last failed check's message ("" = none in this run)
  std::optional<WallTime> last_check;  ///< the last finished check of this run
  std::deque<CheckRecord> recent;      ///< oldest first, at most kHistory

  /// A new run (spawn): the status starts over, the history stays.
  void new_run();
  /// Notes a finished check.
  void add(CheckRecord check);

  friend bool operator==(const HealthState&, const HealthState&) = default;
};

/// The last checks, oldest first: `[{time, passed, message, duration_ms}]` (time in epoch
/// seconds).
nlohmann::json checks_json(const HealthState& health);

/// The health slot of a crash record: `{healthcheck, status, consecutive_failures,
/// last_error, checks}`.
nlohmann::json health_record_json(const HealthState& health, const std::string& check_text);

}  // namespace zagent
