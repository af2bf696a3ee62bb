// restart_on_output: the named sets, PCRE2 patterns (case-sensitive), errors, and the line
// splitter that feeds the pattern across reads.
#include "agent/monitor/output_patterns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Channel = OutputTail::Channel;

OutputPattern compiled(std::string_view spec) {
  auto p = OutputPattern::compile(spec);
  EXPECT_TRUE(p.has_value()) << spec << ": " << (p ? "" : p.error().message);
  return *p;
}

TEST(NamedSets, CudaOomMatchesWhatFrameworksPrint) {
  const OutputPattern p = compiled("@cuda_oom");
  for (const char* line : {
           "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
           "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB",
           "RuntimeError: CUDA error: out of memory",
           "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling "
           "`cublasCreate(handle)`",
           "2024-05-01 12:00:00.1: W external/xla/bfc_allocator.cc RESOURCE_EXHAUSTED: Out of "
           "memory while trying to allocate",
       }) {
    EXPECT_TRUE(p.matches(line)) << line;
  }
  EXPECT_FALSE(p.matches("Loaded model in 12.5 s, 3.2 GiB of CUDA memory in use"));
  EXPECT_FALSE(p.matches("an illegal memory access was encountered"));
}

TEST(NamedSets, GpuFaultMatchesContextKillingErrors) {
  const OutputPattern p = compiled("@gpu_fault");
  EXPECT_TRUE(p.matches("RuntimeError: CUDA error: an illegal memory access was encountered"));
  EXPECT_TRUE(p.matches("[ 1234.5] NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus."));
  EXPECT_FALSE(p.matches("torch.cuda.OutOfMemoryError: CUDA out of memory."));
}

TEST(NamedSets, SeveralSetsTogether) {
  const OutputPattern p = compiled("@cuda_oom,@gpu_fault");
  EXPECT_TRUE(p.matches("CUDA out of memory"));
  EXPECT_TRUE(p.matches("NVRM: Xid 13"));
  EXPECT_EQ(compiled(" @cuda_oom @gpu_fault ").spec(), "@cuda_oom @gpu_fault");
  EXPECT_EQ(named_pattern_sets().size(), 2u);
}

TEST(OutputPatternCompile, APcrePatternIsCaseSensitive) {
  const OutputPattern p = compiled(R"(^FATAL: worker \d+ (hung|died)$)");
  EXPECT_TRUE(p.matches("FATAL: worker 12 hung"));
  EXPECT_FALSE(p.matches("fatal: worker 12 hung"));
  EXPECT_FALSE(p.matches("FATAL: worker x hung"));
  // Perl syntax std::regex lacks: a lookbehind.
  const OutputPattern lb = compiled(R"((?<!no )deadlock detected)");
  EXPECT_TRUE(lb.matches("deadlock detected in pool"));
  EXPECT_FALSE(lb.matches("no deadlock detected"));
}

TEST(OutputPatternCompile, ErrorsSayWhy) {
  auto bad = OutputPattern::compile("CUDA (out of");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("invalid pattern at offset 12"));
  auto unknown = OutputPattern::compile("@cuda_oops");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown pattern set '@cuda_oops'"));
  EXPECT_FALSE(OutputPattern::compile("   ").has_value());
}

TEST(OutputWatch, MatchesWholeLinesAcrossReadsPerChannel) {
  std::vector<std::pair<Channel, std::string>> seen;
  OutputWatch w(compiled("CUDA out of memory"),
                [&](const OutputMatch& m) { seen.emplace_back(m.channel, m.line); });
  w.feed(Channel::Stderr, "Traceback:\n  File x\ntorch.cuda.OutOfMemoryError: CUDA out");
  w.feed(Channel::Stdout, "step 12 ok\n");
  EXPECT_TRUE(seen.empty());
  w.feed(Channel::Stderr, " of memory. Tried\r\nnext\n");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, Channel::Stderr);
  EXPECT_EQ(seen[0].second, "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried");
}

TEST(OutputWatch, APartialLineOnOneChannelDoesNotJoinTheOther) {
  int hits = 0;
  OutputWatch w(compiled("^ab$"), [&](const OutputMatch&) { ++hits; });
  w.feed(Channel::Stdout, "a");
  w.feed(Channel::Stderr, "b\n");
  w.feed(Channel::Stdout, "\n");
  EXPECT_EQ(hits, 0);
  w.feed(Channel::Stdout, "ab\n");
  EXPECT_EQ(hits, 1);
}

TEST(OutputWatch, AnOverlongLineIsMatchedOnItsStartOnce) {
  std::vector<std::string> seen;
  OutputWatch w(compiled("^x+$"), [&](const OutputMatch& m) { seen.push_back(m.line); });
  const std::string chunk(5000, 'x');
  w.feed(Channel::Stdout, chunk);
  w.feed(Channel::Stdout, chunk);  // 10000 bytes, no newline yet
  w.feed(Channel::Stdout, "y\nxx\n");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].size(), OutputWatch::kMaxLine);
  EXPECT_EQ(seen[1], "xx");
}

}  // namespace
}  // namespace zagent
