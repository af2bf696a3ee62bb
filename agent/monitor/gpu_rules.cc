#include "agent/monitor/gpu_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "common/pystr.h"

namespace zagent {
namespace {

std::string_view env_value(const std::vector<std::string>& environment, std::string_view key,
                           bool& found) {
  std::string_view value;
  found = false;
  for (const std::string& kv : environment) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      value = std::string_view(kv).substr(key.size() + 1);
      found = true;
    }
  }
  return value;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    out.emplace_back(py_strip(text.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 4 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One entry of a device list: its position in `devices`, or nullopt when it matches none.
std::optional<std::size_t> match_device(std::string_view token,
                                        const std::vector<GpuDeviceReading>& devices) {
  if (all_digits(token)) {
    const unsigned index = static_cast<unsigned>(std::stoul(std::string(token)));
    for (std::size_t i = 0; i < devices.size(); ++i) {
      if (devices[i].index == index) {
        return i;
      }
    }
    return std::nullopt;
  }
  // A UUID, whole or a prefix that only one device has (CUDA accepts those).
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].uuid.starts_with(token)) {
      if (found || token.size() < 5) {
        return std::nullopt;
      }
      found = i;
    }
  }
  return found;
}

std::vector<std::size_t> every_device(const std::vector<GpuDeviceReading>& devices) {
  std::vector<std::size_t> all(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) {
    all[i] = i;
  }
  return all;
}

std::vector<std::size_t> from_list(const std::vector<std::string>& tokens,
                                   const std::vector<GpuDeviceReading>& devices,
                                   bool stop_at_unknown) {
  std::vector<std::size_t> picked;
  for (const std::string& token : tokens) {
    const auto i = match_device(token, devices);
    if (!i) {
      if (stop_at_unknown) {
        break;  // CUDA ignores the rest of the list after an entry it cannot use
      }
      continue;
    }
    if (std::find(picked.begin(), picked.end(), *i) == picked.end()) {
      picked.push_back(*i);
    }
  }
  return picked;
}

std::string device_name(const GpuDeviceReading& d) { return fmt::format("GPU {}", d.index); }

}  // namespace

std::string format_gib(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    return fmt::format("{:.0f} B", bytes);
  }
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

bool uses_gpu_keys(const ProcessConfig& config) {
  return !config.gpu_devices.empty() || config.gpu_min_free > 0 ||
         config.gpu_start_min_free > 0 || config.gpu_memory_limit > 0;
}

std::vector<std::size_t> program_devices(const ProcessConfig& config,
                                         const std::vector<std::string>& environment,
                                         const std::vector<GpuDeviceReading>& devices) {
  if (!config.gpu_devices.empty()) {
    return from_list(config.gpu_devices, devices, /*stop_at_unknown=*/false);
  }
  for (std::string_view key : {"CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"}) {
    bool found = false;
    const std::string value = ascii_lower(py_strip(env_value(environment, key, found)));
    if (!found) {
      continue;
    }
    if (value == "all") {
      return every_device(devices);
    }
    if (value.empty() || value == "none" || value == "void" || value == "-1") {
      return {};
    }
    // The original case for UUIDs.
    const std::string raw(py_strip(env_value(environment, key, found)));
    return from_list(split_commas(raw), devices, /*stop_at_unknown=*/true);
  }
  return every_device(devices);
}

Attribution attribute(const GpuReading& reading, const std::vector<LiveProgram>& programs,
                      bool host_pids, const ParentOf& parent_of) {
  Attribution out;
  out.mode = host_pids ? AttributionMode::Pids : AttributionMode::Estimated;
  out.devices.resize(reading.devices.size());
  if (!host_pids) {
    for (std::size_t d = 0; d < reading.devices.size(); ++d) {
      const GpuDeviceReading& dev = reading.devices[d];
      DeviceUse& use = out.devices[d];
      std::vector<const LiveProgram*> users;
      for (const LiveProgram& p : programs) {
        if (std::find(p.devices.begin(), p.devices.end(), d) != p.devices.end()) {
          users.push_back(&p);
        }
      }
      if (users.size() != 1 || !dev.processes_known || dev.processes.empty()) {
        use.others = dev.processes;
        continue;
      }
      ProgramGpuUse share{users[0]->namespec, {}, std::uint64_t{0}, true};
      for (const GpuProcessUse& proc : dev.processes) {
        share.pids.push_back(proc.pid);
        if (!proc.used_bytes) {
          share.bytes.reset();
        } else if (share.bytes) {
          *share.bytes += *proc.used_bytes;
        }
      }
      use.programs.push_back(std::move(share));
    }
    return out;
  }
  std::map<pid_t, const LiveProgram*> roots;
  for (const LiveProgram& p : programs) {
    if (p.pid > 0) {
      roots[p.pid] = &p;
    }
  }
  std::map<pid_t, std::optional<pid_t>> parents;  // looked up once per pass
  const auto parent = [&](pid_t pid) {
    auto it = parents.find(pid);
    if (it == parents.end()) {
      it = parents.emplace(pid, parent_of(pid)).first;
    }
    return it->second;
  };
  const auto owner = [&](pid_t pid) -> const LiveProgram* {
    for (int step = 0; step < 64 && pid > 1; ++step) {
      if (const auto it = roots.find(pid); it != roots.end()) {
        return it->second;
      }
      const auto up = parent(pid);
      if (!up) {
        return nullptr;
      }
      pid = *up;
    }
    return nullptr;
  };
  for (std::size_t d = 0; d < reading.devices.size(); ++d) {
    DeviceUse& use = out.devices[d];
    for (const GpuProcessUse& proc : reading.devices[d].processes) {
      const LiveProgram* p = owner(proc.pid);
      if (p == nullptr) {
        use.others.push_back(proc);
        continue;
      }
      auto share = std::find_if(use.programs.begin(), use.programs.end(),
                                [&](const ProgramGpuUse& u) { return u.namespec == p->namespec; });
      if (share == use.programs.end()) {
        use.programs.push_back({p->namespec, {}, std::uint64_t{0}, false});
        share = std::prev(use.programs.end());
      }
      share->pids.push_back(proc.pid);
      if (!proc.used_bytes) {
        share->bytes.reset();
      } else if (share->bytes) {
        *share->bytes += *proc.used_bytes;
      }
    }
  }
  return out;
}

