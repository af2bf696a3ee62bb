// RotatingLog against real files in a TempDir: create/append, rotation names and counts,
// truncation, byte-exact capture across rotations, reopen, clear, and failures (a missing
// directory, a file-size limit, a blocked rename) with their error() and listener calls.
#include "agent/logs/rotating_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;

/// "line 0007\n" and so on: ten bytes each.
std::string numbered_line(int i) {
  std::string digits = std::to_string(i);
  return "line " + std::string(4 - digits.size(), '0') + digits + "\n";
}

/// Sets the umask for its lifetime.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t saved_;
};

/// Lowers this process's RLIMIT_FSIZE soft limit and ignores SIGXFSZ (so that writing past
/// the limit fails with EFBIG instead of killing the test); both are restored at the end,
/// whatever the test did.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ok_ = ::getrlimit(RLIMIT_FSIZE, &saved_limit_) == 0;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ok_ = ok_ && ::sigaction(SIGXFSZ, &ignore, &saved_action_) == 0;
    rlimit lowered = saved_limit_;
    lowered.rlim_cur = bytes;
    ok_ = ok_ && ::setrlimit(RLIMIT_FSIZE, &lowered) == 0;
  }
  ~FileSizeLimit() {
    lift();
    ::sigaction(SIGXFSZ, &saved_action_, nullptr);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  bool ok() const { return ok_; }
  /// Back to the limit found at the start (SIGXFSZ stays ignored until the end).
  void lift() { ::setrlimit(RLIMIT_FSIZE, &saved_limit_); }

 private:
  bool ok_ = false;
  rlimit saved_limit_{};
  struct sigaction saved_action_ {};
};

class RotatingLogTest : public ::testing::Test {
 protected:
  RotatingLogOptions options(std::int64_t maxbytes, std::int64_t backups) const {
    return RotatingLogOptions{path_, maxbytes, backups};
  }

  /// A listener that records every call into calls_.
  RotatingLog::ErrorListener recorder() {
    return [this](const std::optional<Error>& error) { calls_.push_back(error); };
  }

  TempDir dir_;
  std::string path_ = dir_.file("out.log");
  std::vector<std::optional<Error>> calls_;  // what the listener was told, in order
};

