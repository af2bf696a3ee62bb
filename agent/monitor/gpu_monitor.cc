#include "agent/monitor/gpu_monitor.h"

#include <fmt/format.h>
#include <csignal>

#include <algorithm>
#include <utility>

#include "agent/monitor/monitor_json.h"

namespace zagent {
namespace {

using Json = nlohmann::json;
using monitor_json::epoch_seconds;
using monitor_json::nullable;
constexpr auto has_child = monitor_json::has_live_child;

bool is_held(const ProcessEntry& e) {
  return e.record.state == ProcessState::Starting && e.record.pid == 0 && !e.record.waiting.empty();
}

std::string pid_list(const std::vector<pid_t>& pids) {
  std::string out;
  for (const pid_t p : pids) {
    out += (out.empty() ? "" : ", ") + std::to_string(p);
  }
  return out;
}

// The processes of `devices` (all, when empty) whose pid is one of `pids`, and their bytes.
std::vector<GpuProcessUse> still_listed(const GpuReading& reading,
                                        const std::vector<ProcessId>& pids) {
  std::vector<GpuProcessUse> out;
  for (const GpuDeviceReading& d : reading.devices) {
    for (const GpuProcessUse& p : d.processes) {
      if (std::any_of(pids.begin(), pids.end(), [&](const ProcessId& id) { return id.pid == p.pid; })) {
        out.push_back(p);
      }
    }
  }
  return out;
}

std::string bytes_of(const std::vector<GpuProcessUse>& procs) {
  std::uint64_t sum = 0;
  for (const GpuProcessUse& p : procs) {
    if (!p.used_bytes) {
      return "memory unknown";
    }
    sum += *p.used_bytes;
  }
  return format_gib(static_cast<double>(sum));
}

}  // namespace

GpuMonitor::GpuMonitor(GpuOptions options, GpuProbe* probe, std::string off_reason,
                       Supervisor& supervisor, ProcessLineage& lineage, Spawner& spawner,
                       Clock& clock, LogSink& log, std::function<void()> changed)
    : options_(options),
      probe_(probe),
      off_reason_(std::move(off_reason)),
      supervisor_(supervisor),
      lineage_(lineage),
      spawner_(spawner),
      clock_(clock),
      log_(log),
      changed_(std::move(changed)),
      next_due_(clock.steady_now()) {
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (!uses_gpu_keys(entry.config)) {
        continue;
      }
      if (probe_ == nullptr) {
        log_.log(LogLevel::Warn, fmt::format("{}: the GPU keys do nothing while GPU monitoring "
                                             "is off ({})",
                                             namespec_of(entry.config), off_reason_));
      } else if (options_.interval.count() <= 0 &&
                 (entry.config.gpu_min_free > 0 || entry.config.gpu_memory_limit > 0)) {
        log_.log(LogLevel::Warn,
                 fmt::format("{}: gpu_min_free and gpu_memory_limit act only on readings; with "
                             "gpu_sample_interval=0 they run only when a client asks",
                             namespec_of(entry.config)));
      }
    }
  }
}

bool GpuMonitor::wants_readings() const {
  if (probe_ == nullptr) {
    return false;
  }
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (uses_gpu_keys(entry.config) && has_child(entry)) {
        return true;
      }
    }
  }
  return false;
}

bool GpuMonitor::holding() const {
  for (const auto& [name, hold] : holds_) {
    const ProcessEntry* entry = entry_of(name);
    if (entry != nullptr && is_held(*entry)) {
      return true;
    }
  }
  return false;
}

std::optional<SteadyTime> GpuMonitor::reading_due() const {
  if (probe_ == nullptr || in_flight_) {
    return std::nullopt;
  }
  std::optional<SteadyTime> due;
  if (options_.interval.count() > 0 && wants_readings()) {
    // After a quiet time the first reading comes an interval after the first child.
    const SteadyTime now = clock_.steady_now();
    if (next_due_ + options_.interval < now) {
      next_due_ = now + options_.interval;
    }
    due = next_due_;
  }
  if (holding()) {
    const SteadyTime soon = reading_started_ + options_.hold_interval;
    due = due ? std::min(*due, soon) : soon;
  }
  return due;
}

