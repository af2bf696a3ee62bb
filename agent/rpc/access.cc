#include "agent/rpc/access.h"

#include <openssl/evp.h>

#include <array>

#include <fmt/format.h>

#include "common/pystr.h"

namespace zagent {

namespace {

// The lower-case hex SHA-1 of `data`, or "" should the digest fail (then nothing matches).
std::string sha1_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

}  // namespace

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
         (username == policy.username && password_matches(policy.password, password));
}

bool password_matches(const std::string& configured, const std::string& given) {
  // supervisord compat: http.encrypted_dictionary_authorizer, `{SHA}` + sha1(given).hexdigest().
  if (configured.starts_with("{SHA}")) {
    const std::string digest = sha1_hex(given);
    return !digest.empty() && ascii_lower(configured.substr(5)) == digest;
  }
  return configured == given;
}

}  // namespace zagent
