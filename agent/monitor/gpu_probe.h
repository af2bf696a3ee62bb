// The GPU monitor's port: who reads the devices and their compute processes. Two adapters:
// NVML loaded at run time (agent/os/nvml_probe) and nvidia-smi (agent/os/smi_probe); tests
// use fakes. A reading is asynchronous: NVML runs on its one worker thread, nvidia-smi is a
// child process; the result comes back on the event-loop thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {

/// One compute process on a device, as the driver lists it.
struct GpuProcessUse {
  pid_t pid = 0;  ///< in the pid namespace the driver sees (the host's)
  /// nullopt = the driver does not say (MIG, NO_PERMISSION, `[N/A]`): unknown, never 0.
  std::optional<std::uint64_t> used_bytes;
  friend bool operator==(const GpuProcessUse&, const GpuProcessUse&) = default;
};

/// One device. Every figure is optional: nullopt = unknown (the call is missing, failed or
/// not supported), never 0.
struct GpuDeviceReading {
  unsigned index = 0;  ///< the driver's index (nvidia-smi's `index`)
  std::string uuid;    ///< `GPU-…` (`MIG-…` for a MIG instance); the key of a device
  std::string name;    ///< `NVIDIA H200`
  std::optional<std::uint64_t> total_bytes;
  std::optional<std::uint64_t> used_bytes;
  std::optional<std::uint64_t> free_bytes;
  std::optional<unsigned> utilization_percent;  ///< GPU (SM) utilization over the driver's period
  /// The per-process list could be read; false = unknown (then `processes` is empty and
  /// means nothing).
  bool processes_known = false;
  std::vector<GpuProcessUse> processes;
  /// What could not be read on this device, for the operator (`processes: NO_PERMISSION`);
  /// empty = everything was read.
  std::string note;
  friend bool operator==(const GpuDeviceReading&, const GpuDeviceReading&) = default;
};

/// One reading of every device.
struct GpuReading {
  /// False: nothing could be read this time (init failed, the library and the driver do not
  /// match, a call hung, nvidia-smi failed); `error` says why and `devices` is empty.
  bool ok = false;
  std::string error;
  std::string driver_version;  ///< "" = unknown
  std::vector<GpuDeviceReading> devices;
  friend bool operator==(const GpuReading&, const GpuReading&) = default;
};

class GpuProbe {
 public:
  virtual ~GpuProbe() = default;
  /// `nvml` or `nvidia-smi`.
  virtual std::string_view backend() const = 0;
  /// Starts one reading. `done` is called exactly once, on the event-loop thread, and never
  /// from inside read() (it is posted). The caller starts no second reading before `done`.
  /// A reading that does not finish within the probe's deadline ends with ok=false and an
  /// error naming what hung; the probe then answers later readings with an error at once
  /// until the hung call returns.
  virtual void read(std::function<void(GpuReading)> done) = 0;
};

}  // namespace zagent
