// Every resource guard's decision: memory_limit (with _for), cpu_limit (with _for),
// memory_growth (warn once, or restart), nothing outside RUNNING, nothing without a key.
#include "agent/monitor/guards.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime(500h);
constexpr std::int64_t kMB = 1024 * 1024;

TreeSample at(std::chrono::seconds t, std::int64_t rss) {
  TreeSample s;
  s.at = kT0 + t;
  s.figures.rss_bytes = static_cast<std::uint64_t>(rss);
  return s;
}

std::optional<GuardTrip> check(const ProcessConfig& c, GuardState& state, const TreeSample& s,
                               std::optional<double> cpu = std::nullopt,
                               std::optional<MemoryTrend> trend = std::nullopt,
                               bool running = true) {
  return evaluate_guards(c, "web", state, GuardInput{s, cpu, trend, 30min, running});
}

TEST(Guards, NoKeysNoTripWhateverTheFigures) {
  ProcessConfig c;
  GuardState state;
  EXPECT_FALSE(has_resource_guards(c));
  EXPECT_FALSE(
      check(c, state, at(0s, 1'000'000 * kMB), 800.0, MemoryTrend{1e12, 1800, 100}).has_value());
}

TEST(Guards, MemoryLimitTripsAtTheFirstSampleOverIt) {
  ProcessConfig c;
  c.memory_limit = 100 * kMB;
  GuardState state;
  EXPECT_TRUE(has_resource_guards(c));
  EXPECT_FALSE(check(c, state, at(0s, 100 * kMB)).has_value());  // at the limit is not over
  const auto trip = check(c, state, at(10s, 101 * kMB));
  ASSERT_TRUE(trip.has_value());
  EXPECT_EQ(trip->cause, CauseKind::MemoryLimit);
  EXPECT_TRUE(trip->restart);
  EXPECT_EQ(trip->line,
            "guard memory_limit tripped for web: RSS 101.0MB > memory_limit 100.0MB for 0s, "
            "restarting");
  EXPECT_EQ(trip->reason, "RSS 101.0MB > memory_limit 100.0MB for 0s");
}

TEST(Guards, MemoryLimitForCountsFromTheFirstSampleOverAndStartsOverBelow) {
  ProcessConfig c;
  c.memory_limit = 100 * kMB;
  c.memory_limit_for = 30s;
  GuardState state;
  EXPECT_FALSE(check(c, state, at(0s, 200 * kMB)).has_value());
  EXPECT_FALSE(check(c, state, at(20s, 200 * kMB)).has_value());
  EXPECT_FALSE(check(c, state, at(25s, 50 * kMB)).has_value());  // dipped: starts over
  EXPECT_FALSE(check(c, state, at(30s, 200 * kMB)).has_value());
  EXPECT_FALSE(check(c, state, at(50s, 200 * kMB)).has_value());
  const auto trip = check(c, state, at(60s, 200 * kMB));
  ASSERT_TRUE(trip.has_value());
  EXPECT_THAT(trip->line, HasSubstr("for 30s"));
}

TEST(Guards, CpuLimitNeedsItsDurationOverTheLimit) {
  ProcessConfig c;
  c.cpu_limit = 95;
  c.cpu_limit_for = 60s;
  GuardState state;
  EXPECT_FALSE(check(c, state, at(0s, 0), 99.0).has_value());
  EXPECT_FALSE(check(c, state, at(30s, 0), 100.0).has_value());
  EXPECT_FALSE(check(c, state, at(50s, 0), std::nullopt).has_value());  // unknown: not over
  EXPECT_FALSE(check(c, state, at(60s, 0), 99.0).has_value());
  EXPECT_FALSE(check(c, state, at(110s, 0), 99.0).has_value());
  const auto trip = check(c, state, at(120s, 0), 99.5);
  ASSERT_TRUE(trip.has_value());
  EXPECT_EQ(trip->cause, CauseKind::CpuLimit);
  EXPECT_EQ(trip->reason, "CPU 99.5% > cpu_limit 95% for 60s");
}

TEST(Guards, CpuLimitAtExactlyTheLimitIsNotOver) {
  ProcessConfig c;
  c.cpu_limit = 100;
  c.cpu_limit_for = 0s;
  GuardState state;
  EXPECT_FALSE(check(c, state, at(0s, 0), 100.0).has_value());
  EXPECT_TRUE(check(c, state, at(1s, 0), 100.1).has_value());
}

