#include "agent/rpc/access.h"

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

}  // namespace
}  // namespace zagent
