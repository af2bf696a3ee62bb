// The supervisor's ordering: depends_on at start (a held spawn until the dependencies are
// ready), the shutdown's waves (priority, with dependents before their dependencies), and the
// health checks' results that gate RUNNING.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <utility>

#include "agent/config/dependencies.h"
#include "agent/process/supervisor.h"

namespace zagent {
namespace {

// supervisord compat: `waiting for A, B to die` is repeated at most every 3 s.
constexpr std::chrono::seconds kDieReportInterval{3};

// Ready for its dependents: RUNNING and, with a check, passing it.
bool ready_for_dependents(const ProcessEntry& entry) {
  if (entry.record.state != ProcessState::Running) {
    return false;
  }
  return !entry.config.healthcheck || entry.health.status == HealthStatus::Passing;
}

std::string readiness_text(const ProcessEntry& entry) {
  std::string text = namespec_of(entry.config) + " (" + std::string(state_name(entry.record.state));
  if (entry.record.state == ProcessState::Running && entry.config.healthcheck) {
    text += ", health " + std::string(health_status_name(entry.health.status));
  }
  return text + ")";
}

}  // namespace

std::optional<std::string> Supervisor::dependency_wait(const ProcessEntry& entry) const {
  std::string waiting;
  for (const auto& wanted : entry.config.depends_on) {
    const ProcessEntry* blocker = nullptr;
    bool found = false;
    for (const auto& group : groups_) {
      for (const auto& other : group.processes) {
        if (&other == &entry || !names_process(wanted, other.config.group, other.config.name)) {
          continue;
        }
        found = true;
        if (blocker == nullptr && !ready_for_dependents(other)) {
          blocker = &other;
        }
      }
    }
    std::string part;
    if (!found) {
      part = wanted + " (not in the config)";
    } else if (blocker != nullptr) {
      part = readiness_text(*blocker);
    } else {
      continue;
    }
    waiting += (waiting.empty() ? "waiting for " : ", ") + part;
  }
  if (waiting.empty()) {
    return std::nullopt;
  }
  return waiting;
}

bool Supervisor::health_checked(const std::string& group, const std::string& name, pid_t pid,
                                CheckRecord check) {
  ProcessEntry* entry = nullptr;
  for (auto& g : groups_) {
    for (auto& p : g.processes) {
      if (g.name == group && p.config.name == name) {
        entry = &p;
      }
    }
  }
  if (entry == nullptr || pid == 0 || entry->record.pid != pid) {
    return false;  // a late result of a run that is over
  }
  const HealthStatus before = entry->health.status;
  const bool passed = check.passed;
  std::string message = check.message;
  entry->health.add(std::move(check));
  if (entry->health.status != before && has_dependencies_) {
    recheck_pending_ = true;
  }
  changed_ = true;
  if (entry->record.state == ProcessState::Starting) {
    deliver(*entry, HealthChecked{passed, std::move(message)});
  } else {
    after_deliver();
  }
  return true;
}

void Supervisor::after_deliver() {
  // A held dependent is asked again once the change that may free it is complete (never from
  // inside another process's step).
  if (delivering_ > 0 || rechecking_ || !recheck_pending_) {
    return;
  }
  rechecking_ = true;
  while (recheck_pending_) {
    recheck_pending_ = false;
    recheck_gates();
  }
  rechecking_ = false;
}

bool Supervisor::shutdown_complete() const {
  // Nothing restarts during a shutdown, so once the cursor has passed every wave, every
  // process is in a stopped state.
  return shutting_down_ && shutdown_cursor_ == shutdown_waves_.size();
}

void Supervisor::report_dying() {
  std::string names;
  for (const auto& group : groups_) {
    for (const auto& entry : group.processes) {
      if (!is_stopped_state(entry.record.state)) {
        names += (names.empty() ? "" : ", ") + entry.config.name;
      }
    }
  }
  if (names.empty()) {
    next_die_report_.reset();
    return;
  }
  log_.log(LogLevel::Info, "waiting for " + names + " to die");
  next_die_report_ = clock_.steady_now() + kDieReportInterval;
}

void Supervisor::begin_shutdown() {
  if (shutting_down_) {
    return;
  }
  shutting_down_ = true;
  for (auto& group : groups_) {
    for (auto& entry : group.processes) {
      deliver(entry, ShutdownBegun{});
    }
  }
  plan_shutdown();
  report_dying();
  advance_shutdown();
}

void Supervisor::plan_shutdown() {
  // supervisord compat: groups in descending priority (then name), one at a time.
  std::vector<GroupEntry*> order;
  for (auto& group : groups_) {
    order.push_back(&group);
  }
  std::stable_sort(order.begin(), order.end(), [](const GroupEntry* a, const GroupEntry* b) {
    return a->priority != b->priority ? a->priority > b->priority : a->name > b->name;
  });
  std::vector<ProcessEntry*> all;
  std::map<const ProcessEntry*, std::size_t> rank;  // the group's place in `order`
  for (std::size_t r = 0; r < order.size(); ++r) {
    std::vector<ProcessEntry*> procs;
    for (auto& entry : order[r]->processes) {
      procs.push_back(&entry);
    }
    // Within a group, descending process priority.
    std::stable_sort(procs.begin(), procs.end(), [](const ProcessEntry* a, const ProcessEntry* b) {
      return a->config.priority > b->config.priority;
    });
    for (ProcessEntry* p : procs) {
      rank[p] = r;
      all.push_back(p);
    }
  }
  // zagent (depends_on): a process's wave comes after its group's turn and after every
  // dependent's wave, so dependents stop first whatever the priorities say.
  std::map<const ProcessEntry*, std::size_t> wave;
  std::map<const ProcessEntry*, bool> open;  // cycle guard (the config rejects cycles)
  std::function<std::size_t(ProcessEntry*)> wave_of = [&](ProcessEntry* p) -> std::size_t {
    if (auto it = wave.find(p); it != wave.end()) {
      return it->second;
    }
    std::size_t w = rank[p];
    if (has_dependencies_ && !open[p]) {
      open[p] = true;
      for (ProcessEntry* d : all) {
        const bool depends = std::any_of(
            d->config.depends_on.begin(), d->config.depends_on.end(), [&](const std::string& n) {
              return d != p && names_process(n, p->config.group, p->config.name);
            });
        if (depends) {
          w = std::max(w, wave_of(d) + 1);
        }
      }
      open[p] = false;
    }
    wave[p] = w;
    return w;
  };
  shutdown_waves_.clear();
  for (ProcessEntry* p : all) {
    const std::size_t w = wave_of(p);
    if (shutdown_waves_.size() <= w) {
      shutdown_waves_.resize(w + 1);
    }
    shutdown_waves_[w].push_back(p);
  }
  shutdown_cursor_ = 0;
}

void Supervisor::advance_shutdown() {
  // supervisord compat: the next group is signalled only once every process of the previous
  // one is stopped. The cursor makes each exit cost O(size of the current wave).
  while (shutdown_cursor_ < shutdown_waves_.size()) {
    bool any_live = false;
    for (ProcessEntry* entry : shutdown_waves_[shutdown_cursor_]) {
      if (is_stopped_state(entry->record.state)) {
        continue;
      }
      any_live = true;
      if (is_running_state(entry->record.state)) {
        deliver(*entry, StopRequested{false});
      }
    }
    if (any_live) {
      return;  // wait for this wave before the next
    }
    ++shutdown_cursor_;
  }
}

}  // namespace zagent
