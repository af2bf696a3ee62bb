#include "agent/health/health_state.h"

#include <utility>

namespace zagent {

std::string_view health_status_name(HealthStatus status) {
  switch (status) {
    case HealthStatus::Unknown:
      return "unknown";
    case HealthStatus::Passing:
      return "passing";
    case HealthStatus::Failing:
      return "failing";
  }
  return "unknown";
}

void HealthState::new_run() {
  status = HealthStatus::Unknown;
  consecutive_failures = 0;
  last_error.clear();
  last_check.reset();
}

void HealthState::add(CheckRecord check) {
  last_check = check.at;
  if (check.passed) {
    status = HealthStatus::Passing;
    consecutive_failures = 0;
  } else {
    status = HealthStatus::Failing;
    consecutive_failures += 1;
    last_error = check.message;
  }
  recent.push_back(std::move(check));
  while (recent.size() > kHistory) {
    recent.pop_front();
  }
}

nlohmann::json checks_json(const HealthState& health) {
  nlohmann::json checks = nlohmann::json::array();
  for (const CheckRecord& c : health.recent) {
    checks.push_back(nlohmann::json{
        {"time", std::chrono::duration<double>(c.at.time_since_epoch()).count()},
        {"passed", c.passed},
        {"message", c.message},
        {"duration_ms", c.duration.count()}});
  }
  return checks;
}

nlohmann::json health_record_json(const HealthState& health, const std::string& check_text) {
  nlohmann::json j = nlohmann::json::object();
  j["healthcheck"] = check_text;
  j["status"] = std::string(health_status_name(health.status));
  j["consecutive_failures"] = health.consecutive_failures;
  j["last_error"] = health.last_error.empty() ? nlohmann::json(nullptr)
                                              : nlohmann::json(health.last_error);
  j["checks"] = checks_json(health);
  return j;
}

}  // namespace zagent
