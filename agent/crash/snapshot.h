// The crash snapshot: one JSON document per unexpected exit or guardian restart, with the
// record, the program's config summary, its environment (names; values only with
// crash_env_values), the last lines of each channel, snapshot_command's output, and slots
// that the resource and GPU guardians fill. Pure; the store adds the machine's memory figures
// when it writes the file (docs/crashes.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/crash/crash_record.h"

namespace zagent {

struct SnapshotInput {
  const CrashRecord& record;
  const ProcessConfig& config;
  const std::vector<std::string>& environment;  ///< KEY=value, as the child got it
  bool environment_values = false;
  std::vector<std::string> stdout_lines;
  std::vector<std::string> stderr_lines;
  std::optional<std::string> command_output;  ///< snapshot_command's output, if it ran
  std::optional<nlohmann::json> resources;     ///< the resource monitor's series, if any
  std::optional<nlohmann::json> gpu;           ///< every device and its users, if read
};

/// Bytes of snapshot_command output kept in a snapshot.
inline constexpr std::size_t kSnapshotCommandOutputCap = 256 * 1024;

nlohmann::json snapshot_json(const SnapshotInput& input);

/// The words of the main log's crash line, after `crash: `:
/// `web killed by the kernel OOM killer (certain: kmsg "Killed process 4242 (python3)")`,
/// then `; snapshot PATH` when there is one.
std::string crash_line(const std::string& name, const CrashRecord& record);

}  // namespace zagent
