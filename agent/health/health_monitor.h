// The health monitor: runs each program's check on the agent's one timer (every second while
// the program is STARTING, every healthcheck_interval once it is RUNNING), hands the results
// to the supervisor (which gates RUNNING on a pass) and restarts a RUNNING program after
// healthcheck_retries failures in a row (cause health_failed). Pure over its ports
// (HealthProber, Clock, LogSink); the daemon connects the probes and the timer. Loop thread
// only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/health/ports.h"
#include "agent/process/supervisor.h"

namespace zagent {

/// The cadence of the checks of a STARTING program.
inline constexpr std::chrono::milliseconds kStartupCheckCadence{1000};

class HealthMonitor {
 public:
  /// `after_result` is called after each finished check was acted on (the daemon re-arms its
  /// timer there).
  HealthMonitor(Supervisor& supervisor, HealthProber& prober, Clock& clock, LogSink& log,
                std::function<void()> after_result);

  /// A checked program got a new child (Supervisor's spawn listener): its first check is due
  /// at once.
  void on_spawned(const ProcessEntry& entry);
  /// When tick() has a check to start; nullopt when no checked program has a child.
  std::optional<SteadyTime> next_wakeup() const;
  /// Starts the checks that are due. Call when the timer fires.
  void tick();

  /// Checks in flight (for tests and the benchmark).
  std::size_t in_flight() const;

 private:
  struct Slot {
    std::string group;
    std::string name;
    pid_t pid = 0;                       // the run the checks belong to
    std::optional<SteadyTime> next_due;  // nullopt while a check is in flight
    bool in_flight = false;
  };
  void start_check(Slot& slot, const ProcessEntry& entry, SteadyTime now);
  void on_result(const std::string& key, pid_t pid, SteadyTime started, WallTime started_wall,
                 CheckResult result);
  void act_on_liveness(const ProcessEntry& entry, HealthStatus before, const CheckResult& result);

  Supervisor& supervisor_;
  HealthProber& prober_;
  Clock& clock_;
  LogSink& log_;
  std::function<void()> after_result_;
  std::map<std::string, Slot> slots_;  // namespec -> the current run's schedule
};

/// The `health` object of a process's info: `{status, last_error, last_check,
/// consecutive_failures}`, or null without a healthcheck.
nlohmann::json health_json(const ProcessEntry& entry);
/// One row of zagent.getHealth: name, group, statename, healthcheck, the health_json fields,
/// retries, interval and the last checks.
nlohmann::json health_detail_json(const ProcessEntry& entry);
/// What a RUNNING process's description gains while its check fails:
/// `, health: failing (2/3: HTTP 503)`; "" otherwise.
std::string health_description(const ProcessEntry& entry);

}  // namespace zagent
