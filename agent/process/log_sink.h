// Where the agent's main-log records go: an interface so that the supervisor can be tested
// with a fake that keeps lines in memory. Records are supervisord's texts (spec/states.md §8).
#pragma once

#include <string_view>

#include "common/datatypes.h"

namespace zagent {

class LogSink {
 public:
  virtual ~LogSink() = default;
  /// Writes one record if `level` is at or above the configured level.
  virtual void log(LogLevel level, std::string_view text) = 0;
  /// True if a record of `level` would be written (to skip building expensive texts).
  virtual bool enabled(LogLevel level) const = 0;
};

}  // namespace zagent
