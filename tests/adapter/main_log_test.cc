// MainLog against real files in a TempDir: append, rotation, reopen, clear, startup notes,
// write failures. Record times come from a FakeClock; TZ is set to UTC for exact texts.
#include "agent/logs/main_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

namespace fs = std::filesystem;
using test::FakeClock;
using test::read_file;
using test::TempDir;

// The FakeClock's start, 2026-11-24 14:16:00 UTC, as the log writes it.
constexpr std::string_view kStamp = "2026-11-24 14:16:00,000 ";

std::string line(std::string_view tag, std::string_view text) {
  return std::string(kStamp) + std::string(tag) + " " + std::string(text) + "\n";
}

class MainLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = ::getenv("TZ")) {
      saved_tz_ = tz;
    }
    ::setenv("TZ", "UTC0", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

  MainLogOptions options(std::int64_t maxbytes = 0, std::int64_t backups = 10) const {
    MainLogOptions o;
    o.path = path_;
    o.maxbytes = maxbytes;
    o.backups = backups;
    o.level = LogLevel::Info;
    return o;
  }

  std::unique_ptr<MainLog> open(const MainLogOptions& o, std::vector<ConfigNote> notes = {}) {
    auto log = MainLog::open(o, clock_, std::move(notes));
    EXPECT_TRUE(log) << (log ? "" : log.error().message);
    return log ? std::move(*log) : nullptr;
  }

  TempDir dir_;
  std::string path_ = dir_.file("main.log");
  FakeClock clock_;

 private:
  std::optional<std::string> saved_tz_;
};

TEST_F(MainLogTest, RecordsLandInTheFile) {
  auto log = open(options());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->path(), path_);
  log->log(LogLevel::Info, "spawned: 'ok' with pid 6295");
  log->log(LogLevel::Debug, "filtered out at info");
  clock_.advance(std::chrono::microseconds(1'936'999));
  log->log(LogLevel::Warn, "exited: ok (exit status 2; not expected)");
  log->log(LogLevel::Info, "two\nlines\n");
  EXPECT_EQ(read_file(path_), line("INFO", "spawned: 'ok' with pid 6295") +
                                  "2026-11-24 14:16:01,936 WARN exited: ok (exit status 2; not "
                                  "expected)\n"
                                  "2026-11-24 14:16:01,936 INFO two\nlines\n\n");
  EXPECT_FALSE(log->last_error());
}

TEST_F(MainLogTest, LevelFilterAppliesToEnabledAndLog) {
  MainLogOptions o = options();
  o.level = LogLevel::Warn;
  auto log = open(o);
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->enabled(LogLevel::Critical));
  EXPECT_TRUE(log->enabled(LogLevel::Warn));
  EXPECT_FALSE(log->enabled(LogLevel::Info));
  log->log(LogLevel::Info, "no");
  log->log(LogLevel::Error, "yes");
  EXPECT_EQ(read_file(path_), line("ERRO", "yes"));
}

TEST_F(MainLogTest, OpenAndReopenAppendNeverTruncate) {
  dir_.write("main.log", "from an earlier life\n");
  auto log = open(options());
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "one");
  ASSERT_TRUE(log->reopen());
  log->log(LogLevel::Info, "two");
  log.reset();
  log = open(options());  // a reload opens the log again
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "three");
  EXPECT_EQ(read_file(path_), "from an earlier life\n" + line("INFO", "one") + line("INFO", "two") +
                                  line("INFO", "three"));
}

TEST_F(MainLogTest, OpenFailureNamesThePath) {
  MainLogOptions o = options();
  o.path = dir_.file("missing-dir/main.log");
  auto log = MainLog::open(o, clock_);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, ErrorCode::Io);
  EXPECT_EQ(log.error().message,
            "could not open log file " + o.path + ": No such file or directory");
}

