#include "agent/rpc/peer.h"

#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace zagent {

std::optional<PeerCredentials> read_peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::nullopt;
  }
  return PeerCredentials{cred.uid, cred.gid, cred.pid};
}

bool in_supplementary_group(const PeerCredentials& peer, gid_t gid) {
  const int fd = ::open(fmt::format("/proc/{}/status", peer.pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  std::string text(16384, '\0');
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  const auto at = text.find("\nGroups:");
  if (at == std::string::npos) {
    return false;
  }
  const auto end = text.find('\n', at + 1);
  std::string_view groups(text.data() + at + 8, (end == std::string::npos ? text.size() : end) -
                                                     (at + 8));
  const std::string want = std::to_string(gid);
  std::size_t pos = 0;
  while (pos < groups.size()) {
    const std::size_t start = groups.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) {
      break;
    }
    const std::size_t stop = std::min(groups.find_first_of(" \t", start), groups.size());
    if (groups.substr(start, stop - start) == want) {
      return true;
    }
    pos = stop;
  }
  return false;
}

}  // namespace zagent