std::optional<SteadyTime> GpuMonitor::next_wakeup() const {
  if (probe_ == nullptr) {
    return std::nullopt;
  }
  std::optional<SteadyTime> next = reading_due();
  const auto consider = [&next](SteadyTime t) {
    if (!next || t < *next) {
      next = t;
    }
  };
  for (const Waiter& w : waiters_) {
    consider(w.give_up);
  }
  for (const auto& [name, hold] : holds_) {
    const ProcessEntry* entry = entry_of(name);
    if (entry == nullptr || !is_held(*entry)) {
      continue;
    }
    if (!hold.old_done && !hold.old_pids.empty()) {
      consider(hold.since + hold.old_wait);
    }
    if (hold.start_timeout.count() > 0) {
      consider(hold.since + hold.start_timeout);
    }
  }
  return next;
}

void GpuMonitor::tick() {
  if (probe_ == nullptr) {
    return;
  }
  const SteadyTime now = clock_.steady_now();
  std::erase_if(holds_, [this](const auto& item) {
    const ProcessEntry* entry = entry_of(item.first);
    return entry == nullptr || !is_held(*entry);
  });
  // Held starts whose deadline passed are decided now (on the newest reading).
  bool due_hold = false;
  for (const auto& [name, hold] : holds_) {
    if ((!hold.old_done && !hold.old_pids.empty() && now >= hold.since + hold.old_wait) ||
        (hold.start_timeout.count() > 0 && now >= hold.since + hold.start_timeout)) {
      due_hold = true;
    }
  }
  if (due_hold) {
    supervisor_.recheck_gates();
  }
  // Clients waited long enough: they get what there is.
  for (auto& done : take_waiters([now](const Waiter& w) { return now >= w.give_up; })) {
    done();
  }
  if (const auto due = reading_due(); due && now >= *due) {
    if (now >= next_due_) {
      next_due_ = now + options_.interval;
    }
    start_reading();
  }
}

std::vector<std::function<void()>> GpuMonitor::take_waiters(
    const std::function<bool(const Waiter&)>& which) {
  std::vector<std::function<void()>> taken;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (which(w)) {
      taken.push_back(std::move(w.done));
      return true;
    }
    return false;
  });
  return taken;
}

void GpuMonitor::request(std::chrono::milliseconds fresh, std::function<void()> done) {
  const SteadyTime now = clock_.steady_now();
  if (probe_ == nullptr || (reading_ && now - reading_started_ < fresh)) {
    done();
    return;
  }
  waiters_.push_back({now - fresh, now + kClientWait, std::move(done)});
  if (in_flight_) {
    if (in_flight_since_ < now - fresh) {
      again_ = true;
    }
  } else {
    start_reading();
  }
  if (changed_) {
    changed_();  // the timer learns of the client's deadline
  }
}

void GpuMonitor::start_reading() {
  if (probe_ == nullptr || in_flight_) {
    again_ = again_ || in_flight_;
    return;
  }
  in_flight_ = true;
  const SteadyTime started = clock_.steady_now();
  const WallTime wall = clock_.wall_now();
  in_flight_since_ = started;
  std::weak_ptr<bool> alive = alive_;
  probe_->read([this, alive, started, wall](GpuReading reading) {
    if (alive.expired()) {
      return;
    }
    on_reading(std::move(reading), started, wall);
  });
}

const ProcessEntry* GpuMonitor::entry_of(const std::string& namespec) const {
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (namespec_of(entry.config) == namespec) {
        return &entry;
      }
    }
  }
  return nullptr;
}

