// The GPU guardian's pure rules: device selection, attribution, the guards and the gate test.
#include "agent/monitor/gpu_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

GpuDeviceReading device(unsigned index, std::string uuid, std::optional<std::uint64_t> free,
                        std::vector<GpuProcessUse> processes = {}) {
  GpuDeviceReading d;
  d.index = index;
  d.uuid = std::move(uuid);
  d.name = "Fake";
  d.total_bytes = 80 * kGiB;
  d.free_bytes = free;
  d.used_bytes = free ? std::optional<std::uint64_t>(80 * kGiB - *free) : std::nullopt;
  d.processes_known = true;
  d.processes = std::move(processes);
  return d;
}

GpuReading two_gpus(std::optional<std::uint64_t> free0 = 40 * kGiB,
                    std::optional<std::uint64_t> free1 = 40 * kGiB) {
  GpuReading r;
  r.ok = true;
  r.devices = {device(0, "GPU-aaaa1111", free0), device(1, "GPU-bbbb2222", free1)};
  return r;
}

TEST(GpuRules, FormatGib) {
  EXPECT_EQ(format_gib(12.0 * kGiB), "12.0 GiB");
  EXPECT_EQ(format_gib(3.1 * kGiB), "3.1 GiB");
  EXPECT_EQ(format_gib(512.0 * 1024 * 1024), "512.0 MiB");
  EXPECT_EQ(format_gib(12), "12 B");
}

TEST(GpuRules, UsesGpuKeys) {
  ProcessConfig c;
  EXPECT_FALSE(uses_gpu_keys(c));
  c.gpu_min_free = 1;
  EXPECT_TRUE(uses_gpu_keys(c));
  c = {};
  c.gpu_devices = {"0"};
  EXPECT_TRUE(uses_gpu_keys(c));
  c = {};
  c.gpu_start_min_free = 1;
  EXPECT_TRUE(uses_gpu_keys(c));
  c = {};
  c.gpu_memory_limit = 1;
  EXPECT_TRUE(uses_gpu_keys(c));
}

TEST(GpuRules, ProgramDevicesFromConfigEnvironmentOrAll) {
  const auto devices = two_gpus().devices;
  ProcessConfig c;
  EXPECT_THAT(program_devices(c, {}, devices), ElementsAre(0, 1));
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=1"}, devices), ElementsAre(1));
  // The last assignment wins, as in the child's environment.
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=1", "CUDA_VISIBLE_DEVICES=0"}, devices),
              ElementsAre(0));
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=GPU-bbbb"}, devices), ElementsAre(1));
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES="}, devices), IsEmpty());
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=-1"}, devices), IsEmpty());
  // CUDA stops at the first entry it cannot use.
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=1,7,0"}, devices), ElementsAre(1));
  EXPECT_THAT(program_devices(c, {"NVIDIA_VISIBLE_DEVICES=all"}, devices), ElementsAre(0, 1));
  EXPECT_THAT(program_devices(c, {"NVIDIA_VISIBLE_DEVICES=none"}, devices), IsEmpty());
  // CUDA_VISIBLE_DEVICES comes first.
  EXPECT_THAT(program_devices(c, {"NVIDIA_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES=1"}, devices),
              ElementsAre(1));
  // gpu_devices overrides the environment.
  c.gpu_devices = {"GPU-aaaa1111", "1"};
  EXPECT_THAT(program_devices(c, {"CUDA_VISIBLE_DEVICES=1"}, devices), ElementsAre(0, 1));
  c.gpu_devices = {"1"};
  EXPECT_THAT(program_devices(c, {}, devices), ElementsAre(1));
}

TEST(GpuRules, AttributionWalksParentsToTheProgram) {
  GpuReading r = two_gpus();
  r.devices[0].processes = {{101, 2 * kGiB}, {202, 1 * kGiB}, {999, 5 * kGiB}};
  r.devices[1].processes = {{102, std::nullopt}};
  // 100 is web's pid; 101 its child, 102 a grandchild; 202 is under api (200); 999 nobody's.
  const std::map<pid_t, pid_t> parents = {{101, 100}, {102, 101}, {202, 200}, {999, 1}};
  const auto parent_of = [&](pid_t pid) -> std::optional<pid_t> {
    const auto it = parents.find(pid);
    return it == parents.end() ? std::nullopt : std::optional<pid_t>(it->second);
  };
  const Attribution a =
      attribute(r, {{"web", 100, {0, 1}}, {"api", 200, {0}}}, /*host_pids=*/true, parent_of);
  EXPECT_EQ(a.mode, AttributionMode::Pids);
  ASSERT_EQ(a.devices.size(), 2U);
  ASSERT_EQ(a.devices[0].programs.size(), 2U);
  EXPECT_EQ(a.devices[0].programs[0], (ProgramGpuUse{"web", {101}, 2 * kGiB, false}));
  EXPECT_EQ(a.devices[0].programs[1], (ProgramGpuUse{"api", {202}, 1 * kGiB, false}));
  EXPECT_EQ(a.devices[0].others, (std::vector<GpuProcessUse>{{999, 5 * kGiB}}));
  // An unknown figure stays unknown in the total, never 0.
  const ProgramTotal web = program_total(a, "web");
  EXPECT_TRUE(web.any);
  EXPECT_FALSE(web.bytes.has_value());
  EXPECT_EQ(program_total(a, "api").bytes, 1 * kGiB);
  EXPECT_FALSE(program_total(a, "db").any);
}

