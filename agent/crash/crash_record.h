// Crash records: one per exit the operator did not ask for (unexpected or expected exits, stop
// timeouts, spawn failures, guardian restarts), as the JSON objects of
// `zagent.getCrashRecords` and the files under crash_dir (docs/crashes.md). Pure.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/process/exit_cause.h"

namespace zagent {

struct CrashRecord {
  std::string program;  ///< namespec: `name`, or `group:name` in a group of several
  ExitCause cause;
  std::optional<int> exit_code;    ///< null after a signal or a spawn failure
  std::optional<std::string> signal;  ///< "SIGKILL", or null
  bool core_dumped = false;
  std::optional<int> shell_status;    ///< code, or 128 + signal; null for a spawn failure
  std::optional<pid_t> pid;           ///< null for a spawn failure
  std::int64_t started = 0;           ///< epoch seconds of the spawn
  std::int64_t ended = 0;             ///< epoch seconds of the reap (or the failed spawn)
  double uptime_seconds = 0;          ///< millisecond precision
  std::string description;            ///< supervisord's words: `terminated by SIGKILL`
  std::vector<std::string> last_stdout;  ///< the last lines, oldest first
  std::vector<std::string> last_stderr;
  std::optional<std::string> snapshot;   ///< the snapshot file, or null
  std::optional<std::string> snapshot_error;  ///< why the snapshot could not be written
  /// The resource monitor's newest sample and trend (docs/monitoring.md), or null.
  std::optional<nlohmann::json> resources;
  /// The GPU monitor's view of the program's devices and GPU memory (docs/gpu.md), or null.
  std::optional<nlohmann::json> gpu;
  /// The program's health check and its last checks (docs/health.md), or null without one.
  std::optional<nlohmann::json> health;
  friend bool operator==(const CrashRecord&, const CrashRecord&) = default;
};

/// Lines of each channel a record keeps (the snapshot keeps crash_lines).
inline constexpr std::size_t kRecordLines = 20;
/// Records kept per program, in memory and on disk.
inline constexpr std::size_t kRecordsPerProgram = 50;

/// The record as JSON (field names are the contract; docs/crashes.md).
nlohmann::json crash_record_json(const CrashRecord& record);
/// Back from JSON (the on-disk store); nullopt when a required field is missing or mistyped.
std::optional<CrashRecord> crash_record_from_json(const nlohmann::json& j);

/// The records of every program, newest first, at most kRecordsPerProgram each. Loop thread.
class CrashLog {
 public:
  /// Adds the newest record of its program, dropping the oldest beyond the cap.
  void add(CrashRecord record);
  /// Puts back what the store loaded (any order); keeps the newest kRecordsPerProgram.
  void load(std::vector<CrashRecord> records);
  /// The newest `limit` records (0 = all) of one program (or all when `program` is empty),
  /// newest first; ties keep insertion order, newest added first.
  std::vector<CrashRecord> newest(const std::string& program, std::size_t limit) const;
  /// The newest record of a program, or nullptr.
  const CrashRecord* last(const std::string& program) const;
  /// The snapshot of a record could not be written: note why, and drop its path.
  void snapshot_failed(const std::string& program, const std::string& path,
                       const std::string& error);
  bool has(const std::string& program) const { return by_program_.count(program) != 0; }

 private:
  std::map<std::string, std::deque<CrashRecord>> by_program_;  // newest first
  std::uint64_t next_seq_ = 0;
  std::map<std::string, std::deque<std::uint64_t>> seq_;  // insertion order, for ties
};

}  // namespace zagent
