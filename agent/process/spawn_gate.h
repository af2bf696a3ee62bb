// The spawn gate port: asked before each spawn whether the process may start now. The GPU
// monitor holds a start until the devices have gpu_start_min_free free, or until the old
// tree's pids no longer hold GPU memory. Pure interface; the supervisor asks it, the daemon
// connects it.
#pragma once

#include <string>
#include <variant>

#include "agent/config/config.h"

namespace zagent {

/// Spawn now.
struct GateOpen {};
/// Not yet: the process stays STARTING with `waiting` as its description; the gate calls
/// Supervisor::recheck_gates() when its figures change.
struct GateHold {
  std::string waiting;
};
/// Never for this attempt: a failed start (BACKOFF, startretries) with `message` as spawnerr.
struct GateFail {
  std::string message;
};
using GateVerdict = std::variant<GateOpen, GateHold, GateFail>;

class SpawnGate {
 public:
  virtual ~SpawnGate() = default;
  /// Whether `namespec` may spawn now. `first` is true for the first question of a spawn
  /// attempt (a hold starts there: its timeout counts from it), false for a recheck.
  virtual GateVerdict check(const ProcessConfig& config, const std::string& namespec,
                            bool first) = 0;
};

}  // namespace zagent
