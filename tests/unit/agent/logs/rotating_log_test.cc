// The pure side of child-log rotation: plan_log_step, advance_cursor, backup_path. No files,
// no clock: "files" are strings that a small driver fills the way RotatingLog fills real ones.
#include "agent/logs/log_rotation.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {

// Readable failure messages (found by argument-dependent lookup, so not in the anonymous
// namespace).
void PrintTo(const LogStep& step, std::ostream* os) {
  if (step.kind == LogStep::Kind::Rotate) {
    *os << "Rotate";
  } else {
    *os << "Write(" << step.length << ")";
  }
}

void PrintTo(const LogCursor& cursor, std::ostream* os) {
  *os << "{size " << cursor.size << ", partial " << cursor.partial << "}";
}

namespace {

LogStep write_of(std::size_t length) { return LogStep{LogStep::Kind::Write, length}; }
const LogStep kRotate{LogStep::Kind::Rotate, 0};

/// Carries plans out on in-memory files, as RotatingLog does on real ones: the last string
/// is the current file.
class PlanDriver {
 public:
  explicit PlanDriver(std::int64_t maxbytes, std::string current = "")
      : maxbytes_(maxbytes), files_{std::move(current)} {
    cursor_ = advance_cursor(LogCursor{}, files_.back());
  }

  void feed(std::string_view chunk) {
    // Every step writes at least one byte, or rotates a non-empty file: this bounds the loop.
    for (std::size_t guard = 2 * chunk.size() + 2; !chunk.empty(); --guard) {
      if (guard == 0) {
        ADD_FAILURE() << "plan_log_step makes no progress";
        return;
      }
      const LogStep step = plan_log_step(cursor_, maxbytes_, chunk);
      if (step.kind == LogStep::Kind::Rotate) {
        if (files_.back().empty()) {
          ADD_FAILURE() << "rotation of an empty file";
          return;
        }
        files_.emplace_back();
        cursor_ = LogCursor{};
        continue;
      }
      if (step.length == 0 || step.length > chunk.size()) {
        ADD_FAILURE() << "bad write length " << step.length << " for " << chunk.size();
        return;
      }
      const std::string_view piece = chunk.substr(0, step.length);
      files_.back().append(piece);
      cursor_ = advance_cursor(cursor_, piece);
      chunk.remove_prefix(step.length);
    }
  }

  const std::vector<std::string>& files() const { return files_; }
  LogCursor cursor() const { return cursor_; }

 private:
  std::int64_t maxbytes_;
  std::vector<std::string> files_;  // rotated ones first; back() is the current file
  LogCursor cursor_;                // of files_.back()
};

/// The length of the line of `stream` that holds the byte at `pos`, its '\n' included. A line
/// left unfinished at the end of the stream counts the '\n' still to come: the shortest it
/// can turn out.
std::size_t line_length(std::string_view stream, std::size_t pos) {
  const std::size_t before = pos == 0 ? std::string_view::npos : stream.rfind('\n', pos - 1);
  const std::size_t start = before == std::string_view::npos ? 0 : before + 1;
  const std::size_t nl = stream.find('\n', pos);
  return (nl == std::string_view::npos ? stream.size() + 1 : nl + 1) - start;
}

/// The rules of plan_log_step, checked on the files a whole stream produced.
::testing::AssertionResult obeys_rotation_rules(std::string_view stream,
                                                const std::vector<std::string>& files,
                                                std::int64_t maxbytes) {
  std::string joined;
  for (const std::string& f : files) {
    joined += f;
  }
  if (joined != stream) {
    return ::testing::AssertionFailure() << "the files do not add up to the stream";
  }
  const auto cap = static_cast<std::size_t>(maxbytes);
  std::size_t begin = 0;  // of the file in the stream
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& f = files[i];
    const bool last = i + 1 == files.size();
    const std::size_t end = begin + f.size();
    auto fail = [&] {
      return ::testing::AssertionFailure() << "file " << i << " of " << files.size() << " ("
                                           << f.size() << " bytes, cap " << cap << "): ";
    };
    if (f.empty() && !(last && stream.empty())) {
      return fail() << "is empty";
    }
    if (!last && f.size() < cap && f.back() != '\n') {
      return fail() << "rotated under the cap in the middle of a line";
    }
    if (!last && f.find('\n') == std::string::npos && f.size() != cap) {
      return fail() << "a piece of a long line that is not exactly the cap";
    }
    if (f.size() > cap) {
      // Past the cap only the line that crossed it, which began in this file before the cap.
      const std::size_t nl = f.rfind('\n', cap - 1);
      const std::size_t line_start = nl == std::string::npos ? 0 : nl + 1;
      if (line_start == 0 || line_start >= cap) {
        return fail() << "grew past the cap with a line that began at " << line_start;
      }
      if (f.find('\n', cap) < f.size() - 1) {
        return fail() << "holds more than one line past the cap";
      }
      if (f.size() - line_start >= cap) {
        return fail() << "overshoots with " << f.size() - line_start << " bytes of a line";
      }
      if (f.back() != '\n' && !last) {
        // The line was kept while it might be short, then turned out long and went on in
        // the next file.
        if (const std::size_t length = line_length(stream, end - 1); length < cap) {
          return fail() << "split a line of " << length << " bytes";
        }
      }
    }
    if (!last && stream[end - 1] != '\n') {
      if (const std::size_t length = line_length(stream, end); length < cap) {
        return fail() << "split a line of " << length << " bytes at stream offset " << end;
      }
    }
    begin = end;
  }
  return ::testing::AssertionSuccess();
}

