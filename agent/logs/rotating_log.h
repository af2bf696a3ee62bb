// A child's log file (spec/logging.md §2.3): a byte copy of the program's output with size
// rotation `.1` … `.N`, cut at a line boundary whenever the line is shorter than the cap.
// The planning of where a rotation falls is pure (log_rotation.h); RotatingLog is the adapter
// that carries the plan out on a real file. Used on the agent's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/logs/log_rotation.h"
#include "common/error.h"

namespace zagent {

struct RotatingLogOptions {
  std::string path;              ///< the current file
  std::int64_t maxbytes = 0;     ///< rotate at this size; <= 0: never
  std::int64_t backups = 0;      ///< rotated files kept; 0: truncate the file instead
};

/// The adapter: one open log file. Writing never throws and never blocks the agent for
/// long; a failure (open, write, rotate: ENOSPC, EFBIG, EACCES, ...) drops the bytes that
/// could not be written, is kept in error(), and every later write tries again (opening the
/// file again if needed), so writing resumes by itself once space or access comes back.
class RotatingLog {
 public:
  /// Called whenever error() changes: the new error, or nullopt when writing works again
  /// (also from the constructor when the first open fails). Must not throw.
  using ErrorListener = std::function<void(const std::optional<Error>&)>;

  /// Opens (creates with the agent's umask, appends to; never truncates) the file. A failure
  /// to open is not fatal: it is kept in error() and retried at the next write.
  explicit RotatingLog(RotatingLogOptions options, ErrorListener on_error = {});
  ~RotatingLog();
  RotatingLog(const RotatingLog&) = delete;
  RotatingLog& operator=(const RotatingLog&) = delete;

  /// Appends `chunk` exactly, rotating per plan_log_step. A write() without any failure
  /// clears error(). A failed rotation keeps the bytes: the rest of the chunk goes to the
  /// unrotated file and the rotation is tried again at the next write.
  void write(std::string_view chunk);
  /// Closes and reopens the file in append mode (SIGUSR2: after an external logrotate).
  /// Success clears error() (a fresh start; the next write sets it again if still failing).
  /// Error (Io): `open PATH: strerror`, also kept in error().
  Result<void> reopen();
  /// Closes, deletes and opens a new empty file (clearProcessLogs); backups are untouched.
  /// A file that is already gone is not an error. Success of the open clears error().
  /// Errors (Io): `open PATH: ...` (kept in error()); `remove PATH: ...` (the old file is
  /// opened again and used, error() is cleared).
  Result<void> clear();

  const std::string& path() const { return options_.path; }
  const RotatingLogOptions& options() const { return options_; }
  /// The current failure, e.g. `write /x/out.log: No space left on device`; nullopt while
  /// writing works.
  const std::optional<Error>& error() const { return error_; }
  /// Where the current file stands (size and unfinished line), as tracked by the writer.
  LogCursor cursor() const { return cursor_; }

 private:
  bool open_file();
  void close_file();
  bool rotate();
  bool write_fully(std::string_view data);
  void set_error(std::optional<Error> error);

  RotatingLogOptions options_;   // as given; never changes
  ErrorListener on_error_;       // told of every change of error_; may be empty
  int fd_ = -1;                  // the open file; -1 when closed (open failed)
  std::int64_t backups_seen_ = -1;  // backups .1 .. .K known to exist; -1: not looked yet
  LogCursor cursor_;             // the current file's size and unfinished line
  std::optional<Error> error_;   // see error()
};

}  // namespace zagent