TEST_F(RotatingLogTest, CreatesTheFileWithTheUmaskMode) {
  {
    ScopedUmask mask(022);
    RotatingLog log(options(0, 0));
    EXPECT_FALSE(log.error());
    ASSERT_TRUE(fs::exists(path_));  // created at once, before anything is written
    EXPECT_EQ(fs::file_size(path_), 0u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  const std::string other = dir_.file("private.log");
  {
    ScopedUmask mask(077);
    RotatingLog log(RotatingLogOptions{other, 0, 0});
    log.write("x\n");
  }
  ASSERT_EQ(::stat(other.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(RotatingLogTest, AppendsToAnExistingFileAndNeverTruncates) {
  dir_.write("out.log", "from an earlier life\nhalf a li");
  {
    RotatingLog log(options(0, 0), recorder());
    EXPECT_EQ(log.cursor(), (LogCursor{30, 9}));
    log.write("ne\n");
    EXPECT_EQ(log.cursor(), (LogCursor{33, 0}));
    ASSERT_TRUE(log.reopen());
    log.write("after reopen\n");
  }
  RotatingLog again(options(0, 0));  // a respawn opens the file again
  again.write("after respawn\n");
  EXPECT_EQ(read_file(path_), "from an earlier life\nhalf a line\nafter reopen\nafter respawn\n");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(RotatingLogTest, OpenFindsTheUnfinishedLineInTheLastWindow) {
  dir_.write("out.log", "abc\n");
  EXPECT_EQ(RotatingLog(options(10, 1)).cursor(), (LogCursor{4, 0}));
  // No '\n' in the last 64 KiB: the whole window counts as unfinished.
  dir_.write("out.log", "x\n" + std::string(70'000, 'y'));
  EXPECT_EQ(RotatingLog(options(10, 1)).cursor(), (LogCursor{70'002, 65'536}));

  // An unfinished line found at open is kept whole like any other: "defghij\n" began
  // before the cap of 10 and is 8 bytes long.
  dir_.write("out.log", "abc\nde");
  RotatingLog log(options(10, 1));
  EXPECT_EQ(log.cursor(), (LogCursor{6, 2}));
  log.write("fghij\n");
  EXPECT_EQ(read_file(path_), "abc\ndefghij\n");
  EXPECT_FALSE(fs::exists(path_ + ".1"));
  log.write("k\n");
  EXPECT_EQ(read_file(path_ + ".1"), "abc\ndefghij\n");
  EXPECT_EQ(read_file(path_), "k\n");
}

TEST_F(RotatingLogTest, RotatesIntoNumberedBackupsAndKeepsAtMostN) {
  dir_.write("out.log.1", "old one\n");
  dir_.write("out.log.2", "old two\n");
  dir_.write("out.log.3", "old three\n");
  RotatingLog log(options(100, 3), recorder());
  std::string written;
  for (int i = 0; i < 10; ++i) {
    written += numbered_line(i);
    log.write(numbered_line(i));
  }
  // Exactly at the cap at a line end: nothing rotates until the next byte.
  EXPECT_EQ(fs::file_size(path_), 100u);
  EXPECT_EQ(read_file(path_ + ".1"), "old one\n");

  written += numbered_line(10);
  log.write(numbered_line(10));
  EXPECT_EQ(read_file(path_ + ".1"), written.substr(0, 100));
  EXPECT_EQ(read_file(path_ + ".2"), "old one\n");
  EXPECT_EQ(read_file(path_ + ".3"), "old two\n");
  EXPECT_FALSE(fs::exists(path_ + ".4"));  // "old three" was dropped, not moved on
  EXPECT_EQ(read_file(path_), numbered_line(10));

  for (int i = 11; i < 100; ++i) {
    written += numbered_line(i);
    log.write(numbered_line(i));
  }
  EXPECT_FALSE(fs::exists(path_ + ".4"));
  for (const char* suffix : {".1", ".2", ".3"}) {
    EXPECT_EQ(fs::file_size(path_ + suffix), 100u) << suffix;
  }
  EXPECT_EQ(read_file(path_ + ".3") + read_file(path_ + ".2") + read_file(path_ + ".1") +
                read_file(path_),
            written.substr(written.size() - 400));
  EXPECT_FALSE(log.error());
  EXPECT_TRUE(calls_.empty());
}

TEST_F(RotatingLogTest, BackupsLeftByAnEarlierLifeAreShiftedAndTheOldestDropped) {
  dir_.write("out.log.1", "one\n");
  dir_.write("out.log.2", "two\n");
  RotatingLog log(options(4, 3));
  log.write("aaa\n");
  log.write("bbb\n");  // rotates: aaa -> .1, one -> .2, two -> .3
  EXPECT_EQ(read_file(path_), "bbb\n");
  EXPECT_EQ(read_file(path_ + ".1"), "aaa\n");
  EXPECT_EQ(read_file(path_ + ".2"), "one\n");
  EXPECT_EQ(read_file(path_ + ".3"), "two\n");
  log.write("ccc\n");  // two is dropped
  EXPECT_EQ(read_file(path_), "ccc\n");
  EXPECT_EQ(read_file(path_ + ".1"), "bbb\n");
  EXPECT_EQ(read_file(path_ + ".2"), "aaa\n");
  EXPECT_EQ(read_file(path_ + ".3"), "one\n");
  EXPECT_FALSE(fs::exists(path_ + ".4"));
  // Backups made behind its back (logrotate) are counted again after a reopen.
  fs::rename(path_, path_ + ".0");
  ASSERT_TRUE(log.reopen());
  log.write("ddd\n");
  log.write("eee\n");
  EXPECT_EQ(read_file(path_ + ".1"), "ddd\n");
  EXPECT_EQ(read_file(path_ + ".2"), "bbb\n");
  EXPECT_EQ(read_file(path_ + ".3"), "aaa\n");
}

TEST_F(RotatingLogTest, BackupsZeroTruncatesInPlaceAndKeepsOnlyTheTail) {
  RotatingLog log(options(100, 0));
  std::string tail;
  for (int i = 0; i < 25; ++i) {
    log.write(numbered_line(i));
  }
  // Lines 0-9 fill the file, line 10 truncates it, line 20 again.
  for (int i = 20; i < 25; ++i) {
    tail += numbered_line(i);
  }
  EXPECT_EQ(read_file(path_), tail);
  EXPECT_EQ(log.cursor(), (LogCursor{50, 0}));
  EXPECT_FALSE(fs::exists(path_ + ".1"));
  EXPECT_FALSE(log.error());
}

TEST_F(RotatingLogTest, MaxbytesZeroNeverRotates) {
  RotatingLog log(options(0, 3));
  for (int i = 0; i < 1000; ++i) {
    log.write(numbered_line(i));
  }
  EXPECT_EQ(fs::file_size(path_), 10'000u);
  EXPECT_FALSE(fs::exists(path_ + ".1"));
}

// Random binary output (every byte value: NULs, invalid UTF-8) with lines of random length,
// some longer than the cap, written in random chunks across many rotations. The files on
// disk must be exactly what plan_log_step says, and together exactly the end of the stream.
TEST_F(RotatingLogTest, CapturesRandomBinaryDataByteExactAcrossRotations) {
  constexpr std::int64_t kCap = 1000;
  constexpr std::int64_t kBackups = 5;
  std::mt19937 rng(20261124);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  std::string stream("\0\xff\xfe\xc3\x28 not utf-8\n", 16);
  while (stream.size() < 300'000) {
    const std::int64_t length = uniform(0, 5) == 0 ? uniform(kCap, 3 * kCap) : uniform(0, 200);
    for (std::int64_t i = 0; i < length; ++i) {
      const char c = static_cast<char>(uniform(0, 255));
      stream.push_back(c == '\n' ? '\0' : c);
    }
    stream.push_back('\n');
  }
  stream += "unfinished";

  RotatingLog log(options(kCap, kBackups), recorder());
  std::vector<std::string> expected(1);  // the files the plan makes, the current one last
  LogCursor cursor;
  std::string_view rest = stream;
  while (!rest.empty()) {
    std::string_view chunk = rest.substr(0, static_cast<std::size_t>(uniform(1, 3 * kCap)));
    rest.remove_prefix(chunk.size());
    log.write(chunk);
    while (!chunk.empty()) {
      const LogStep step = plan_log_step(cursor, kCap, chunk);
      if (step.kind == LogStep::Kind::Rotate) {
        expected.emplace_back();
        cursor = LogCursor{};
        continue;
      }
      expected.back().append(chunk.substr(0, step.length));
      cursor = advance_cursor(cursor, chunk.substr(0, step.length));
      chunk.remove_prefix(step.length);
    }
  }
  ASSERT_GT(expected.size(), 200u);
  EXPECT_FALSE(log.error());
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(log.cursor(), cursor);

  // .5 … .1, then the current file: the last six files of the plan, and no .6.
  std::string on_disk;
  std::vector<std::size_t> cuts;  // where each file ends in on_disk
  for (std::int64_t i = kBackups; i >= 0; --i) {
    const std::string name = i == 0 ? path_ : backup_path(path_, i);
    ASSERT_TRUE(fs::exists(name)) << name;
    const std::string content = read_file(name);
    EXPECT_EQ(content, expected[expected.size() - 1 - static_cast<std::size_t>(i)]) << name;
    on_disk += content;
    cuts.push_back(on_disk.size());
  }
  EXPECT_FALSE(fs::exists(backup_path(path_, kBackups + 1)));
  ASSERT_LE(on_disk.size(), stream.size());
  const std::size_t first = stream.size() - on_disk.size();
  EXPECT_TRUE(on_disk == std::string_view(stream).substr(first))
      << "the files are not the last " << on_disk.size() << " bytes written";

  // A cut inside a line only in a line of at least the cap.
  cuts.pop_back();
  for (const std::size_t cut : cuts) {
    const std::size_t at = first + cut;
    if (stream[at - 1] == '\n') {
      continue;
    }
    const std::size_t start = stream.rfind('\n', at - 1) + 1;
    const std::size_t end = stream.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    EXPECT_GE(end + 1 - start, static_cast<std::size_t>(kCap)) << "a short line split at " << at;
  }
}

TEST_F(RotatingLogTest, ReopenAfterAnExternalRenameWritesANewFile) {
  RotatingLog log(options(0, 0), recorder());
  log.write("before\n");
  fs::rename(path_, path_ + ".old");  // what logrotate does before SIGUSR2
  log.write("still the old file\n");
  ASSERT_TRUE(log.reopen());
  EXPECT_EQ(log.cursor(), (LogCursor{0, 0}));
  log.write("after\n");
  EXPECT_EQ(read_file(path_ + ".old"), "before\nstill the old file\n");
  EXPECT_EQ(read_file(path_), "after\n");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(RotatingLogTest, ClearDeletesAndRecreatesAnEmptyFileAndLeavesBackups) {
  RotatingLog log(options(10, 2), recorder());
  log.write("123456789\n");
  log.write("abc\n");  // rotates: .1 holds the first line
  log.write("half");
  ASSERT_EQ(read_file(path_ + ".1"), "123456789\n");
  const std::string link = dir_.file("hard-link");
  fs::create_hard_link(path_, link);

  ASSERT_TRUE(log.clear());
  ASSERT_TRUE(fs::exists(path_));
  EXPECT_EQ(fs::file_size(path_), 0u);
  EXPECT_EQ(read_file(link), "abc\nhalf");  // deleted and created, not truncated
  EXPECT_EQ(log.cursor(), (LogCursor{0, 0}));
  EXPECT_EQ(read_file(path_ + ".1"), "123456789\n");
  EXPECT_FALSE(fs::exists(path_ + ".2"));

  log.write("fresh\n");
  EXPECT_EQ(read_file(path_), "fresh\n");

  fs::remove(path_);  // already gone: not an error
  ASSERT_TRUE(log.clear());
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_TRUE(calls_.empty());
}

TEST_F(RotatingLogTest, OpenFailureIsKeptAndRetriedUntilTheDirectoryExists) {
  const std::string path = dir_.file("later/out.log");
  RotatingLog log(RotatingLogOptions{path, 100, 2}, recorder());
  ASSERT_TRUE(log.error());
  EXPECT_EQ(log.error()->code, ErrorCode::Io);
  EXPECT_EQ(log.error()->message, "open " + path + ": No such file or directory");
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0], log.error());

  log.write("lost\n");  // tried again, fails the same way: no new call
  auto reopened = log.reopen();
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().message, "open " + path + ": No such file or directory");
  EXPECT_EQ(calls_.size(), 1u);

  fs::create_directory(dir_.file("later"));
  log.write("back\n");
  EXPECT_EQ(read_file(path), "back\n");
  EXPECT_FALSE(log.error());
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1], std::nullopt);
}

TEST_F(RotatingLogTest, FileSizeLimitFailsWithEfbigAndRecoversWhenLifted) {
  RotatingLog log(options(0, 0), recorder());
  FileSizeLimit limit(1000);
  ASSERT_TRUE(limit.ok());

  log.write(std::string(600, 'a'));
  EXPECT_FALSE(log.error());
  log.write(std::string(600, 'b'));  // 400 bytes fit, then EFBIG
  ASSERT_TRUE(log.error());
  EXPECT_EQ(log.error()->message, "write " + path_ + ": File too large");
  EXPECT_EQ(fs::file_size(path_), 1000u);
  EXPECT_EQ(log.cursor(), (LogCursor{1000, 1000}));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0], log.error());

  log.write("c\n");  // still failing: no new call
  log.write("d\n");
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_TRUE(log.error());

  limit.lift();
  log.write("e\n");
  EXPECT_FALSE(log.error());
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1], std::nullopt);
  EXPECT_EQ(read_file(path_), std::string(600, 'a') + std::string(400, 'b') + "e\n");
}

TEST_F(RotatingLogTest, FileSizeLimitFailureEndsWithClear) {
  RotatingLog log(options(0, 0), recorder());
  FileSizeLimit limit(100);
  ASSERT_TRUE(limit.ok());

  log.write(std::string(150, 'x'));
  ASSERT_TRUE(log.error());
  log.write("y");
  ASSERT_EQ(calls_.size(), 1u);

  ASSERT_TRUE(log.clear());  // an empty file is under the limit again
  EXPECT_FALSE(log.error());
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1], std::nullopt);
  log.write("fits\n");
  EXPECT_EQ(read_file(path_), "fits\n");
  EXPECT_EQ(calls_.size(), 2u);
}