TEST(PlanLogStepTest, MaxbytesZeroOrNegativeNeverRotates) {
  const std::string big(5000, 'x');
  EXPECT_EQ(plan_log_step({1'000'000, 7}, 0, big), write_of(5000));
  EXPECT_EQ(plan_log_step({1'000'000, 0}, -1, "a\nb"), write_of(3));
  EXPECT_EQ(plan_log_step({0, 0}, 0, "\n"), write_of(1));
}

TEST(PlanLogStepTest, ChunkThatFitsIsWrittenWhole) {
  EXPECT_EQ(plan_log_step({0, 0}, 100, "hello\nwor"), write_of(9));
  EXPECT_EQ(plan_log_step({10, 3}, 100, std::string(89, 'x')), write_of(89));
  EXPECT_EQ(plan_log_step({10, 3}, 100, std::string(90, 'x')), write_of(90));  // to the cap
}

TEST(PlanLogStepTest, CrossingChunkIsCutAfterTheLastLineThatFits) {
  // 10 bytes of room: "aaaa\nbbbb\n" fits, "cccc\n" starts the next file.
  EXPECT_EQ(plan_log_step({90, 0}, 100, "aaaa\nbbbb\ncccc\n"), write_of(10));
  EXPECT_EQ(plan_log_step({90, 0}, 100, "aa\nbbbbbbbbbbbbb\n"), write_of(3));
  EXPECT_EQ(plan_log_step({90, 4}, 100, "a\nbbbbbbbbbbbbb\n"), write_of(2));

  PlanDriver driver(100, std::string(89, 'z') + "\n");
  driver.feed("aaaa\nbbbb\ncccc\n");
  ASSERT_EQ(driver.files().size(), 2u);
  EXPECT_EQ(driver.files()[0].size(), 100u);
  EXPECT_EQ(driver.files()[1], "cccc\n");
}

TEST(PlanLogStepTest, FileAtLineBoundaryRotatesBeforeALineThatDoesNotFit) {
  EXPECT_EQ(plan_log_step({95, 0}, 100, "abcdefghij\n"), kRotate);
  EXPECT_EQ(plan_log_step({95, 0}, 100, "abcdefghij"), kRotate);  // not finished: same
  EXPECT_EQ(plan_log_step({0, 0}, 100, "abcdefghij\n"), write_of(11));
}

TEST(PlanLogStepTest, LineBegunBeforeTheCapAndShorterIsFinishedThenTheFileRotates) {
  // The line began at 90 with 5 bytes; 9 more finish it at 14 bytes, past the cap of 100.
  EXPECT_EQ(plan_log_step({95, 5}, 100, "abcdefgh\nnext\n"), write_of(9));
  EXPECT_EQ(plan_log_step({104, 0}, 100, "next\n"), kRotate);

  PlanDriver driver(100, std::string(89, 'z') + "\nzzzzz");
  driver.feed("abcdefgh\nnext\n");
  ASSERT_EQ(driver.files().size(), 2u);
  EXPECT_EQ(driver.files()[0], std::string(89, 'z') + "\nzzzzzabcdefgh\n");
  EXPECT_EQ(driver.files()[1], "next\n");
}

TEST(PlanLogStepTest, LineOfCapMinusOneIsKeptWholeLineOfCapIsSplit) {
  // Cap 10; a line began at 3 with 2 bytes.
  EXPECT_EQ(plan_log_step({5, 2}, 10, "abcdef\n"), write_of(7));   // 9 bytes: kept whole
  EXPECT_EQ(plan_log_step({5, 2}, 10, "abcdefg\n"), write_of(5));  // 10 bytes: to the cap
  EXPECT_EQ(plan_log_step({10, 7}, 10, "fg\n"), kRotate);

  PlanDriver driver(10, "12\nxx");
  driver.feed("abcdefg\n");
  EXPECT_EQ(driver.files(), (std::vector<std::string>{"12\nxxabcde", "fg\n"}));
}

