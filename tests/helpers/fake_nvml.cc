// A fake libnvidia-ml for the tests of agent/os/nvml_probe: C symbols with NVML's names, its
// devices and processes read from the file named by the environment variable ZAGENT_FAKE_NVML.
// Built twice: `fake_nvml` (libnvidia-ml.so.1 with the versioned symbols) and, with
// FAKE_NVML_LEGACY defined, `fake_nvml_legacy`, which exports only the old unversioned ones.
//
// The file is read again at every nvmlInit* and nvmlDeviceGetCount* call, so a test can change
// it mid-run (write a temporary file, then rename it over). One directive a line; `#` starts a
// comment; unknown lines are ignored:
//
//   init_error 18                 nvmlInit* returns 18 (LIB_RM_VERSION_MISMATCH)
//   driver 550.54.15              nvmlSystemGetDriverVersion
//   hang nvmlDeviceGetMemoryInfo_v2 30   that call sleeps 30 s before it answers (a hung driver)
//   error nvmlDeviceGetUUID 15    that call returns 15 (any symbol of this file)
//   stride 24                     the record size the processes calls write: 16|24|32 (default:
//                                 16 for the v1 symbol, 24 for _v2, 32 for _v3)
//   processes_error 4             every processes call returns 4 (NO_PERMISSION)
//   processes_appear 10           10 more processes (pids 90000, 90001, ..., 1 byte each) on
//                                 every device in each processes call given a buffer than in
//                                 the count call: processes that start between the two calls
//   device 0 GPU-1111 "Fake H200" total=150000000000 used=20000000000 free=130000000000 util=40
//                                 one device; each key= is optional (no total= = memory
//                                 NOT_SUPPORTED, no util= = utilization NOT_SUPPORTED);
//                                 mig=1: MIG mode on; lost=1: every call on it is GPU_IS_LOST
//   process 0 4242 1073741824     a compute process: device index, pid, used bytes or `na`
//
// Devices are listed in the order of their index; the indexes must be 0, 1, ... without gaps.
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/os/nvml_abi.h"

using zagent::nvml::nvmlDevice_t;
using zagent::nvml::nvmlMemory_t;
using zagent::nvml::nvmlMemory_v2_t;
using zagent::nvml::nvmlReturn_t;
using zagent::nvml::nvmlUtilization_t;

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr unsigned kMaxDevices = 64;

struct Process {
  unsigned pid = 0;
  unsigned long long used = zagent::nvml::kValueNotAvailable;
};

struct Device {
  std::string uuid;
  std::string name;
  std::map<std::string, unsigned long long> keys;  // total, used, free, util, mig, lost
  std::vector<Process> processes;
};

struct Config {
  int init_error = 0;
  std::string driver;
  std::map<std::string, int> hang_seconds;  // by symbol
  std::map<std::string, int> errors;        // by symbol
  unsigned stride = 0;                      // 0 = the symbol's own
  int processes_error = 0;
  unsigned processes_appear = 0;
  std::vector<Device> devices;
};

std::mutex g_mu;  // guards g_config and g_inits
Config g_config;  // the file as last read
// Successful nvmlInit* calls not yet matched by nvmlShutdown (NVML counts them so too).
int g_inits = 0;
char g_handles[kMaxDevices];  // a device handle points at its index's byte

nvmlReturn_t code(int value) { return static_cast<nvmlReturn_t>(value); }