std::vector<std::size_t> GpuMonitor::devices_of(const ProcessEntry& entry) const {
  if (!reading_) {
    return {};
  }
  if (!entry.gpu_visibility) {
    std::vector<std::string> found;
    for (std::string& kv : supervisor_.environment_of(entry)) {
      if (kv.starts_with("CUDA_VISIBLE_DEVICES=") || kv.starts_with("NVIDIA_VISIBLE_DEVICES=")) {
        found.push_back(std::move(kv));
      }
    }
    entry.gpu_visibility = std::move(found);
  }
  return program_devices(entry.config, *entry.gpu_visibility, reading_->devices);
}

void GpuMonitor::on_reading(GpuReading reading, SteadyTime started, WallTime wall) {
  in_flight_ = false;
  if (!reading.ok) {
    if (reading.error != failing_) {
      log_.log(LogLevel::Warn, fmt::format("GPU reading failed ({}): {}", probe_->backend(),
                                           reading.error));
      failing_ = reading.error;
    }
  } else {
    if (!failing_.empty()) {
      log_.log(LogLevel::Info, fmt::format("GPU readings work again ({})", probe_->backend()));
      failing_.clear();
    }
    if (!logged_devices_) {
      logged_devices_ = true;
      std::string list;
      for (const GpuDeviceReading& d : reading.devices) {
        list += fmt::format("{}GPU {} {} ({})", list.empty() ? "" : ", ", d.index, d.name, d.uuid);
      }
      log_.log(LogLevel::Info,
               fmt::format("GPU: {} device{}{}{}", reading.devices.size(),
                           reading.devices.size() == 1 ? "" : "s", list.empty() ? "" : ": ", list));
    }
  }
  // A failed reading keeps the last good figures for display; guards and gates see it fail.
  const bool keep_attribution = !reading.ok;
  reading_ = std::move(reading);
  reading_started_ = started;
  reading_wall_ = wall;

  std::vector<LiveProgram> live;
  std::vector<const ProcessEntry*> entries;
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (has_child(entry)) {
        live.push_back({namespec_of(entry.config), entry.record.pid, devices_of(entry)});
        entries.push_back(&entry);
      }
    }
  }
  // Each pid is looked up once a reading: for its parent, then for its start time.
  std::map<pid_t, std::optional<ProcessLineage::Entry>> looked_up;
  const auto lookup = [&](pid_t pid) {
    auto it = looked_up.find(pid);
    if (it == looked_up.end()) {
      it = looked_up.emplace(pid, lineage_.lookup(pid)).first;
    }
    return it->second;
  };
  if (!keep_attribution) {
    const bool host = lineage_.host_pid_namespace();
    attribution_ = attribute(*reading_, live, host, [&](pid_t pid) -> std::optional<pid_t> {
      const auto e = lookup(pid);
      return e ? std::optional<pid_t>(e->ppid) : std::nullopt;
    });
  }
  // Each program's GPU pids, in one pass.
  std::map<std::string, std::vector<pid_t>> gpu_pids;
  if (attribution_.mode == AttributionMode::Pids) {
    for (const DeviceUse& use : attribution_.devices) {
      for (const ProgramGpuUse& share : use.programs) {
        auto& pids = gpu_pids[share.namespec];
        pids.insert(pids.end(), share.pids.begin(), share.pids.end());
      }
    }
  }
  struct Trip {
    std::string group;
    std::string name;
    GpuTrip trip;
  };
  std::vector<Trip> trips;
  const SteadyTime now = clock_.steady_now();
  for (std::size_t i = 0; i < live.size(); ++i) {
    const ProcessEntry& entry = *entries[i];
    Run& run = runs_[live[i].namespec];
    if (run.pid != entry.record.pid) {
      run = Run{};
      run.pid = entry.record.pid;
    }
    if (!reading_->ok) {
      run.guards = {};
      continue;
    }
    // The GPU processes of this run, for the wait before the next spawn.
    run.gpu_pids.clear();
    if (const auto it = gpu_pids.find(live[i].namespec); it != gpu_pids.end()) {
      for (const pid_t pid : it->second) {
        if (const auto e = lookup(pid)) {
          run.gpu_pids.push_back({pid, e->start_time});
        }
      }
    }
    if (!uses_gpu_keys(entry.config)) {
      continue;
    }
    const ProgramTotal own = program_total(attribution_, live[i].namespec);
    GpuGuardInput input{*reading_, live[i].devices, own, now,
                        entry.record.state == ProcessState::Running && !entry.record.guardian_stop};
    if (auto trip = evaluate_gpu_guards(entry.config, live[i].namespec, run.guards, input)) {
      trips.push_back({entry.config.group, entry.config.name, std::move(*trip)});
    }
  }
  for (const Trip& t : trips) {
    log_.log(LogLevel::Warn, t.trip.line);
    (void)supervisor_.guardian_restart(t.group, t.name,
                                       RestartRequested{t.trip.cause, {"gpu", t.trip.reason}});
  }
  if (!holds_.empty()) {
    supervisor_.recheck_gates();
  }
  // Clients waiting for a reading this fresh.
  std::vector<std::function<void()>> ready =
      take_waiters([started](const Waiter& w) { return started >= w.fresh_since; });
  if (again_ || !waiters_.empty()) {
    again_ = false;
    start_reading();
  }
  for (auto& done : ready) {
    done();
  }
  if (changed_) {
    changed_();
  }
}