TEST_F(MainLogTest, RotatesAfterTheRecordThatReachesMaxbytes) {
  auto log = open(options(200, 2));
  ASSERT_TRUE(log);
  const std::string text(46, 'x');
  const std::string record = line("INFO", text);
  ASSERT_EQ(record.size(), 76u);

  log->log(LogLevel::Info, text);
  log->log(LogLevel::Info, text);
  EXPECT_EQ(fs::file_size(path_), 152u);
  EXPECT_FALSE(fs::exists(path_ + ".1"));

  // 228 >= 200: the whole record stays in the rotated file, so it is a bit over the limit.
  log->log(LogLevel::Info, text);
  EXPECT_EQ(fs::file_size(path_ + ".1"), 228u);
  EXPECT_EQ(read_file(path_ + ".1"), record + record + record);
  ASSERT_TRUE(fs::exists(path_));
  EXPECT_EQ(fs::file_size(path_), 0u);

  log->log(LogLevel::Info, "after");
  EXPECT_EQ(read_file(path_), line("INFO", "after"));

  for (int i = 0; i < 20; ++i) {
    log->log(LogLevel::Info, text);
  }
  EXPECT_TRUE(fs::exists(path_ + ".1"));
  EXPECT_TRUE(fs::exists(path_ + ".2"));
  EXPECT_FALSE(fs::exists(path_ + ".3"));
  EXPECT_GE(fs::file_size(path_ + ".1"), 200u);
  EXPECT_GE(fs::file_size(path_ + ".2"), 200u);
  EXPECT_LT(fs::file_size(path_), 200u);
  EXPECT_FALSE(log->last_error());
}

TEST_F(MainLogTest, RotationShiftsBackupsAndDropsTheOldest) {
  dir_.write("main.log.1", "old one\n");
  dir_.write("main.log.2", "old two\n");
  auto log = open(options(10, 2));
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "new");
  EXPECT_EQ(read_file(path_ + ".1"), line("INFO", "new"));
  EXPECT_EQ(read_file(path_ + ".2"), "old one\n");
  EXPECT_FALSE(fs::exists(path_ + ".3"));
  EXPECT_EQ(fs::file_size(path_), 0u);
}

TEST_F(MainLogTest, BackupsZeroTruncatesInPlace) {
  auto log = open(options(200, 0));
  ASSERT_TRUE(log);
  const std::string text(46, 'x');
  log->log(LogLevel::Info, text);
  log->log(LogLevel::Info, text);
  log->log(LogLevel::Info, text);
  EXPECT_EQ(fs::file_size(path_), 0u);
  EXPECT_FALSE(fs::exists(path_ + ".1"));
  log->log(LogLevel::Info, "kept");
  EXPECT_EQ(read_file(path_), line("INFO", "kept"));
}

TEST_F(MainLogTest, MaxbytesZeroNeverRotates) {
  auto log = open(options(0, 2));
  ASSERT_TRUE(log);
  for (int i = 0; i < 50; ++i) {
    log->log(LogLevel::Info, std::string(100, 'y'));
  }
  EXPECT_FALSE(fs::exists(path_ + ".1"));
  EXPECT_GT(fs::file_size(path_), 5000u);
}

TEST_F(MainLogTest, ReopenAfterExternalRenameWritesANewFile) {
  auto log = open(options());
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "before");
  fs::rename(path_, path_ + ".old");  // what logrotate does before sending SIGUSR2
  log->log(LogLevel::Info, "still the old file");
  ASSERT_TRUE(log->reopen());
  log->log(LogLevel::Info, "after");
  EXPECT_EQ(read_file(path_ + ".old"), line("INFO", "before") + line("INFO", "still the old file"));
  EXPECT_EQ(read_file(path_), line("INFO", "after"));
}

TEST_F(MainLogTest, ClearDeletesAndReopens) {
  auto log = open(options());
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "gone");
  ASSERT_TRUE(log->clear());
  ASSERT_TRUE(fs::exists(path_));
  EXPECT_EQ(fs::file_size(path_), 0u);
  log->log(LogLevel::Info, "fresh");
  EXPECT_EQ(read_file(path_), line("INFO", "fresh"));
}

TEST_F(MainLogTest, ClearWithoutAFileIsNotFound) {
  auto log = open(options());
  ASSERT_TRUE(log);
  fs::remove(path_);
  auto cleared = log->clear();
  ASSERT_FALSE(cleared);
  EXPECT_EQ(cleared.error().code, ErrorCode::NotFound);
  EXPECT_EQ(cleared.error().message, "clear log file " + path_ + ": No such file or directory");
}

