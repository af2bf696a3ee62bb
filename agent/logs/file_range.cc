#include "agent/logs/file_range.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace zagent {

Result<std::string> read_file_range(const std::string& path, std::int64_t offset,
                                    std::int64_t length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("open " + path, errno);
  }
  std::string out;
  char buf[65536];
  off_t pos = static_cast<off_t>(offset);
  while (length < 0 || static_cast<std::int64_t>(out.size()) < length) {
    std::size_t want = sizeof buf;
    if (length >= 0) {
      want = std::min<std::size_t>(want, static_cast<std::size_t>(length) - out.size());
    }
    const ssize_t n = ::pread(fd, buf, want, pos);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return errno_error("read " + path, err);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
    pos += n;
  }
  ::close(fd);
  return out;
}

FileState stat_file(const std::string& path) {
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return {true, static_cast<std::int64_t>(st.st_size)};
}

}  // namespace zagent
