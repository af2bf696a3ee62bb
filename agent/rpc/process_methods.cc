// The process family: info, start and stop (with the calls that wait for RUNNING or a stop),
// signals, stdin. Waiting calls are held in the context's Waiters.
#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "agent/health/health_monitor.h"
#include "agent/process/command.h"
#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "common/datatypes.h"
#include "common/process_state.h"

namespace zagent {

std::string timedelta_text(std::int64_t seconds) {
  if (seconds < 0) {
    seconds = 0;
  }
  const std::int64_t days = seconds / 86400;
  const std::int64_t rest = seconds % 86400;
  std::string out = fmt::format("{}:{:02}:{:02}", rest / 3600, (rest / 60) % 60, rest % 60);
  if (days > 0) {
    out = fmt::format("{} day{}, {}", days, days == 1 ? "" : "s", out);
  }
  return out;
}

std::string process_description(ProcessState state, const std::string& name, pid_t pid,
                                std::int64_t start_epoch, std::int64_t stop_epoch,
                                std::int64_t now_epoch, const std::string& spawn_error) {
  switch (state) {
    case ProcessState::Running:
      return fmt::format("pid {}, uptime {}", pid, timedelta_text(now_epoch - start_epoch));
    case ProcessState::Backoff:
    case ProcessState::Fatal:
      if (spawn_error.empty()) {
        return fmt::format("unknown error (try \"tail {}\")", name);
      }
      return spawn_error;
    case ProcessState::Stopped:
    case ProcessState::Exited: {
      if (start_epoch == 0) {
        return "Not started";
      }
      // supervisord compat: the stop time in local time; a process that never exited shows
      // the epoch (stop = 0).
      const std::time_t t = static_cast<std::time_t>(stop_epoch);
      std::tm tm{};
      ::localtime_r(&t, &tm);
      static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      const int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
      return fmt::format("{} {:02} {:02}:{:02} {}", kMonths[tm.tm_mon % 12], tm.tm_mday, hour12,
                         tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
    }
    case ProcessState::Starting:
    case ProcessState::Stopping:
    case ProcessState::Unknown:
      return "";
  }
  return "";
}

namespace {

using namespace methods;
using rpc::fault_error;

/// Collects the result structs of a group/all call; replies once every process has answered.
/// Results are appended in completion order, as supervisord's make_allfunc does.
struct Collector {
  Json results = Json::array();
  std::size_t pending = 1;  // one extra, released by finish_collector()
  RpcReply reply;

  void release() {
    if (--pending == 0) {
      reply(ok(std::move(results)));
    }
  }
};

std::shared_ptr<Collector> make_collector(RpcReply reply) {
  auto c = std::make_shared<Collector>();
  c->reply = std::move(reply);
  return c;
}

/// The reply for one process of the collection.
RpcReply collector_slot(const std::shared_ptr<Collector>& c, const std::string& group,
                        const std::string& name) {
  ++c->pending;
  return [c, group, name](RpcOutcome o) {
    c->results.push_back(result_struct(group, name, o));
    c->release();
  };
}

/// Every process was started or stopped: the collection may complete.
void finish_collector(const std::shared_ptr<Collector>& c) { c->release(); }

// ---- info ----

Json process_info(MethodContext& ctx, const GroupEntry& g, const ProcessEntry& p) {
  const std::int64_t now = epoch_seconds(ctx.clock.wall_now());
  const std::int64_t start = epoch_seconds(p.record.last_start_wall);
  const std::int64_t stop = epoch_seconds(p.record.last_stop_wall);
  Json info = Json::object();
  info["name"] = p.config.name;
  info["group"] = g.name;
  info["start"] = start;
  info["stop"] = stop;
  info["now"] = now;
  info["state"] = static_cast<int>(p.record.state);
  info["statename"] = std::string(state_name(p.record.state));
  info["spawnerr"] = p.record.spawn_error;
  info["exitstatus"] = p.record.exit_status.value_or(0);
  info["logfile"] = p.stdout_path;
  info["stdout_logfile"] = p.stdout_path;
  info["stderr_logfile"] = p.stderr_path;
  info["pid"] = p.record.pid;
  std::string description = process_description(p.record.state, p.config.name, p.record.pid, start,
                                                stop, now, p.record.spawn_error);
  if (p.record.state == ProcessState::Starting && !p.record.waiting.empty()) {
    description = p.record.waiting;  // zagent: a spawn gate holds the start
  }
  // zagent: a log that cannot be written (disk full, no access) shows in the status.
  for (const auto& [key, channel, path] :
       {std::tuple{"stdout_log_error", "stdout", &p.stdout_path},
        std::tuple{"stderr_log_error", "stderr", &p.stderr_path}}) {
    std::optional<std::string> error;
    if (!path->empty()) {
      error = ctx.control.log_error(*path);
    }
    info[key] = error.value_or("");
    if (error) {
      description += fmt::format("{}{} log: {}", description.empty() ? "" : ", ", channel, *error);
    }
  }
  // zagent: a delayed restart (restart_delay) says when and why.
  if (p.record.state == ProcessState::Exited && p.record.deadline && p.record.last_exit) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(*p.record.deadline -
                                                              ctx.clock.steady_now());
    description = fmt::format("restart in {}s after {}", std::max<std::int64_t>(left.count(), 0),
                              describe_exit(*p.record.last_exit));
  }
  // zagent: a failing health check shows in a RUNNING process's description.
  description += health_description(p);
  info["description"] = std::move(description);
  info["last_cause"] = p.record.last_cause
                           ? Json(std::string(cause_name(p.record.last_cause->kind)))
                           : Json(nullptr);
  info["health"] = health_json(p);
  return info;
}

void get_process_info(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  auto target = resolve_process(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  reply(ok(process_info(ctx, *target->group, *target->process)));
}

void get_all_process_info(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  // supervisord compat: lexical order, group name then process name.
  std::vector<std::pair<const GroupEntry*, const ProcessEntry*>> all;
  for (const auto& g : ctx.supervisor.groups()) {
    for (const auto& p : g.processes) {
      all.emplace_back(&g, &p);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
    return std::tie(x.first->name, x.second->config.name) <
           std::tie(y.first->name, y.second->config.name);
  });
  Json out = Json::array();
  for (const auto& [g, p] : all) {
    out.push_back(process_info(ctx, *g, *p));
  }
  reply(ok(std::move(out)));
}

// ---- start ----

/// startProcess for one process (spec/rpc.md §4.3); `done` is called now or later.
void start_one(MethodContext& ctx, const std::string& group, const std::string& name,
               const std::string& given, bool wait, RpcReply done) {
  const ProcessEntry* p = ctx.supervisor.find(group, name);
  if (p == nullptr) {
    done(fault_error(Fault::BadName, given));
    return;
  }
  // supervisord compat: the command is resolved first, even for a running process.
  const auto env = child_environment({}, {}, p->config, "");
  const std::string search = choose_search_path(env, ctx.control.agent_path());
  if (auto resolved = resolve_command(p->config.command, search, ctx.control.file_probe());
      !resolved) {
    done(fault_error(command_fault(resolved.error()) == CommandFault::NoFile ? Fault::NoFile
                                                                             : Fault::NotExecutable,
                     resolved.error().message));
    return;
  }
  if (is_running_state(p->record.state)) {
    done(fault_error(Fault::AlreadyStarted, given));
    return;
  }
  if (p->record.state == ProcessState::Unknown) {
    // supervisord compat: the name as the client passed it (`g:p`).
    done(fault_error(Fault::Failed, given + " is in an unknown process state"));
    return;
  }
  if (auto started = ctx.supervisor.start_process(group, name); !started) {
    done(fsm_fault(started.error(), given));
    return;
  }
  auto check = [&ctx, group, name, given, wait, done]() -> bool {
    const ProcessEntry* e = ctx.supervisor.find(group, name);
    if (e == nullptr) {
      done(fault_error(Fault::AbnormalTermination, given));
      return true;
    }
    if (!e->record.spawn_error.empty()) {
      done(fault_error(Fault::SpawnError, given));
      return true;
    }
    if (!wait || e->record.state == ProcessState::Running) {
      done(ok(Json(true)));
      return true;
    }
    if (e->record.state != ProcessState::Starting) {
      done(fault_error(Fault::AbnormalTermination, given));
      return true;
    }
    return false;
  };
  if (!check()) {
    ctx.waiters.add(std::move(check));
  }
}

// ---- stop ----

/// STARTING, RUNNING, BACKOFF (supervisord), or EXITED with a delayed restart pending
/// (zagent's restart_delay: the stop cancels it).
bool stoppable(const ProcessEntry& p) {
  return is_running_state(p.record.state) ||
         (p.record.state == ProcessState::Exited && p.record.deadline.has_value());
}

void stop_one(MethodContext& ctx, const std::string& group, const std::string& name,
              const std::string& given, bool wait, RpcReply done) {
  const ProcessEntry* p = ctx.supervisor.find(group, name);
  if (p == nullptr) {
    done(fault_error(Fault::BadName, given));
    return;
  }
  if (!stoppable(*p)) {
    done(fault_error(Fault::NotRunning, given));
    return;
  }
  if (auto stopped = ctx.supervisor.stop_process(group, name); !stopped) {
    done(fsm_fault(stopped.error(), given));
    return;
  }
  auto check = [&ctx, group, name, wait, done]() -> bool {
    const ProcessEntry* e = ctx.supervisor.find(group, name);
    if (!wait || e == nullptr || is_stopped_state(e->record.state)) {
      done(ok(Json(true)));
      return true;
    }
    return false;
  };
  if (!check()) {
    ctx.waiters.add(std::move(check));
  }
}

// ---- start and stop for a group, a name and all (one shape, two verbs) ----

/// A process verb: which processes a group/all call acts on, and the one-process action.
struct Verb {
  bool (*selects)(const ProcessEntry&);
  void (*one)(MethodContext&, const std::string& group, const std::string& name,
              const std::string& given, bool wait, RpcReply done);
};
bool not_running(const ProcessEntry& p) { return !is_running_state(p.record.state); }
constexpr Verb kStart{&not_running, &start_one};
constexpr Verb kStop{&stoppable, &stop_one};

/// Every selected process of the group, in priority order, into `collector`.
void act_on_group(MethodContext& ctx, const Verb& verb, const GroupEntry& g, bool wait,
                  const std::shared_ptr<Collector>& collector) {
  std::vector<std::string> targets;
  for (const ProcessEntry* p : by_priority(g)) {
    if (verb.selects(*p)) {
      targets.push_back(p->config.name);
    }
  }
  const std::string group = g.name;  // `g` may move once an action has run
  for (const auto& name : targets) {
    verb.one(ctx, group, name, namespec(group, name), wait, collector_slot(collector, group, name));
  }
}

/// startProcess / stopProcess: one process, or `g:*` as the group variant.
void act_on_name(MethodContext& ctx, const Verb& verb, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const bool wait = a[1].get<bool>();
  auto target = resolve(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  if (target->process == nullptr) {
    auto collector = make_collector(std::move(reply));
    act_on_group(ctx, verb, *target->group, wait, collector);
    finish_collector(collector);
    return;
  }
  verb.one(ctx, target->group->name, target->process->config.name, name, wait, std::move(reply));
}

/// startProcessGroup / stopProcessGroup.
void act_on_group_name(MethodContext& ctx, const Verb& verb, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const GroupEntry* g = ctx.supervisor.find_group(name);
  if (g == nullptr) {
    reply(fault_error(Fault::BadName, name));
    return;
  }
  auto collector = make_collector(std::move(reply));
  act_on_group(ctx, verb, *g, a[1].get<bool>(), collector);
  finish_collector(collector);
}

/// startAllProcesses / stopAllProcesses: every group in ascending priority.
void act_on_all(MethodContext& ctx, const Verb& verb, const MethodArgs& a, RpcReply reply) {
  auto collector = make_collector(std::move(reply));
  for (const auto& name : group_names(ctx.supervisor)) {
    if (const GroupEntry* g = ctx.supervisor.find_group(name)) {
      act_on_group(ctx, verb, *g, a[0].get<bool>(), collector);
    }
  }
  finish_collector(collector);
}

void start_process(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_name(ctx, kStart, a, std::move(reply));
}
void start_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_group_name(ctx, kStart, a, std::move(reply));
}
void start_all(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_all(ctx, kStart, a, std::move(reply));
}
void stop_process(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_name(ctx, kStop, a, std::move(reply));
}
void stop_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_group_name(ctx, kStop, a, std::move(reply));
}
void stop_all(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  act_on_all(ctx, kStop, a, std::move(reply));
}

// ---- signal and stdin ----

RpcOutcome signal_one(MethodContext& ctx, const std::string& group, const std::string& name,
                      const std::string& given, const std::string& signal) {
  auto signo = parse_signal(signal);
  if (!signo) {
    return fault_error(Fault::BadSignal, signal);
  }
  const ProcessEntry* p = ctx.supervisor.find(group, name);
  if (p == nullptr) {
    return fault_error(Fault::BadName, given);
  }
  if (!is_signallable_state(p->record.state)) {
    return fault_error(Fault::NotRunning, given);
  }
  if (auto sent = ctx.supervisor.signal_process(group, name, *signo); !sent) {
    return fsm_fault(sent.error(), given);
  }
  return ok(Json(true));
}

void signal_group(MethodContext& ctx, const GroupEntry& g, const std::string& signal,
                  Json& results) {
  std::vector<std::string> targets;
  for (const ProcessEntry* p : by_priority(g)) {
    if (is_signallable_state(p->record.state)) {
      targets.push_back(p->config.name);
    }
  }
  for (const auto& name : targets) {
    results.push_back(
        result_struct(g.name, name, signal_one(ctx, g.name, name, namespec(g.name, name), signal)));
  }
}

void signal_process(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const std::string signal = a[1].get<std::string>();
  auto target = resolve(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  if (target->process == nullptr) {
    Json results = Json::array();
    signal_group(ctx, *target->group, signal, results);
    reply(ok(std::move(results)));
    return;
  }
  reply(signal_one(ctx, target->group->name, target->process->config.name, name, signal));
}

void signal_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const GroupEntry* g = ctx.supervisor.find_group(name);
  if (g == nullptr) {
    reply(fault_error(Fault::BadName, name));
    return;
  }
  Json results = Json::array();
  signal_group(ctx, *g, a[1].get<std::string>(), results);
  reply(ok(std::move(results)));
}

void signal_all(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  Json results = Json::array();
  for (const auto& name : group_names(ctx.supervisor)) {
    if (const GroupEntry* g = ctx.supervisor.find_group(name)) {
      signal_group(ctx, *g, a[0].get<std::string>(), results);
    }
  }
  reply(ok(std::move(results)));
}

void send_process_stdin(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  auto target = resolve_process(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  const ProcessEntry& p = *target->process;
  if (p.record.pid == 0 || p.record.killing) {
    reply(fault_error(Fault::NotRunning, name));
    return;
  }
  // supervisord compat: sendProcessStdin(), a broken pipe (EPIPE) is NO_FILE.
  if (!ctx.control.write_stdin(p.record.pid, a[1].get<std::string>())) {
    reply(fault_error(Fault::NoFile, name));
    return;
  }
  reply(ok(Json(true)));
}

}  // namespace

void register_process_methods(MethodRegistry& r, MethodContext& c) {
  const std::vector<MethodParam> name_signal{{"name", "string", std::nullopt},
                                             {"signal", "signal", std::nullopt}};
  r.add({"supervisor.getProcessInfo", "struct", kName,
         "The info struct of one process (`name` or `group:name`). Fault: BAD_NAME.",
         with_context(c, &get_process_info)});
  r.add({"supervisor.getAllProcessInfo", "array", kNone,
         "The info struct of every process, sorted by group then process name.",
         with_context(c, &get_all_process_info)});
  r.add({"supervisor.startProcess", "boolean", kNameWait,
         "Start one process, or `group:*`; with wait, answer once it is RUNNING. Faults: "
         "BAD_NAME, NO_FILE, NOT_EXECUTABLE, ALREADY_STARTED, SPAWN_ERROR, "
         "ABNORMAL_TERMINATION.",
         with_context(c, &start_process)});
  r.add({"supervisor.startProcessGroup", "array", kNameWait,
         "Start every process of a group that is not running.",
         with_context(c, &start_process_group)});
  r.add({"supervisor.startAllProcesses", "array", kWait,
         "Start every process that is not running, in priority order.",
         with_context(c, &start_all)});
  r.add({"supervisor.stopProcess", "boolean", kNameWait,
         "Stop one process, or `group:*`; with wait, answer once it has stopped. Faults: "
         "BAD_NAME, NOT_RUNNING, FAILED.",
         with_context(c, &stop_process)});
  r.add({"supervisor.stopProcessGroup", "array", kNameWait,
         "Stop every running process of a group.", with_context(c, &stop_process_group)});
  r.add({"supervisor.stopAllProcesses", "array", kWait,
         "Stop every running process, in priority order.", with_context(c, &stop_all)});
  r.add({"supervisor.signalProcess", "boolean", name_signal,
         "Send a signal (name or number) to one process, or to `group:*`. Faults: BAD_NAME, "
         "BAD_SIGNAL, NOT_RUNNING, FAILED.",
         with_context(c, &signal_process)});
  r.add({"supervisor.signalProcessGroup", "array", name_signal,
         "Send a signal to every signallable process of a group.",
         with_context(c, &signal_process_group)});
  r.add({"supervisor.signalAllProcesses",
         "array",
         {{"signal", "signal", std::nullopt}},
         "Send a signal to every process in STARTING, RUNNING or STOPPING.",
         with_context(c, &signal_all)});
  r.add({"supervisor.sendProcessStdin",
         "boolean",
         {{"name", "string", std::nullopt}, {"chars", "string", std::nullopt}},
         "Write to a process's stdin (queued, written as the program reads). Faults: "
         "BAD_NAME, NOT_RUNNING, NO_FILE (the program closed its stdin).",
         with_context(c, &send_process_stdin)});
}

}  // namespace zagent
