// The health checks' port: who runs one check (agent/health/probes over Asio, Beast and
// fork/exec; tests use fakes). The health monitor (pure) decides when and what to check.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/health/check_spec.h"

namespace zagent {

/// One check to run.
struct CheckRequest {
  HealthCheckSpec spec;
  std::chrono::milliseconds timeout{5000};  ///< the whole check: resolve, connect, answer, exit
  // cmd: checks only: how the command runs (the program's own environment, directory, user)
  std::vector<std::string> environment;  ///< KEY=value entries
  std::optional<std::string> directory;
  std::optional<UserSpec> user;
};

/// How one check went.
struct CheckResult {
  bool passed = false;
  /// What was seen, short enough for a status line: passed: `HTTP 200`, `connected`,
  /// `exit status 0`; failed: `HTTP 503`, `connection refused`, `timed out after 5 s`,
  /// `exit status 1: <last line of its output>`, `cannot resolve 'host': <reason>`.
  std::string message;
  std::chrono::milliseconds duration{0};
  friend bool operator==(const CheckResult&, const CheckResult&) = default;
};

class HealthProber {
 public:
  virtual ~HealthProber() = default;
  /// Starts one check and returns at once. `done` is called exactly once, on the loop thread,
  /// never from inside check(), at the latest shortly after the timeout.
  virtual void check(const CheckRequest& request, std::function<void(CheckResult)> done) = 0;
};

}  // namespace zagent
