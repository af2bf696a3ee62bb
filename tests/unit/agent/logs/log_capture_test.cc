// The pure part of the log capture: supervisord's strip_ansi filter. Expected results are
// those of supervisord 4.2.5's stripEscapes() on the same bytes.
#include "agent/logs/log_format.h"

#include <gtest/gtest.h>

namespace zagent {
namespace {

TEST(StripAnsiEscapes, RemovesColourAndCursorSequences) {
  EXPECT_EQ(strip_ansi_escapes("plain text\n"), "plain text\n");
  EXPECT_EQ(strip_ansi_escapes("\x1b[31mred\x1b[0m done\n"), "red done\n");
  EXPECT_EQ(strip_ansi_escapes("a\x1b[2Kb\x1b[1;1Hc"), "abc");
  EXPECT_EQ(strip_ansi_escapes("\x1b[?25l" "hidden cursor"), "hidden cursor");
  EXPECT_EQ(strip_ansi_escapes(""), "");
}

TEST(StripAnsiEscapes, QuirksKeptFromSupervisord) {
  // A sequence cut by the end of the chunk is dropped to the end.
  EXPECT_EQ(strip_ansi_escapes("ok\x1b[38;5;12"), "ok");
  // Only ESC [ starts a sequence; a lone ESC stays.
  EXPECT_EQ(strip_ansi_escapes("a\x1b" "b"), "a\x1b" "b");
  // The first terminator letter ends it, whatever the sequence really was.
  EXPECT_EQ(strip_ansi_escapes("\x1b[1;2Xyz mtail"), "tail");
  // Invalid UTF-8 and NUL bytes outside sequences pass through.
  EXPECT_EQ(strip_ansi_escapes(std::string_view("\xff\x00\x1b[0mz", 7)),
            std::string_view("\xff\x00z", 3));
}

}  // namespace
}  // namespace zagent
