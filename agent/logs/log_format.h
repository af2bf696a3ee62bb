// The text of the logs, pure: the main log's record format, level filter, startup-note
// order and syslog lines (spec/logging.md §1), and supervisord's strip_ansi filter for child
// output. main_log and log_capture, the adapters, write what these produce.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/process/clock.h"
#include "common/datatypes.h"

namespace zagent {

/// `logfile=syslog`: records go to syslog instead of a file.
inline constexpr std::string_view kSyslogTarget = "syslog";

/// `YYYY-MM-DD HH:MM:SS,mmm LEVL text\n` in local time (localtime_r, so TZ applies),
/// milliseconds truncated. `text` is written as it is, newlines included.
std::string format_record(WallTime time, LogLevel level, std::string_view text);

/// True if a record of `level` passes the configured level (numbers compared, `>=`).
bool level_enabled(LogLevel configured, LogLevel level);

/// Parse-time notes in the order supervisord writes them: all CRIT, then all WARN, then all
/// INFO (other levels by their number, highest first); the order found is kept within a level.
std::vector<ConfigNote> startup_notes_in_log_order(std::vector<ConfigNote> notes);

/// The syslog calls for one message: the text without trailing newlines, split at each `\n`
/// (an empty message gives one empty line).
std::vector<std::string_view> syslog_lines(std::string_view text);

/// supervisord's stripEscapes (`strip_ansi=true`), applied to each chunk on its own: from
/// every `ESC [` up to and including the next of `HfABCDRsuJKhlpm` is removed (a sequence
/// cut by the end of the chunk is removed to the end).
std::string strip_ansi_escapes(std::string_view data);

}  // namespace zagent