TEST(Guards, GrowthWarnsOnceUntilItFallsBack) {
  ProcessConfig c;
  c.memory_growth_limit = 500 * kMB;
  GuardState state;
  const MemoryTrend fast{600.0 * kMB, 900, 90};
  const MemoryTrend slow{100.0 * kMB, 900, 90};
  auto trip = check(c, state, at(0s, kMB), std::nullopt, fast);
  ASSERT_TRUE(trip.has_value());
  EXPECT_EQ(trip->cause, CauseKind::MemoryGrowth);
  EXPECT_FALSE(trip->restart);
  EXPECT_EQ(trip->line,
            "guard memory_growth tripped for web: RSS growth 600.0MB/h > memory_growth_limit "
            "500.0MB/h over the last 900s (RSS 1.0MB), warning only");
  EXPECT_FALSE(check(c, state, at(10s, kMB), std::nullopt, fast).has_value());
  EXPECT_FALSE(check(c, state, at(20s, kMB), std::nullopt, slow).has_value());
  EXPECT_TRUE(check(c, state, at(30s, kMB), std::nullopt, fast).has_value());
}

TEST(Guards, GrowthRestartsWithTheRestartAction) {
  ProcessConfig c;
  c.memory_growth_limit = 500 * kMB;
  c.memory_growth_action = GrowthAction::Restart;
  GuardState state;
  const auto trip = check(c, state, at(0s, kMB), std::nullopt, MemoryTrend{1e12, 900, 90});
  ASSERT_TRUE(trip.has_value());
  EXPECT_TRUE(trip->restart);
  EXPECT_THAT(trip->line, HasSubstr(", restarting"));
}

TEST(Guards, GrowthWaitsForASettledTrend) {
  ProcessConfig c;
  c.memory_growth_limit = 1;
  c.memory_growth_action = GrowthAction::Restart;
  GuardState state;
  // A model loading in the first minutes: steep, but the trend covers < 1/4 of the window.
  EXPECT_FALSE(check(c, state, at(0s, kMB), std::nullopt, MemoryTrend{1e12, 449, 45}).has_value());
  EXPECT_FALSE(check(c, state, at(0s, kMB), std::nullopt, MemoryTrend{1e12, 900, 2}).has_value());
  EXPECT_TRUE(check(c, state, at(0s, kMB), std::nullopt, MemoryTrend{1e12, 450, 45}).has_value());
  EXPECT_TRUE(trend_is_settled(MemoryTrend{0, 450, 3}, 30min));
  EXPECT_FALSE(trend_is_settled(MemoryTrend{0, 449.9, 3}, 30min));
}

TEST(Guards, NothingTripsOutsideRunningAndTheDurationsStartOver) {
  ProcessConfig c;
  c.memory_limit = 100 * kMB;
  c.memory_limit_for = 20s;
  GuardState state;
  EXPECT_FALSE(check(c, state, at(0s, 200 * kMB)).has_value());
  EXPECT_FALSE(check(c, state, at(30s, 200 * kMB), std::nullopt, std::nullopt, false).has_value());
  EXPECT_EQ(state, GuardState{});
  EXPECT_FALSE(check(c, state, at(40s, 200 * kMB)).has_value());  // counts from here again
  EXPECT_TRUE(check(c, state, at(60s, 200 * kMB)).has_value());
}

TEST(Guards, MemoryLimitComesBeforeCpuAndGrowth) {
  ProcessConfig c;
  c.memory_limit = kMB;
  c.cpu_limit = 10;
  c.cpu_limit_for = 0s;
  c.memory_growth_limit = 1;
  GuardState state;
  const auto trip = check(c, state, at(0s, 2 * kMB), 90.0, MemoryTrend{1e12, 900, 90});
  ASSERT_TRUE(trip.has_value());
  EXPECT_EQ(trip->cause, CauseKind::MemoryLimit);
}

TEST(Guards, TrendWindowIsTheProgramsOrTheAgents) {
  ProcessConfig c;
  EXPECT_EQ(trend_window_of(c, 30min), 30min);
  c.memory_trend_window = 10min;
  EXPECT_EQ(trend_window_of(c, 30min), 10min);
}

TEST(FormatBytes, UsesTheConfigsUnits) {
  EXPECT_EQ(format_bytes(0), "0B");
  EXPECT_EQ(format_bytes(1023), "1023B");
  EXPECT_EQ(format_bytes(1536), "1.5KB");
  EXPECT_EQ(format_bytes(8.0 * 1024 * 1024 * 1024), "8.0GB");
  EXPECT_EQ(format_bytes(-3.0 * 1024 * 1024), "-3.0MB");
}

}  // namespace
}  // namespace zagent
