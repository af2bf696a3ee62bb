#include "agent/rpc/access.h"

#include <fmt/format.h>

#include "common/pystr.h"

namespace zagent {

std::optional<std::string> peer_refusal(const AccessPolicy& policy,
                                        const std::optional<PeerCredentials>& peer,
                                        const SupplementaryGroupCheck& in_supplementary_group) {
  if (peer) {
    if (policy.uids.count(peer->uid) > 0) {
      return std::nullopt;
    }
    if (policy.gid && (*policy.gid == peer->gid ||
                       (in_supplementary_group && in_supplementary_group(*peer, *policy.gid)))) {
      return std::nullopt;
    }
  }
  const uid_t uid = peer ? peer->uid : static_cast<uid_t>(-1);
  return fmt::format("uid {} may not control this agent", uid);
}

bool login_required(const AccessPolicy& policy) { return !policy.username.empty(); }

bool login_matches(const AccessPolicy& policy, const std::string& username,
                   const std::string& password) {
  return !login_required(policy) ||
         (username == policy.username &&
          password_matches(policy.password, password, policy.sha1_hex));
}

bool password_matches(const std::string& configured, const std::string& given,
                      const Sha1Hex& sha1_hex) {
  // supervisord compat: http.encrypted_dictionary_authorizer, `{SHA}` + sha1(given).hexdigest().
  if (configured.starts_with("{SHA}")) {
    const std::optional<std::string> digest = sha1_hex ? sha1_hex(given) : std::nullopt;
    return digest && !digest->empty() && ascii_lower(configured.substr(5)) == *digest;
  }
  return configured == given;
}

}  // namespace zagent
