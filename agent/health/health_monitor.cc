#include "agent/health/health_monitor.h"

#include <fmt/format.h>

#include <utility>

#include "common/process_state.h"

namespace zagent {
namespace {

using Json = nlohmann::json;

double epoch_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Whether `entry`'s current run is checked now: a child that is STARTING (and not being
// stopped for a failed start) or RUNNING (and not being restarted).
bool checked_now(const ProcessEntry& entry) {
  if (!entry.config.healthcheck || entry.record.pid == 0) {
    return false;
  }
  if (entry.record.state == ProcessState::Starting) {
    return !entry.record.health_start_failed;
  }
  return entry.record.state == ProcessState::Running && !entry.record.guardian_stop;
}

std::chrono::milliseconds cadence(const ProcessEntry& entry) {
  return entry.record.state == ProcessState::Running ? entry.config.healthcheck_interval
                                                     : kStartupCheckCadence;
}

// The last `n` checks' messages, newest last: `HTTP 503; HTTP 503; timed out after 5 s`.
std::string last_messages(const HealthState& health, std::size_t n) {
  std::string out;
  const std::size_t from = health.recent.size() > n ? health.recent.size() - n : 0;
  for (std::size_t i = from; i < health.recent.size(); ++i) {
    out += (out.empty() ? "" : "; ") + health.recent[i].message;
  }
  return out;
}

}  // namespace

HealthMonitor::HealthMonitor(Supervisor& supervisor, HealthProber& prober, Clock& clock,
                             LogSink& log, std::function<void()> after_result)
    : supervisor_(supervisor),
      prober_(prober),
      clock_(clock),
      log_(log),
      after_result_(std::move(after_result)) {}

void HealthMonitor::on_spawned(const ProcessEntry& entry) {
  if (!entry.config.healthcheck || entry.record.pid == 0) {
    return;
  }
  Slot& slot = slots_[namespec_of(entry.config)];
  slot.group = entry.config.group;
  slot.name = entry.config.name;
  slot.pid = entry.record.pid;
  slot.in_flight = false;
  slot.next_due = clock_.steady_now();
}

std::optional<SteadyTime> HealthMonitor::next_wakeup() const {
  std::optional<SteadyTime> earliest;
  for (const auto& [key, slot] : slots_) {
    if (slot.next_due && (!earliest || *slot.next_due < *earliest)) {
      earliest = slot.next_due;
    }
  }
  return earliest;
}

std::size_t HealthMonitor::in_flight() const {
  std::size_t n = 0;
  for (const auto& [key, slot] : slots_) {
    n += slot.in_flight ? 1 : 0;
  }
  return n;
}

void HealthMonitor::tick() {
  const SteadyTime now = clock_.steady_now();
  for (auto it = slots_.begin(); it != slots_.end();) {
    Slot& slot = it->second;
    const ProcessEntry* entry = supervisor_.find(slot.group, slot.name);
    if (entry == nullptr || entry->record.pid != slot.pid) {
      it = slots_.erase(it);  // the run is over; a result still in flight is dropped
      continue;
    }
    if (!slot.in_flight && checked_now(*entry) && slot.next_due && *slot.next_due <= now) {
      start_check(slot, *entry, now);
    } else if (!slot.in_flight && !checked_now(*entry)) {
      slot.next_due.reset();  // stopping: nothing to check until the next spawn
    }
    ++it;
  }
}

void HealthMonitor::start_check(Slot& slot, const ProcessEntry& entry, SteadyTime now) {
  CheckRequest request;
  request.spec = *entry.config.healthcheck;
  request.timeout = entry.config.healthcheck_timeout;
  if (request.spec.kind == CheckKind::Command) {
    request.environment = supervisor_.environment_of(entry);
    request.directory = entry.config.directory;
    request.user = entry.config.user;
  }
  slot.in_flight = true;
  slot.next_due.reset();
  const std::string key = namespec_of(entry.config);
  const pid_t pid = slot.pid;
  const WallTime wall = clock_.wall_now();
  prober_.check(request, [this, key, pid, now, wall](CheckResult result) {
    on_result(key, pid, now, wall, std::move(result));
  });
}

void HealthMonitor::on_result(const std::string& key, pid_t pid, SteadyTime started,
                              WallTime started_wall, CheckResult result) {
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.pid != pid) {
    return;  // a result of a run that is over
  }
  Slot& slot = it->second;
  slot.in_flight = false;
  const ProcessEntry* entry = supervisor_.find(slot.group, slot.name);
  if (entry == nullptr || entry->record.pid != pid) {
    slots_.erase(it);
    return;
  }
  const HealthStatus before = entry->health.status;
  const ProcessState state_before = entry->record.state;
  const std::string group = slot.group;
  const std::string name = slot.name;
  (void)supervisor_.health_checked(
      group, name, pid, CheckRecord{started_wall, result.passed, result.message, result.duration});
  entry = supervisor_.find(group, name);
  if (entry != nullptr && state_before == ProcessState::Running) {
    act_on_liveness(*entry, before, result);
  }
  // The table may have changed (a restart): look the slot up again.
  it = slots_.find(key);
  entry = supervisor_.find(group, name);
  if (it != slots_.end() && entry != nullptr && entry->record.pid == pid && checked_now(*entry)) {
    it->second.next_due = started + cadence(*entry);
  } else if (it != slots_.end() && it->second.pid == pid) {
    it->second.next_due.reset();
  }
  if (after_result_) {
    after_result_();
  }
}

