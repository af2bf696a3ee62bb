// The texts the OOM evidence comes from, parsed: a /dev/kmsg record, the kernel's OOM-kill
// line, and the `key value` counter files (memory.events, /proc/vmstat). Pure: the reading is
// agent/os/oom_evidence's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/process/exit_cause.h"

namespace zagent {

/// One /dev/kmsg record: `PRI,SEQ,TS_USEC,FLAGS[,...];MESSAGE\n`, then optional continuation
/// lines that start with a space (` KEY=value`, ignored).
struct KmsgRecord {
  unsigned priority = 0;      ///< syslog facility * 8 + level; facility 0 = the kernel
  std::uint64_t seq = 0;      ///< the record's sequence number
  std::uint64_t ts_usec = 0;  ///< microseconds since boot (the monotonic clock)
  std::string message;        ///< the first line after ';', without its '\n'
  friend bool operator==(const KmsgRecord&, const KmsgRecord&) = default;
};

/// Parses one record (the text of one read() of /dev/kmsg, or one line); nullopt when the
/// prefix is malformed (no ';', fewer than four fields, a field that is not a number).
std::optional<KmsgRecord> parse_kmsg_record(std::string_view record);

/// Whether a record was written by the kernel (facility 0), not by a process through
/// /dev/kmsg (which cannot use facility 0: the kernel turns it into LOG_USER).
inline bool is_kernel_record(const KmsgRecord& record) { return record.priority >> 3 == 0; }

/// The OOM killer's line in a kernel message: `Out of memory: Killed process 4242 (python3)
/// total-vm:...`, or `Memory cgroup out of memory: Killed process ...`, or on its own
/// `Killed process ...`. `text` is exactly `Killed process 4242 (python3)`. Any other
/// message (the oom_reaper's `reaped process`, a bare `Killed process` elsewhere in a line)
/// gives nullopt.
std::optional<KernelKill> find_oom_kill(std::string_view message);

/// The value of the `key value` line named `key` in a counter file, or nullopt when absent
/// or not a number.
std::optional<std::int64_t> counter_value(std::string_view text, std::string_view key);

/// memory.events (cgroup v2) `oom_kill`: kills by the OOM killer inside that cgroup.
inline std::optional<std::int64_t> memory_events_oom_kill(std::string_view text) {
  return counter_value(text, "oom_kill");
}
/// /proc/vmstat `oom_kill`: kills by the OOM killer on the whole machine.
inline std::optional<std::int64_t> vmstat_oom_kill(std::string_view text) {
  return counter_value(text, "oom_kill");
}

}  // namespace zagent
