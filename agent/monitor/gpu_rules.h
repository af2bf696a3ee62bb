// The GPU guardian's pure rules: which devices a program uses, which program a GPU process
// belongs to, the watermark and memory-limit guards, and the start gate's free-memory test.
// No I/O: the GPU monitor feeds them readings and the process lineage it looked up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/monitor/gpu_probe.h"
#include "agent/process/clock.h"
#include "agent/process/exit_cause.h"

namespace zagent {

/// `12.0 GiB`, `512.0 MiB`, `3.0 KiB`, `12 B`: the GPU texts' sizes (1024-based).
std::string format_gib(double bytes);

/// Whether the program has a GPU key (gpu_devices other than auto, gpu_min_free,
/// gpu_start_min_free, gpu_memory_limit): only then are the devices read for it, its start
/// gated and its old tree's GPU memory waited for.
bool uses_gpu_keys(const ProcessConfig& config);

/// The devices a program uses, as positions in `devices`: gpu_devices when given (indices
/// and UUIDs; a UUID may be a unique prefix as CUDA takes it); else CUDA_VISIBLE_DEVICES, else
/// NVIDIA_VISIBLE_DEVICES from `environment` (`K=V`, the last one wins), read as CUDA does
/// (`all`; `none`, `void`, `-1` or empty = no device; the list ends at the first entry that
/// matches no device); else every device.
std::vector<std::size_t> program_devices(const ProcessConfig& config,
                                         const std::vector<std::string>& environment,
                                         const std::vector<GpuDeviceReading>& devices);

/// A program's share of one device.
struct ProgramGpuUse {
  std::string namespec;
  std::vector<pid_t> pids;              ///< the GPU processes of its tree on this device
  std::optional<std::uint64_t> bytes;   ///< their memory; nullopt = unknown
  bool estimated = false;               ///< attributed by elimination (see attribute())
  friend bool operator==(const ProgramGpuUse&, const ProgramGpuUse&) = default;
};

struct DeviceUse {
  std::vector<ProgramGpuUse> programs;     ///< programs with a process on the device
  std::vector<GpuProcessUse> others;       ///< processes of no program
  friend bool operator==(const DeviceUse&, const DeviceUse&) = default;
};

/// How the GPU processes were matched to programs.
enum class AttributionMode {
  Pids,       ///< by pid: each GPU process's ancestors lead to a program's pid
  Estimated,  ///< the driver's pids are not of this pid namespace: by elimination
};

struct Attribution {
  AttributionMode mode = AttributionMode::Pids;
  std::vector<DeviceUse> devices;  ///< parallel to the reading's devices
};

/// A program with a child, for attribution.
struct LiveProgram {
  std::string namespec;
  pid_t pid = 0;                         ///< its spawned pid (the root of its tree)
  std::vector<std::size_t> devices;      ///< program_devices() (elimination only)
};

/// The parent of a pid (nullopt: gone or unreadable); looked up at most once per pid.
using ParentOf = std::function<std::optional<pid_t>(pid_t)>;

/// Matches each device's compute processes to the programs. With `host_pids` each process's
/// chain of parents is walked up to a program's pid (at most 64 steps); without (a container
/// with its own pid namespace, where the driver's pids mean nothing here) a device's
/// processes go to the one live program that uses the device, marked estimated, or to no
/// program (bytes unknown for each user) when several share it.
Attribution attribute(const GpuReading& reading, const std::vector<LiveProgram>& programs,
                      bool host_pids, const ParentOf& parent_of);

/// A program's own GPU memory over every device; nullopt = unknown (nothing attributed, or a
/// share unknown).
struct ProgramTotal {
  std::optional<std::uint64_t> bytes;
  bool estimated = false;
  bool any = false;  ///< some device lists it
};
ProgramTotal program_total(const Attribution& attribution, const std::string& namespec);

/// What the GPU guards remember about one run between readings.
struct GpuGuardState {
  std::optional<SteadyTime> low_since;  ///< first reading under gpu_min_free
  friend bool operator==(const GpuGuardState&, const GpuGuardState&) = default;
};

struct GpuTrip {
  CauseKind cause = CauseKind::GpuWatermark;
  std::string line;    ///< the main-log text (WARN): guard, figure, limit
  std::string reason;  ///< the figure and the limit, for the crash record's evidence
  friend bool operator==(const GpuTrip&, const GpuTrip&) = default;
};

struct GpuGuardInput {
  const GpuReading& reading;
  const std::vector<std::size_t>& devices;  ///< program_devices()
  ProgramTotal own;                         ///< program_total()
  SteadyTime now;
  bool running = false;  ///< RUNNING and no restart under way (guards act only then)
};

/// gpu_memory_limit first (the program's own memory over it), then gpu_min_free (free memory
/// of one of its devices under it for gpu_min_free_for). An unknown figure decides nothing
/// and restarts the gpu_min_free_for count. Outside RUNNING the state is reset.
std::optional<GpuTrip> evaluate_gpu_guards(const ProcessConfig& config,
                                           const std::string& namespec, GpuGuardState& state,
                                           const GpuGuardInput& input);

/// The start gate's test: nullopt when each of the devices has gpu_start_min_free free; else
/// the description, `waiting for 12.0 GiB free on GPU 0 (3.1 GiB free)` (the device with the
/// least free; `(free memory unknown)` when the driver does not say).
std::optional<std::string> start_gate_wait(const ProcessConfig& config,
                                           const GpuReading& reading,
                                           const std::vector<std::size_t>& devices);

}  // namespace zagent
