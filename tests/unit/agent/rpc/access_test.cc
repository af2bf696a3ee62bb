#include "agent/rpc/access.h"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace zagent {
namespace {

// A digest table instead of libcrypto (os/sha1.h, tested in tests/adapter/sha1_test.cc): the
// SHA-1 of "test" and of "".
std::optional<std::string> fake_sha1(std::string_view data) {
  if (data == "test") {
    return "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
  }
  if (data.empty()) {
    return "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  }
  return "0000000000000000000000000000000000000000";
}

TEST(PasswordMatches, PlainAndSha) {
  EXPECT_TRUE(password_matches("secret", "secret", fake_sha1));
  EXPECT_FALSE(password_matches("secret", "Secret", fake_sha1));
  EXPECT_FALSE(password_matches("secret", "", fake_sha1));
  EXPECT_TRUE(password_matches("", "", fake_sha1));
  EXPECT_TRUE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "test", fake_sha1));
  EXPECT_TRUE(password_matches("{SHA}A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "test", fake_sha1));
  EXPECT_FALSE(
      password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "Test", fake_sha1));
  EXPECT_FALSE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
                                "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", fake_sha1));
  EXPECT_TRUE(password_matches("{SHA}da39a3ee5e6b4b0d3255bfef95601890afd80709", "", fake_sha1));
  EXPECT_FALSE(password_matches("{SHA}", "x", fake_sha1));
  EXPECT_FALSE(password_matches("{SHA}not-hex", "x", fake_sha1));
}

TEST(PasswordMatches, ShaNeverMatchesWithoutADigest) {
  const std::string sha_of_test = "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
  EXPECT_FALSE(password_matches(sha_of_test, "test", nullptr));
  EXPECT_FALSE(password_matches(sha_of_test, "test",
                                [](std::string_view) { return std::optional<std::string>(); }));
  EXPECT_FALSE(password_matches("{SHA}", "test",
                                [](std::string_view) { return std::optional<std::string>(""); }));
  EXPECT_TRUE(password_matches("plain", "plain", nullptr));
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
  policy.sha1_hex = fake_sha1;
  EXPECT_TRUE(login_required(policy));
  EXPECT_TRUE(login_matches(policy, "admin", "test"));
  EXPECT_FALSE(login_matches(policy, "admin", "Test"));
  EXPECT_FALSE(login_matches(policy, "Admin", "test"));
  EXPECT_FALSE(login_matches(policy, "", ""));
}

}  // namespace
}  // namespace zagent
