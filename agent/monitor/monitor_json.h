// What the resource and GPU monitors share: which processes have a child to look at, and the
// small helpers of their JSON. Pure.
#pragma once

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "agent/process/supervisor.h"

namespace zagent::monitor_json {

inline double epoch_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// The value, or JSON null: unknown is never 0.
template <typename T>
nlohmann::json nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// A process with a child the monitors can look at (STARTING, RUNNING, STOPPING).
inline bool has_live_child(const ProcessEntry& e) {
  return e.record.pid != 0 &&
         (e.record.state == ProcessState::Starting || e.record.state == ProcessState::Running ||
          e.record.state == ProcessState::Stopping);
}

}  // namespace zagent::monitor_json
