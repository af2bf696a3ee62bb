#include "agent/os/proc_lineage.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <sstream>
#include <string_view>

#include "agent/monitor/proc_stat.h"

namespace zagent {
namespace {

std::optional<std::string> read_small(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > 64 * 1024) {
      break;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

std::optional<ProcessLineage::Entry> SystemProcessLineage::lookup(pid_t pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  const auto text = read_small(root_ + "/" + std::to_string(pid) + "/stat");
  if (!text) {
    return std::nullopt;
  }
  const auto st = parse_proc_stat(*text);
  if (!st) {
    return std::nullopt;
  }
  return Entry{st->ppid, st->starttime};
}

bool SystemProcessLineage::host_pid_namespace() {
  if (host_) {
    return *host_;
  }
  // `NSpid: 4242` in the host's namespace; `NSpid: 4242 17` (one pid per level) in a nested
  // one. Kernels before 4.1 have no NSpid line: taken as the host.
  bool host = true;
  if (const auto text = read_small(root_ + "/self/status")) {
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("NSpid:")) {
        std::istringstream fields(line.substr(6));
        int count = 0;
        for (std::string f; fields >> f;) {
          ++count;
        }
        host = count <= 1;
        break;
      }
    }
  }
  host_ = host;
  return host;
}

}  // namespace zagent
