// The real ProcessLineage: a pid's parent and start time from /proc/PID/stat, and whether the
// agent shares the host's pid namespace (/proc/self/status NSpid). An adapter.
#pragma once

#include <optional>
#include <string>

#include "agent/monitor/ports.h"

namespace zagent {

class SystemProcessLineage final : public ProcessLineage {
 public:
  /// `proc_root`: /proc, or a fake tree in tests.
  explicit SystemProcessLineage(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}
  std::optional<Entry> lookup(pid_t pid) override;
  /// Read once: a process never changes its pid namespace.
  bool host_pid_namespace() override;

 private:
  std::string root_;
  std::optional<bool> host_;
};

}  // namespace zagent
