// Choosing the GPU probe for [supervisord] gpu= (auto|nvml|nvidia-smi|off): NVML from
// gpu_library or the system's libnvidia-ml, else nvidia-smi on PATH, else none; one INFO line
// says which (docs/gpu.md). Wiring, used by the daemon only.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/config/config.h"
#include "agent/monitor/gpu_probe.h"
#include "agent/process/log_sink.h"

namespace zagent {

class SmiProbe;

struct GpuSetup {
  std::unique_ptr<GpuProbe> probe;  ///< null = GPU monitoring off
  SmiProbe* smi = nullptr;          ///< `probe` when it is nvidia-smi (its children are reaped by the agent)
  std::string off_reason;           ///< why `probe` is null
};

/// `path_env`: the agent's PATH (nvidia-smi is looked up there).
GpuSetup open_gpu_probe(boost::asio::io_context& io, const SupervisordConfig& config,
                        const std::string& path_env, LogSink& log);

}  // namespace zagent
