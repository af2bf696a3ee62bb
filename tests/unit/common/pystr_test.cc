#include "common/pystr.h"

#include <gtest/gtest.h>

namespace zagent {
namespace {

// Expected texts are Python 3's repr(bytes) and bytes.decode('utf-8') outcomes.
TEST(PyStr, BytesRepr) {
  EXPECT_EQ(py_bytes_repr("abc"), "b'abc'");
  EXPECT_EQ(py_bytes_repr("it's"), "b\"it's\"");
  EXPECT_EQ(py_bytes_repr(std::string_view("\xff\x00\n\x7f\xc3\xa9", 6)),
            "b'\\xff\\x00\\n\\x7f\\xc3\\xa9'");
  EXPECT_EQ(py_bytes_repr(""), "b''");
}

TEST(PyStr, Utf8Validity) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8("plain ascii\n"));
  EXPECT_TRUE(is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_utf8("\xff"));
  EXPECT_FALSE(is_utf8("\xc3"));              // cut short
  EXPECT_FALSE(is_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(is_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8("a\x80" "b"));         // a lone continuation byte
}

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