void GpuMonitor::kill_leftovers(const std::string& namespec, const std::vector<ProcessId>& pids) {
  std::vector<pid_t> killed;
  for (const ProcessId& id : pids) {
    if (spawner_.signal_if_alive(id, SIGKILL)) {
      killed.push_back(id.pid);
    }
  }
  if (!killed.empty()) {
    log_.log(LogLevel::Warn, fmt::format("killing leftover GPU processes of {} with SIGKILL: {}",
                                         namespec, pid_list(killed)));
  }
}

GateVerdict GpuMonitor::check(const ProcessConfig& config, const std::string& namespec,
                              bool first) {
  if (probe_ == nullptr || !uses_gpu_keys(config)) {
    return GateOpen{};
  }
  const ProcessEntry* entry = entry_of(namespec);
  if (entry == nullptr) {
    return GateOpen{};
  }
  auto it = holds_.find(namespec);
  if (first || it == holds_.end()) {
    Hold hold;
    hold.since = clock_.steady_now();
    hold.old_wait = std::chrono::seconds(config.stopwaitsecs);
    hold.start_timeout =
        config.gpu_start_min_free > 0 ? config.gpu_start_timeout : std::chrono::milliseconds(0);
    if (const auto run = runs_.find(namespec); run != runs_.end()) {
      hold.old_pids = run->second.gpu_pids;
      runs_.erase(run);
    }
    hold.old_done = hold.old_pids.empty();
    if (hold.old_done && config.gpu_start_min_free <= 0) {
      return GateOpen{};  // nothing to wait for
    }
    // Whatever of the old tree still runs is a leftover: it holds the memory the new run needs.
    kill_leftovers(namespec, hold.old_pids);
    hold.text = "waiting for a GPU reading";
    it = holds_.insert_or_assign(namespec, std::move(hold)).first;
    // The decision needs a reading taken after the hold began.
    if (in_flight_) {
      again_ = true;
    } else {
      start_reading();
    }
    return GateHold{it->second.text};
  }
  return decide(*entry, it->second);
}

