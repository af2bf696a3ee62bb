// The part of NVML's C ABI that the probe calls, declared here because no NVIDIA header is on
// the build machines. Written from the public ABI: nvml.h of the CUDA toolkit and the NVML API
// reference (docs.nvidia.com/deploy/nvml-api: nvmlReturn_t, nvmlMemory_t, nvmlMemory_v2_t,
// nvmlUtilization_t, nvmlProcessInfo_v1_t / _v2_t / nvmlProcessInfo_t, the device queries).
// Used by agent/os/nvml_probe and the fake library of the tests; depends on nothing else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/monitor/nvml_records.h"

namespace zagent::nvml {

/// nvmlReturn_t: a C enum, int-sized. The library may return values not listed here.
enum nvmlReturn_t : int {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_ALREADY_INITIALIZED = 5,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_INSUFFICIENT_POWER = 8,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_TIMEOUT = 10,
  NVML_ERROR_IRQ_ISSUE = 11,
  NVML_ERROR_LIBRARY_NOT_FOUND = 12,
  NVML_ERROR_FUNCTION_NOT_FOUND = 13,
  NVML_ERROR_CORRUPTED_INFOROM = 14,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_RESET_REQUIRED = 16,
  NVML_ERROR_OPERATING_SYSTEM = 17,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
  NVML_ERROR_IN_USE = 19,
  NVML_ERROR_MEMORY = 20,
  NVML_ERROR_NO_DATA = 21,
  NVML_ERROR_VGPU_ECC_NOT_SUPPORTED = 22,
  NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
  NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_DEPRECATED = 26,
  NVML_ERROR_NOT_READY = 27,
  NVML_ERROR_GPU_NOT_FOUND = 28,
  NVML_ERROR_INVALID_STATE = 29,
  NVML_ERROR_UNKNOWN = 999,
};

/// nvmlDevice_t: an opaque handle (`typedef struct nvmlDevice_st* nvmlDevice_t`).
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;

/// nvmlMemory_t (nvmlDeviceGetMemoryInfo): bytes.
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

/// nvmlMemory_v2_t (nvmlDeviceGetMemoryInfo_v2): `version` must be nvmlMemory_v2 below; `used`
/// excludes `reserved` (the driver's own), unlike v1's.
struct nvmlMemory_v2_t {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
};
/// NVML_STRUCT_VERSION(Memory, 2).
inline constexpr unsigned int nvmlMemory_v2 = struct_version(sizeof(nvmlMemory_v2_t), 2);

/// nvmlUtilization_t: percent over the driver's sample period.
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};

/// nvmlProcessInfo_v1_t: what nvmlDeviceGetComputeRunningProcesses writes.
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;  ///< NVML_VALUE_NOT_AVAILABLE when unknown
};
/// nvmlProcessInfo_v2_t: _v2, and _v3 on drivers older than the 32-byte record.
struct nvmlProcessInfo_v2_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;      ///< 0xFFFFFFFF when not in a MIG instance
  unsigned int computeInstanceId;  ///< 0xFFFFFFFF when not in a MIG instance
};
/// nvmlProcessInfo_t of newer headers (what _v3 writes on newer drivers).
struct nvmlProcessInfo_v3_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
  unsigned long long usedGpuCcProtectedMemory;
};
static_assert(sizeof(nvmlProcessInfo_v1_t) == kRecordV1Bytes);
static_assert(sizeof(nvmlProcessInfo_v2_t) == kRecordV2Bytes);
static_assert(sizeof(nvmlProcessInfo_v3_t) == kRecordV3Bytes);
static_assert(offsetof(nvmlProcessInfo_v1_t, usedGpuMemory) == kUsedMemoryOffset);
static_assert(offsetof(nvmlProcessInfo_v2_t, gpuInstanceId) == kGpuInstanceOffset);
static_assert(offsetof(nvmlProcessInfo_v2_t, computeInstanceId) == kComputeInstanceOffset);
static_assert(offsetof(nvmlProcessInfo_v3_t, usedGpuCcProtectedMemory) == kCcProtectedOffset);
static_assert(sizeof(nvmlMemory_v2_t) == 40);

/// NVML_VALUE_NOT_AVAILABLE.
inline constexpr unsigned long long NVML_VALUE_NOT_AVAILABLE = kValueNotAvailable;
/// NVML_DEVICE_MIG_ENABLE: nvmlDeviceGetMigMode's current mode when MIG is on.
inline constexpr unsigned int NVML_DEVICE_MIG_ENABLE = 1;
/// Buffer sizes the API reference gives (NVML_DEVICE_UUID_V2_BUFFER_SIZE,
/// NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE).
inline constexpr unsigned int NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
inline constexpr unsigned int NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;
inline constexpr unsigned int NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80;

// The functions, as pointers for dlsym. The names are the exported symbols.
using nvmlInit_fn = nvmlReturn_t (*)();  // nvmlInit_v2, nvmlInit
using nvmlShutdown_fn = nvmlReturn_t (*)();
using nvmlErrorString_fn = const char* (*)(nvmlReturn_t);
using nvmlSystemGetDriverVersion_fn = nvmlReturn_t (*)(char* version, unsigned int length);
using nvmlDeviceGetCount_fn = nvmlReturn_t (*)(unsigned int* count);  // _v2 and v1
using nvmlDeviceGetHandleByIndex_fn = nvmlReturn_t (*)(unsigned int index, nvmlDevice_t* device);
using nvmlDeviceGetUUID_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* uuid, unsigned int length);
using nvmlDeviceGetName_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* name, unsigned int length);
using nvmlDeviceGetMemoryInfo_fn = nvmlReturn_t (*)(nvmlDevice_t device, nvmlMemory_t* memory);
using nvmlDeviceGetMemoryInfo_v2_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                       nvmlMemory_v2_t* memory);
using nvmlDeviceGetUtilizationRates_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                          nvmlUtilization_t* utilization);
/// All three versions share the signature; `infos` is the record array of the version's size
/// (void* here: the size is chosen after the call, nvml_records.h).
using nvmlDeviceGetComputeRunningProcesses_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                                 unsigned int* infoCount,
                                                                 void* infos);
using nvmlDeviceGetMigMode_fn = nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* currentMode,
                                                 unsigned int* pendingMode);

}  // namespace zagent::nvml
