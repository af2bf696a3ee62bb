// The pure part of the NVML adapter: NVML's return codes as text, the memory struct's version
// word, and reading the compute-process records a driver wrote into a byte buffer (choosing
// the record size). No OS headers and no calls into NVML: agent/os/nvml_probe does those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/monitor/gpu_probe.h"

namespace zagent::nvml {

// Record sizes of the compute-process calls (NVML API reference, nvmlProcessInfo_v1_t,
// nvmlProcessInfo_v2_t and nvmlProcessInfo_t): {pid, usedGpuMemory} = 16 bytes;
// {+ gpuInstanceId, computeInstanceId} = 24; newer drivers {+ usedGpuCcProtectedMemory} = 32.
inline constexpr std::size_t kRecordV1Bytes = 16;
inline constexpr std::size_t kRecordV2Bytes = 24;
inline constexpr std::size_t kRecordV3Bytes = 32;
inline constexpr std::size_t kLargestRecordBytes = kRecordV3Bytes;
// Field offsets inside a record (natural alignment: 4 bytes of padding after pid).
inline constexpr std::size_t kPidOffset = 0;
inline constexpr std::size_t kUsedMemoryOffset = 8;
inline constexpr std::size_t kGpuInstanceOffset = 16;
inline constexpr std::size_t kComputeInstanceOffset = 20;
inline constexpr std::size_t kCcProtectedOffset = 24;

/// NVML_VALUE_NOT_AVAILABLE as an unsigned long long (usedGpuMemory under MIG, for example).
inline constexpr std::uint64_t kValueNotAvailable = ~0ull;
/// An instance id that is not set (no MIG): 0xFFFFFFFF.
inline constexpr std::uint32_t kNoInstance = 0xFFFFFFFFu;
/// Instance ids above this are not plausible (an H100 has at most 7 GPU instances).
inline constexpr std::uint32_t kMaxInstanceId = 64;
/// The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit).
inline constexpr std::uint32_t kMaxPid = 4194304;
/// The byte a process buffer is filled with before the call, to see how far the driver wrote.
/// Neither 0x00 nor 0xFF, which are the top bytes of every plausible last field.
inline constexpr unsigned char kSentinelByte = 0xA5;

// nvmlReturn_t values the adapter acts on (NVML API reference, nvmlReturn_t).
inline constexpr int kSuccess = 0;
inline constexpr int kErrorNotSupported = 3;
inline constexpr int kErrorNoPermission = 4;
inline constexpr int kErrorInsufficientSize = 7;
inline constexpr int kErrorGpuIsLost = 15;
inline constexpr int kErrorArgumentVersionMismatch = 25;

/// NVML_STRUCT_VERSION(name, ver): the struct's size in the low bits, the version in the top
/// byte; nvmlMemory_v2_t (40 bytes) gives 0x02000028.
constexpr std::uint32_t struct_version(std::size_t struct_bytes, unsigned version) {
  return static_cast<std::uint32_t>(struct_bytes) | (static_cast<std::uint32_t>(version) << 24);
}

/// The enumerator's name without its prefix (`LIB_RM_VERSION_MISMATCH`); `code N` for a value
/// this table does not know.
std::string return_code_name(int code);

/// Operator text for a failed call: `Driver/library version mismatch (NVML error 18,
/// LIB_RM_VERSION_MISMATCH)`. `library_text` is what nvmlErrorString said (empty or null when
/// the library has no nvmlErrorString); our own short description is used then.
std::string describe_return(int code, const char* library_text);

/// What the process records in a buffer say.
struct RecordChoice {
  /// The record size the driver wrote: 16, 24 or 32; 0 = no size fits (see `error`).
  std::size_t stride = 0;
  /// In the driver's order; used_bytes nullopt where the driver wrote NOT_AVAILABLE.
  std::vector<GpuProcessUse> processes;
  /// Why no size fits (for the device's note); empty when stride != 0.
  std::string error;
};

/// Reads `count` records from `buffer`, which was filled with kSentinelByte before the driver
/// wrote into it. The size is the one for which the written extent (up to the last byte that is
/// not the sentinel) is exactly count records and every record is plausible (pid in
/// 1..kMaxPid, usedGpuMemory NOT_AVAILABLE or at most `device_total`, instance ids unset or
/// small); when the extent fits none (a driver that also wrote past its records), the one size
/// whose records are all plausible. count 0 gives stride 16 and no processes.
RecordChoice choose_records(std::span<const unsigned char> buffer, std::size_t count,
                            std::optional<std::uint64_t> device_total);

}  // namespace zagent::nvml