GateVerdict GpuMonitor::decide(const ProcessEntry& entry, Hold& hold) {
  const std::string namespec = namespec_of(entry.config);
  const SteadyTime now = clock_.steady_now();
  const bool fresh = reading_ && reading_started_ >= hold.since;
  const bool start_timed_out =
      hold.start_timeout.count() > 0 && now - hold.since >= hold.start_timeout;
  if (!fresh || !reading_->ok) {
    if (fresh) {
      hold.text = "waiting for a GPU reading (" + reading_->error + ")";
    }
    if (start_timed_out) {
      const std::string text = hold.text;
      holds_.erase(namespec);
      return GateFail{text};
    }
    if (!hold.old_done && now - hold.since >= hold.old_wait && hold.start_timeout.count() == 0) {
      log_.log(LogLevel::Warn, fmt::format("{}: no GPU reading within stopwaitsecs ({} s); "
                                           "starting anyway",
                                           namespec, entry.config.stopwaitsecs));
      holds_.erase(namespec);
      return GateOpen{};
    }
    return GateHold{hold.text};
  }
  const std::vector<std::size_t> devices = devices_of(entry);
  if (!hold.old_done) {
    const std::vector<GpuProcessUse> left = still_listed(*reading_, hold.old_pids);
    if (!left.empty() && now - hold.since < hold.old_wait) {
      std::vector<pid_t> pids;
      for (const auto& p : left) {
        pids.push_back(p.pid);
      }
      hold.text = fmt::format("waiting for the old process tree to release GPU memory (pids {}: {})",
                              pid_list(pids), bytes_of(left));
      return GateHold{hold.text};
    }
    if (!left.empty()) {
      std::vector<pid_t> pids;
      for (const auto& p : left) {
        pids.push_back(p.pid);
      }
      log_.log(LogLevel::Warn,
               fmt::format("{}: pids {} of the old process tree still hold {} of GPU memory after "
                           "stopwaitsecs ({} s); starting anyway",
                           namespec, pid_list(pids), bytes_of(left), entry.config.stopwaitsecs));
    }
    hold.old_done = true;
    // What other processes still hold on the program's devices, for the operator.
    for (const std::size_t i : devices) {
      if (i >= attribution_.devices.size()) {
        continue;
      }
      const std::vector<GpuProcessUse>& others = attribution_.devices[i].others;
      if (!others.empty()) {
        std::vector<pid_t> pids;
        for (const auto& p : others) {
          pids.push_back(p.pid);
        }
        log_.log(LogLevel::Info,
                 fmt::format("{}: GPU {} memory still held by other pids: {} ({})", namespec,
                             reading_->devices[i].index, pid_list(pids), bytes_of(others)));
      }
    }
  }
  if (const auto wait = start_gate_wait(entry.config, *reading_, devices)) {
    hold.text = *wait;
    if (start_timed_out) {
      holds_.erase(namespec);
      return GateFail{*wait};
    }
    return GateHold{*wait};
  }
  holds_.erase(namespec);
  return GateOpen{};
}

Json GpuMonitor::device_json(std::size_t i) const {
  const GpuDeviceReading& d = reading_->devices[i];
  Json programs = Json::array();
  Json others = Json::array();
  if (i < attribution_.devices.size()) {
    for (const ProgramGpuUse& share : attribution_.devices[i].programs) {
      const ProcessEntry* entry = entry_of(share.namespec);
      programs.push_back({{"name", entry != nullptr ? entry->config.name : share.namespec},
                          {"group", entry != nullptr ? entry->config.group : share.namespec},
                          {"namespec", share.namespec},
                          {"memory_bytes", nullable(share.bytes)},
                          {"pids", share.pids},
                          {"estimated", share.estimated}});
    }
    for (const GpuProcessUse& p : attribution_.devices[i].others) {
      others.push_back({{"pid", p.pid}, {"memory_bytes", nullable(p.used_bytes)}});
    }
  }
  return Json{{"index", d.index},
              {"uuid", d.uuid},
              {"name", d.name},
              {"memory_total_bytes", nullable(d.total_bytes)},
              {"memory_used_bytes", nullable(d.used_bytes)},
              {"memory_free_bytes", nullable(d.free_bytes)},
              {"utilization_percent", nullable(d.utilization_percent)},
              {"processes_known", d.processes_known},
              {"note", d.note.empty() ? Json(nullptr) : Json(d.note)},
              {"programs", std::move(programs)},
              {"other_processes", std::move(others)}};
}

