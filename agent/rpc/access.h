// Who may use the control socket (DESIGN.md "The control socket"): the allowed peers and the
// optional login of `[unix_http_server] username=/password=`. Pure: the peer's credentials
// are read by the adapters (agent/rpc/peer.h, SO_PEERCRED) and handed in; the JSON-RPC
// session and a later HTTP front share these decisions.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace zagent {

/// Who may call (DESIGN.md): root, the agent's own uid, the socket's chown= owner and group;
/// anyone else is refused. With a username configured, every connection must first call
/// zagent.login with the matching username and password (`{SHA}` + hex digest supported).
/// The hex SHA-1 of a password, lower case; nullopt when it cannot be computed. The daemon
/// passes os/sha1.h's, which loads libcrypto at the first `{SHA}` login.
using Sha1Hex = std::function<std::optional<std::string>(std::string_view)>;

struct AccessPolicy {
  std::set<uid_t> uids;          ///< allowed peer uids
  std::optional<gid_t> gid;      ///< peers whose primary gid is this are allowed too
  std::string username;          ///< empty: no login needed
  std::string password;          ///< plain, or `{SHA}` + 40 hex digits
  Sha1Hex sha1_hex;              ///< for a `{SHA}` password; none: such a password never matches
};

/// The peer of a Unix socket connection as the kernel reports it (SO_PEERCRED).
struct PeerCredentials {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);  ///< primary group
  pid_t pid = 0;
};

/// Whether the peer has `gid` among its supplementary groups; asked only when the policy
/// names a group the peer's uid and primary gid do not already satisfy.
using SupplementaryGroupCheck = std::function<bool(const PeerCredentials& peer, gid_t gid)>;

/// The decision on a new connection: std::nullopt if `peer` may call, else the refusal text
/// for the client ("uid N may not control this agent"). `peer` is std::nullopt when the
/// credentials could not be read: refused, as uid -1.
std::optional<std::string> peer_refusal(const AccessPolicy& policy,
                                        const std::optional<PeerCredentials>& peer,
                                        const SupplementaryGroupCheck& in_supplementary_group);

/// True if calls need a login first (a username is configured).
bool login_required(const AccessPolicy& policy);

/// True if `username`/`password` log in under `policy` (always, when no login is required).
bool login_matches(const AccessPolicy& policy, const std::string& username,
                   const std::string& password);

/// True if `given` matches the configured password: plain, or supervisord's `{SHA}` followed
/// by the hex SHA-1 of the password (either case), computed with `sha1_hex`.
bool password_matches(const std::string& configured, const std::string& given,
                      const Sha1Hex& sha1_hex);

}  // namespace zagent
