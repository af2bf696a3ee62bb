#include "agent/logs/rotating_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "agent/os/fd_range.h"

namespace zagent {

namespace {

// How far back from the end open_file() looks for the last '\n' of an existing file.
constexpr std::int64_t kTailWindow = std::int64_t{64} * 1024;

// The unfinished line at the end of the regular file that `fd` (write-only) has open:
// the bytes after the last '\n' among its last kTailWindow bytes. `fd` cannot be read, so
// the path is opened again for reading; if that is not the same file any more, or cannot be
// read, the file is taken to end at a line boundary (the worst outcome is one line split by
// the next rotation).
std::int64_t unfinished_line(const std::string& path, const struct stat& st) {
  const std::int64_t size = st.st_size;
  if (size <= 0) {
    return 0;
  }
  // O_NONBLOCK: should the path have become a FIFO meanwhile, do not wait for a writer.
  const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (rfd < 0) {
    return 0;
  }
  std::int64_t partial = 0;
  struct stat rst {};
  if (::fstat(rfd, &rst) == 0 && rst.st_dev == st.st_dev && rst.st_ino == st.st_ino) {
    const std::int64_t want = std::min(size, kTailWindow);
    const auto buf = std::make_unique<char[]>(static_cast<std::size_t>(want));
    ssize_t got;
    do {
      got = ::pread(rfd, buf.get(), static_cast<std::size_t>(want), size - want);
    } while (got < 0 && errno == EINTR);
    if (got == want) {
      partial = advance_cursor(LogCursor{}, std::string_view(buf.get(), want)).partial;
    }
  }
  ::close(rfd);
  return partial;
}

}  // namespace

RotatingLog::RotatingLog(RotatingLogOptions options, ErrorListener on_error)
    : options_(std::move(options)), on_error_(std::move(on_error)) {
  (void)open_file();
}

RotatingLog::~RotatingLog() { close_file(); }

void RotatingLog::write(std::string_view chunk) {
  if (chunk.empty()) {
    return;
  }
  if (fd_ < 0 && !open_file()) {
    return;  // the chunk is lost; the open is tried again at the next write
  }
  bool failed = false;
  std::int64_t maxbytes = options_.maxbytes;
  while (!chunk.empty()) {
    const LogStep step = plan_log_step(cursor_, maxbytes, chunk);
    if (step.kind == LogStep::Kind::Rotate) {
      if (!rotate()) {
        failed = true;
        if (fd_ < 0) {
          return;  // the new file could not be opened: the rest of the chunk is lost
        }
        // Keep the bytes: the rest of this chunk goes to the unrotated file, and the plan
        // asks for the rotation again at the next write.
        maxbytes = 0;
      }
      continue;
    }
    if (!write_fully(chunk.substr(0, step.length))) {
      return;  // what was written stays; the rest of the chunk is dropped
    }
    chunk.remove_prefix(step.length);
  }
  if (!failed) {
    set_error(std::nullopt);
  }
}

Result<void> RotatingLog::reopen() {
  close_file();
  backups_seen_ = -1;  // an external rotation may have made backups of its own
  if (!open_file()) {
    return *error_;
  }
  set_error(std::nullopt);
  return {};
}

Result<void> RotatingLog::clear() {
  close_file();
  // supervisord compat: FileHandler.remove() ignores a file that is already gone.
  std::optional<Error> removed;
  if (::unlink(options_.path.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    removed = errno_error("remove " + options_.path, err);
  }
  if (!open_file()) {
    return *error_;
  }
  set_error(std::nullopt);
  if (removed) {
    return *removed;  // the old file was opened again: logging goes on, uncleared
  }
  return {};
}

bool RotatingLog::open_file() {
  // supervisord compat: the child log is opened in append mode ('ab'), never truncated;
  // O_CLOEXEC keeps it out of the children, 0666 leaves the mode to the agent's umask.
  // In the agent's descriptor range: the low numbers are kept for the spawns' children.
  const int fd = move_to_agent_range(
      ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666));
  if (fd < 0) {
    const int err = errno;
    set_error(errno_error("open " + options_.path, err));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    set_error(errno_error("stat " + options_.path, err));
    return false;
  }
  fd_ = fd;
  cursor_ =
      S_ISREG(st.st_mode) ? LogCursor{st.st_size, unfinished_line(options_.path, st)} : LogCursor{};
  return true;
}

void RotatingLog::close_file() {
  if (fd_ >= 0) {
    // Not retried on EINTR: on Linux the descriptor is released either way.
    ::close(fd_);
    fd_ = -1;
  }
}

bool RotatingLog::rotate() {
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode)) {
    // `/dev/stdout`, a FIFO, a terminal: there is nothing to rename or truncate (and as root
    // renaming /dev/stdout would succeed). supervisord compat: its doRollover() fails on
    // tell() of a pipe ("Illegal seek"), so such a log never rotates there either.
    cursor_ = LogCursor{};
    return true;
  }
  if (options_.backups <= 0) {
    // supervisord compat: backups=0 empties the file and goes on writing at offset 0
    // (O_APPEND puts the next write there).
    if (::ftruncate(fd_, 0) != 0) {
      const int err = errno;
      set_error(errno_error("truncate " + options_.path, err));
      return false;
    }
    cursor_ = LogCursor{};
    return true;
  }
  // supervisord compat: RotatingFileHandler.doRollover(). rename() replaces its destination,
  // so `.N` (the oldest) is dropped by `.N-1` -> `.N`; a missing backup is skipped, and a
  // current file renamed away by someone else (logrotate) is simply not there to move.
  // Only the backups that exist are shifted: they are counted once (.1, .2, ... up to the
  // first missing one), then kept count of, so that a rotation costs K renames, not N.
  if (backups_seen_ < 0) {
    backups_seen_ = 0;
    struct stat bst {};
    while (backups_seen_ < options_.backups &&
           ::stat(backup_path(options_.path, backups_seen_ + 1).c_str(), &bst) == 0) {
      ++backups_seen_;
    }
  }
  const std::int64_t top = std::min(backups_seen_ + 1, options_.backups);
  for (std::int64_t i = top; i >= 1; --i) {
    const std::string from = i == 1 ? options_.path : backup_path(options_.path, i - 1);
    const std::string to = backup_path(options_.path, i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      std::string what = "rename ";
      what.append(from).append(" to ").append(to);
      set_error(errno_error(std::move(what), err));
      backups_seen_ = -1;  // count again next time
      return false;
    }
  }
  backups_seen_ = top;
  close_file();
  return open_file();
}

bool RotatingLog::write_fully(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n <= 0) {
      // write() returns 0 only for an empty request; take it as EIO rather than spin.
      const int err = n == 0 ? EIO : errno;
      if (err == EINTR) {
        continue;
      }
      set_error(errno_error("write " + options_.path, err));
      return false;
    }
    // A short write (RLIMIT_FSIZE, a full disk) is followed by a failing one: the cursor
    // counts exactly the bytes that are in the file.
    const auto written = static_cast<std::size_t>(n);
    cursor_ = advance_cursor(cursor_, data.substr(0, written));
    data.remove_prefix(written);
  }
  return true;
}

void RotatingLog::set_error(std::optional<Error> error) {
  if (error == error_) {
    return;
  }
  error_ = std::move(error);
  if (on_error_) {
    on_error_(error_);
  }
}

}  // namespace zagent