TEST_F(RotatingLogTest, FailedRenameKeepsWritingTheCurrentFileAndRetries) {
  // A non-empty directory where `out.log.1` should go: the rename fails, even as root.
  dir_.write("out.log.1/blocker", "x");
  RotatingLog log(options(10, 1), recorder());
  log.write("abc\n");
  log.write("defghij\n");  // does not fit: rotation tried, fails; the line still lands
  ASSERT_TRUE(log.error());
  EXPECT_EQ(log.error()->message.rfind("rename " + path_ + " to " + path_ + ".1: ", 0), 0u)
      << log.error()->message;
  log.write("k\n");  // tried again, fails again: no new call
  EXPECT_EQ(read_file(path_), "abc\ndefghij\nk\n");
  EXPECT_EQ(calls_.size(), 1u);

  fs::remove_all(dir_.file("out.log.1"));
  log.write("l\n");
  EXPECT_EQ(read_file(path_ + ".1"), "abc\ndefghij\nk\n");
  EXPECT_EQ(read_file(path_), "l\n");
  EXPECT_FALSE(log.error());
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1], std::nullopt);
}

TEST_F(RotatingLogTest, AFifoIsNeverRenamed) {
  const std::string fifo = dir_.file("pipe.log");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  std::string written;
  {
    RotatingLog log(RotatingLogOptions{fifo, 10, 2}, recorder());
    for (int i = 0; i < 20; ++i) {
      written += numbered_line(i);
      log.write(numbered_line(i));
    }
    EXPECT_FALSE(log.error());
  }
  std::string got(written.size() + 10, '\0');
  const ssize_t n = ::read(reader, got.data(), got.size());
  ::close(reader);
  ASSERT_GE(n, 0);
  got.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(got, written);
  EXPECT_FALSE(fs::exists(fifo + ".1"));
  EXPECT_TRUE(calls_.empty());
}

}  // namespace
}  // namespace zagent