Config parse(std::istream& in) {
  Config c;
  std::string line;
  while (std::getline(in, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) {
      continue;
    }
    if (key == "init_error") {
      words >> c.init_error;
    } else if (key == "driver") {
      words >> c.driver;
    } else if (key == "hang") {
      std::string symbol;
      int seconds = 0;
      words >> symbol >> seconds;
      c.hang_seconds[symbol] = seconds;
    } else if (key == "error") {
      std::string symbol;
      int value = 0;
      words >> symbol >> value;
      c.errors[symbol] = value;
    } else if (key == "stride") {
      words >> c.stride;
    } else if (key == "processes_error") {
      words >> c.processes_error;
    } else if (key == "processes_appear") {
      words >> c.processes_appear;
    } else if (key == "device") {
      Device d;
      unsigned index = 0;
      words >> index >> d.uuid >> std::ws;
      if (words.peek() == '"') {
        words.get();
        std::getline(words, d.name, '"');
      }
      std::string kv;
      while (words >> kv) {
        const auto eq = kv.find('=');
        if (eq != std::string::npos) {
          d.keys[kv.substr(0, eq)] = std::stoull(kv.substr(eq + 1));
        }
      }
      if (c.devices.size() < kMaxDevices) {
        c.devices.push_back(std::move(d));
      }
    } else if (key == "process") {
      unsigned index = 0;
      Process p;
      std::string used;
      words >> index >> p.pid >> used;
      if (used != "na") {
        p.used = std::stoull(used);
      }
      if (index < c.devices.size()) {
        c.devices[index].processes.push_back(p);
      }
    }
  }
  return c;
}

void reload() {
  const char* path = ::getenv("ZAGENT_FAKE_NVML");
  Config c;
  if (path != nullptr) {
    std::ifstream in(path);
    c = parse(in);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_config = std::move(c);
}

// At the entry of every symbol: the configured hang (the lock is not held while sleeping),
// then the configured error; 0 when the call should go on.
int enter(const char* symbol) {
  int hang = 0;
  int error = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (auto it = g_config.hang_seconds.find(symbol); it != g_config.hang_seconds.end()) {
      hang = it->second;
    }
    if (auto it = g_config.errors.find(symbol); it != g_config.errors.end()) {
      error = it->second;
    }
  }
  if (hang > 0) {
    std::this_thread::sleep_for(std::chrono::seconds(hang));
  }
  return error;
}

// The device behind a handle, with g_mu held by the caller; null for a foreign handle.
const Device* device_of(nvmlDevice_t handle) {
  const auto* p = reinterpret_cast<const char*>(handle);
  if (p < g_handles || p >= g_handles + kMaxDevices) {
    return nullptr;
  }
  const auto index = static_cast<std::size_t>(p - g_handles);
  return index < g_config.devices.size() ? &g_config.devices[index] : nullptr;
}

// The common part of a device call: the hang and error of `symbol`, then a copy of the
// device (the file may be read again meanwhile); NVML_SUCCESS when `out` is filled.
nvmlReturn_t device_call(const char* symbol, nvmlDevice_t handle, Device& out) {
  if (const int error = enter(symbol)) {
    return code(error);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_inits == 0) {
    return zagent::nvml::NVML_ERROR_UNINITIALIZED;
  }
  const Device* d = device_of(handle);
  if (d == nullptr) {
    return zagent::nvml::NVML_ERROR_INVALID_ARGUMENT;
  }
  if (d->keys.count("lost") != 0 && d->keys.at("lost") != 0) {
    return zagent::nvml::NVML_ERROR_GPU_IS_LOST;
  }
  out = *d;
  return zagent::nvml::NVML_SUCCESS;
}

nvmlReturn_t copy_string(const std::string& value, char* buf, unsigned int length) {
  if (buf == nullptr || length <= value.size()) {
    return zagent::nvml::NVML_ERROR_INSUFFICIENT_SIZE;
  }
  std::memcpy(buf, value.c_str(), value.size() + 1);
  return zagent::nvml::NVML_SUCCESS;
}

nvmlReturn_t do_init(const char* symbol) {
  reload();
  if (const int error = enter(symbol)) {
    return code(error);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_config.init_error != 0) {
    return code(g_config.init_error);
  }
  ++g_inits;
  return zagent::nvml::NVML_SUCCESS;
}