TEST_F(MainLogTest, StartupNotesAreWrittenCriticalWarningInfo) {
  const std::vector<ConfigNote> notes = {
      {LogLevel::Info, "Included extra file \"/etc/a.conf\" during parsing"},
      {LogLevel::Warn, "No file matches via include \"/etc/x/*.conf\""},
      {LogLevel::Critical, "Supervisor is running as root."},
      {LogLevel::Info, "Set uid to user 1000 succeeded"},
  };
  auto log = open(options(), notes);
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "supervisord started with pid 42");
  EXPECT_EQ(read_file(path_),
            line("CRIT", "Supervisor is running as root.") +
                line("WARN", "No file matches via include \"/etc/x/*.conf\"") +
                line("INFO", "Included extra file \"/etc/a.conf\" during parsing") +
                line("INFO", "Set uid to user 1000 succeeded") +
                line("INFO", "supervisord started with pid 42"));
}

TEST_F(MainLogTest, StartupNotesObeyTheLevel) {
  MainLogOptions o = options();
  o.level = LogLevel::Warn;
  auto log = open(o, {{LogLevel::Info, "info"}, {LogLevel::Warn, "warn"}});
  ASSERT_TRUE(log);
  log->add_startup_notes({{LogLevel::Info, "later info"}, {LogLevel::Critical, "later crit"}});
  EXPECT_EQ(read_file(path_), line("WARN", "warn") + line("CRIT", "later crit"));
}

TEST_F(MainLogTest, AlsoStdoutCopiesEveryRecord) {
  const std::string out_path = dir_.file("stdout.txt");
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(out, 0);
  ::dup2(out, STDOUT_FILENO);
  ::close(out);
  {
    MainLogOptions o = options();
    o.also_stdout = true;
    auto log = open(o);
    if (log) {
      log->log(LogLevel::Info, "both");
      log->log(LogLevel::Debug, "neither");
    }
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  EXPECT_EQ(read_file(out_path), line("INFO", "both"));
  EXPECT_EQ(read_file(path_), line("INFO", "both"));
}

TEST_F(MainLogTest, WriteToAFullDiskDoesNotStopLogging) {
  if (!fs::exists("/dev/full")) {
    GTEST_SKIP() << "no /dev/full";
  }
  MainLogOptions o = options(100, 2);
  o.path = "/dev/full";
  auto log = open(o);
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "lost");
  ASSERT_TRUE(log->last_error());
  EXPECT_EQ(log->last_error()->code, ErrorCode::Io);
  EXPECT_EQ(log->last_error()->message, "write log file /dev/full: No space left on device");
  log->log(LogLevel::Info, "lost too");  // tried again, still failing, still no crash
  EXPECT_TRUE(log->last_error());
}

TEST_F(MainLogTest, FailedReopenIsRetriedOnTheNextRecord) {
  auto log = open(options());
  ASSERT_TRUE(log);
  fs::remove(path_);
  fs::create_directory(path_);  // the path cannot be opened as a file now
  auto reopened = log->reopen();
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().message, "could not open log file " + path_ + ": Is a directory");
  ASSERT_TRUE(log->last_error());
  log->log(LogLevel::Info, "lost");  // open tried again, fails again, no crash
  fs::remove(path_);
  log->log(LogLevel::Info, "back");
  EXPECT_EQ(read_file(path_), line("INFO", "back"));
}

TEST_F(MainLogTest, FailedRotationKeepsLogging) {
  // A non-empty directory where `main.log.1` should go: removing it fails (even as root).
  dir_.write("main.log.1/blocker", "x");
  auto log = open(options(10, 1));
  ASSERT_TRUE(log);
  log->log(LogLevel::Info, "first");
  ASSERT_TRUE(log->last_error());
  EXPECT_EQ(log->last_error()->message.rfind("rotate log file: remove " + path_ + ".1: ", 0), 0u)
      << log->last_error()->message;
  log->log(LogLevel::Info, "second");
  EXPECT_EQ(read_file(path_), line("INFO", "first") + line("INFO", "second"));
}

TEST_F(MainLogTest, SyslogTargetHasNoFile) {
  MainLogOptions o = options();
  o.path = std::string(kSyslogTarget);
  auto log = open(o);
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->reopen());
  auto cleared = log->clear();
  ASSERT_FALSE(cleared);
  EXPECT_EQ(cleared.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(fs::exists(dir_.file("syslog")));
}

}  // namespace
}  // namespace zagent
