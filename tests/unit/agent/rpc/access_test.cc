#include "agent/rpc/access.h"

#include <optional>
#include <set>
#include <utility>

#include <gtest/gtest.h>

namespace zagent {
namespace {

TEST(PasswordMatches, PlainAndSha) {
  EXPECT_TRUE(password_matches("secret", "secret"));
  EXPECT_FALSE(password_matches("secret", "Secret"));
  EXPECT_FALSE(password_matches("secret", ""));
  EXPECT_TRUE(password_matches("", ""));
  // SHA-1 of "test".
  EXPECT_TRUE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "test"));
  EXPECT_TRUE(password_matches("{SHA}A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "test"));
  EXPECT_FALSE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "Test"));
  EXPECT_FALSE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
                                "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"));
  // SHA-1 of "" (a digest of more than one 32-bit word with leading zeros).
  EXPECT_TRUE(password_matches("{SHA}da39a3ee5e6b4b0d3255bfef95601890afd80709", ""));
}

// Digests whose words have leading zeros and a multi-byte password; values from sha1sum.
TEST(PasswordMatches, ShaOfLongerPasswords) {
  // printf 'correct horse battery staple' | sha1sum
  EXPECT_TRUE(password_matches("{SHA}abf7aad6438836dbe526aa231abde2d0eef74d42",
                               "correct horse battery staple"));
  // printf 'caf\xc3\xa9' | sha1sum
  EXPECT_TRUE(password_matches("{SHA}f424452a9673918c6f09b0cdd35b20be8e6ae7d7", "caf\xc3\xa9"));
  EXPECT_FALSE(password_matches("{SHA}", "x"));
  EXPECT_FALSE(password_matches("{SHA}not-hex", "x"));
}


AccessPolicy policy_for(std::set<uid_t> uids, std::optional<gid_t> gid = std::nullopt) {
  AccessPolicy policy;
  policy.uids = std::move(uids);
  policy.gid = gid;
  return policy;
}

/// A supplementary-group lookup that records whether it was asked.
struct GroupLookup {
  std::set<gid_t> groups;
  int asked = 0;
  SupplementaryGroupCheck check() {
    return [this](const PeerCredentials&, gid_t gid) {
      ++asked;
      return groups.count(gid) > 0;
    };
  }
};

TEST(PeerRefusal, AllowedUidsPass) {
  GroupLookup lookup;
  const AccessPolicy policy = policy_for({0, 1000});
  EXPECT_EQ(peer_refusal(policy, PeerCredentials{0, 0, 10}, lookup.check()), std::nullopt);
  EXPECT_EQ(peer_refusal(policy, PeerCredentials{1000, 1000, 11}, lookup.check()), std::nullopt);
  EXPECT_EQ(lookup.asked, 0);
}

TEST(PeerRefusal, OtherUidIsRefusedWithItsUid) {
  GroupLookup lookup;
  EXPECT_EQ(peer_refusal(policy_for({0, 1000}), PeerCredentials{1001, 1001, 12}, lookup.check()),
            "uid 1001 may not control this agent");
  EXPECT_EQ(lookup.asked, 0);  // no group in the policy: nothing to look up
}

TEST(PeerRefusal, UnreadableCredentialsAreRefusedAsUidMinusOne) {
  GroupLookup lookup;
  EXPECT_EQ(peer_refusal(policy_for({0}, 50), std::nullopt, lookup.check()),
            "uid 4294967295 may not control this agent");
  EXPECT_EQ(lookup.asked, 0);
}

TEST(PeerRefusal, PrimaryGroupOfThePolicyPassesWithoutLookup) {
  GroupLookup lookup;
  EXPECT_EQ(peer_refusal(policy_for({0}, 50), PeerCredentials{1001, 50, 13}, lookup.check()),
            std::nullopt);
  EXPECT_EQ(lookup.asked, 0);
}

TEST(PeerRefusal, SupplementaryGroupIsLookedUpOnlyWhenNeeded) {
  GroupLookup lookup{{50}, 0};
  EXPECT_EQ(peer_refusal(policy_for({0}, 50), PeerCredentials{1001, 1001, 14}, lookup.check()),
            std::nullopt);
  EXPECT_EQ(lookup.asked, 1);
  lookup.groups = {51};
  EXPECT_EQ(peer_refusal(policy_for({0}, 50), PeerCredentials{1001, 1001, 14}, lookup.check()),
            "uid 1001 may not control this agent");
  EXPECT_EQ(lookup.asked, 2);
  // A peer whose primary gid does not match and no lookup at all: refused.
  EXPECT_EQ(peer_refusal(policy_for({0}, 50), PeerCredentials{1001, 1001, 14}, {}),
            "uid 1001 may not control this agent");
}

TEST(Login, NotRequiredWithoutUsername) {
  const AccessPolicy policy = policy_for({0});
  EXPECT_FALSE(login_required(policy));
  EXPECT_TRUE(login_matches(policy, "", ""));
  EXPECT_TRUE(login_matches(policy, "anyone", "anything"));
}

TEST(Login, NeedsBothUsernameAndPassword) {
  AccessPolicy policy = policy_for({0});
  policy.username = "admin";
  policy.password = "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";  // "test"
  EXPECT_TRUE(login_required(policy));
  EXPECT_TRUE(login_matches(policy, "admin", "test"));
  EXPECT_FALSE(login_matches(policy, "admin", "Test"));
  EXPECT_FALSE(login_matches(policy, "Admin", "test"));
  EXPECT_FALSE(login_matches(policy, "", ""));
}

}  // namespace
}  // namespace zagent
