// Who may use the control socket (DESIGN.md "The control socket"): the allowed peers and the
// optional login of `[unix_http_server] username=/password=`. Pure: the peer's credentials
// are read by the session (SO_PEERCRED) and handed in.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>

namespace zagent {

/// Who may call (DESIGN.md): root, the agent's own uid, the socket's chown= owner and group;
/// anyone else is refused. With a username configured, every connection must first call
/// zagent.login with the matching username and password (`{SHA}` + hex digest supported).
struct AccessPolicy {
  std::set<uid_t> uids;          ///< allowed peer uids
  std::optional<gid_t> gid;      ///< peers whose primary gid is this are allowed too
  std::string username;          ///< empty: no login needed
  std::string password;          ///< plain, or `{SHA}` + 40 hex digits
};

/// True if `given` matches the configured password: plain, or supervisord's `{SHA}` followed
/// by the hex SHA-1 of the password (either case).
bool password_matches(const std::string& configured, const std::string& given);

}  // namespace zagent
