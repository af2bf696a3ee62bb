// Where a child log's rotation falls (spec/logging.md §2.3): pure planning over a cursor,
// cut at a line boundary whenever the line is shorter than the cap. logs/rotating_log.h
// carries the plan out on a real file. No system headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zagent {

/// Where the current file stands: its size, and how many bytes follow its last '\n' (the
/// start of a line not finished yet; 0 when the file ends at a line boundary or is empty).
/// For a file found at open, `partial` is looked for in its last 64 KiB only. For a file that
/// is not a regular file (`/dev/stdout`, a FIFO) the cursor starts at {0, 0} and such a file
/// is never renamed or truncated: a "rotation" only resets the cursor.
struct LogCursor {
  std::int64_t size = 0;
  std::int64_t partial = 0;
  friend bool operator==(const LogCursor&, const LogCursor&) = default;
};

/// One step of writing a chunk: write its next `length` bytes, or rotate first.
struct LogStep {
  enum class Kind { Write, Rotate };
  Kind kind = Kind::Write;
  std::size_t length = 0;  ///< bytes to write (Write only); > 0
  friend bool operator==(const LogStep&, const LogStep&) = default;
};

/// The next step for `rest` (non-empty), the part of a chunk not written yet, with the file
/// at `cursor` and a cap of `maxbytes` (<= 0: never rotate). The rules:
/// - the file never grows past `maxbytes`, except to finish a line that began in it before
///   the cap and is shorter than the cap (so no such line is split between two files);
///   an unfinished line that crosses the cap is kept in the file while it is still shorter
///   than the cap, as its end may come in a later chunk; should it then reach the cap, the
///   file is rotated at once and so ends with fewer than `maxbytes` bytes of that line (a
///   file is never longer than its last line's start + `maxbytes` - 1);
/// - a line of `maxbytes` bytes or more is split: each file then holds `maxbytes` of it;
/// - a rotation happens only before bytes that must go to the next file (a file that reached
///   the cap exactly at a line end is rotated when the next byte comes), never on an empty
///   file; a file found past the cap at open whose unfinished line began past it is rotated
///   before the next byte.
/// Reads no more than the bytes up to the cap (or to the crossing line's end) of `rest`, and
/// none at all when `rest` fits.
/// After a Write, advance the cursor with advance_cursor(); after a Rotate, it is {0, 0}.
LogStep plan_log_step(LogCursor cursor, std::int64_t maxbytes, std::string_view rest);

/// The cursor after `written` was appended at `cursor` (scans `written` back to its last '\n').
LogCursor advance_cursor(LogCursor cursor, std::string_view written);

/// `<path>.<index>`: the name of a rotated backup (index >= 1).
std::string backup_path(const std::string& path, std::int64_t index);

}  // namespace zagent
