// The nvidia-smi fallback's parser: the output of smi_command() (two CSV parts, each ended by
// its marker line and nvidia-smi's exit status) into a GpuReading.
#include "agent/monitor/gpu_smi_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace zagent {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = 1048576;

std::string gpus_end(int status = 0) {
  return std::string(kSmiGpusEnd) + " " + std::to_string(status) + "\n";
}
std::string apps_end(int status = 0) {
  return std::string(kSmiAppsEnd) + " " + std::to_string(status) + "\n";
}

constexpr std::string_view kTwoGpus =
    "0, GPU-1111, NVIDIA H200, 143771, 20480, 123291, 40, 550.54.15\n"
    "1, GPU-2222, NVIDIA H200, 143771, 0, 143771, 0, 550.54.15\n";

GpuDeviceReading device(unsigned index, std::string uuid, std::uint64_t used_mib,
                        std::uint64_t free_mib, unsigned util) {
  GpuDeviceReading d;
  d.index = index;
  d.uuid = std::move(uuid);
  d.name = "NVIDIA H200";
  d.total_bytes = 143771 * kMiB;
  d.used_bytes = used_mib * kMiB;
  d.free_bytes = free_mib * kMiB;
  d.utilization_percent = util;
  return d;
}

TEST(SmiCommand, RunsBothQueriesWithTheirMarkersAndQuotesThePath) {
  const std::string cmd = smi_command("/opt/it's/nvidia-smi");
  EXPECT_EQ(cmd,
            "'/opt/it'\\''s/nvidia-smi' --query-gpu=index,uuid,name,memory.total,memory.used,"
            "memory.free,utilization.gpu,driver_version --format=csv,noheader,nounits 2>&1; "
            "echo \"@zagent-smi-gpus-exit $?\"; '/opt/it'\\''s/nvidia-smi' "
            "--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits 2>&1; "
            "echo \"@zagent-smi-apps-exit $?\"");
}

TEST(SmiParse, TwoDevicesWithProcessesInBytes) {
  const GpuReading r = parse_smi_output(std::string(kTwoGpus) + gpus_end() +
                                        "GPU-1111, 4242, 12288\n"
                                        "GPU-1111, 4250, 1024\n"
                                        "GPU-2222, 999, 2048\n" +
                                        apps_end());
  GpuDeviceReading d0 = device(0, "GPU-1111", 20480, 123291, 40);
  d0.processes_known = true;
  d0.processes = {{4242, 12288 * kMiB}, {4250, 1024 * kMiB}};
  GpuDeviceReading d1 = device(1, "GPU-2222", 0, 143771, 0);
  d1.processes_known = true;
  d1.processes = {{999, 2048 * kMiB}};
  EXPECT_EQ(r, (GpuReading{true, "", "550.54.15", {d0, d1}}));
}

TEST(SmiParse, EmptyProcessPartIsKnownAndEmpty) {
  for (const std::string& apps : {std::string(), std::string("No running processes found\n")}) {
    const GpuReading r = parse_smi_output(std::string(kTwoGpus) + gpus_end() + apps + apps_end());
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.devices.size(), 2U);
    for (const GpuDeviceReading& d : r.devices) {
      EXPECT_TRUE(d.processes_known);
      EXPECT_TRUE(d.processes.empty());
      EXPECT_EQ(d.note, "");
    }
  }
}

TEST(SmiParse, MissingProcessPartLeavesProcessesUnknown) {
  const GpuReading r = parse_smi_output(std::string(kTwoGpus) + gpus_end() + "GPU-1111, 1, 2\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 2U);
  EXPECT_FALSE(r.devices[0].processes_known);
  EXPECT_TRUE(r.devices[0].processes.empty());
  EXPECT_EQ(r.devices[0].used_bytes, 20480 * kMiB);
}

TEST(SmiParse, UnavailableFiguresAreUnknownNeverZero) {
  const GpuReading r = parse_smi_output(
      "0, MIG-abcd, NVIDIA A100-SXM4-40GB MIG 1g.5gb, [N/A], N/A, [Not Supported], "
      "[Insufficient Permissions], [N/A]\n" +
      gpus_end() + "MIG-abcd, 77, [N/A]\n" + "MIG-abcd, 78, [Insufficient Permissions]\n" +
      apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 1U);
  const GpuDeviceReading& d = r.devices[0];
  EXPECT_EQ(d.name, "NVIDIA A100-SXM4-40GB MIG 1g.5gb");
  EXPECT_EQ(d.total_bytes, std::nullopt);
  EXPECT_EQ(d.used_bytes, std::nullopt);
  EXPECT_EQ(d.free_bytes, std::nullopt);
  EXPECT_EQ(d.utilization_percent, std::nullopt);
  EXPECT_EQ(d.note,
            "memory.total: [N/A]; memory.used: N/A; memory.free: [Not Supported]; "
            "utilization.gpu: [Insufficient Permissions]");
  EXPECT_EQ(r.driver_version, "") << "unknown";
  EXPECT_TRUE(d.processes_known);
  EXPECT_EQ(d.processes, (std::vector<GpuProcessUse>{{77, std::nullopt}, {78, std::nullopt}}));
}

TEST(SmiParse, ExtraSpacesBlankLinesAndCarriageReturns) {
  const GpuReading r = parse_smi_output(
      "\n   0 ,GPU-1111,   NVIDIA H200  ,143771,20480 , 123291,40,550.54.15  \r\n"
      "\n" +
      gpus_end() + "\n  GPU-1111 ,  4242 , 12288 \n\n" + apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 1U);
  GpuDeviceReading expected = device(0, "GPU-1111", 20480, 123291, 40);
  expected.processes_known = true;
  expected.processes = {{4242, 12288 * kMiB}};
  EXPECT_EQ(r.devices[0], expected);
  EXPECT_EQ(r.driver_version, "550.54.15");
}

TEST(SmiParse, NameWithCommasKeepsThemAndTheFiguresComeFromTheRight) {
  const GpuReading r = parse_smi_output(
      "3, GPU-3333, Tesla, Rev. B,  Edition, 1024, 512, 512, 7, 535.1\n" + gpus_end() + apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].index, 3U);
  EXPECT_EQ(r.devices[0].name, "Tesla, Rev. B,  Edition");
  EXPECT_EQ(r.devices[0].total_bytes, 1024 * kMiB);
  EXPECT_EQ(r.devices[0].used_bytes, 512 * kMiB);
  EXPECT_EQ(r.devices[0].utilization_percent, 7U);
  EXPECT_EQ(r.driver_version, "535.1");
}

