// The sample ring, the CPU share between samples and the least-squares memory trend.
#include "agent/monitor/sample_history.h"

#include <gtest/gtest.h>

namespace zagent {
namespace {

using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime(1000h);

TreeSample sample(std::chrono::milliseconds at, std::uint64_t rss, double cpu = 0) {
  TreeSample s;
  s.at = kT0 + at;
  s.figures.rss_bytes = rss;
  s.figures.cpu_seconds = cpu;
  s.figures.processes = 1;
  return s;
}

TEST(SampleRing, KeepsAtMostItsCapacityOldestDroppedFirst) {
  SampleRing ring(std::chrono::milliseconds(0));
  for (int i = 0; i < 500; ++i) {
    ring.push(sample(std::chrono::seconds(i), static_cast<std::uint64_t>(i)));
  }
  ASSERT_EQ(ring.size(), SampleRing::kCapacity);
  EXPECT_EQ(ring.at(0).figures.rss_bytes, 500u - SampleRing::kCapacity);
  EXPECT_EQ(ring.at(ring.size() - 1).figures.rss_bytes, 499u);
  EXPECT_EQ(ring.latest()->figures.rss_bytes, 499u);
  EXPECT_EQ(ring.previous()->figures.rss_bytes, 498u);
}

TEST(SampleRing, SpacesSamplesToCoverTheWindow) {
  // A 192-minute window in 192 slots: one kept per minute, however often it samples.
  SampleRing ring(192min);
  for (int s = 0; s <= 600; s += 10) {
    ring.push(sample(std::chrono::seconds(s), static_cast<std::uint64_t>(s)));
  }
  EXPECT_EQ(ring.size(), 11u);  // 0, 60, ..., 600
  EXPECT_EQ(ring.at(1).at - ring.at(0).at, 60s);
  EXPECT_EQ(ring.latest()->figures.rss_bytes, 600u);  // the newest is always there
  const auto recent = ring.since(kT0 + 590s);
  ASSERT_EQ(recent.size(), 1u);  // 600 is kept, and `latest` is that one: no duplicate
  EXPECT_EQ(recent.front().at, kT0 + 600s);
}

TEST(SampleRing, ClearForgetsEverything) {
  SampleRing ring;
  ring.push(sample(0ms, 1));
  ring.clear();
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.latest().has_value());
}

TEST(CpuPercent, IsCpuSecondsOverWallSeconds) {
  EXPECT_DOUBLE_EQ(*cpu_percent(sample(0ms, 0, 1.0), sample(10s, 0, 6.0)), 50.0);
  EXPECT_DOUBLE_EQ(*cpu_percent(sample(0ms, 0, 0), sample(1s, 0, 2.0)), 200.0);  // two cores
  EXPECT_DOUBLE_EQ(*cpu_percent(sample(0ms, 0, 5.0), sample(1s, 0, 4.0)), 0.0);  // lost member
  EXPECT_FALSE(cpu_percent(sample(1s, 0, 0), sample(1s, 0, 1)).has_value());
}

TEST(MemoryTrend, LinearGrowthGivesItsRateExactly) {
  SampleRing ring(30min);
  // 1 MiB per 10 s = 360 MiB per hour.
  for (int i = 0; i <= 30; ++i) {
    ring.push(sample(std::chrono::seconds(10 * i), 100'000'000 + 1048576ull * i));
  }
  const auto trend = memory_trend(ring, kT0 + 300s, 30min);
  ASSERT_TRUE(trend.has_value());
  EXPECT_NEAR(trend->bytes_per_hour, 360.0 * 1048576, 1.0);
  EXPECT_DOUBLE_EQ(trend->span_seconds, 300.0);
  EXPECT_EQ(trend->samples, 31u);
}

TEST(MemoryTrend, FitsNoisyDataAndShrinkingMemory) {
  SampleRing ring(30min);
  // Falling 2 MB per minute with +-1 MB alternating noise: the fit still says -120 MB/h.
  for (int i = 0; i <= 20; ++i) {
    const double noise = (i % 2 == 0) ? 1e6 : -1e6;
    ring.push(sample(std::chrono::minutes(i), static_cast<std::uint64_t>(1e9 - 2e6 * i + noise)));
  }
  const auto trend = memory_trend(ring, kT0 + 20min, 30min);
  ASSERT_TRUE(trend.has_value());
  EXPECT_NEAR(trend->bytes_per_hour, -120e6, 1e6);
}

TEST(MemoryTrend, UsesOnlyTheWindowAndNeedsTwoSamples) {
  SampleRing ring(30min);
  EXPECT_FALSE(memory_trend(ring, kT0, 30min).has_value());
  ring.push(sample(0ms, 0));
  EXPECT_FALSE(memory_trend(ring, kT0, 30min).has_value());
  // Flat for an hour, then +1000 bytes a second for the last 10 minutes.
  for (int s = 60; s <= 3600; s += 60) {
    ring.push(sample(std::chrono::seconds(s), 0));
  }
  for (int s = 3660; s <= 4200; s += 60) {
    ring.push(sample(std::chrono::seconds(s), static_cast<std::uint64_t>((s - 3600) * 1000)));
  }
  const auto recent = memory_trend(ring, kT0 + 4200s, 9min);
  ASSERT_TRUE(recent.has_value());
  EXPECT_NEAR(recent->bytes_per_hour, 3.6e6, 1.0);
  const auto longer = memory_trend(ring, kT0 + 4200s, 60min);
  ASSERT_TRUE(longer.has_value());
  EXPECT_LT(longer->bytes_per_hour, 3.6e6);
}

TEST(SecondsToLimit, ProjectsAtTheRateAndSaysZeroWhenOver) {
  EXPECT_DOUBLE_EQ(*seconds_to_limit(1000, 2000, 3600), 1000.0);
  EXPECT_DOUBLE_EQ(*seconds_to_limit(3000, 2000, 3600), 0.0);
  EXPECT_FALSE(seconds_to_limit(1000, 2000, 0).has_value());
  EXPECT_FALSE(seconds_to_limit(1000, 2000, -5).has_value());
}

}  // namespace
}  // namespace zagent
