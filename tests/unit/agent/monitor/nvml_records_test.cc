// The pure part of the NVML adapter: choosing the process record size from what a driver wrote
// into a sentinel-filled buffer, the memory struct's version word and the text of a code.
#include "agent/monitor/nvml_records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace zagent::nvml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::uint64_t kTotal = 150'000'000'000ull;

struct Rec {
  std::uint32_t pid;
  std::uint64_t used;
};

// A buffer with room for `room` records of the largest layout, filled with the sentinel, then
// `recs` written as a driver with records of `stride` bytes writes them (padding untouched).
std::vector<unsigned char> driver_wrote(std::size_t stride, const std::vector<Rec>& recs,
                                        std::uint32_t instance = kNoInstance,
                                        std::size_t room = 8) {
  std::vector<unsigned char> buf(room * kLargestRecordBytes, kSentinelByte);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    unsigned char* p = buf.data() + i * stride;
    std::memcpy(p + kPidOffset, &recs[i].pid, 4);
    std::memcpy(p + kUsedMemoryOffset, &recs[i].used, 8);
    if (stride >= kRecordV2Bytes) {
      std::memcpy(p + kGpuInstanceOffset, &instance, 4);
      std::memcpy(p + kComputeInstanceOffset, &instance, 4);
    }
    if (stride >= kRecordV3Bytes) {
      const std::uint64_t zero = 0;
      std::memcpy(p + kCcProtectedOffset, &zero, 8);
    }
  }
  return buf;
}

GpuProcessUse use(pid_t pid, std::optional<std::uint64_t> bytes) { return {pid, bytes}; }

class NvmlRecordsStride : public ::testing::TestWithParam<std::size_t> {};

TEST_P(NvmlRecordsStride, OneToFiveRecords_TheWrittenStrideIsChosen) {
  const std::size_t stride = GetParam();
  std::vector<Rec> recs;
  std::vector<GpuProcessUse> want;
  for (std::uint32_t n = 1; n <= 5; ++n) {
    recs.push_back({4000 + n, n * 1'000'000ull});
    want.push_back(use(static_cast<pid_t>(4000 + n), n * 1'000'000ull));
    const RecordChoice c = choose_records(driver_wrote(stride, recs), recs.size(), kTotal);
    EXPECT_EQ(c.stride, stride) << n << " records";
    EXPECT_EQ(c.processes, want) << n << " records";
    EXPECT_EQ(c.error, "");
  }
}

INSTANTIATE_TEST_SUITE_P(NvmlStrides, NvmlRecordsStride,
                         ::testing::Values(kRecordV1Bytes, kRecordV2Bytes, kRecordV3Bytes));

TEST(NvmlRecords, NotAvailable_UsedBytesUnknown) {
  const auto buf = driver_wrote(kRecordV2Bytes, {{77, kValueNotAvailable}, {78, 5}});
  const RecordChoice c = choose_records(buf, 2, kTotal);
  EXPECT_EQ(c.stride, kRecordV2Bytes);
  EXPECT_THAT(c.processes, ElementsAre(use(77, std::nullopt), use(78, 5)));
}

TEST(NvmlRecords, MigInstanceIds_Plausible) {
  const auto buf = driver_wrote(kRecordV3Bytes, {{10, kValueNotAvailable}, {11, 0}}, 3);
  const RecordChoice c = choose_records(buf, 2, kTotal);
  EXPECT_EQ(c.stride, kRecordV3Bytes);
  EXPECT_THAT(c.processes, ElementsAre(use(10, std::nullopt), use(11, 0)));
}

TEST(NvmlRecords, ZeroCount_NoProcesses) {
  const RecordChoice c = choose_records(driver_wrote(kRecordV1Bytes, {}), 0, kTotal);
  EXPECT_NE(c.stride, 0u);
  EXPECT_TRUE(c.processes.empty());
}

TEST(NvmlRecords, DriverZeroedTheRest_FallsBackToTheOnePlausibleStride) {
  auto buf = driver_wrote(kRecordV2Bytes, {{500, 1000}, {501, 2000}, {502, 3000}});
  std::fill(buf.begin() + 3 * kRecordV2Bytes, buf.end(), 0);
  const RecordChoice c = choose_records(buf, 3, kTotal);
  EXPECT_EQ(c.stride, kRecordV2Bytes);
  EXPECT_THAT(c.processes, ElementsAre(use(500, 1000), use(501, 2000), use(502, 3000)));
}

TEST(NvmlRecords, PidOutOfRange_NoStrideFits) {
  const auto buf = driver_wrote(kRecordV1Bytes, {{0, 10}});
  const RecordChoice c = choose_records(buf, 1, kTotal);
  EXPECT_EQ(c.stride, 0u);
  EXPECT_TRUE(c.processes.empty());
  EXPECT_THAT(c.error, HasSubstr("fit no known layout"));
}

TEST(NvmlRecords, BytesAboveTheDeviceTotal_NoStrideFits) {
  const auto buf = driver_wrote(kRecordV1Bytes, {{42, kTotal + 1}});
  EXPECT_EQ(choose_records(buf, 1, kTotal).stride, 0u);
  // Without a known total any size but NOT_AVAILABLE's is taken as it is.
  EXPECT_EQ(choose_records(buf, 1, std::nullopt).stride, kRecordV1Bytes);
}

TEST(NvmlRecords, CountLargerThanTheBuffer_NoStrideFits) {
  const auto buf = driver_wrote(kRecordV1Bytes, {{42, 1}}, kNoInstance, 1);
  EXPECT_EQ(choose_records(buf, 5, kTotal).stride, 0u);
}

TEST(NvmlRecords, MemoryV2Version_SizeAndVersionByte) {
  EXPECT_EQ(struct_version(40, 2), 0x02000028u);
  EXPECT_EQ(struct_version(24, 1), 0x01000018u);
}

TEST(NvmlRecords, DescribeReturn_LibraryTextOrOurs) {
  EXPECT_EQ(describe_return(18, "Driver/library version mismatch"),
            "Driver/library version mismatch (NVML error 18, LIB_RM_VERSION_MISMATCH)");
  EXPECT_EQ(describe_return(9, nullptr),
            "the NVIDIA driver is not loaded (NVML error 9, DRIVER_NOT_LOADED)");
  EXPECT_EQ(describe_return(12345, ""), "unknown error (NVML error 12345)");
  EXPECT_EQ(return_code_name(15), "GPU_IS_LOST");
  EXPECT_EQ(return_code_name(-3), "code -3");
}

}  // namespace
}  // namespace zagent::nvml
