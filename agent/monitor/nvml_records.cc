#include "agent/monitor/nvml_records.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace zagent::nvml {

namespace {

struct CodeText {
  int code;
  std::string_view name;
  std::string_view text;  // used when the library has no nvmlErrorString
};

// nvmlReturn_t of the NVML API reference; the texts are ours.
constexpr std::array<CodeText, 31> kCodes{{
    {0, "SUCCESS", "success"},
    {1, "UNINITIALIZED", "NVML was not initialized"},
    {2, "INVALID_ARGUMENT", "invalid argument"},
    {3, "NOT_SUPPORTED", "not supported on this device"},
    {4, "NO_PERMISSION", "no permission"},
    {5, "ALREADY_INITIALIZED", "already initialized"},
    {6, "NOT_FOUND", "not found"},
    {7, "INSUFFICIENT_SIZE", "buffer too small"},
    {8, "INSUFFICIENT_POWER", "insufficient external power"},
    {9, "DRIVER_NOT_LOADED", "the NVIDIA driver is not loaded"},
    {10, "TIMEOUT", "timed out"},
    {11, "IRQ_ISSUE", "interrupt request issue"},
    {12, "LIBRARY_NOT_FOUND", "a shared library was not found"},
    {13, "FUNCTION_NOT_FOUND", "a function was not found in the library"},
    {14, "CORRUPTED_INFOROM", "corrupted infoROM"},
    {15, "GPU_IS_LOST", "the GPU has fallen off the bus or is otherwise inaccessible"},
    {16, "RESET_REQUIRED", "the GPU needs a reset"},
    {17, "OPERATING_SYSTEM", "the operating system blocked the call"},
    {18, "LIB_RM_VERSION_MISMATCH", "driver/library version mismatch"},
    {19, "IN_USE", "the GPU is in use"},
    {20, "MEMORY", "out of memory"},
    {21, "NO_DATA", "no data"},
    {22, "VGPU_ECC_NOT_SUPPORTED", "ECC is not supported on vGPU"},
    {23, "INSUFFICIENT_RESOURCES", "insufficient resources"},
    {24, "FREQ_NOT_SUPPORTED", "frequency not supported"},
    {25, "ARGUMENT_VERSION_MISMATCH", "the struct version is not supported"},
    {26, "DEPRECATED", "deprecated"},
    {27, "NOT_READY", "not ready"},
    {28, "GPU_NOT_FOUND", "GPU not found"},
    {29, "INVALID_STATE", "invalid state"},
    {999, "UNKNOWN", "unknown error"},
}};

const CodeText* find_code(int code) {
  for (const CodeText& c : kCodes) {
    if (c.code == code) {
      return &c;
    }
  }
  return nullptr;
}

std::uint32_t load_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t load_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool plausible_bytes(std::uint64_t bytes, std::optional<std::uint64_t> device_total) {
  return bytes == kValueNotAvailable || !device_total || bytes <= *device_total;
}

bool plausible_instance(std::uint32_t id) { return id == kNoInstance || id <= kMaxInstanceId; }

// One record at `p` read as a record of `stride` bytes.
bool plausible_record(const unsigned char* p, std::size_t stride,
                      std::optional<std::uint64_t> device_total) {
  const std::uint32_t pid = load_u32(p + kPidOffset);
  if (pid == 0 || pid > kMaxPid) {
    return false;
  }
  if (!plausible_bytes(load_u64(p + kUsedMemoryOffset), device_total)) {
    return false;
  }
  if (stride >= kRecordV2Bytes && (!plausible_instance(load_u32(p + kGpuInstanceOffset)) ||
                                   !plausible_instance(load_u32(p + kComputeInstanceOffset)))) {
    return false;
  }
  return stride < kRecordV3Bytes || plausible_bytes(load_u64(p + kCcProtectedOffset), device_total);
}

bool all_plausible(std::span<const unsigned char> buffer, std::size_t count, std::size_t stride,
                   std::optional<std::uint64_t> device_total) {
  if (count > buffer.size() / stride) {
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!plausible_record(buffer.data() + i * stride, stride, device_total)) {
      return false;
    }
  }
  return true;
}

RecordChoice decode(std::span<const unsigned char> buffer, std::size_t count, std::size_t stride) {
  RecordChoice out;
  out.stride = stride;
  out.processes.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned char* p = buffer.data() + i * stride;
    GpuProcessUse use;
    use.pid = static_cast<pid_t>(load_u32(p + kPidOffset));
    const std::uint64_t used = load_u64(p + kUsedMemoryOffset);
    if (used != kValueNotAvailable) {
      use.used_bytes = used;
    }
    out.processes.push_back(use);
  }
  return out;
}

}  // namespace

std::string return_code_name(int code) {
  const CodeText* c = find_code(code);
  return c != nullptr ? std::string(c->name) : fmt::format("code {}", code);
}

std::string describe_return(int code, const char* library_text) {
  std::string text;
  if (library_text != nullptr && *library_text != '\0') {
    text = library_text;
  } else if (const CodeText* c = find_code(code)) {
    text = c->text;
  } else {
    text = "unknown error";
  }
  if (find_code(code) == nullptr) {
    return fmt::format("{} (NVML error {})", text, code);
  }
  return fmt::format("{} (NVML error {}, {})", text, code, return_code_name(code));
}

RecordChoice choose_records(std::span<const unsigned char> buffer, std::size_t count,
                            std::optional<std::uint64_t> device_total) {
  constexpr std::array<std::size_t, 3> kStrides{kRecordV1Bytes, kRecordV2Bytes, kRecordV3Bytes};
  if (count == 0) {
    return decode(buffer, 0, kRecordV1Bytes);
  }
  std::size_t extent = buffer.size();
  while (extent > 0 && buffer[extent - 1] == kSentinelByte) {
    --extent;
  }
  // Every record's last field (usedGpuMemory, computeInstanceId, usedGpuCcProtectedMemory) has
  // the top byte 0x00 or 0xFF when plausible, so a driver that writes exactly its records ends
  // on a byte that is not the sentinel: the extent is count * stride for one stride only.
  for (std::size_t stride : kStrides) {
    if (extent == count * stride && all_plausible(buffer, count, stride, device_total)) {
      return decode(buffer, count, stride);
    }
  }
  std::size_t fitting = 0;
  std::size_t fits = 0;
  for (std::size_t stride : kStrides) {
    if (all_plausible(buffer, count, stride, device_total)) {
      fitting = stride;
      ++fits;
    }
  }
  if (fits == 1) {
    return decode(buffer, count, fitting);
  }
  RecordChoice none;
  none.error = fmt::format(
      "processes: the driver's records fit no known layout ({} records, {} bytes written{})", count,
      extent, fits > 1 ? ", more than one layout plausible" : "");
  return none;
}

}  // namespace zagent::nvml