TEST(PlanLogStepTest, LineOfCapOrMoreIsSplitIntoCapPieces) {
  EXPECT_EQ(plan_log_step({0, 0}, 10, std::string(25, 'x') + "\n"), write_of(10));
  EXPECT_EQ(plan_log_step({10, 10}, 10, "x"), kRotate);
  EXPECT_EQ(plan_log_step({6, 6}, 10, std::string(10, 'x') + "\n"), write_of(4));

  PlanDriver driver(10);
  driver.feed(std::string(25, 'x') + "\n");
  EXPECT_EQ(driver.files(),
            (std::vector<std::string>{std::string(10, 'x'), std::string(10, 'x'), "xxxxx\n"}));

  // A line of exactly the cap fits an empty file, and goes to a new one from a used file.
  PlanDriver exact(10, "ab\n");
  exact.feed("123456789\n");
  exact.feed("123456789\n");
  EXPECT_EQ(exact.files(), (std::vector<std::string>{"ab\n", "123456789\n", "123456789\n"}));

  // A long line seen at a line boundary of a used file does not fit: it starts a new file.
  PlanDriver boundary(10, "abcd\n");
  boundary.feed(std::string(20, 'y') + "\n");
  EXPECT_EQ(boundary.files(),
            (std::vector<std::string>{"abcd\n", std::string(10, 'y'), std::string(10, 'y'), "\n"}));

  // A long line that has begun in a used file already fills it up to the cap first.
  PlanDriver begun(10, "abcd\n");
  begun.feed("yyy");
  begun.feed(std::string(17, 'y') + "\n");
  EXPECT_EQ(begun.files(),
            (std::vector<std::string>{"abcd\nyyyyy", std::string(10, 'y'), "yyyyy\n"}));
}

TEST(PlanLogStepTest, FileExactlyAtTheCapAtALineEndRotatesOnlyWhenTheNextByteComes) {
  EXPECT_EQ(plan_log_step({90, 0}, 100, "123456789\n"), write_of(10));
  EXPECT_EQ(plan_log_step({100, 0}, 100, "y"), kRotate);

  PlanDriver driver(10);
  driver.feed("123456789\n");
  EXPECT_EQ(driver.files().size(), 1u);
  driver.feed("y");
  EXPECT_EQ(driver.files(), (std::vector<std::string>{"123456789\n", "y"}));
}

TEST(PlanLogStepTest, UnfinishedLineCrossingTheCapIsKeptWhileItMayStillBeShort) {
  // Cap 20, a line began at 15. Its next 6 bytes have no '\n': 9 bytes so far, it may end
  // short, so it stays in this file past the cap.
  EXPECT_EQ(plan_log_step({18, 3}, 20, "abcdef"), write_of(6));
  // It ends at 14 bytes: finished here, then the next byte rotates.
  EXPECT_EQ(plan_log_step({24, 9}, 20, "ghij\nk"), write_of(5));
  // Or it reaches the cap without a '\n': a long line after all, rotated at once.
  EXPECT_EQ(plan_log_step({24, 9}, 20, "ghijklmnopqrstuvwxyz\n"), kRotate);
  EXPECT_EQ(plan_log_step({24, 9}, 20, "ghijklmnop"), kRotate);     // 19 bytes: no room for '\n'
  EXPECT_EQ(plan_log_step({24, 9}, 20, "ghijklmno"), write_of(9));  // 18: it may still end

  PlanDriver driver(20, std::string(14, '-') + "\nxyz");
  driver.feed("abcdef");
  driver.feed("ghij\nk");
  EXPECT_EQ(driver.files(),
            (std::vector<std::string>{std::string(14, '-') + "\nxyzabcdefghij\n", "k"}));

  PlanDriver long_line(20, std::string(14, '-') + "\nxyz");
  long_line.feed("abcdef");
  long_line.feed(std::string(30, 'L') + "\n");
  EXPECT_EQ(long_line.files(),
            (std::vector<std::string>{std::string(14, '-') + "\nxyzabcdef", std::string(20, 'L'),
                                      std::string(10, 'L') + "\n"}));
}

TEST(PlanLogStepTest, LineThatBeganPastTheCapIsNotContinued) {
  // Only a file found like this at open: over the cap, unfinished line began at 130.
  EXPECT_EQ(plan_log_step({150, 20}, 100, "abc\n"), kRotate);
  // Over the cap at a line end: the next byte rotates.
  EXPECT_EQ(plan_log_step({150, 0}, 100, "a"), kRotate);
}

TEST(PlanLogStepTest, CapOfOneByteWritesOneByteFiles) {
  EXPECT_EQ(plan_log_step({0, 0}, 1, "abc"), write_of(1));
  EXPECT_EQ(plan_log_step({1, 1}, 1, "bc"), kRotate);
  EXPECT_EQ(plan_log_step({1, 0}, 1, "\n"), kRotate);
  PlanDriver driver(1);
  driver.feed("a\n\nb");
  EXPECT_EQ(driver.files(), (std::vector<std::string>{"a", "\n", "\n", "b"}));
}