nvmlReturn_t do_count(const char* symbol, unsigned int* count) {
  reload();
  if (const int error = enter(symbol)) {
    return code(error);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_inits == 0) {
    return zagent::nvml::NVML_ERROR_UNINITIALIZED;
  }
  *count = static_cast<unsigned int>(g_config.devices.size());
  return zagent::nvml::NVML_SUCCESS;
}

nvmlReturn_t do_handle(const char* symbol, unsigned int index, nvmlDevice_t* device) {
  if (const int error = enter(symbol)) {
    return code(error);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_inits == 0) {
    return zagent::nvml::NVML_ERROR_UNINITIALIZED;
  }
  if (index >= g_config.devices.size()) {
    return zagent::nvml::NVML_ERROR_INVALID_ARGUMENT;
  }
  *device = reinterpret_cast<nvmlDevice_t>(&g_handles[index]);
  return zagent::nvml::NVML_SUCCESS;
}

// Fills total/used/free of `d`; NOT_SUPPORTED when the file gives no total.
nvmlReturn_t memory_of(const Device& d, unsigned long long& total, unsigned long long& used,
                       unsigned long long& free) {
  if (d.keys.count("total") == 0) {
    return zagent::nvml::NVML_ERROR_NOT_SUPPORTED;
  }
  total = d.keys.at("total");
  used = d.keys.count("used") != 0 ? d.keys.at("used") : 0;
  free = d.keys.count("free") != 0 ? d.keys.at("free") : total - used;
  return zagent::nvml::NVML_SUCCESS;
}

// Writes the processes of `d` as records of `stride` bytes, NVML's two-call protocol.
nvmlReturn_t write_processes(const Device& d, unsigned stride, unsigned int* count, void* infos) {
  const auto n = static_cast<unsigned int>(d.processes.size());
  if (infos == nullptr || *count < n) {
    *count = n;
    return n == 0 ? zagent::nvml::NVML_SUCCESS : zagent::nvml::NVML_ERROR_INSUFFICIENT_SIZE;
  }
  const bool mig = d.keys.count("mig") != 0 && d.keys.at("mig") != 0;
  auto* out = static_cast<unsigned char*>(infos);
  for (unsigned int i = 0; i < n; ++i) {
    unsigned char* rec = out + static_cast<std::size_t>(i) * stride;
    const unsigned pid = d.processes[i].pid;
    const unsigned long long used = d.processes[i].used;
    // The padding after pid is left as it was, as a driver copying its own struct may.
    std::memcpy(rec + zagent::nvml::kPidOffset, &pid, sizeof pid);
    std::memcpy(rec + zagent::nvml::kUsedMemoryOffset, &used, sizeof used);
    if (stride >= zagent::nvml::kRecordV2Bytes) {
      const unsigned instance = mig ? 0u : zagent::nvml::kNoInstance;
      std::memcpy(rec + zagent::nvml::kGpuInstanceOffset, &instance, sizeof instance);
      std::memcpy(rec + zagent::nvml::kComputeInstanceOffset, &instance, sizeof instance);
    }
    if (stride >= zagent::nvml::kRecordV3Bytes) {
      const unsigned long long protected_bytes = 0;
      std::memcpy(rec + zagent::nvml::kCcProtectedOffset, &protected_bytes, sizeof protected_bytes);
    }
  }
  *count = n;
  return zagent::nvml::NVML_SUCCESS;
}

nvmlReturn_t do_processes(const char* symbol, unsigned default_stride, nvmlDevice_t handle,
                          unsigned int* count, void* infos) {
  Device d;
  if (const nvmlReturn_t rc = device_call(symbol, handle, d); rc != zagent::nvml::NVML_SUCCESS) {
    return rc;
  }
  unsigned stride = default_stride;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_config.processes_error != 0) {
      return code(g_config.processes_error);
    }
    if (g_config.stride != 0) {
      stride = g_config.stride;
    }
    if (infos != nullptr) {
      for (unsigned i = 0; i < g_config.processes_appear; ++i) {
        d.processes.push_back(Process{90000 + i, 1});
      }
    }
  }
  return write_processes(d, stride, count, infos);
}

}  // namespace

