#include "agent/logs/log_rotation.h"

#include <algorithm>
#include <cstring>

namespace zagent {

namespace {

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

}  // namespace zagent