TEST(SmiParse, NoDevicesIsAnEmptyReading) {
  const GpuReading r = parse_smi_output("No devices were found\n" + gpus_end(6) +
                                        "No devices were found\n" + apps_end(6));
  EXPECT_EQ(r, (GpuReading{true, "", "", {}}));
}

TEST(SmiParse, ProcessRowsForAnUnknownDeviceAreIgnored) {
  const GpuReading r = parse_smi_output(std::string(kTwoGpus) + gpus_end() +
                                        "GPU-9999, 5, 100\nGPU-2222, 6, 200\n" + apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.devices[0].processes.empty());
  EXPECT_EQ(r.devices[1].processes, (std::vector<GpuProcessUse>{{6, 200 * kMiB}}));
}

TEST(SmiParse, FailedDeviceQueryQuotesItsMessage) {
  const GpuReading r = parse_smi_output(
      "Failed to initialize NVML: Driver/library version mismatch\n" + gpus_end(18) +
      "Failed to initialize NVML: Driver/library version mismatch\n" + apps_end(18));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "nvidia-smi failed (exit status 18): Failed to initialize NVML: Driver/library "
            "version mismatch");
  EXPECT_TRUE(r.devices.empty());
  EXPECT_EQ(parse_smi_output(gpus_end(9)).error, "nvidia-smi failed (exit status 9)");
  EXPECT_EQ(parse_smi_output("sh: 1: /x/nvidia-smi: not found\n" + gpus_end(127)).error,
            "nvidia-smi failed (exit status 127): sh: 1: /x/nvidia-smi: not found");
}

TEST(SmiParse, GarbageQuotesTheFirstBadLine) {
  const GpuReading r = parse_smi_output(std::string(kTwoGpus) + "hello, world\nmore junk\n" +
                                        gpus_end() + apps_end());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "nvidia-smi: unexpected output: 'hello, world'");
  EXPECT_TRUE(r.devices.empty()) << "ok=false has no devices";
  // A row with a figure that is neither a number nor a not-available form.
  EXPECT_EQ(parse_smi_output("0, GPU-1, X, 12 MiB, 1, 1, 1, 5\n" + gpus_end()).error,
            "nvidia-smi: unexpected output: '0, GPU-1, X, 12 MiB, 1, 1, 1, 5'");
  EXPECT_EQ(parse_smi_output("x, GPU-1, X, 1, 1, 1, 1, 5\n" + gpus_end()).error,
            "nvidia-smi: unexpected output: 'x, GPU-1, X, 1, 1, 1, 1, 5'")
      << "index is a number";
  EXPECT_EQ(parse_smi_output("0, [N/A], X, 1, 1, 1, 1, 5\n" + gpus_end()).error,
            "nvidia-smi: unexpected output: '0, [N/A], X, 1, 1, 1, 1, 5'")
      << "a device has a uuid";
}

TEST(SmiParse, OutputWithoutTheMarkerFails) {
  EXPECT_EQ(parse_smi_output("").error, "nvidia-smi: no output");
  EXPECT_EQ(parse_smi_output("snapshot_command: cannot run /bin/sh: No such file\n").error,
            "nvidia-smi: unexpected output: 'snapshot_command: cannot run /bin/sh: No such file'");
  const GpuReading cut = parse_smi_output(kTwoGpus);
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.error, "nvidia-smi: the output ended early");
  EXPECT_TRUE(cut.devices.empty());
}

TEST(SmiParse, WarningLinesAreSkipped) {
  const GpuReading r = parse_smi_output("WARNING: infoROM is corrupted at gpu 0000:04:00.0\n" +
                                        std::string(kTwoGpus) + gpus_end() + apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.devices.size(), 2U);
}

TEST(SmiParse, FailedProcessQueryKeepsTheDevicesWithANote) {
  const GpuReading r =
      parse_smi_output(std::string(kTwoGpus) + gpus_end() +
                       "Unable to query compute apps: Unknown Error\n" + apps_end(15));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 2U);
  EXPECT_FALSE(r.devices[0].processes_known);
  EXPECT_EQ(r.devices[0].note,
            "processes: exit status 15: Unable to query compute apps: Unknown Error");
  EXPECT_EQ(r.devices[0].used_bytes, 20480 * kMiB);
}

TEST(SmiParse, GarbageInTheProcessPartLeavesProcessesUnknown) {
  const GpuReading r = parse_smi_output(std::string(kTwoGpus) + gpus_end() +
                                        "GPU-1111, 4242, 12\nthis is not a row\n" + apps_end());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.devices[1].processes_known);
  EXPECT_TRUE(r.devices[0].processes.empty());
  EXPECT_THAT(r.devices[1].note, HasSubstr("'this is not a row'"));
}

}  // namespace
}  // namespace zagent
