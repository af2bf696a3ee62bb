// Where time comes from: an interface so that the supervisor and its tests never read the
// real clock directly (STYLE.md §3). Steady time decides, wall time is only displayed.
#pragma once

#include <chrono>

namespace zagent {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime steady_now() = 0;
  virtual WallTime wall_now() = 0;
};

/// The real clocks.
class SystemClock final : public Clock {
 public:
  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() override { return std::chrono::system_clock::now(); }
};

}  // namespace zagent
