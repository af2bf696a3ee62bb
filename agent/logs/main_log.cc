#include "agent/logs/main_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

namespace zagent {

namespace {

// Writes all of `data`, resuming after EINTR and short writes. Returns 0 or the errno.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// supervisord compat: RotatingFileHandler.removeAndRename(); a destination or source that is
// already gone (another process cleaned up) is not an error.
Result<void> remove_and_rename(const std::string& from, const std::string& to) {
  if (::unlink(to.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    return errno_error("rotate log file: remove " + to, err);
  }
  if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    return errno_error("rotate log file: rename " + from + " to " + to, err);
  }
  return {};
}

}  // namespace

MainLog::MainLog(const MainLogOptions& options, Clock& clock) : options_(options), clock_(clock) {}

MainLog::~MainLog() { close_file(); }

Result<std::unique_ptr<MainLog>> MainLog::open(const MainLogOptions& options, Clock& clock,
                                               std::vector<ConfigNote> startup_notes) {
  std::unique_ptr<MainLog> log(new MainLog(options, clock));
  if (log->is_syslog()) {
    // supervisord compat: Python's syslog module opens with ident = basename(argv[0]),
    // no options, LOG_USER; a null ident gives glibc's program name, the same thing.
    ::openlog(nullptr, 0, LOG_USER);
  } else if (auto opened = log->open_file(false); !opened) {
    return opened.error();
  }
  log->add_startup_notes(std::move(startup_notes));
  return log;
}

bool MainLog::enabled(LogLevel level) const { return level_enabled(options_.level, level); }

void MainLog::log(LogLevel level, std::string_view text) {
  if (!enabled(level)) {
    return;
  }
  write_record(level, text);
}

void MainLog::add_startup_notes(std::vector<ConfigNote> notes) {
  for (const ConfigNote& note : startup_notes_in_log_order(std::move(notes))) {
    log(note.level, note.text);
  }
}

Result<void> MainLog::reopen() {
  if (is_syslog()) {
    return {};
  }
  close_file();
  return open_file(false);
}

Result<void> MainLog::clear() {
  if (is_syslog()) {
    return fail("clear log file: the main log goes to syslog", ErrorCode::NotFound);
  }
  if (::unlink(options_.path.c_str()) != 0) {
    const int err = errno;
    Error error = errno_error("clear log file " + options_.path, err);
    if (err == ENOENT) {
      error.code = ErrorCode::NotFound;
    }
    return error;
  }
  close_file();
  return open_file(false);
}

bool MainLog::is_syslog() const { return options_.path == kSyslogTarget; }

Result<void> MainLog::open_file(bool truncate) {
  // supervisord compat: FileHandler opens with 'ab' (never truncates, also on reopen); only
  // a rollover opens with 'wb'. O_CLOEXEC keeps the log out of the children.
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  const int fd = ::open(options_.path.c_str(), flags, 0666);
  if (fd < 0) {
    const int err = errno;
    Error error = errno_error("could not open log file " + options_.path, err);
    last_error_ = error;
    return error;
  }
  fd_ = fd;
  return {};
}

void MainLog::close_file() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void MainLog::write_file(std::string_view record) {
  if (const int err = write_all(fd_, record); err != 0) {
    last_error_ = errno_error("write log file " + options_.path, err);
  }
}

void MainLog::rotate_if_needed() {
  // supervisord compat: RotatingFileHandler.doRollover(), run after every record, even one
  // whose write failed.
  if (options_.maxbytes <= 0 || fd_ < 0) {
    return;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    last_error_ = errno_error("rotate log file: stat " + options_.path, err);
    return;
  }
  if (st.st_size < options_.maxbytes) {
    return;
  }
  close_file();
  if (options_.backups > 0) {
    Result<void> moved;
    for (std::int64_t i = options_.backups - 1; i > 0 && moved; --i) {
      const std::string from = options_.path + "." + std::to_string(i);
      if (path_exists(from)) {
        moved = remove_and_rename(from, options_.path + "." + std::to_string(i + 1));
      }
    }
    if (moved) {
      moved = remove_and_rename(options_.path, options_.path + ".1");
    }
    if (!moved) {
      // supervisord would leave its stream closed here; keep logging to the unrotated file.
      last_error_ = moved.error();
      (void)open_file(false);
      return;
    }
  }
  (void)open_file(true);
}

void MainLog::write_record(LogLevel level, std::string_view text) {
  // supervisord compat: one LogRecord time for all handlers; the stdout handler is added
  // before the file handler.
  const std::string record = format_record(clock_.wall_now(), level, text);
  if (options_.also_stdout) {
    if (const int err = write_all(STDOUT_FILENO, record); err != 0) {
      last_error_ = errno_error("write log record to stdout", err);
    }
  }
  if (is_syslog()) {
    for (const std::string_view line : syslog_lines(text)) {
      // supervisord compat: syslog.syslog(msg) with Python's default priority LOG_INFO,
      // whatever the record's level; format `%(message)s`.
      ::syslog(LOG_INFO, "%.*s", static_cast<int>(line.size()), line.data());
    }
    return;
  }
  // A file that could not be reopened (after a rotation or reopen) is retried per record.
  if (fd_ < 0 && !open_file(false)) {
    return;
  }
  write_file(record);
  if (listener_) {
    listener_(record);  // maintail -f followers
  }
  rotate_if_needed();
}

}  // namespace zagent