TEST(AdvanceCursorTest, TracksSizeAndTheUnfinishedLine) {
  LogCursor c;
  c = advance_cursor(c, "abc");
  EXPECT_EQ(c, (LogCursor{3, 3}));
  c = advance_cursor(c, "de\nf");
  EXPECT_EQ(c, (LogCursor{7, 1}));
  c = advance_cursor(c, "gh");
  EXPECT_EQ(c, (LogCursor{9, 3}));
  c = advance_cursor(c, "\n");
  EXPECT_EQ(c, (LogCursor{10, 0}));
  c = advance_cursor(c, "");
  EXPECT_EQ(c, (LogCursor{10, 0}));
  c = advance_cursor(c, std::string_view("\0\n\0\xff", 4));
  EXPECT_EQ(c, (LogCursor{14, 2}));
}

TEST(RotatingLogNamesTest, BackupPathAppendsTheIndex) {
  EXPECT_EQ(backup_path("/var/log/x/out.log", 1), "/var/log/x/out.log.1");
  EXPECT_EQ(backup_path("out.log", 10), "out.log.10");
}

// A random stream (short lines, lines around the cap, lines several caps long, empty lines;
// all byte values) in random chunks, for several caps; the files must obey every rule.
TEST(RotatingLogSimulationTest, RandomStreamsObeyTheRules) {
  for (const std::int64_t cap : {1, 2, 3, 7, 16, 64, 100, 1000}) {
    for (const unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u, 42u, 1234u}) {
      SCOPED_TRACE("cap " + std::to_string(cap) + ", seed " + std::to_string(seed));
      std::mt19937 rng(seed);
      auto uniform = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
      };
      std::string stream;
      while (static_cast<std::int64_t>(stream.size()) < 100 * cap + 5000) {
        const std::int64_t kind = uniform(0, 9);
        const std::int64_t length = kind < 6 ? uniform(0, cap)
                                    : kind < 8
                                        ? uniform(std::max<std::int64_t>(0, cap - 3), cap + 2)
                                        : uniform(cap, 3 * cap);
        for (std::int64_t i = 0; i < length; ++i) {
          char c = static_cast<char>(uniform(0, 255));
          stream.push_back(c == '\n' ? 'n' : c);
        }
        stream.push_back('\n');
      }
      if (seed % 2 == 0) {
        stream.append(static_cast<std::size_t>(uniform(1, 2 * cap)), 'T');  // unfinished
      }
      PlanDriver driver(cap);
      std::string_view rest = stream;
      while (!rest.empty()) {
        const std::int64_t size = uniform(0, 3) == 0 ? uniform(1, 3) : uniform(1, 2 * cap + 5);
        const std::string_view chunk = rest.substr(0, static_cast<std::size_t>(size));
        driver.feed(chunk);
        rest.remove_prefix(chunk.size());
      }
      EXPECT_GT(driver.files().size(), 10u);
      EXPECT_TRUE(obeys_rotation_rules(stream, driver.files(), cap));
      EXPECT_EQ(driver.cursor(), advance_cursor(LogCursor{}, driver.files().back()));
    }
  }
}

// The same stream in one chunk and in one-byte chunks: a line shorter than the cap is never
// split, whatever the chunking. Where the cuts fall differs: in one chunk the line that does
// not fit is seen whole and starts the next file; byte by byte it has begun in the file
// before the cap and is finished there.
TEST(RotatingLogSimulationTest, ShortLinesStayWholeWhateverTheChunking) {
  std::mt19937 rng(7);
  std::string stream;
  for (int i = 0; i < 500; ++i) {
    stream.append(std::uniform_int_distribution<std::size_t>(0, 48)(rng),
                  static_cast<char>('a' + i % 26));
    stream.push_back('\n');
  }
  PlanDriver whole(50);
  whole.feed(stream);
  PlanDriver bytes(50);
  for (const char c : stream) {
    bytes.feed(std::string_view(&c, 1));
  }
  EXPECT_TRUE(obeys_rotation_rules(stream, whole.files(), 50));
  EXPECT_TRUE(obeys_rotation_rules(stream, bytes.files(), 50));
  for (const std::string& f : whole.files()) {
    EXPECT_LE(f.size(), 50u);
    EXPECT_EQ(f.back(), '\n');
  }
  for (const std::string& f : bytes.files()) {
    EXPECT_LT(f.size(), 100u);
    EXPECT_EQ(f.back(), '\n');
  }
  EXPECT_GT(bytes.files()[0].size(), 50u);  // this seed does cross the cap with a line
}

}  // namespace
}  // namespace zagent
