#include "agent/process/supervisor.h"

#include <algorithm>
#include <tuple>
#include <csignal>
#include <chrono>
#include <utility>

#include "agent/crash/snapshot.h"
#include "common/datatypes.h"

namespace zagent {
namespace {


// The entry (const or not, following `groups`) for group:name, or nullptr.
template <typename Groups>
auto find_entry(Groups& groups, const std::string& group, const std::string& name)
    -> decltype(&groups.front().processes.front()) {
  for (auto& g : groups) {
    if (g.name != group) {
      continue;
    }
    for (auto& p : g.processes) {
      if (p.config.name == name) {
        return &p;
      }
    }
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> child_environment(const EnvironmentList& agent_env,
                                           const EnvironmentList& supervisord_env,
                                           const ProcessConfig& process,
                                           const std::string& server_url) {
  EnvironmentList env = agent_env;
  set_environment_value(env, "SUPERVISOR_ENABLED", "1");
  const std::string url = process.serverurl.value_or(server_url);
  if (!url.empty()) {
    set_environment_value(env, "SUPERVISOR_SERVER_URL", url);
  }
  set_environment_value(env, "SUPERVISOR_PROCESS_NAME", process.name);
  set_environment_value(env, "SUPERVISOR_GROUP_NAME", process.group);
  for (const auto& [k, v] : supervisord_env) {
    set_environment_value(env, k, v);
  }
  if (process.python_faulthandler) {
    set_environment_value(env, "PYTHONFAULTHANDLER", "1");
  }
  for (const auto& [k, v] : process.environment) {
    set_environment_value(env, k, v);
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) {
    out.push_back(k + "=" + v);
  }
  return out;
}

std::string namespec_of(const ProcessConfig& config) {
  return config.group == config.name ? config.name : config.group + ":" + config.name;
}

std::string agent_server_url(const AgentConfig& config) {
  if (config.unix_http_server) {
    return "unix://" + config.unix_http_server->file;
  }
  if (config.inet_http_server) {
    const auto& a = config.inet_http_server->address;
    return "http://" + (a.host.empty() ? std::string("localhost") : a.host) + ":" +
           std::to_string(a.port);
  }
  return "";
}

Supervisor::Supervisor(const AgentConfig& config, const LogPaths& log_paths,
                       EnvironmentList agent_env, Spawner& spawner, Clock& clock, LogSink& log)
    : supervisord_(config.supervisord),
      server_url_(agent_server_url(config)),
      agent_env_(std::move(agent_env)),
      spawner_(spawner),
      clock_(clock),
      log_(log) {
  for (const auto& g : config.groups) {
    groups_.push_back(make_group(g, log_paths));
  }
  reindex();
}

ProcessEntry Supervisor::make_entry(const GroupConfig& group, const ProcessConfig& process,
                                    const LogPaths& log_paths) const {
  ProcessEntry entry;
  entry.config = process;
  const auto path_of = [&](const std::string& channel, const LogChannelConfig& c) {
    auto it = log_paths.find({group.name, process.name, channel});
    if (it != log_paths.end()) {
      return it->second;
    }
    return c.logfile.kind == LogTargetKind::Path ? c.logfile.path : std::string();
  };
  entry.stdout_path = path_of("stdout", process.stdout_log);
  entry.stderr_path = path_of("stderr", process.stderr_log);
  if (!process.restart_on_output.empty()) {
    // Checked when the config was loaded; a pattern that no longer compiles watches nothing.
    if (auto pattern = OutputPattern::compile(process.restart_on_output)) {
      entry.output_watch = std::make_shared<OutputWatch>(
          std::move(*pattern),
          [trigger = output_trigger_, group = process.group,
           name = process.name](const OutputMatch& match) {
            if (*trigger) {
              (*trigger)(group, name, match);
            }
          });
    }
  }
  return entry;
}

GroupEntry Supervisor::make_group(const GroupConfig& group, const LogPaths& log_paths) const {
  GroupEntry out;
  out.name = group.name;
  out.priority = group.priority;
  out.from_group_section = group.from_group_section;
  for (const auto& p : group.processes) {
    out.processes.push_back(make_entry(group, p, log_paths));
  }
  return out;
}

Now Supervisor::now() const { return Now{clock_.steady_now(), clock_.wall_now()}; }

void Supervisor::start() {
  // supervisord compat: one pass in ascending group priority, no waiting between groups.
  for (auto& group : groups_) {
    autostart(group);
  }
}

void Supervisor::autostart(GroupEntry& group) {
  for (auto& entry : group.processes) {
    if (!shutting_down_ && wants_autostart(entry.config, entry.record)) {
      deliver(entry, StartRequested{});
    }
  }
}

void Supervisor::reindex() {
  changed_ = true;
  by_pid_.clear();
  has_dependencies_ = false;
  for (auto& group : groups_) {
    for (auto& entry : group.processes) {
      has_dependencies_ = has_dependencies_ || !entry.config.depends_on.empty();
      if (entry.record.pid != 0) {
        by_pid_[entry.record.pid] = &entry;
      }
    }
  }
}

GroupChange Supervisor::add_group(const GroupConfig& group, const LogPaths& log_paths) {
  if (find_group(group.name) != nullptr) {
    return GroupRefusal::AlreadyExists;
  }
  const auto pos = std::find_if(groups_.begin(), groups_.end(), [&](const GroupEntry& g) {
    return std::tie(g.priority, g.name) > std::tie(group.priority, group.name);
  });
  const auto index = pos - groups_.begin();
  groups_.insert(pos, make_group(group, log_paths));
  reindex();
  autostart(groups_[static_cast<std::size_t>(index)]);
  return {};
}

GroupChange Supervisor::remove_group(const std::string& name) {
  const auto it = std::find_if(groups_.begin(), groups_.end(),
                               [&](const GroupEntry& g) { return g.name == name; });
  if (it == groups_.end()) {
    return GroupRefusal::NotFound;
  }
  for (const auto& entry : it->processes) {
    if (!is_stopped_state(entry.record.state)) {
      return GroupRefusal::NotStopped;
    }
  }
  if (crash_.oom != nullptr) {
    for (const auto& entry : it->processes) {
      crash_.oom->forget(namespec_of(entry.config));
    }
  }
  groups_.erase(it);
  reindex();
  return {};
}

GroupChange Supervisor::update_group(const GroupConfig& group, const LogPaths& log_paths) {
  const auto it = std::find_if(groups_.begin(), groups_.end(),
                               [&](const GroupEntry& g) { return g.name == group.name; });
  if (it == groups_.end()) {
    return GroupRefusal::NotFound;
  }
  // Only stopped processes may be replaced or dropped.
  for (const auto& entry : it->processes) {
    const ProcessConfig* wanted = nullptr;
    for (const auto& p : group.processes) {
      if (p.name == entry.config.name) {
        wanted = &p;
      }
    }
    if ((wanted == nullptr || !(*wanted == entry.config)) &&
        !is_stopped_state(entry.record.state)) {
      return GroupRefusal::NotStopped;
    }
  }
  GroupEntry next;
  next.name = group.name;
  next.priority = group.priority;
  next.from_group_section = group.from_group_section;
  for (const auto& p : group.processes) {
    auto same = std::find_if(it->processes.begin(), it->processes.end(),
                             [&](const ProcessEntry& e) { return e.config == p; });
    if (same != it->processes.end()) {
      next.processes.push_back(std::move(*same));  // unchanged: keeps its pid and state
    } else {
      next.processes.push_back(make_entry(group, p, log_paths));
    }
  }
  groups_.erase(it);
  const auto pos = std::find_if(groups_.begin(), groups_.end(), [&](const GroupEntry& g) {
    return std::tie(g.priority, g.name) > std::tie(group.priority, group.name);
  });
  const auto index = pos - groups_.begin();
  groups_.insert(pos, std::move(next));
  reindex();
  autostart(groups_[static_cast<std::size_t>(index)]);
  return {};
}

std::optional<GroupConfig> Supervisor::group_config(const std::string& name) const {
  const GroupEntry* group = find_group(name);
  if (group == nullptr) {
    return std::nullopt;
  }
  GroupConfig out;
  out.name = group->name;
  out.priority = group->priority;
  out.from_group_section = group->from_group_section;
  for (const auto& entry : group->processes) {
    out.processes.push_back(entry.config);
  }
  return out;
}

const GroupEntry* Supervisor::find_group(const std::string& name) const {
  for (const auto& g : groups_) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}

FsmResult<void> Supervisor::signal_process(const std::string& group, const std::string& name,
                                           int signo) {
  ProcessEntry* entry = find_entry(groups_, group, name);
  if (entry == nullptr) {
    return FsmError{Fault::BadName, group + ":" + name, false};
  }
  signal_request_ = true;
  signal_error_.reset();
  auto result = deliver(*entry, SignalRequested{signo});
  signal_request_ = false;
  if (result && signal_error_) {
    // supervisord compat: signalProcess reports a failed kill() as FAILED: <message>.
    return FsmError{Fault::Failed, *signal_error_, false};
  }
  return result;
}

FsmResult<void> Supervisor::guardian_restart(const std::string& group, const std::string& name,
                                             const RestartRequested& request) {
  ProcessEntry* entry = find_entry(groups_, group, name);
  if (entry == nullptr) {
    return FsmError{Fault::BadName, group + ":" + name, false};
  }
  return deliver(*entry, request);
}

FsmResult<void> Supervisor::deliver(ProcessEntry& entry, const Event& event) {
  ++delivering_;
  auto result = deliver_now(entry, event);
  --delivering_;
  after_deliver();
  return result;
}

FsmResult<void> Supervisor::deliver_now(ProcessEntry& entry, const Event& event) {
  changed_ = true;
  auto result = step(entry.config, entry.record, event, now());
  if (!result) {
    if (result.error().internal) {
      log_.log(LogLevel::Error, "internal: " + entry.config.name + ": " +
                                    std::string(event_kind_name(event_kind(event))) +
                                    " refused in state " +
                                    std::string(state_name(entry.record.state)) + ": " +
                                    result.error().detail);
    }
    return result.error();
  }
  const pid_t old_pid = entry.record.pid;
  entry.record = std::move(result->next);
  if (old_pid != 0 && entry.record.pid != old_pid) {
    by_pid_.erase(old_pid);
  }
  for (const auto& action : result->actions) {
    perform(entry, action);
  }
  return {};
}

void Supervisor::perform(ProcessEntry& entry, const Action& action) {
  if (const auto* line = std::get_if<LogLine>(&action)) {
    log_.log(line->level, line->text);
  } else if (std::holds_alternative<SpawnChild>(action)) {
    spawn(entry);
  } else if (const auto* sig = std::get_if<SendSignal>(&action)) {
    if ((entry.record.state == ProcessState::Stopping || entry.record.health_start_failed) &&
        stop_takes_the_tree(entry.config)) {
      remember_descendants(entry, sig->pid);
    }
    auto sent = spawner_.send_signal(sig->pid, sig->signo, sig->to_group);
    if (!sent) {
      if (signal_request_) {
        signal_error_ = sent.error().message;
      }
      deliver(entry, SignalFailed{sent.error().message, !signal_request_});
    }
  }
  else if (const auto* changed = std::get_if<StateChanged>(&action)) {
    if (has_dependencies_) {
      recheck_pending_ = true;  // a dependent may be waiting for this one
    }
    if (observer_) {
      observer_(entry, *changed);
    }
  } else if (const auto* crash = std::get_if<RecordCrash>(&action)) {
    record_crash(entry, *crash);
  } else if (const auto* run = std::get_if<RunSnapshotCommand>(&action)) {
    run_snapshot_command(entry, run->pid);
  }
}

void Supervisor::record_crash(ProcessEntry& entry, const RecordCrash& crash) {
  if (crash_.sink == nullptr) {
    return;
  }
  CrashRecord r;
  r.program = namespec_of(entry.config);
  r.cause = crash.cause;
  const WallTime ended = clock_.wall_now();
  r.ended = std::chrono::duration_cast<std::chrono::seconds>(ended.time_since_epoch()).count();
  r.started = crash.started ? std::chrono::duration_cast<std::chrono::seconds>(
                                  crash.started->time_since_epoch())
                                  .count()
                            : r.ended;
  if (crash.exit) {
    const ExitInfo& exit = *crash.exit;
    if (exit.signal) {
      r.signal = std::string(signal_name(*exit.signal));
    } else if (exit.exit_code >= 0) {
      r.exit_code = exit.exit_code;
    }
    r.core_dumped = exit.core_dumped;
    r.shell_status = shell_status(exit);
    r.pid = crash.pid;
    r.uptime_seconds = static_cast<double>(exit.uptime.count()) / 1000.0;
    r.description = describe_exit(exit);
  } else {
    r.description = entry.record.spawn_error;
  }
  const std::string program = r.program;
  if (crash_.resources != nullptr) {
    r.resources = crash_.resources->summary(program);
  }
  if (crash_.gpu != nullptr) {
    r.gpu = crash_.gpu->gpu_state(program);
  }
  if (entry.config.healthcheck) {
    r.health = health_record_json(entry.health, entry.config.healthcheck->text);
  }
  r.last_stdout = entry.tail->last_lines(OutputTail::Channel::Stdout, kRecordLines);
  r.last_stderr = entry.tail->last_lines(OutputTail::Channel::Stderr, kRecordLines);
  std::optional<nlohmann::json> snapshot;
  // A snapshot for every crash that ran (a spawn failure has nothing to show), not for an
  // expected exit.
  if (crash.exit && !r.cause.expected) {
    const auto lines = static_cast<std::size_t>(supervisord_.crash_lines);
    const std::vector<std::string> env =
        child_environment(agent_env_, supervisord_.environment, entry.config, server_url_);
    snapshot = snapshot_json(SnapshotInput{
        r, entry.config, env, supervisord_.crash_env_values,
        entry.tail->last_lines(OutputTail::Channel::Stdout, lines),
        entry.tail->last_lines(OutputTail::Channel::Stderr, lines), entry.snapshot_output,
        crash_.resources != nullptr ? crash_.resources->series(program) : std::nullopt,
        crash_.gpu != nullptr && r.gpu ? crash_.gpu->gpu_snapshot() : std::nullopt});
  }
  entry.snapshot_output.reset();
  const CrashRecord kept = crash_.sink->add(std::move(r), std::move(snapshot));
  if (!kept.cause.expected) {
    log_.log(LogLevel::Warn, "crash: " + crash_line(entry.config.name, kept));
  }
}

void Supervisor::run_snapshot_command(ProcessEntry& entry, pid_t pid) {
  if (crash_.runner == nullptr) {
    deliver(entry, SnapshotCommandDone{});
    return;
  }
  std::string command = entry.config.snapshot_command;
  const std::string key = "%(pid)s";
  for (auto at = command.find(key); at != std::string::npos; at = command.find(key, at)) {
    command.replace(at, key.size(), std::to_string(pid));
    at += std::to_string(pid).size();
  }
  const std::string group = entry.config.group;
  const std::string name = entry.config.name;
  crash_.runner->run(command, std::chrono::seconds(entry.config.snapshot_timeout),
                     [this, group, name, pid](std::string output) {
                       ProcessEntry* e = find_entry(groups_, group, name);
                       if (e == nullptr) {
                         return;  // removed meanwhile
                       }
                       e->snapshot_output = std::move(output);
                       if (e->record.pid == pid) {
                         deliver(*e, SnapshotCommandDone{});
                       }
                     });
}

void Supervisor::spawn(ProcessEntry& entry) {
  if (!entry.config.depends_on.empty()) {
    if (auto waiting = dependency_wait(entry)) {
      deliver(entry, SpawnHeld{std::move(*waiting)});
      return;
    }
  }
  if (gate_ != nullptr) {
    const bool first = entry.record.waiting.empty();
    const GateVerdict verdict = gate_->check(entry.config, namespec_of(entry.config), first);
    if (const auto* hold = std::get_if<GateHold>(&verdict)) {
      deliver(entry, SpawnHeld{hold->waiting});
      return;
    }
    if (const auto* fail = std::get_if<GateFail>(&verdict)) {
      deliver(entry, SpawnFailed{fail->message});
      return;
    }
  }
  spawn_now(entry);
}

void Supervisor::recheck_gates() {
  for (GroupEntry& group : groups_) {
    for (ProcessEntry& entry : group.processes) {
      if (entry.record.state == ProcessState::Starting && entry.record.pid == 0 &&
          !entry.record.waiting.empty()) {
        spawn(entry);
        changed_ = true;
      }
    }
  }
}

void Supervisor::spawn_now(ProcessEntry& entry) {
  SpawnSpec spec;
  spec.name = entry.config.name;
  spec.command = entry.config.command;
  spec.environment =
      child_environment(agent_env_, supervisord_.environment, entry.config, server_url_);
  spec.directory = entry.config.directory;
  if (entry.config.umask) {
    spec.umask = static_cast<mode_t>(*entry.config.umask);
  }
  spec.user = entry.config.user;
  spec.stdout_log = {entry.stdout_path, entry.config.stdout_log.maxbytes,
                     entry.config.stdout_log.backups};
  spec.stderr_log = {entry.stderr_path, entry.config.stderr_log.maxbytes,
                     entry.config.stderr_log.backups};
  spec.redirect_stderr = entry.config.redirect_stderr;
  spec.parent_death_signal = entry.config.stopsignal;
  spec.output_tail = entry.tail;
  spec.output_watch = entry.output_watch;
  entry.spawns += 1;
  entry.snapshot_output.reset();
  if (crash_.oom != nullptr) {
    const std::string program = namespec_of(entry.config);
    spec.cgroup_procs = crash_.oom->cgroup_procs_for(program);
    entry.oom_baseline = crash_.oom->at_spawn(program);
  }
  auto pid = spawner_.spawn(spec);
  if (!pid) {
    deliver(entry, SpawnFailed{pid.error().message});
    return;
  }
  by_pid_[*pid] = &entry;
  entry.health.new_run();
  deliver(entry, SpawnSucceeded{*pid});
  if (spawn_listener_ && entry.record.pid == *pid) {
    spawn_listener_(entry);
  }
}

bool stop_takes_the_tree(const ProcessConfig& config) {
  // supervisord compat: without stopasgroup/killasgroup only the program's pid is signalled
  // and its other descendants outlive the stop (restarting `sshd -D` keeps its sessions).
  return config.stopasgroup || config.killasgroup || config.killastree;
}

void Supervisor::remember_descendants(ProcessEntry& entry, pid_t pid) {
  for (const ProcessId& d : spawner_.descendants(pid)) {
    if (std::find(entry.stop_descendants.begin(), entry.stop_descendants.end(), d) ==
        entry.stop_descendants.end()) {
      entry.stop_descendants.push_back(d);
    }
  }
}

void Supervisor::kill_leftovers(ProcessEntry& entry) {
  if (entry.stop_descendants.empty()) {
    return;
  }
  std::string killed;
  for (const ProcessId& d : entry.stop_descendants) {
    if (spawner_.signal_if_alive(d, SIGKILL)) {
      killed += (killed.empty() ? "" : ", ") + std::to_string(d.pid);
    }
  }
  entry.stop_descendants.clear();
  if (!killed.empty()) {
    // Descendants that left the process group (setsid) are out of reach of stopasgroup and
    // killasgroup; after the stop they would keep ports and GPU memory.
    log_.log(LogLevel::Warn, "killing leftover descendants of " + entry.config.name +
                                 " with SIGKILL: " + killed);
  }
}

bool Supervisor::on_child_exit(pid_t pid, int wait_status) {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) {
    return false;
  }
  ProcessEntry& entry = *it->second;
  by_pid_.erase(it);
  const Now n = now();
  std::chrono::milliseconds uptime{0};
  if (entry.record.last_start) {
    uptime =
        std::chrono::duration_cast<std::chrono::milliseconds>(n.steady - *entry.record.last_start);
  }
  ChildExited exited{exit_info_from_wait_status(wait_status, n.wall, uptime)};
  const ProcessRecord& rec = entry.record;
  if (crash_.oom != nullptr &&
      needs_oom_evidence(exited.exit, ended_by(rec), rec.operator_signal)) {
    std::vector<pid_t> pids{pid};
    for (const ProcessId& d : entry.stop_descendants) {
      pids.push_back(d.pid);
    }
    exited.oom = crash_.oom->at_exit(namespec_of(entry.config), pids, entry.oom_baseline);
  }
  deliver(entry, exited);
  kill_leftovers(entry);
  if (shutting_down_) {
    advance_shutdown();
  }
  return true;
}

void Supervisor::tick() {
  const SteadyTime t = clock_.steady_now();
  for (auto& group : groups_) {
    for (auto& entry : group.processes) {
      const auto wake = zagent::next_wakeup(entry.record);
      if (wake && *wake <= t) {
        deliver(entry, DeadlineReached{});
      }
    }
  }
  if (shutting_down_) {
    advance_shutdown();
    if (next_die_report_ && *next_die_report_ <= t) {
      report_dying();
    }
  }
}

std::optional<SteadyTime> Supervisor::next_wakeup() const {
  std::optional<SteadyTime> earliest;
  const auto consider = [&earliest](std::optional<SteadyTime> t) {
    if (t && (!earliest || *t < *earliest)) {
      earliest = t;
    }
  };
  for (const auto& group : groups_) {
    for (const auto& entry : group.processes) {
      consider(zagent::next_wakeup(entry.record));
    }
  }
  if (shutting_down_ && !shutdown_complete()) {
    consider(next_die_report_);
  }
  return earliest;
}

const ProcessEntry* Supervisor::find(const std::string& group, const std::string& name) const {
  return find_entry(groups_, group, name);
}

FsmResult<void> Supervisor::start_process(const std::string& group, const std::string& name) {
  ProcessEntry* entry = find_entry(groups_, group, name);
  if (entry == nullptr) {
    return FsmError{Fault::BadName, group + ":" + name, false};
  }
  if (shutting_down_) {
    return FsmError{Fault::ShutdownState, "", false};
  }
  return deliver(*entry, StartRequested{});
}

FsmResult<void> Supervisor::stop_process(const std::string& group, const std::string& name) {
  ProcessEntry* entry = find_entry(groups_, group, name);
  if (entry == nullptr) {
    return FsmError{Fault::BadName, group + ":" + name, false};
  }
  return deliver(*entry, StopRequested{true});
}

}  // namespace zagent
