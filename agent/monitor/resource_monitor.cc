#include "agent/monitor/resource_monitor.h"

#include <fmt/format.h>

#include <tuple>
#include <utility>
#include <vector>

#include "agent/monitor/monitor_json.h"

namespace zagent {
namespace {

using Json = nlohmann::json;
using monitor_json::epoch_seconds;
using monitor_json::has_live_child;
using monitor_json::nullable;

Json sample_json(const TreeSample& s, std::optional<double> cpu) {
  const TreeFigures& f = s.figures;
  return Json{{"sampled_at", epoch_seconds(s.wall)},
              {"processes", f.processes},
              {"cpu_percent", nullable(cpu)},
              {"cpu_seconds", f.cpu_seconds},
              {"rss_bytes", f.rss_bytes},
              {"pss_bytes", nullable(f.pss_bytes)},
              {"threads", f.threads},
              {"fds", nullable(f.fds)}};
}

std::string_view channel_name(OutputTail::Channel c) {
  return c == OutputTail::Channel::Stdout ? "stdout" : "stderr";
}

}  // namespace

ResourceMonitor::ResourceMonitor(MonitorOptions options, Supervisor& supervisor,
                                 TreeSampler& sampler, Clock& clock, LogSink& log)
    : options_(options),
      supervisor_(supervisor),
      sampler_(sampler),
      clock_(clock),
      log_(log),
      next_due_(clock.steady_now() + options.interval) {
  if (options_.interval.count() > 0) {
    return;
  }
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (has_resource_guards(entry.config)) {
        log_.log(LogLevel::Warn,
                 fmt::format("{}: memory_limit, memory_growth_limit and cpu_limit act only on "
                             "samples; with sample_interval=0 they run only when a client asks "
                             "for figures",
                             namespec_of(entry.config)));
      }
    }
  }
}

std::optional<SteadyTime> ResourceMonitor::next_wakeup() const {
  if (options_.interval.count() <= 0) {
    return std::nullopt;
  }
  // Nothing to sample, nothing to wake for (the first live child is found at once when
  // programs run; the whole table is read only when none does).
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (has_live_child(entry)) {
        // After a time with nothing to sample, the first sample comes an interval after the
        // first child, not at once.
        const SteadyTime now = clock_.steady_now();
        if (next_due_ + options_.interval < now) {
          next_due_ = now + options_.interval;
        }
        return next_due_;
      }
    }
  }
  return std::nullopt;
}

void ResourceMonitor::tick() {
  if (options_.interval.count() <= 0) {
    return;
  }
  const SteadyTime now = clock_.steady_now();
  if (now < next_due_) {
    return;
  }
  sample_all();
  // The next one an interval after this one (a late tick does not bunch samples up).
  next_due_ = now + options_.interval;
}

void ResourceMonitor::sample_now(std::chrono::milliseconds fresh) {
  if (last_sample_ && clock_.steady_now() - *last_sample_ < fresh) {
    return;
  }
  sample_all();
}

std::chrono::milliseconds ResourceMonitor::window_of(const ProcessConfig& config) const {
  return trend_window_of(config, options_.trend_window);
}

std::optional<double> ResourceMonitor::cpu_of(const History& h) const {
  const auto& latest = h.ring.latest();
  if (!latest) {
    return std::nullopt;
  }
  if (const auto& previous = h.ring.previous()) {
    return cpu_percent(*previous, *latest);
  }
  // One sample so far: the average since the spawn.
  TreeSample start;
  start.at = h.started;
  return cpu_percent(start, *latest);
}