FAKE_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
  switch (static_cast<int>(result)) {
    case 0:
      return "Success";
    case 4:
      return "Insufficient Permissions";
    case 9:
      return "Driver Not Loaded";
    case 15:
      return "GPU is lost";
    case 18:
      return "Driver/library version mismatch";
    default:
      return "Unknown Error";
  }
}

FAKE_EXPORT nvmlReturn_t nvmlInit() { return do_init("nvmlInit"); }

FAKE_EXPORT nvmlReturn_t nvmlShutdown() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_inits > 0) {
    --g_inits;
  }
  return zagent::nvml::NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int* count) {
  return do_count("nvmlDeviceGetCount", count);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device) {
  return do_handle("nvmlDeviceGetHandleByIndex", index, device);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetUUID", device, d);
  return rc != zagent::nvml::NVML_SUCCESS ? rc : copy_string(d.uuid, uuid, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetName", device, d);
  return rc != zagent::nvml::NVML_SUCCESS ? rc : copy_string(d.name, name, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetMemoryInfo", device, d);
  return rc != zagent::nvml::NVML_SUCCESS ? rc
                                          : memory_of(d, memory->total, memory->used, memory->free);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
                                                              unsigned int* count, void* infos) {
  return do_processes("nvmlDeviceGetComputeRunningProcesses", zagent::nvml::kRecordV1Bytes, device,
                      count, infos);
}

#ifndef FAKE_NVML_LEGACY

FAKE_EXPORT nvmlReturn_t nvmlInit_v2() { return do_init("nvmlInit_v2"); }

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  return do_count("nvmlDeviceGetCount_v2", count);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  return do_handle("nvmlDeviceGetHandleByIndex_v2", index, device);
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  if (const int error = enter("nvmlSystemGetDriverVersion")) {
    return code(error);
  }
  std::string driver;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_inits == 0) {
      return zagent::nvml::NVML_ERROR_UNINITIALIZED;
    }
    driver = g_config.driver;
  }
  return copy_string(driver, version, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetMemoryInfo_v2", device, d);
  if (rc != zagent::nvml::NVML_SUCCESS) {
    return rc;
  }
  if (memory->version != zagent::nvml::nvmlMemory_v2) {
    return zagent::nvml::NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  }
  memory->reserved = 0;
  return memory_of(d, memory->total, memory->used, memory->free);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                       nvmlUtilization_t* utilization) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetUtilizationRates", device, d);
  if (rc != zagent::nvml::NVML_SUCCESS) {
    return rc;
  }
  if (d.keys.count("util") == 0) {
    return zagent::nvml::NVML_ERROR_NOT_SUPPORTED;
  }
  utilization->gpu = static_cast<unsigned int>(d.keys.at("util"));
  utilization->memory = 0;
  return zagent::nvml::NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current,
                                              unsigned int* pending) {
  Device d;
  const nvmlReturn_t rc = device_call("nvmlDeviceGetMigMode", device, d);
  if (rc != zagent::nvml::NVML_SUCCESS) {
    return rc;
  }
  *current = d.keys.count("mig") != 0 && d.keys.at("mig") != 0 ? 1u : 0u;
  *pending = *current;
  return zagent::nvml::NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
                                                                 unsigned int* count, void* infos) {
  return do_processes("nvmlDeviceGetComputeRunningProcesses_v2", zagent::nvml::kRecordV2Bytes,
                      device, count, infos);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                 unsigned int* count, void* infos) {
  return do_processes("nvmlDeviceGetComputeRunningProcesses_v3", zagent::nvml::kRecordV3Bytes,
                      device, count, infos);
}

#endif  // FAKE_NVML_LEGACY
