// The main log's pure parts: record text, level filter, startup-note order, syslog lines.
// No files and no real clock; the time zone is set per test (TZ) and restored afterwards.
#include "agent/logs/log_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace zagent {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-11-24 14:16:01 UTC.
WallTime at(std::chrono::nanoseconds after = {}) {
  return WallTime{std::chrono::sys_days{std::chrono::November / 24 / 2026} + hours(14) +
                  minutes(16) + seconds(1)} +
         std::chrono::duration_cast<WallTime::duration>(after);
}

class MainLogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = ::getenv("TZ")) {
      saved_tz_ = tz;
    }
    use_tz("UTC0");
  }
  void TearDown() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  static void use_tz(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
  }

 private:
  std::optional<std::string> saved_tz_;
};

TEST_F(MainLogFormatTest, MatchesSupervisordLine) {
  EXPECT_EQ(format_record(at(milliseconds(936)), LogLevel::Info, "spawned: 'ok' with pid 6295"),
            "2026-11-24 14:16:01,936 INFO spawned: 'ok' with pid 6295\n");
}

TEST_F(MainLogFormatTest, EachLevelHasItsTag) {
  struct Row {
    LogLevel level;
    const char* line;
  };
  const Row rows[] = {
      {LogLevel::Critical, "2026-11-24 14:16:01,000 CRIT x\n"},
      {LogLevel::Error, "2026-11-24 14:16:01,000 ERRO x\n"},
      {LogLevel::Warn, "2026-11-24 14:16:01,000 WARN x\n"},
      {LogLevel::Info, "2026-11-24 14:16:01,000 INFO x\n"},
      {LogLevel::Debug, "2026-11-24 14:16:01,000 DEBG x\n"},
      {LogLevel::Trace, "2026-11-24 14:16:01,000 TRAC x\n"},
      {LogLevel::Blather, "2026-11-24 14:16:01,000 BLAT x\n"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(format_record(at(), row.level, "x"), row.line);
  }
}

TEST_F(MainLogFormatTest, MillisecondsAreTruncatedNotRounded) {
  EXPECT_EQ(format_record(at(microseconds(999'999)), LogLevel::Info, "m"),
            "2026-11-24 14:16:01,999 INFO m\n");
  EXPECT_EQ(format_record(at(microseconds(500)), LogLevel::Info, "m"),
            "2026-11-24 14:16:01,000 INFO m\n");
  EXPECT_EQ(format_record(at(microseconds(7'999)), LogLevel::Info, "m"),
            "2026-11-24 14:16:01,007 INFO m\n");
}

TEST_F(MainLogFormatTest, DateRollsOverAtMidnight) {
  const WallTime just_before = WallTime{std::chrono::sys_days{std::chrono::December / 31 / 2026}} +
                               hours(23) + minutes(59) + seconds(59) + milliseconds(999);
  EXPECT_EQ(format_record(just_before, LogLevel::Info, "a"), "2026-12-31 23:59:59,999 INFO a\n");
  EXPECT_EQ(format_record(just_before + milliseconds(1), LogLevel::Info, "b"),
            "2027-01-01 00:00:00,000 INFO b\n");
}

TEST_F(MainLogFormatTest, UsesLocalTime) {
  use_tz("XST-5:30");  // POSIX form: 5h30 east of UTC, no tz database needed
  EXPECT_EQ(format_record(at(milliseconds(12)), LogLevel::Warn, "w"),
            "2026-11-24 19:46:01,012 WARN w\n");
  use_tz("XST8");  // 8h west of UTC
  EXPECT_EQ(format_record(at(), LogLevel::Warn, "w"), "2026-11-24 06:16:01,000 WARN w\n");
}

TEST_F(MainLogFormatTest, MultiLineMessageIsWrittenAsItIs) {
  // The debug copy of child output keeps the chunk's own newline: an empty line follows.
  EXPECT_EQ(format_record(at(milliseconds(846)), LogLevel::Debug,
                          "'asuser' stdout output:\nuid=65534(nobody) gid=65534(nogroup)\n"),
            "2026-11-24 14:16:01,846 DEBG 'asuser' stdout output:\n"
            "uid=65534(nobody) gid=65534(nogroup)\n\n");
}

TEST_F(MainLogFormatTest, EmptyMessage) {
  EXPECT_EQ(format_record(at(), LogLevel::Info, ""), "2026-11-24 14:16:01,000 INFO \n");
}

TEST(MainLogLevelTest, WrittenWhenAtOrAboveConfiguredLevel) {
  EXPECT_TRUE(level_enabled(LogLevel::Info, LogLevel::Info));
  EXPECT_TRUE(level_enabled(LogLevel::Info, LogLevel::Warn));
  EXPECT_TRUE(level_enabled(LogLevel::Info, LogLevel::Critical));
  EXPECT_FALSE(level_enabled(LogLevel::Info, LogLevel::Debug));
  EXPECT_FALSE(level_enabled(LogLevel::Info, LogLevel::Blather));
  EXPECT_TRUE(level_enabled(LogLevel::Blather, LogLevel::Blather));
  EXPECT_TRUE(level_enabled(LogLevel::Blather, LogLevel::Trace));
  EXPECT_FALSE(level_enabled(LogLevel::Debug, LogLevel::Trace));
  EXPECT_FALSE(level_enabled(LogLevel::Critical, LogLevel::Error));
  EXPECT_TRUE(level_enabled(LogLevel::Critical, LogLevel::Critical));
}

TEST(MainLogStartupNotesTest, CriticalThenWarningsThenInfosInFoundOrder) {
  const std::vector<ConfigNote> found = {
      {LogLevel::Info, "Included extra file \"/a.conf\" during parsing"},
      {LogLevel::Warn, "No file matches via include \"/x/*.conf\""},
      {LogLevel::Critical, "Supervisor is running as root."},
      {LogLevel::Info, "Set uid to user 1000 succeeded"},
      {LogLevel::Warn, "second warning"},
  };
  const std::vector<ConfigNote> ordered = startup_notes_in_log_order(found);
  std::vector<std::string> texts;
  for (const ConfigNote& note : ordered) {
    texts.push_back(std::string(log_level_tag(note.level)) + " " + note.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{
                       "CRIT Supervisor is running as root.",
                       "WARN No file matches via include \"/x/*.conf\"",
                       "WARN second warning",
                       "INFO Included extra file \"/a.conf\" during parsing",
                       "INFO Set uid to user 1000 succeeded",
                   }));
}

TEST(MainLogSyslogTest, OneLinePerCallWithoutTrailingNewlines) {
  using Lines = std::vector<std::string_view>;
  EXPECT_EQ(syslog_lines("spawned: 'ok' with pid 1"), (Lines{"spawned: 'ok' with pid 1"}));
  EXPECT_EQ(syslog_lines("'a' stdout output:\nhello\nworld\n\n"),
            (Lines{"'a' stdout output:", "hello", "world"}));
  EXPECT_EQ(syslog_lines("a\n\nb"), (Lines{"a", "", "b"}));
  EXPECT_EQ(syslog_lines(""), (Lines{""}));
  EXPECT_EQ(syslog_lines("\n"), (Lines{""}));
}

}  // namespace
}  // namespace zagent
