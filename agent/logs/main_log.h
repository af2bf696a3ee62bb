// The agent's main log as supervisord 4.2.5 writes it (spec/logging.md §1): record format,
// level filter, a file with size rotation or syslog, an optional copy to stdout. An adapter:
// it makes system calls; the record text itself comes from the pure log_format.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/logs/log_format.h"
#include "agent/process/clock.h"
#include "agent/process/log_sink.h"
#include "common/datatypes.h"
#include "common/error.h"

namespace zagent {

struct MainLogOptions {
  std::string path;                                 ///< a file path, or kSyslogTarget
  std::int64_t maxbytes = kDefaultMainLogMaxBytes;  ///< rotate at this size; <= 0: never
  std::int64_t backups = 10;                        ///< rotated files kept; 0: truncate instead
  LogLevel level = LogLevel::Info;                  ///< minimum level written
  bool also_stdout = false;  ///< copy each record to fd 1 (nodaemon and not silent)
};

/// The main log. Used on the event-loop thread only. Writing never throws and never stops
/// the agent: a failed write, open or rotation is kept in last_error() and the file is opened
/// again on the next record if it had to be closed.
class MainLog final : public LogSink {
 public:
  /// Opens (creates, appends to; never truncates) the file, or opens syslog, then writes
  /// `startup_notes` in startup_notes_in_log_order(). `clock` must outlive the log.
  /// Error (Io): `could not open log file <path>: <strerror>`.
  static Result<std::unique_ptr<MainLog>> open(const MainLogOptions& options, Clock& clock,
                                               std::vector<ConfigNote> startup_notes = {});

  ~MainLog() override;
  MainLog(const MainLog&) = delete;
  MainLog& operator=(const MainLog&) = delete;

  /// Writes one record (time from the clock) to stdout if asked, then to the file or syslog,
  /// then rotates the file if it has reached maxbytes (supervisord's RotatingFileHandler).
  void log(LogLevel level, std::string_view text) override;
  bool enabled(LogLevel level) const override;

  /// Writes parse-time notes now, in startup_notes_in_log_order() (each filtered by level).
  void add_startup_notes(std::vector<ConfigNote> notes);

  /// Closes and reopens the file in append mode (SIGUSR2, external logrotate); a no-op for
  /// syslog. Error (Io): `could not open log file <path>: <strerror>`, also kept in last_error().
  Result<void> reopen();

  /// Deletes the file and opens a new empty one (clearLog RPC). Errors: NotFound if there is
  /// no file (or the target is syslog), Io if it cannot be removed or opened again.
  Result<void> clear();

  /// Called with each record written to the file (zagent.followMainLog); none by default.
  void set_listener(std::function<void(std::string_view record)> listener) {
    listener_ = std::move(listener);
  }

  /// The configured target: a path or "syslog".
  const std::string& path() const { return options_.path; }
  /// The most recent failure to write, open or rotate; not cleared by later successes.
  const std::optional<Error>& last_error() const { return last_error_; }

 private:
  MainLog(const MainLogOptions& options, Clock& clock);

  bool is_syslog() const;
  Result<void> open_file(bool truncate);
  void close_file();
  void write_file(std::string_view record);
  void rotate_if_needed();
  void write_record(LogLevel level, std::string_view text);

  MainLogOptions options_;           // as given; never changes
  Clock& clock_;                     // record times (wall clock)
  int fd_ = -1;                      // the open log file; -1 when closed or syslog
  std::optional<Error> last_error_;  // see last_error()
  std::function<void(std::string_view)> listener_;  // see set_listener()
};

}  // namespace zagent