Json GpuMonitor::status_json() const {
  Json j;
  j["backend"] = probe_ != nullptr ? Json(std::string(probe_->backend())) : Json("off");
  if (probe_ == nullptr) {
    j["ok"] = false;
    j["error"] = off_reason_;
  } else if (!reading_) {
    j["ok"] = false;
    j["error"] = in_flight_ ? "the first reading is under way" : "not read yet";
  } else {
    j["ok"] = reading_->ok;
    j["error"] = reading_->ok ? Json(nullptr) : Json(reading_->error);
  }
  j["sampled_at"] = reading_ ? Json(epoch_seconds(reading_wall_)) : Json(nullptr);
  j["driver_version"] = reading_ && !reading_->driver_version.empty()
                            ? Json(reading_->driver_version)
                            : Json(nullptr);
  const bool estimated = attribution_.mode == AttributionMode::Estimated;
  j["attribution"] = probe_ == nullptr || !reading_ ? "none" : estimated ? "estimated" : "pids";
  j["attribution_note"] =
      estimated ? Json("the agent runs in a pid namespace of its own (a container): the driver's "
                       "pids are not visible here, so a device's memory goes to the one program "
                       "using it, estimated")
                : Json(nullptr);
  Json devices = Json::array();
  if (reading_) {
    for (std::size_t i = 0; i < reading_->devices.size(); ++i) {
      devices.push_back(device_json(i));
    }
  }
  j["devices"] = std::move(devices);
  return j;
}

Json GpuMonitor::program_json(const ProcessEntry& entry) const {
  if (!reading_ || !has_child(entry)) {
    return nullptr;
  }
  const std::string namespec = namespec_of(entry.config);
  const ProgramTotal total = program_total(attribution_, namespec);
  if (!total.any) {
    return nullptr;
  }
  Json devices = Json::array();
  for (std::size_t i = 0; i < attribution_.devices.size() && i < reading_->devices.size(); ++i) {
    for (const ProgramGpuUse& share : attribution_.devices[i].programs) {
      if (share.namespec == namespec) {
        devices.push_back({{"index", reading_->devices[i].index},
                           {"uuid", reading_->devices[i].uuid},
                           {"memory_bytes", nullable(share.bytes)}});
      }
    }
  }
  return Json{{"memory_bytes", nullable(total.bytes)},
              {"estimated", total.estimated},
              {"devices", std::move(devices)}};
}

std::optional<Json> GpuMonitor::gpu_state(const std::string& program) {
  if (!reading_) {
    return std::nullopt;
  }
  const ProcessEntry* entry = entry_of(program);
  if (entry == nullptr) {
    return std::nullopt;
  }
  const ProgramTotal total = program_total(attribution_, program);
  if (!uses_gpu_keys(entry->config) && !total.any) {
    return std::nullopt;
  }
  Json devices = Json::array();
  for (const std::size_t i : devices_of(*entry)) {
    Json d = device_json(i);
    d.erase("programs");
    d.erase("other_processes");
    std::optional<std::uint64_t> own;
    if (i < attribution_.devices.size()) {
      for (const ProgramGpuUse& share : attribution_.devices[i].programs) {
        if (share.namespec == program) {
          own = share.bytes;
        }
      }
    }
    d["program_memory_bytes"] = nullable(own);
    devices.push_back(std::move(d));
  }
  return Json{{"backend", std::string(probe_ != nullptr ? probe_->backend() : "off")},
              {"ok", reading_->ok},
              {"error", reading_->ok ? Json(nullptr) : Json(reading_->error)},
              {"sampled_at", epoch_seconds(reading_wall_)},
              {"memory_bytes", nullable(total.bytes)},
              {"estimated", total.estimated},
              {"devices", std::move(devices)}};
}

std::optional<Json> GpuMonitor::gpu_snapshot() {
  if (!reading_) {
    return std::nullopt;
  }
  return status_json();
}

}  // namespace zagent
