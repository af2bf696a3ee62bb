// A clock that moves only when a test says so (STYLE.md §7: time moves by advance()).
#pragma once

#include <chrono>

#include "agent/process/clock.h"

namespace zagent::test {

class FakeClock final : public Clock {
 public:
  /// Starts at an arbitrary fixed point: steady 1000 s, wall 2026-11-24 14:16:00 UTC.
  FakeClock()
      : steady_(std::chrono::seconds(1000)),
        wall_(std::chrono::sys_days{std::chrono::November / 24 / 2026} + std::chrono::hours(14) +
              std::chrono::minutes(16)) {}

  SteadyTime steady_now() override { return steady_; }
  WallTime wall_now() override { return wall_; }

  /// Moves both clocks forward.
  template <typename Rep, typename Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }
  /// Moves to an absolute steady time (never backwards).
  void advance_to(SteadyTime t) {
    if (t > steady_) {
      advance(t - steady_);
    }
  }

 private:
  SteadyTime steady_;
  WallTime wall_;
};

}  // namespace zagent::test
