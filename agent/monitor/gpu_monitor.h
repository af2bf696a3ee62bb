// The GPU monitor: reads the devices through the GpuProbe port (NVML or nvidia-smi) on the
// agent's one timer while a program uses a GPU key, or when a client asks; matches the GPU
// processes to the programs' trees; runs the watermark and GPU memory guards; and is the
// spawn gate that holds a start until the old tree's GPU memory is gone and the devices have
// gpu_start_min_free free. Pure over its ports; the daemon connects the probe, /proc and the
// timer. Runs on the event-loop thread only (the probe posts its readings there).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/crash/ports.h"
#include "agent/monitor/gpu_probe.h"
#include "agent/monitor/gpu_rules.h"
#include "agent/monitor/ports.h"
#include "agent/process/spawn_gate.h"
#include "agent/process/supervisor.h"

namespace zagent {

/// The longest a client's call waits for a GPU reading.
inline constexpr std::chrono::milliseconds kClientWait{2'000};

struct GpuOptions {
  std::chrono::milliseconds interval{5'000};  ///< gpu_sample_interval; 0 = only on request
  /// While a start is held, the devices are read at least this often.
  std::chrono::milliseconds hold_interval{500};
};

class GpuMonitor final : public SpawnGate, public GpuStateSource {
 public:
  /// `probe` null = GPU monitoring off; `off_reason` says why (for zagent.getGpuStatus).
  /// `changed` is called after a reading was handled (the caller re-arms its timer).
  GpuMonitor(GpuOptions options, GpuProbe* probe, std::string off_reason, Supervisor& supervisor,
             ProcessLineage& lineage, Spawner& spawner, Clock& clock, LogSink& log,
             std::function<void()> changed);

  /// When tick() has work: the next reading while a program with a GPU key has a child or
  /// a held start, or a hold's deadline; nullopt = nothing to do.
  std::optional<SteadyTime> next_wakeup() const;
  /// Starts the periodic reading if due, and rechecks held starts whose deadline passed.
  void tick();
  /// A client asks: `done` runs (on the loop) once a reading started within `fresh` of now
  /// is in, at once when there is one or when the probe is off, and at the latest after
  /// kClientWait with what there is (a hung probe never holds a client up longer).
  void request(std::chrono::milliseconds fresh, std::function<void()> done);

  bool enabled() const { return probe_ != nullptr; }
  /// How old a reading a client's figures may come from: gpu_sample_interval (1 s when 0).
  std::chrono::milliseconds client_freshness() const {
    return options_.interval.count() > 0 ? options_.interval : std::chrono::milliseconds(1000);
  }
  /// zagent.getGpuStatus.
  nlohmann::json status_json() const;
  /// The `gpu` object of a zagent.getProcessStats row, or null.
  nlohmann::json program_json(const ProcessEntry& entry) const;

  // SpawnGate
  GateVerdict check(const ProcessConfig& config, const std::string& namespec, bool first) override;
  // GpuStateSource (crash records and snapshots)
  std::optional<nlohmann::json> gpu_state(const std::string& program) override;
  std::optional<nlohmann::json> gpu_snapshot() override;

 private:
  struct Hold {
    SteadyTime since{};
    std::vector<ProcessId> old_pids;  // the old tree's GPU processes to wait for
    bool old_done = false;
    std::chrono::milliseconds old_wait{0};  // stopwaitsecs
    std::chrono::milliseconds start_timeout{0};  // gpu_start_timeout (0 = no free-memory test)
    std::string text;
  };
  struct Run {
    pid_t pid = 0;                     // the run the state belongs to
    GpuGuardState guards;
    std::vector<ProcessId> gpu_pids;   // its GPU processes at the newest reading
  };

  void start_reading();
  void on_reading(GpuReading reading, SteadyTime started, WallTime wall);
  bool wants_readings() const;
  bool holding() const;
  std::optional<SteadyTime> reading_due() const;
  std::vector<std::size_t> devices_of(const ProcessEntry& entry) const;
  const ProcessEntry* entry_of(const std::string& namespec) const;
  GateVerdict decide(const ProcessEntry& entry, Hold& hold);
  void kill_leftovers(const std::string& namespec, const std::vector<ProcessId>& pids);
  nlohmann::json device_json(std::size_t i) const;

  GpuOptions options_;
  GpuProbe* probe_;
  std::string off_reason_;
  Supervisor& supervisor_;
  ProcessLineage& lineage_;
  Spawner& spawner_;
  Clock& clock_;
  LogSink& log_;
  std::function<void()> changed_;

  std::optional<GpuReading> reading_;     // the newest
  SteadyTime reading_started_{};          // when it was asked for
  WallTime reading_wall_{};
  Attribution attribution_;               // of reading_
  bool in_flight_ = false;
  SteadyTime in_flight_since_{};
  bool again_ = false;                    // a fresher reading is wanted after this one
  struct Waiter {
    SteadyTime fresh_since;  // a reading started at or after this will do
    SteadyTime give_up;      // answered with what there is by then (a slow nvidia-smi)
    std::function<void()> done;
  };
  std::vector<Waiter> waiters_;  // clients waiting for a reading
  /// Removes the waiters `which` accepts; their `done`s, to call once the state is settled.
  std::vector<std::function<void()>> take_waiters(const std::function<bool(const Waiter&)>& which);
  mutable SteadyTime next_due_{};
  std::map<std::string, Run> runs_;        // namespec -> its newest run's GPU state
  std::map<std::string, Hold> holds_;      // namespec -> a held start
  std::string failing_;                    // the error last logged ("" = readings work)
  bool logged_devices_ = false;            // the first good reading was logged
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace zagent
