#include "common/framing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zagent::rpc {
namespace {

/// A frame as one comparable string: the text, or `<too large>`.
std::string show(const Frame& frame) {
  if (frame.too_large) {
    return frame.text.empty() ? "<too large>" : "<too large with text: " + frame.text + ">";
  }
  return frame.text;
}

/// Takes every frame that is ready.
std::vector<std::string> drain(LineDecoder& decoder) {
  std::vector<std::string> out;
  while (std::optional<Frame> frame = decoder.next()) {
    out.push_back(show(*frame));
  }
  return out;
}

/// Feeds `chunks` one after another, draining after each, and returns every frame.
std::vector<std::string> decode_chunks(std::size_t max,
                                       const std::vector<std::string_view>& chunks) {
  LineDecoder decoder(max);
  std::vector<std::string> out;
  for (const std::string_view chunk : chunks) {
    decoder.feed(chunk);
    for (std::string& frame : drain(decoder)) {
      out.push_back(std::move(frame));
    }
  }
  return out;
}

/// What the decoder must produce for `input` fed in any split: the complete lines (over-long
/// ones reported), then one report for an unfinished last line that is already over the limit.
std::vector<std::string> reference(std::size_t max, std::string_view input) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl = input.find('\n'); nl != std::string_view::npos;
       nl = input.find('\n', start)) {
    std::string_view line = input.substr(start, nl - start);
    if (line.size() > max) {
      out.emplace_back("<too large>");
    } else {
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      out.emplace_back(line);
    }
    start = nl + 1;
  }
  if (input.size() - start > max) {
    out.emplace_back("<too large>");
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(LineDecoder, OneLine) {
  LineDecoder decoder(64);
  decoder.feed("hello\n");
  EXPECT_EQ(drain(decoder), Lines{"hello"});
  EXPECT_EQ(decoder.pending_bytes(), 0U);
}

TEST(LineDecoder, NothingUntilTheNewline) {
  LineDecoder decoder(64);
  decoder.feed("hel");
  EXPECT_EQ(decoder.next(), std::nullopt);
  decoder.feed("lo");
  EXPECT_EQ(decoder.next(), std::nullopt);
  EXPECT_EQ(decoder.pending_bytes(), 5U);
  decoder.feed("\n");
  EXPECT_EQ(drain(decoder), Lines{"hello"});
  EXPECT_EQ(decoder.pending_bytes(), 0U);
}

TEST(LineDecoder, PendingBytesCountsOnlyTheUnfinishedLine) {
  LineDecoder decoder(64);
  decoder.feed("one\ntwo\nthr");
  EXPECT_EQ(decoder.pending_bytes(), 3U);
  EXPECT_EQ(drain(decoder), (Lines{"one", "two"}));
  EXPECT_EQ(decoder.pending_bytes(), 3U);
  decoder.feed("ee\n");
  EXPECT_EQ(drain(decoder), Lines{"three"});
}

TEST(LineDecoder, ManyFramesInOneFeed) {
  std::string input;
  Lines expected;
  for (int i = 0; i < 1000; ++i) {
    expected.push_back("frame " + std::to_string(i));
    input += expected.back() + (i % 2 == 0 ? "\n" : "\r\n");
  }
  LineDecoder decoder(64);
  decoder.feed(input);
  EXPECT_EQ(drain(decoder), expected);
  EXPECT_EQ(decoder.pending_bytes(), 0U);
}

TEST(LineDecoder, FramesInterleavedWithFeedsStayInOrder) {
  LineDecoder decoder(64);
  Lines got;
  Lines expected;
  // Take one frame per feed of two, so consumed and unconsumed bytes mix in the buffer.
  for (int i = 0; i < 500; ++i) {
    expected.push_back(std::to_string(i) + "a");
    expected.push_back(std::to_string(i) + "b");
    decoder.feed(expected[expected.size() - 2] + "\n" + expected.back() + "\n");
    if (std::optional<Frame> frame = decoder.next()) {
      got.push_back(show(*frame));
    }
  }
  for (std::string& rest : drain(decoder)) {
    got.push_back(std::move(rest));
  }
  EXPECT_EQ(got, expected);
}

TEST(LineDecoder, CrLfAndLoneCr) {
  EXPECT_EQ(decode_chunks(64, {"a\r\n"}), Lines{"a"});
  EXPECT_EQ(decode_chunks(64, {"\r\n"}), Lines{""});
  EXPECT_EQ(decode_chunks(64, {"a\r\r\n"}), Lines{"a\r"});
  EXPECT_EQ(decode_chunks(64, {"a\rb\n"}), Lines{"a\rb"});
  EXPECT_EQ(decode_chunks(64, {"a\r", "\n"}), Lines{"a"});
  EXPECT_EQ(decode_chunks(64, {"\ra\n"}), Lines{"\ra"});
}

TEST(LineDecoder, EmptyLinesAreFrames) {
  EXPECT_EQ(decode_chunks(64, {"\n\nx\n\n"}), (Lines{"", "", "x", ""}));
}

TEST(LineDecoder, AnyBytesPassThrough) {
  const std::string line("a\0b\xff\xfe", 5);
  EXPECT_EQ(decode_chunks(64, {line + "\n"}), Lines{line});
}

TEST(LineDecoder, SplitsAtEveryPosition) {
  const std::string_view input = "{\"id\":1}\r\n\nsecond line\nthird\r\nunfinished";
  const Lines expected = {"{\"id\":1}", "", "second line", "third"};
  for (std::size_t i = 0; i <= input.size(); ++i) {
    for (std::size_t j = i; j <= input.size(); ++j) {
      EXPECT_EQ(decode_chunks(64, {input.substr(0, i), input.substr(i, j - i), input.substr(j)}),
                expected)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(LineDecoder, ByteByByte) {
  const std::string_view input = "ab\r\n\ncd\n";
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < input.size(); ++i) {
    chunks.push_back(input.substr(i, 1));
  }
  EXPECT_EQ(decode_chunks(64, chunks), (Lines{"ab", "", "cd"}));
}

TEST(LineDecoder, ExactLimitIsAccepted) {
  const std::string line(8, 'x');
  EXPECT_EQ(decode_chunks(8, {line + "\n"}), Lines{line});
  // The limit counts the bytes before the `\n`, so a `\r` after 7 bytes still fits.
  EXPECT_EQ(decode_chunks(8, {std::string(7, 'x') + "\r\n"}), Lines{std::string(7, 'x')});
}

TEST(LineDecoder, LimitPlusOneIsTooLarge) {
  EXPECT_EQ(decode_chunks(8, {std::string(9, 'x') + "\n"}), Lines{"<too large>"});
  EXPECT_EQ(decode_chunks(8, {std::string(8, 'x') + "\r\n"}), Lines{"<too large>"});
}

TEST(LineDecoder, ZeroLimitAcceptsOnlyEmptyLines) {
  EXPECT_EQ(decode_chunks(0, {"\na\n\n"}), (Lines{"", "<too large>", ""}));
}

TEST(LineDecoder, OverLongLineIsReportedOnceAsSoonAsTheLimitPasses) {
  LineDecoder decoder(4);
  decoder.feed("abcd");
  EXPECT_EQ(decoder.next(), std::nullopt);  // exactly at the limit: may still end here
  decoder.feed("e");
  std::optional<Frame> frame = decoder.next();
  ASSERT_TRUE(frame.has_value());
  EXPECT_TRUE(frame->too_large);
  EXPECT_EQ(frame->text, "");
  EXPECT_EQ(decoder.next(), std::nullopt);
  decoder.feed("more bytes of the same line");
  EXPECT_EQ(decoder.next(), std::nullopt);
  EXPECT_EQ(decoder.pending_bytes(), 0U);
  decoder.feed("end\nok\n");
  EXPECT_EQ(drain(decoder), Lines{"ok"});
}

TEST(LineDecoder, OverLongLineKeepsItsPlaceBehindWaitingFrames) {
  // Nothing is taken between the feeds: the report must still come between "a" and "b".
  LineDecoder decoder(4);
  decoder.feed("a\nabcdef");
  decoder.feed("gh\nb\n");
  EXPECT_EQ(drain(decoder), (Lines{"a", "<too large>", "b"}));

  LineDecoder unfinished(4);
  unfinished.feed("a\nabcdefgh");
  EXPECT_EQ(drain(unfinished), (Lines{"a", "<too large>"}));
  unfinished.feed("\nb\n");
  EXPECT_EQ(drain(unfinished), Lines{"b"});
}

TEST(LineDecoder, SeveralOverLongLinesInOneFeed) {
  EXPECT_EQ(decode_chunks(4, {"xxxxxx\nyyyyy\r\nzzzz\n\n"}),
            (Lines{"<too large>", "<too large>", "zzzz", ""}));
}

TEST(LineDecoder, OverLongLineSplitAtEveryPosition) {
  const std::string_view input = "ok\nthis line is too long\r\n\nfine\nagain too long\nend";
  const Lines expected = reference(6, input);
  ASSERT_EQ(expected, (Lines{"ok", "<too large>", "", "fine", "<too large>"}));
  for (std::size_t i = 0; i <= input.size(); ++i) {
    for (std::size_t j = i; j <= input.size(); ++j) {
      EXPECT_EQ(decode_chunks(6, {input.substr(0, i), input.substr(i, j - i), input.substr(j)}),
                expected)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(LineDecoder, HugeInputWithoutNewlineStaysBounded) {
  constexpr std::size_t kMax = 1024;
  const std::string chunk(std::size_t{64} * 1024, 'x');
  LineDecoder decoder(kMax);
  int reports = 0;
  for (int i = 0; i < 200; ++i) {  // 12.5 MiB
    decoder.feed(chunk);
    EXPECT_LE(decoder.pending_bytes(), kMax + 1);
    for (const std::string& frame : drain(decoder)) {
      EXPECT_EQ(frame, "<too large>");
      ++reports;
    }
    EXPECT_EQ(decoder.pending_bytes(), 0U);
  }
  EXPECT_EQ(reports, 1);
  decoder.feed("\nhello\n");
  EXPECT_EQ(drain(decoder), Lines{"hello"});
}

TEST(LineDecoder, HugeInputWithoutNextStaysBounded) {
  constexpr std::size_t kMax = 1024;
  const std::string chunk(std::size_t{64} * 1024, 'y');
  LineDecoder decoder(kMax);
  decoder.feed("first\n");
  for (int i = 0; i < 200; ++i) {
    decoder.feed(chunk);
    EXPECT_EQ(decoder.pending_bytes(), kMax + 1);
  }
  decoder.feed(chunk + "\nlast\n");
  EXPECT_EQ(decoder.pending_bytes(), 0U);
  EXPECT_EQ(drain(decoder), (Lines{"first", "<too large>", "last"}));
}

TEST(LineDecoder, MatchesReferenceOnRandomStreams) {
  // Deterministic: a fixed seed, so a failure reproduces.
  std::mt19937 rng(12345);
  const std::string_view alphabet = "ab\r\n\n";
  for (int round = 0; round < 2000; ++round) {
    const std::size_t max = rng() % 6;
    std::string input(rng() % 40, '\0');
    for (char& ch : input) {
      ch = alphabet[rng() % alphabet.size()];
    }
    LineDecoder decoder(max);
    Lines got;
    std::size_t at = 0;
    while (at < input.size()) {
      const std::size_t n = std::min<std::size_t>(input.size() - at, 1 + rng() % 8);
      decoder.feed(std::string_view(input).substr(at, n));
      at += n;
      ASSERT_LE(decoder.pending_bytes(), max + 1);
      if (rng() % 2 == 0) {  // sometimes let frames pile up
        for (std::string& frame : drain(decoder)) {
          got.push_back(std::move(frame));
        }
      }
    }
    for (std::string& frame : drain(decoder)) {
      got.push_back(std::move(frame));
    }
    ASSERT_EQ(got, reference(max, input)) << "round " << round << " max " << max;
    const std::size_t tail = input.size() - (input.rfind('\n') + 1);
    EXPECT_EQ(decoder.pending_bytes(), tail > max ? 0U : tail) << "round " << round;
  }
}

}  // namespace
}  // namespace zagent::rpc