ProgramTotal program_total(const Attribution& attribution, const std::string& namespec) {
  ProgramTotal total;
  total.bytes = 0;
  for (const DeviceUse& use : attribution.devices) {
    for (const ProgramGpuUse& share : use.programs) {
      if (share.namespec != namespec) {
        continue;
      }
      total.any = true;
      total.estimated = total.estimated || share.estimated;
      if (!share.bytes) {
        total.bytes.reset();
      } else if (total.bytes) {
        *total.bytes += *share.bytes;
      }
    }
  }
  if (!total.any) {
    total.bytes.reset();
  }
  return total;
}

std::optional<GpuTrip> evaluate_gpu_guards(const ProcessConfig& config,
                                           const std::string& namespec, GpuGuardState& state,
                                           const GpuGuardInput& input) {
  if (!input.running || !input.reading.ok) {
    state = {};
    return std::nullopt;
  }
  if (config.gpu_memory_limit > 0 && input.own.bytes &&
      *input.own.bytes > static_cast<std::uint64_t>(config.gpu_memory_limit)) {
    const std::string reason =
        fmt::format("GPU memory {}{} > gpu_memory_limit {}", format_gib(*input.own.bytes),
                    input.own.estimated ? " (estimated)" : "", format_gib(config.gpu_memory_limit));
    return GpuTrip{CauseKind::GpuMemoryLimit,
                   fmt::format("guard gpu_memory_limit tripped for {}: {}, restarting", namespec,
                               reason),
                   reason};
  }
  if (config.gpu_min_free <= 0) {
    state.low_since.reset();
    return std::nullopt;
  }
  // The device with the least free memory among the program's.
  const GpuDeviceReading* lowest = nullptr;
  for (const std::size_t i : input.devices) {
    if (i >= input.reading.devices.size()) {
      continue;
    }
    const GpuDeviceReading& d = input.reading.devices[i];
    if (d.free_bytes && (lowest == nullptr || *d.free_bytes < *lowest->free_bytes)) {
      lowest = &d;
    }
  }
  if (lowest == nullptr || *lowest->free_bytes >= static_cast<std::uint64_t>(config.gpu_min_free)) {
    state.low_since.reset();
    return std::nullopt;
  }
  if (!state.low_since) {
    state.low_since = input.now;
  }
  const auto below = input.now - *state.low_since;
  if (below < config.gpu_min_free_for) {
    return std::nullopt;
  }
  const std::string reason = fmt::format(
      "{} free {} < gpu_min_free {} for {}s", device_name(*lowest), format_gib(*lowest->free_bytes),
      format_gib(config.gpu_min_free),
      std::chrono::duration_cast<std::chrono::seconds>(below).count());
  state.low_since.reset();
  return GpuTrip{CauseKind::GpuWatermark,
                 fmt::format("guard gpu_watermark tripped for {}: {}, restarting", namespec, reason),
                 reason};
}

std::optional<std::string> start_gate_wait(const ProcessConfig& config,
                                           const GpuReading& reading,
                                           const std::vector<std::size_t>& devices) {
  if (config.gpu_start_min_free <= 0) {
    return std::nullopt;
  }
  const auto need = static_cast<std::uint64_t>(config.gpu_start_min_free);
  const GpuDeviceReading* worst = nullptr;
  for (const std::size_t i : devices) {
    if (i >= reading.devices.size()) {
      continue;
    }
    const GpuDeviceReading& d = reading.devices[i];
    if (!d.free_bytes) {
      if (worst == nullptr || worst->free_bytes) {
        worst = &d;  // unknown counts as short: the gate cannot tell
      }
      continue;
    }
    if (*d.free_bytes < need && (worst == nullptr || (worst->free_bytes && *d.free_bytes < *worst->free_bytes))) {
      worst = &d;
    }
  }
  if (worst == nullptr) {
    return std::nullopt;
  }
  return fmt::format("waiting for {} free on {} ({})", format_gib(static_cast<double>(need)),
                     device_name(*worst),
                     worst->free_bytes ? format_gib(static_cast<double>(*worst->free_bytes)) + " free"
                                       : std::string("free memory unknown"));
}

}  // namespace zagent
