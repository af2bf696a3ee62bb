#include "agent/daemon/gpu_setup.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "agent/os/nvml_probe.h"
#include "agent/os/smi_probe.h"

namespace zagent {
namespace {

// A reading's calls may take this long each before NVML counts as hung.
constexpr std::chrono::milliseconds kNvmlCallDeadline{2'000};
// nvidia-smi's two queries, both together.
constexpr std::chrono::milliseconds kSmiTimeout{10'000};

}  // namespace

GpuSetup open_gpu_probe(boost::asio::io_context& io, const SupervisordConfig& config,
                        const std::string& path_env, LogSink& log) {
  GpuSetup setup;
  if (config.gpu == GpuMode::Off) {
    setup.off_reason = "gpu=off";
    log.log(LogLevel::Info, "GPU monitoring off (gpu=off)");
    return setup;
  }
  std::string nvml_error;
  if (config.gpu == GpuMode::Auto || config.gpu == GpuMode::Nvml) {
    if (auto nvml = NvmlProbe::open(io, config.gpu_library, kNvmlCallDeadline, nvml_error)) {
      log.log(LogLevel::Info,
              fmt::format("GPU monitoring: NVML ({})",
                          config.gpu_library.empty() ? "libnvidia-ml.so.1" : config.gpu_library));
      setup.probe = std::move(nvml);
      return setup;
    }
    if (config.gpu == GpuMode::Nvml || !config.gpu_library.empty()) {
      setup.off_reason = nvml_error;
      log.log(LogLevel::Warn, fmt::format("GPU monitoring off: {}", nvml_error));
      return setup;
    }
  }
  const std::optional<std::string> smi = SmiProbe::find_on_path(path_env);
  if (!smi) {
    setup.off_reason = config.gpu == GpuMode::NvidiaSmi
                           ? "gpu=nvidia-smi: no nvidia-smi on PATH"
                           : "no NVML library (" + nvml_error + ") and no nvidia-smi on PATH";
    log.log(config.gpu == GpuMode::NvidiaSmi ? LogLevel::Warn : LogLevel::Info,
            "GPU monitoring off: " + setup.off_reason);
    return setup;
  }
  auto probe = std::make_unique<SmiProbe>(io, *smi, kSmiTimeout);
  setup.smi = probe.get();
  setup.probe = std::move(probe);
  log.log(LogLevel::Info, fmt::format("GPU monitoring: nvidia-smi ({})", *smi));
  return setup;
}

}  // namespace zagent
