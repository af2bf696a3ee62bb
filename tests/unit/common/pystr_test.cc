#include "common/pystr.h"

#include <gtest/gtest.h>

namespace zagent {
namespace {

TEST(PyStr, ReprQuoting) {
  EXPECT_EQ(py_repr("abc"), "'abc'");
  EXPECT_EQ(py_repr("it's"), "\"it's\"");
  EXPECT_EQ(py_repr("both ' and \""), "'both \\' and \"'");
  EXPECT_EQ(py_repr("a\nb\tc\\"), "'a\\nb\\tc\\\\'");
  EXPECT_EQ(py_repr(std::string("\x01\x7f", 2)), "'\\x01\\x7f'");
  EXPECT_EQ(py_repr("caf\xc3\xa9"), "'caf\xc3\xa9'");
  EXPECT_EQ(py_repr(""), "''");
}

TEST(PyStr, StripAndLower) {
  EXPECT_EQ(py_strip("  a b \t\n"), "a b");
  EXPECT_EQ(py_strip(" \t "), "");
  EXPECT_EQ(ascii_lower("MixED-1"), "mixed-1");
}

TEST(PyStr, IntLikePython) {
  EXPECT_EQ(py_int("42"), 42);
  EXPECT_EQ(py_int("  -7 "), -7);
  EXPECT_EQ(py_int("+3"), 3);
  EXPECT_EQ(py_int("007"), 7);
  EXPECT_EQ(py_int("1_000"), 1000);
  EXPECT_EQ(py_int("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(py_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(py_int("9223372036854775808"), std::nullopt);
  for (const char* bad : {"", " ", "1__0", "_1", "1_", "1.5", "0x10", "abc", "-", "1 2"}) {
    EXPECT_EQ(py_int(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace zagent