void ResourceMonitor::sample_all() {
  const SteadyTime now = clock_.steady_now();
  const WallTime wall = clock_.wall_now();
  last_sample_ = now;
  ++pass_;
  struct Live {
    const ProcessEntry* entry;
    std::string program;
  };
  std::vector<Live> live;
  std::vector<pid_t> roots;
  live.reserve(history_.size() + 8);
  roots.reserve(history_.size() + 8);
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (!has_live_child(entry)) {
        continue;
      }
      live.push_back({&entry, namespec_of(entry.config)});
      roots.push_back(entry.record.pid);
    }
  }
  if (roots.empty()) {
    history_.clear();
    return;
  }
  const std::vector<std::optional<TreeFigures>> figures = sampler_.sample(roots);
  struct Trip {
    std::string group;
    std::string name;
    GuardTrip trip;
  };
  std::vector<Trip> trips;
  for (std::size_t i = 0; i < live.size(); ++i) {
    const ProcessEntry& entry = *live[i].entry;
    History& h = history_[live[i].program];
    if (h.pid != entry.record.pid) {
      h = History{};  // a new run: its own history and guard state
      h.pid = entry.record.pid;
      h.ring = SampleRing(window_of(entry.config));
      h.started = entry.record.last_start.value_or(now);
    }
    h.seen = pass_;
    if (i < figures.size() && figures[i]) {
      h.ring.push(TreeSample{now, wall, *figures[i]});
      if (has_resource_guards(entry.config)) {
        const std::chrono::milliseconds window = window_of(entry.config);
        GuardInput input{
            *h.ring.latest(), cpu_of(h), memory_trend(h.ring, now, window), window,
            entry.record.state == ProcessState::Running && !entry.record.guardian_stop};
        if (auto trip = evaluate_guards(entry.config, live[i].program, h.guards, input)) {
          trips.push_back({entry.config.group, entry.config.name, std::move(*trip)});
        }
      }
    }
  }
  // Programs without a child drop their history.
  std::erase_if(history_, [this](const auto& item) { return item.second.seen != pass_; });
  for (const Trip& t : trips) {
    log_.log(LogLevel::Warn, t.trip.line);
    if (t.trip.restart) {
      (void)supervisor_.guardian_restart(
          t.group, t.name, RestartRequested{t.trip.cause, {"sampler", t.trip.reason}});
    }
  }
}

void ResourceMonitor::on_output_match(const std::string& group, const std::string& name,
                                      const OutputMatch& match) {
  const ProcessEntry* entry = supervisor_.find(group, name);
  if (entry == nullptr || entry->record.state != ProcessState::Running ||
      entry->record.guardian_stop) {
    return;  // only while RUNNING, one restart at a time
  }
  const std::string words = fmt::format("{} line matched {}: {}", channel_name(match.channel),
                                        entry->config.restart_on_output, match.line);
  log_.log(LogLevel::Warn, fmt::format("guard output_pattern tripped for {}: {}, restarting",
                                       namespec_of(entry->config), words));
  (void)supervisor_.guardian_restart(group, name,
                                     RestartRequested{CauseKind::OutputPattern, {"output", words}});
}

Json ResourceMonitor::summary_json(const History& h, const ProcessConfig& config) const {
  Json j = sample_json(*h.ring.latest(), cpu_of(h));
  const std::chrono::milliseconds window = window_of(config);
  const auto trend = memory_trend(h.ring, h.ring.latest()->at, window);
  j["memory_trend_bytes_per_hour"] = trend ? Json(trend->bytes_per_hour) : Json(nullptr);
  j["memory_trend_seconds"] = trend ? Json(trend->span_seconds) : Json(nullptr);
  j["memory_limit_bytes"] = config.memory_limit > 0 ? Json(config.memory_limit) : Json(nullptr);
  std::optional<double> eta;
  if (config.memory_limit > 0 && trend) {
    eta = seconds_to_limit(h.ring.latest()->figures.rss_bytes,
                           static_cast<std::uint64_t>(config.memory_limit), trend->bytes_per_hour);
  }
  j["memory_limit_eta_seconds"] = nullable(eta);
  return j;
}

Json ResourceMonitor::resources_json(const ProcessEntry& entry) const {
  const auto it = history_.find(namespec_of(entry.config));
  if (it == history_.end() || it->second.pid != entry.record.pid || !it->second.ring.latest()) {
    return nullptr;
  }
  return summary_json(it->second, entry.config);
}

std::optional<Json> ResourceMonitor::summary(const std::string& program) {
  const auto it = history_.find(program);
  if (it == history_.end() || !it->second.ring.latest()) {
    return std::nullopt;
  }
  for (const GroupEntry& group : supervisor_.groups()) {
    for (const ProcessEntry& entry : group.processes) {
      if (namespec_of(entry.config) == program) {
        return summary_json(it->second, entry.config);
      }
    }
  }
  return std::nullopt;
}

std::optional<Json> ResourceMonitor::series(const std::string& program) {
  auto head = summary(program);
  if (!head) {
    return std::nullopt;
  }
  const History& h = history_.at(program);
  const std::vector<TreeSample> samples = h.ring.since(h.ring.latest()->at - kSnapshotSeries);
  Json rows = Json::array();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    rows.push_back(sample_json(
        samples[i], i > 0 ? cpu_percent(samples[i - 1], samples[i]) : std::optional<double>()));
  }
  return Json{{"summary", std::move(*head)},
              {"series_seconds", std::chrono::duration<double>(kSnapshotSeries).count()},
              {"samples", std::move(rows)}};
}

}  // namespace zagent
