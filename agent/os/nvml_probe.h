// The GPU probe over NVML, loaded at run time with dlopen (no build-time dependency on the
// NVIDIA driver). An adapter: every NVML call runs on one worker thread with a per-call
// deadline; results come back to the loop through boost::asio::post.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/monitor/gpu_probe.h"

namespace zagent {

/// Loop thread only (read(), the destructor). The library stays loaded for the life of the
/// process (never dlclose'd: a hung call may still be inside it). The worker thread is never
/// joined: the destructor tells it to stop and returns at once, even while a call hangs; the
/// process exiting ends a thread still stuck in the driver. Destroy the probe before its
/// io_context; a `done` not yet called when the probe goes is never called.
class NvmlProbe final : public GpuProbe {
 public:
  /// Loads `library` (a path or soname; empty = libnvidia-ml.so.1, then libnvidia-ml.so) and
  /// resolves its symbols. No NVML call is made here: nvmlInit runs on the worker at the first
  /// reading and again at each later one until it succeeds. Null, with `error` set (`cannot load
  /// libnvidia-ml.so.1: <dlerror>`), when the library does not load or lacks
  /// nvmlInit, nvmlDeviceGetCount or nvmlDeviceGetHandleByIndex (in any version).
  /// `call_deadline`: how long one NVML call may take before the reading fails.
  static std::unique_ptr<NvmlProbe> open(boost::asio::io_context& io, const std::string& library,
                                         std::chrono::milliseconds call_deadline,
                                         std::string& error);

  ~NvmlProbe() override;
  NvmlProbe(const NvmlProbe&) = delete;
  NvmlProbe& operator=(const NvmlProbe&) = delete;

  std::string_view backend() const override { return "nvml"; }
  /// GpuProbe::read. While the worker is still inside a call that overran its deadline, `done`
  /// gets (posted) ok=false `NVML still inside <call> since N s`; once that call returns its
  /// result is dropped and readings work again.
  void read(std::function<void(GpuReading)> done) override;

  /// The worker's state (defined in the .cc), shared by the probe, the worker thread and the
  /// handlers posted to the loop, so that none of them outlives what it touches.
  struct Shared;

 private:
  NvmlProbe(boost::asio::io_context& io, std::chrono::milliseconds call_deadline,
            std::shared_ptr<Shared> shared);
  void arm_watch();
  void on_watch();
  /// Hands `reading` of `job` to `done_`, unless that reading was given up already.
  void finish(std::uint64_t job, GpuReading reading);

  boost::asio::io_context& io_;              // the loop: posts, the watch timer, `done`
  std::chrono::milliseconds call_deadline_;  // the most one NVML call may take
  std::shared_ptr<Shared> shared_;           // the library, the worker, the job slot
  boost::asio::steady_timer watch_;          // ticks while a reading is in flight
  std::uint64_t next_job_ = 1;               // the id the next reading gets
  std::uint64_t in_flight_ = 0;              // the reading `done_` waits for; 0 = none
  std::function<void(GpuReading)> done_;     // of the reading in flight
};

}  // namespace zagent