void HealthMonitor::act_on_liveness(const ProcessEntry& entry, HealthStatus before,
                                    const CheckResult& result) {
  const std::string program = namespec_of(entry.config);
  const HealthState& health = entry.health;
  if (result.passed) {
    if (before == HealthStatus::Failing) {
      log_.log(LogLevel::Info,
               fmt::format("health: {} passing again ({})", program, result.message));
    }
    return;
  }
  const auto retries = entry.config.healthcheck_retries;
  if (health.consecutive_failures < retries) {
    log_.log(LogLevel::Warn, fmt::format("health: {} failing ({}/{}): {}", program,
                                         health.consecutive_failures, retries, result.message));
    return;
  }
  const std::string words =
      fmt::format("{} checks failed in a row: {}", health.consecutive_failures,
                  last_messages(health, static_cast<std::size_t>(retries)));
  log_.log(LogLevel::Warn, fmt::format("health: {} failing ({}/{}): {}, restarting", program,
                                       health.consecutive_failures, retries, result.message));
  (void)supervisor_.guardian_restart(entry.config.group, entry.config.name,
                                     RestartRequested{CauseKind::HealthFailed, {"health", words}});
}

Json health_json(const ProcessEntry& entry) {
  if (!entry.config.healthcheck) {
    return nullptr;
  }
  const HealthState& h = entry.health;
  Json j = Json::object();
  j["status"] = std::string(health_status_name(h.status));
  j["last_error"] = h.last_error.empty() ? Json(nullptr) : Json(h.last_error);
  j["last_check"] = h.last_check ? Json(epoch_seconds(*h.last_check)) : Json(nullptr);
  j["consecutive_failures"] = h.consecutive_failures;
  return j;
}

Json health_detail_json(const ProcessEntry& entry) {
  Json j = Json::object();
  j["name"] = entry.config.name;
  j["group"] = entry.config.group;
  j["statename"] = std::string(state_name(entry.record.state));
  j["healthcheck"] = entry.config.healthcheck ? Json(entry.config.healthcheck->text) : Json(nullptr);
  const Json summary = health_json(entry);
  j["status"] = summary.is_null() ? Json(nullptr) : summary["status"];
  j["last_error"] = summary.is_null() ? Json(nullptr) : summary["last_error"];
  j["last_check"] = summary.is_null() ? Json(nullptr) : summary["last_check"];
  j["consecutive_failures"] = entry.health.consecutive_failures;
  j["retries"] = entry.config.healthcheck_retries;
  j["interval"] = std::chrono::duration<double>(entry.config.healthcheck_interval).count();
  j["checks"] = checks_json(entry.health);
  return j;
}

std::string health_description(const ProcessEntry& entry) {
  if (!entry.config.healthcheck || entry.record.state != ProcessState::Running ||
      entry.health.status != HealthStatus::Failing) {
    return "";
  }
  return fmt::format(", health: failing ({}/{}: {})", entry.health.consecutive_failures,
                     entry.config.healthcheck_retries, entry.health.last_error);
}

}  // namespace zagent