TEST(GpuRules, InAContainerADeviceGoesToItsOnlyUserEstimated) {
  GpuReading r = two_gpus();
  r.devices[0].processes = {{5001, 3 * kGiB}, {5002, 1 * kGiB}};
  r.devices[1].processes = {{5003, 2 * kGiB}};
  const auto none = [](pid_t) -> std::optional<pid_t> { return std::nullopt; };
  // web alone on GPU 0; web and api share GPU 1.
  const Attribution a =
      attribute(r, {{"web", 10, {0, 1}}, {"api", 11, {1}}}, /*host_pids=*/false, none);
  EXPECT_EQ(a.mode, AttributionMode::Estimated);
  ASSERT_EQ(a.devices[0].programs.size(), 1U);
  EXPECT_EQ(a.devices[0].programs[0], (ProgramGpuUse{"web", {5001, 5002}, 4 * kGiB, true}));
  EXPECT_THAT(a.devices[1].programs, IsEmpty());
  EXPECT_EQ(a.devices[1].others.size(), 1U);
  const ProgramTotal web = program_total(a, "web");
  EXPECT_EQ(web.bytes, 4 * kGiB);
  EXPECT_TRUE(web.estimated);
}

TEST(GpuRules, WatermarkTripsAfterItsDurationOnlyWhileRunning) {
  ProcessConfig c;
  c.gpu_min_free = static_cast<std::int64_t>(4 * kGiB);
  c.gpu_min_free_for = 10s;
  GpuGuardState state;
  const std::vector<std::size_t> devices{0, 1};
  const SteadyTime t0{};
  const GpuReading low = two_gpus(40 * kGiB, 3 * kGiB);
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0, true}));
  EXPECT_EQ(state.low_since, t0);
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0 + 9s, true}));
  const auto trip = evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0 + 10s, true});
  ASSERT_TRUE(trip);
  EXPECT_EQ(trip->cause, CauseKind::GpuWatermark);
  EXPECT_EQ(trip->line,
            "guard gpu_watermark tripped for web: GPU 1 free 3.0 GiB < gpu_min_free 4.0 GiB for "
            "10s, restarting");
  // Back above: the count starts over.
  state = {};
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0, true}));
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {two_gpus(), devices, {}, t0 + 5s, true}));
  EXPECT_FALSE(state.low_since);
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0 + 11s, true}));
  // Not RUNNING: nothing, and the state is reset.
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, devices, {}, t0 + 30s, false}));
  EXPECT_FALSE(state.low_since);
  // A device the program does not use does not count; an unknown figure decides nothing.
  const std::vector<std::size_t> only0{0};
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {low, only0, {}, t0, true}));
  EXPECT_FALSE(state.low_since);
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state,
                                   {two_gpus(std::nullopt, std::nullopt), devices, {}, t0, true}));
  EXPECT_FALSE(state.low_since);
  // A failed reading decides nothing either.
  GpuReading failed;
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {failed, devices, {}, t0, true}));
}

TEST(GpuRules, GpuMemoryLimitTripsOnTheProgramsOwnMemory) {
  ProcessConfig c;
  c.gpu_memory_limit = static_cast<std::int64_t>(20 * kGiB);
  GpuGuardState state;
  const std::vector<std::size_t> devices{0};
  ProgramTotal own{21 * kGiB, false, true};
  const auto trip = evaluate_gpu_guards(c, "web", state, {two_gpus(), devices, own, {}, true});
  ASSERT_TRUE(trip);
  EXPECT_EQ(trip->cause, CauseKind::GpuMemoryLimit);
  EXPECT_EQ(trip->reason, "GPU memory 21.0 GiB > gpu_memory_limit 20.0 GiB");
  own.bytes = 19 * kGiB;
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {two_gpus(), devices, own, {}, true}));
  own.bytes.reset();  // unknown: never a trip
  EXPECT_FALSE(evaluate_gpu_guards(c, "web", state, {two_gpus(), devices, own, {}, true}));
}

TEST(GpuRules, StartGateWaitsForTheDeviceWithLeastFree) {
  ProcessConfig c;
  EXPECT_FALSE(start_gate_wait(c, two_gpus(), {0, 1}));  // no key: never waits
  c.gpu_start_min_free = static_cast<std::int64_t>(12 * kGiB);
  EXPECT_FALSE(start_gate_wait(c, two_gpus(), {0, 1}));
  const GpuReading short1 = two_gpus(20 * kGiB, static_cast<std::uint64_t>(3.1 * kGiB));
  EXPECT_EQ(start_gate_wait(c, short1, {0, 1}), "waiting for 12.0 GiB free on GPU 1 (3.1 GiB free)");
  EXPECT_FALSE(start_gate_wait(c, short1, {0}));
  EXPECT_EQ(start_gate_wait(c, two_gpus(std::nullopt), {0}),
            "waiting for 12.0 GiB free on GPU 0 (free memory unknown)");
}

}  // namespace
}  // namespace zagent
