// A LogSink that keeps records in memory as "LEVL text" lines.
#pragma once

#include <string>
#include <vector>

#include "agent/process/log_sink.h"

namespace zagent::test {

class FakeLogSink final : public LogSink {
 public:
  void log(LogLevel level, std::string_view text) override {
    if (enabled(level)) {
      lines.push_back(std::string(log_level_tag(level)) + " " + std::string(text));
    }
  }
  bool enabled(LogLevel level) const override {
    return static_cast<int>(level) >= static_cast<int>(threshold);
  }

  LogLevel threshold = LogLevel::Info;
  std::vector<std::string> lines;
};

}  // namespace zagent::test
