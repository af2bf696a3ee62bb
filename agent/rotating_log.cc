#include "agent/rotating_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace zagent {

namespace {

// How far back from the end open_file() looks for the last '\n' of an existing file.
constexpr std::int64_t kTailWindow = std::int64_t{64} * 1024;

// Offset of the last '\n' in the first `n` bytes of `data`, or -1.
std::int64_t last_newline(std::string_view data, std::int64_t n) {
  if (n <= 0) {
    return -1;
  }
  const void* p = ::memrchr(data.data(), '\n', static_cast<std::size_t>(n));
  return p == nullptr ? -1 : static_cast<const char*>(p) - data.data();
}

// Offset of the first '\n' in data[from, to), or -1.
std::int64_t first_newline(std::string_view data, std::int64_t from, std::int64_t to) {
  if (to <= from) {
    return -1;
  }
  const void* p = std::memchr(data.data() + from, '\n', static_cast<std::size_t>(to - from));
  return p == nullptr ? -1 : static_cast<const char*>(p) - data.data();
}

LogStep write_step(std::int64_t length) {
  return LogStep{LogStep::Kind::Write, static_cast<std::size_t>(length)};
}

constexpr LogStep kRotate{LogStep::Kind::Rotate, 0};

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
      const std::int64_t nl = last_newline(std::string_view(buf.get(), want), want);
      partial = nl < 0 ? want : want - (nl + 1);
    }
  }
  ::close(rfd);
  return partial;
}

}  // namespace

LogStep plan_log_step(LogCursor cursor, std::int64_t maxbytes, std::string_view rest) {
  const auto n = static_cast<std::int64_t>(rest.size());
  if (maxbytes <= 0) {
    return write_step(n);
  }
  const std::int64_t room = maxbytes - cursor.size;  // <= 0 once the file is at or past the cap
  if (n <= room) {
    // The common case, and the only one on the hot path: no scan at all. A file that reaches
    // the cap exactly is rotated when the next byte comes, not now.
    return write_step(n);
  }
  // The chunk crosses the cap: cut after the last line that still fits.
  if (const std::int64_t nl = last_newline(rest, room); nl >= 0) {
    return write_step(nl + 1);
  }
  // No line ends before the cap. The bytes up to it (if any) belong to the file's unfinished
  // line, or start a new one when the file ends at a line boundary.
  if (cursor.partial <= 0) {
    if (cursor.size > 0) {
      return kRotate;  // the next line does not fit: it starts the next file
    }
    return write_step(room);  // an empty file and no '\n' within the cap: a long line
  }
  const std::int64_t line_start = std::max<std::int64_t>(0, cursor.size - cursor.partial);
  if (line_start >= maxbytes) {
    // Only a file found that way at open: its unfinished line began past the cap already.
    return kRotate;
  }
  // The line began before the cap. It stays in this file if it is shorter than the cap, that
  // is, if its '\n' comes within the next `limit` bytes. Bytes before `room` were searched.
  const std::int64_t limit = maxbytes - 1 - cursor.partial;
  if (const std::int64_t nl =
          first_newline(rest, std::max<std::int64_t>(room, 0), std::min(n, limit));
      nl >= 0) {
    return write_step(nl + 1);  // finish the line past the cap; the next byte rotates
  }
  if (n < limit) {
    // Not finished yet, but still shorter than the cap: it may end in a later chunk, so it
    // is written here too (tentatively: should it reach the cap, the branch below rotates).
    return write_step(n);
  }
  // The line is at least `maxbytes` long: it is split, filling this file up to the cap.
  return room > 0 ? write_step(room) : kRotate;
}

LogCursor advance_cursor(LogCursor cursor, std::string_view written) {
  const auto n = static_cast<std::int64_t>(written.size());
  // memrchr stops at the last '\n', so for text this reads about one line, not the chunk.
  const std::int64_t nl = last_newline(written, n);
  return LogCursor{cursor.size + n, nl < 0 ? cursor.partial + n : n - (nl + 1)};
}

std::string backup_path(const std::string& path, std::int64_t index) {
  return path + "." + std::to_string(index);
}

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
  const int fd = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
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
