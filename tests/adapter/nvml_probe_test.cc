// NvmlProbe over the fake libnvidia-ml of tests/helpers/fake_nvml.cc: the test writes the
// fake's file (ZAGENT_FAKE_NVML), runs the loop and waits for `done` with a deadline. A hung
// call is the fake sleeping; the probe never joins its worker, so a test ends while it sleeps.
#include "agent/os/nvml_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kDevice0 =
    "device 0 GPU-11111111-2222-3333-4444-555555555555 \"Fake H200\" total=150000000000 "
    "used=20000000000 free=130000000000 util=40";
constexpr const char* kDevice1 =
    "device 1 GPU-66666666-7777-8888-9999-000000000000 \"Fake A100\" total=80000000000 "
    "used=0 free=80000000000 util=0";

class NvmlProbeTest : public ::testing::Test {
 protected:
  NvmlProbeTest() : config_(dir_.file("fake_nvml.txt")) {
    ::setenv("ZAGENT_FAKE_NVML", config_.c_str(), 1);
  }
  ~NvmlProbeTest() override {
    probe_.reset();  // does not wait for a worker stuck in the fake
    ::unsetenv("ZAGENT_FAKE_NVML");
  }

  /// Replaces the fake's file at once (write, then rename over), as a test may mid-run.
  void write_config(const std::string& content) {
    const std::string tmp = dir_.write("fake_nvml.tmp", content);
    ASSERT_EQ(std::rename(tmp.c_str(), config_.c_str()), 0);
  }

  void open(const std::string& library = ZAGENT_FAKE_NVML_LIB,
            std::chrono::milliseconds call_deadline = 5s) {
    std::string error;
    probe_ = NvmlProbe::open(io_, library, call_deadline, error);
    ASSERT_NE(probe_, nullptr) << error;
    EXPECT_EQ(error, "");
  }

  /// One reading: runs the loop until `done` or the deadline; nullopt on the deadline.
  std::optional<GpuReading> read(std::chrono::milliseconds deadline = 10s) {
    std::optional<GpuReading> got;
    probe_->read([&](GpuReading r) { got = std::move(r); });
    EXPECT_FALSE(got.has_value()) << "done was called from inside read()";
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!got && std::chrono::steady_clock::now() < until) {
      io_.restart();
      io_.run_for(2ms);
    }
    return got;
  }

  test::TempDir dir_;
  std::string config_;  // the fake's file
  boost::asio::io_context io_;
  std::unique_ptr<NvmlProbe> probe_;  // declared after io_: destroyed first
};

TEST_F(NvmlProbeTest, NvmlDevices_FiguresMatchTheFakesFile) {
  write_config(std::string("driver 550.54.15\n") + kDevice0 + "\n" + kDevice1 +
               "\nprocess 0 4242 1073741824\nprocess 0 4343 2147483648\n");
  open();
  EXPECT_EQ(probe_->backend(), "nvml");
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->error, "");
  EXPECT_EQ(r->driver_version, "550.54.15");
  ASSERT_EQ(r->devices.size(), 2u);
  const GpuDeviceReading& d0 = r->devices[0];
  EXPECT_EQ(d0.index, 0u);
  EXPECT_EQ(d0.uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(d0.name, "Fake H200");
  EXPECT_EQ(d0.total_bytes, 150000000000ull);
  EXPECT_EQ(d0.used_bytes, 20000000000ull);
  EXPECT_EQ(d0.free_bytes, 130000000000ull);
  EXPECT_EQ(d0.utilization_percent, 40u);
  EXPECT_TRUE(d0.processes_known);
  EXPECT_THAT(d0.processes,
              ElementsAre(GpuProcessUse{4242, 1073741824ull}, GpuProcessUse{4343, 2147483648ull}));
  EXPECT_EQ(d0.note, "");
  const GpuDeviceReading& d1 = r->devices[1];
  EXPECT_EQ(d1.index, 1u);
  EXPECT_EQ(d1.uuid, "GPU-66666666-7777-8888-9999-000000000000");
  EXPECT_EQ(d1.name, "Fake A100");
  EXPECT_EQ(d1.used_bytes, 0ull);
  EXPECT_EQ(d1.utilization_percent, 0u);
  EXPECT_TRUE(d1.processes_known) << "no processes is known, not unknown";
  EXPECT_THAT(d1.processes, IsEmpty());
}

