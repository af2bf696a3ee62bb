// os/sha1.h against the real libcrypto (loaded at the first call), and {SHA} passwords with
// it; digests from sha1sum.
#include "agent/os/sha1.h"

#include <gtest/gtest.h>

#include "agent/rpc/access.h"

namespace zagent {
namespace {

TEST(Sha1Hex, KnownDigests) {
  EXPECT_EQ(sha1_hex("test"), "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
  // A digest with a leading zero byte in a 32-bit word.
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // printf 'correct horse battery staple' | sha1sum
  EXPECT_EQ(sha1_hex("correct horse battery staple"), "abf7aad6438836dbe526aa231abde2d0eef74d42");
  // printf 'caf\xc3\xa9' | sha1sum
  EXPECT_EQ(sha1_hex("caf\xc3\xa9"), "f424452a9673918c6f09b0cdd35b20be8e6ae7d7");
}

TEST(Sha1Hex, ShaPasswordsMatchWithTheRealDigest) {
  EXPECT_TRUE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "test", sha1_hex));
  EXPECT_TRUE(password_matches("{SHA}A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "test", sha1_hex));
  EXPECT_FALSE(password_matches("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "Test", sha1_hex));
}

}  // namespace
}  // namespace zagent