class NvmlProbeStrideTest : public NvmlProbeTest, public ::testing::WithParamInterface<int> {};

TEST_P(NvmlProbeStrideTest, NvmlStride_PidsAndBytesRead) {
  write_config("stride " + std::to_string(GetParam()) + "\n" + kDevice0 +
               "\nprocess 0 100 1000\nprocess 0 4194304 na\nprocess 0 77 150000000000\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_TRUE(r->devices[0].processes_known) << r->devices[0].note;
  EXPECT_THAT(r->devices[0].processes,
              ElementsAre(GpuProcessUse{100, 1000ull}, GpuProcessUse{4194304, std::nullopt},
                          GpuProcessUse{77, 150000000000ull}));
}

INSTANTIATE_TEST_SUITE_P(NvmlStrides, NvmlProbeStrideTest, ::testing::Values(16, 24, 32));

TEST_F(NvmlProbeTest, NvmlProcessesNoPermission_ProcessesUnknown) {
  write_config(std::string("processes_error 4\n") + kDevice0 + "\nprocess 0 100 1000\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_FALSE(r->devices[0].processes_known);
  EXPECT_THAT(r->devices[0].processes, IsEmpty());
  EXPECT_THAT(r->devices[0].note, HasSubstr("NO_PERMISSION"));
  EXPECT_EQ(r->devices[0].total_bytes, 150000000000ull) << "the rest is still read";
}

TEST_F(NvmlProbeTest, NvmlProcessesAppearBetweenTheCalls_RetriedWithTheNewCount) {
  // 10 new processes overflow the slack of the first buffer: INSUFFICIENT_SIZE, then a retry.
  write_config(std::string("processes_appear 10\n") + kDevice0 + "\nprocess 0 100 1000\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_TRUE(r->devices[0].processes_known) << r->devices[0].note;
  ASSERT_EQ(r->devices[0].processes.size(), 11u);
  EXPECT_EQ(r->devices[0].processes.front(), (GpuProcessUse{100, 1000ull}));
  EXPECT_EQ(r->devices[0].processes.back(), (GpuProcessUse{90009, 1ull}));
}

TEST_F(NvmlProbeTest, NvmlMigMode_PerProcessBytesUnknown) {
  write_config(std::string(kDevice0) + " mig=1\nprocess 0 100 1000\nprocess 0 101 na\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_TRUE(r->devices[0].processes_known);
  EXPECT_THAT(r->devices[0].processes,
              ElementsAre(GpuProcessUse{100, std::nullopt}, GpuProcessUse{101, std::nullopt}));
  EXPECT_THAT(r->devices[0].note, HasSubstr("MIG"));
}

TEST_F(NvmlProbeTest, NvmlInitMismatch_FailsThenTheNextReadingWorks) {
  write_config(std::string("init_error 18\n") + kDevice0 + "\n");
  open();
  const auto failed = read();
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(failed->ok);
  EXPECT_THAT(failed->error, HasSubstr("nvmlInit_v2"));
  EXPECT_THAT(failed->error, HasSubstr("Driver/library version mismatch"));
  EXPECT_THAT(failed->error, HasSubstr("18"));
  EXPECT_THAT(failed->devices, IsEmpty());

  write_config(std::string(kDevice0) + "\n");
  const auto fixed = read();
  ASSERT_TRUE(fixed.has_value());
  EXPECT_TRUE(fixed->ok) << fixed->error;
  ASSERT_EQ(fixed->devices.size(), 1u);
  EXPECT_EQ(fixed->devices[0].name, "Fake H200");
}

TEST_F(NvmlProbeTest, NvmlLegacyLibrary_MemoryAndProcessesThroughV1Symbols) {
  write_config(std::string("driver 390.1\n") + kDevice0 + "\nprocess 0 100 1000\n");
  open(ZAGENT_FAKE_NVML_LEGACY_LIB);
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->driver_version, "") << "no nvmlSystemGetDriverVersion: unknown";
  ASSERT_EQ(r->devices.size(), 1u);
  const GpuDeviceReading& d = r->devices[0];
  EXPECT_EQ(d.uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(d.total_bytes, 150000000000ull);
  EXPECT_EQ(d.used_bytes, 20000000000ull);
  EXPECT_EQ(d.utilization_percent, std::nullopt);
  EXPECT_THAT(d.note, HasSubstr("nvmlDeviceGetUtilizationRates"));
  EXPECT_TRUE(d.processes_known);
  EXPECT_THAT(d.processes, ElementsAre(GpuProcessUse{100, 1000ull}));
}

TEST_F(NvmlProbeTest, NvmlMemoryV2VersionMismatch_FallsBackToV1) {
  write_config(std::string("error nvmlDeviceGetMemoryInfo_v2 25\n") + kDevice0 + "\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].total_bytes, 150000000000ull);
  EXPECT_EQ(r->devices[0].free_bytes, 130000000000ull);
  EXPECT_EQ(r->devices[0].note, "");
}

TEST_F(NvmlProbeTest, NvmlGpuLost_DeviceNotedFiguresUnknown) {
  write_config(std::string(kDevice0) + " lost=1\n" + kDevice1 + "\n");
  open();
  const auto r = read();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->error;
  ASSERT_EQ(r->devices.size(), 2u);
  EXPECT_THAT(r->devices[0].note, HasSubstr("GPU_IS_LOST"));
  EXPECT_EQ(r->devices[0].total_bytes, std::nullopt);
  EXPECT_EQ(r->devices[0].utilization_percent, std::nullopt);
  EXPECT_FALSE(r->devices[0].processes_known);
  EXPECT_EQ(r->devices[1].total_bytes, 80000000000ull) << "the other device is still read";
}

TEST_F(NvmlProbeTest, NvmlMissingLibrary_OpenFailsWithTheError) {
  std::string error;
  const std::string path = dir_.file("libnvidia-ml.so.1");
  auto probe = NvmlProbe::open(io_, path, 1s, error);
  EXPECT_EQ(probe, nullptr);
  EXPECT_THAT(error, HasSubstr("cannot load " + path + ": "));
}

TEST_F(NvmlProbeTest, NvmlHungCall_DeadlineErrorThenStillInsideAtOnce) {
  write_config(std::string("hang nvmlDeviceGetMemoryInfo_v2 30\n") + kDevice0 + "\n");
  open(ZAGENT_FAKE_NVML_LIB, 200ms);
  const auto start = std::chrono::steady_clock::now();
  const auto first = read(5s);
  ASSERT_TRUE(first.has_value()) << "no answer though a call hung past its deadline";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(first->ok);
  EXPECT_EQ(first->error, "NVML call nvmlDeviceGetMemoryInfo_v2 did not return within 200 ms");

  const auto second_start = std::chrono::steady_clock::now();
  const auto second = read(2s);
  ASSERT_TRUE(second.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - second_start, 1s);
  EXPECT_FALSE(second->ok);
  EXPECT_THAT(second->error, HasSubstr("NVML still inside nvmlDeviceGetMemoryInfo_v2 since "));
  // The fixture destroys the probe now: it must not wait for the sleeping call.
}

TEST_F(NvmlProbeTest, NvmlHungCallReturns_LateResultDroppedAndReadingsWorkAgain) {
  write_config(std::string("hang nvmlDeviceGetMemoryInfo_v2 1\n") + kDevice0 + "\n");
  open(ZAGENT_FAKE_NVML_LIB, 200ms);
  const auto first = read(5s);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->ok);
  EXPECT_THAT(first->error, HasSubstr("nvmlDeviceGetMemoryInfo_v2 did not return"));

  write_config(std::string(kDevice0) + "\n");
  std::optional<GpuReading> last;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until && !(last && last->ok)) {
    last = read(5s);
    ASSERT_TRUE(last.has_value());
    if (!last->ok) {
      EXPECT_THAT(last->error, HasSubstr("still inside nvmlDeviceGetMemoryInfo_v2"));
    }
  }
  ASSERT_TRUE(last && last->ok) << (last ? last->error : "no reading");
  ASSERT_EQ(last->devices.size(), 1u);
  EXPECT_EQ(last->devices[0].total_bytes, 150000000000ull);
}

TEST_F(NvmlProbeTest, NvmlProbeDestroyedWithAReadingInFlight_DoneNeverCalled) {
  write_config(std::string(kDevice0) + "\n");
  open();
  bool called = false;
  probe_->read([&](GpuReading) { called = true; });
  probe_.reset();
  // The worker posts nothing once the probe is gone; what was posted before is dropped.
  io_.restart();
  io_.run();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace zagent
