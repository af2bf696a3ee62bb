#include "agent/rpc/methods.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "common/datatypes.h"

namespace zagent {

// ---- pure helpers -----------------------------------------------------------------------------

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

ConfigDiff diff_groups(const std::vector<GroupConfig>& next,
                       const std::vector<GroupConfig>& active) {
  ConfigDiff diff;
  std::map<std::string, const GroupConfig*> current;
  for (const auto& g : active) {
    current[g.name] = &g;
  }
  std::map<std::string, const GroupConfig*> wanted;
  for (const auto& g : next) {
    wanted[g.name] = &g;
  }
  for (const auto& [name, g] : wanted) {
    auto it = current.find(name);
    if (it == current.end()) {
      diff.added.push_back(name);
    } else if (!(*it->second == *g)) {
      diff.changed.push_back(name);
    }
  }
  for (const auto& [name, g] : current) {
    if (wanted.count(name) == 0) {
      diff.removed.push_back(name);
    }
  }
  return diff;
}

NameSpec split_namespec(std::string_view name) {
  const auto colon = name.find(':');
  if (colon == std::string_view::npos) {
    return {std::string(name), std::string(name)};
  }
  NameSpec out{std::string(name.substr(0, colon)), std::string(name.substr(colon + 1))};
  if (out.process->empty() || *out.process == "*") {
    out.process.reset();
  }
  return out;
}

namespace {

using rpc::fault_error;

/// A successful outcome (spelled out: Json converts from anything, so the plain conversion
/// is ambiguous).
RpcOutcome ok(Json value) { return RpcOutcome(boost::system::in_place_value, std::move(value)); }

std::int64_t epoch_seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t epoch_seconds(const std::optional<WallTime>& t) {
  return t ? epoch_seconds(*t) : 0;
}

/// supervisord's make_namespec: `name` when group and process share it, else `group:name`.
std::string namespec(const std::string& group, const std::string& name) {
  return group == name ? name : group + ":" + name;
}

/// An offset or length argument of the log methods. JSON integers reach 64 bits where
/// XML-RPC's stop at 32, so they are clamped far beyond any file size: the sums and negations
/// of supervisord's rules then cannot overflow.
std::int64_t log_arg(const Json& value) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 61;
  return std::clamp(value.get<std::int64_t>(), -kLimit, kLimit);
}

/// The result struct of the group/all methods (spec/rpc.md §3.2).
Json result_struct(const std::string& group, const std::string& name, const RpcOutcome& outcome) {
  Json r = Json::object();
  r["name"] = name;
  r["group"] = group;
  if (outcome) {
    r["status"] = fault_code(Fault::Success);
    r["description"] = "OK";
  } else {
    r["status"] = outcome.error().code;
    r["description"] = outcome.error().message;
  }
  return r;
}

/// An FsmError as the fault a client sees: `NAME: <name as given>`, or FAILED's own text.
RpcError fsm_fault(const FsmError& e, const std::string& given) {
  if (e.fault == Fault::Failed) {
    return fault_error(Fault::Failed, e.detail);
  }
  if (e.fault == Fault::ShutdownState) {
    return fault_error(Fault::ShutdownState);
  }
  return fault_error(e.fault, given);
}

/// Processes of a group in priority order (supervisord sorts them by priority, stable).
std::vector<const ProcessEntry*> by_priority(const GroupEntry& group) {
  std::vector<const ProcessEntry*> out;
  for (const auto& p : group.processes) {
    out.push_back(&p);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProcessEntry* a, const ProcessEntry* b) {
    return a->config.priority < b->config.priority;
  });
  return out;
}

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

}  // namespace

// ---- the method table --------------------------------------------------------------------------

namespace {
struct Param {
  std::string_view name;
  std::string_view type;  // XML-RPC type name: string int boolean array struct
  std::optional<Json> fallback;
};
}  // namespace

using Args = std::vector<Json>;
using Handler = void (*)(RpcMethods&, const Args&, RpcReply);

struct RpcMethods::MethodSpec {
  std::string_view name;
  std::string_view returns;
  std::vector<Param> params;
  std::string_view help;
  Handler handler = nullptr;
  bool state_checked = true;  // SHUTDOWN_STATE when the agent is shutting down
};

/// The handlers; a friend of RpcMethods.
struct MethodTable {
  // -- shared steps --

  static RpcOutcome check_running(RpcMethods& self) {
    if (self.control_.state() != SupervisorState::Running) {
      return fault_error(Fault::ShutdownState);
    }
    return ok(Json(true));
  }

  static Json process_info(RpcMethods& self, const GroupEntry& g, const ProcessEntry& p) {
    const std::int64_t now = epoch_seconds(self.clock_.wall_now());
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
    std::string description = process_description(p.record.state, p.config.name, p.record.pid,
                                                  start, stop, now, p.record.spawn_error);
    // zagent: a log that cannot be written (disk full, no access) shows in the status.
    for (const auto& [key, channel, path] :
         {std::tuple{"stdout_log_error", "stdout", &p.stdout_path},
          std::tuple{"stderr_log_error", "stderr", &p.stderr_path}}) {
      std::optional<std::string> error;
      if (!path->empty()) {
        error = self.control_.log_error(*path);
      }
      info[key] = error.value_or("");
      if (error) {
        description += fmt::format("{}{} log: {}", description.empty() ? "" : ", ", channel,
                                   *error);
      }
    }
    info["description"] = std::move(description);
    return info;
  }

  /// `_getGroupAndProcess`: BAD_NAME for an unknown group or process; process is null for
  /// `g:*`.
  struct Target {
    const GroupEntry* group = nullptr;
    const ProcessEntry* process = nullptr;
  };
  static boost::system::result<Target, RpcError> resolve(RpcMethods& self,
                                                         const std::string& name) {
    const NameSpec spec = split_namespec(name);
    const GroupEntry* group = self.supervisor_.find_group(spec.group);
    if (group == nullptr) {
      return fault_error(Fault::BadName, name);
    }
    if (!spec.process) {
      return Target{group, nullptr};
    }
    const ProcessEntry* process = self.supervisor_.find(spec.group, *spec.process);
    if (process == nullptr) {
      return fault_error(Fault::BadName, name);
    }
    return Target{group, process};
  }

  /// One process by name: BAD_NAME for an unknown name and for `g:*` (supervisord's methods
  /// that take a single process).
  static boost::system::result<Target, RpcError> resolve_process(RpcMethods& self,
                                                                 const std::string& name) {
    auto target = resolve(self, name);
    if (!target || target->process == nullptr) {
      return fault_error(Fault::BadName, name);
    }
    return target;
  }

  /// The active groups' names, in priority order: the `all` methods look each group up again,
  /// so an action on one group cannot leave them holding a stale reference.
  static std::vector<std::string> group_names(RpcMethods& self) {
    std::vector<std::string> names;
    for (const auto& g : self.supervisor_.groups()) {
      names.push_back(g.name);
    }
    return names;
  }

  // -- agent --

  static void get_api_version(RpcMethods&, const Args&, RpcReply reply) {
    reply(ok(Json("3.0")));
  }
  static void get_supervisor_version(RpcMethods&, const Args&, RpcReply reply) {
    reply(ok(Json("4.2.5")));
  }
  static void get_identification(RpcMethods& self, const Args&, RpcReply reply) {
    reply(ok(Json(self.config_.supervisord.identifier)));
  }
  static void get_state(RpcMethods& self, const Args&, RpcReply reply) {
    const SupervisorState state = self.control_.state();
    reply(ok(Json{{"statecode", static_cast<int>(state)},
                  {"statename", std::string(state_name(state))}}));
  }
  static void get_pid(RpcMethods& self, const Args&, RpcReply reply) {
    reply(ok(Json(self.control_.agent_pid())));
  }
  static void shutdown(RpcMethods& self, const Args&, RpcReply reply) {
    reply(ok(Json(true)));
    self.control_.request_shutdown();
  }
  static void restart(RpcMethods& self, const Args&, RpcReply reply) {
    reply(ok(Json(true)));
    self.control_.request_restart();
  }

  // -- logs --

  /// supervisord's readFile() offset/length rules (spec/rpc.md §4.4).
  static RpcOutcome read_log_file(RpcMethods& self, const std::string& path, std::int64_t offset,
                                  std::int64_t length) {
    if (offset < 0) {
      if (length != 0) {
        return fault_error(Fault::BadArguments);
      }
      auto size = self.control_.file_size(path);
      if (!size) {
        return fault_error(Fault::Failed);
      }
      const std::int64_t pos = std::max<std::int64_t>(0, *size + offset);
      auto data = self.control_.read_file(path, pos, -offset);
      if (!data) {
        return fault_error(Fault::Failed);
      }
      return ok(Json(std::move(*data)));
    }
    if (length < 0) {
      return fault_error(Fault::BadArguments);
    }
    auto data = self.control_.read_file(path, offset, length == 0 ? -1 : length);
    if (!data) {
      return fault_error(Fault::Failed);
    }
    return ok(Json(std::move(*data)));
  }

  static void read_main_log(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string path = self.control_.main_log_path();
    if (path.empty() || !self.control_.file_size(path)) {
      reply(fault_error(Fault::NoFile, path.empty() ? "None" : path));
      return;
    }
    reply(read_log_file(self, path, log_arg(a[0]), log_arg(a[1])));
  }

  static void clear_main_log(RpcMethods& self, const Args&, RpcReply reply) {
    const std::string path = self.control_.main_log_path();
    if (path.empty() || !self.control_.file_size(path)) {
      reply(fault_error(Fault::NoFile));
      return;
    }
    if (!self.control_.clear_main_log()) {
      reply(fault_error(Fault::Failed));
      return;
    }
    reply(ok(Json(true)));
  }

  static const std::string& channel_path(const ProcessEntry& p, std::string_view channel) {
    return channel == "stderr" ? p.stderr_path : p.stdout_path;
  }

  static void read_process_log(RpcMethods& self, const Args& a, RpcReply reply,
                               std::string_view channel) {
    const std::string name = a[0].get<std::string>();
    auto target = resolve_process(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    const std::string& path = channel_path(*target->process, channel);
    if (path.empty() || !self.control_.file_size(path)) {
      reply(fault_error(Fault::NoFile, path.empty() ? "None" : path));
      return;
    }
    reply(read_log_file(self, path, log_arg(a[1]), log_arg(a[2])));
  }
  static void read_stdout(RpcMethods& self, const Args& a, RpcReply reply) {
    read_process_log(self, a, std::move(reply), "stdout");
  }
  static void read_stderr(RpcMethods& self, const Args& a, RpcReply reply) {
    read_process_log(self, a, std::move(reply), "stderr");
  }

  /// supervisord's tailFile() (spec/rpc.md §4.4): at most the last `length` bytes.
  static void tail_process_log(RpcMethods& self, const Args& a, RpcReply reply,
                               std::string_view channel) {
    const std::string name = a[0].get<std::string>();
    auto target = resolve_process(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    std::int64_t offset = log_arg(a[1]);
    std::int64_t length = log_arg(a[2]);
    const std::string& path = channel_path(*target->process, channel);
    auto size_or = path.empty() ? Result<std::int64_t>(fail("no file"))
                                : self.control_.file_size(path);
    if (!size_or) {
      reply(ok(Json::array({"", 0, false})));
      return;
    }
    const std::int64_t size = *size_or;
    bool overflow = false;
    if (size > offset + length) {
      overflow = true;
      offset = size - 1;
    }
    if (offset + length > size) {
      if (offset > size - 1) {
        length = 0;
      }
      offset = size - length;
    }
    offset = std::max<std::int64_t>(offset, 0);
    length = std::max<std::int64_t>(length, 0);
    std::string data;
    if (length > 0) {
      auto read = self.control_.read_file(path, offset, length);
      if (!read) {
        reply(ok(Json::array({"", offset, false})));
        return;
      }
      data = std::move(*read);
    }
    reply(ok(Json::array({std::move(data), size, overflow})));
  }
  static void tail_stdout(RpcMethods& self, const Args& a, RpcReply reply) {
    tail_process_log(self, a, std::move(reply), "stdout");
  }
  static void tail_stderr(RpcMethods& self, const Args& a, RpcReply reply) {
    tail_process_log(self, a, std::move(reply), "stderr");
  }

  static RpcOutcome clear_one(RpcMethods& self, const ProcessEntry& p, const std::string& given) {
    for (const std::string* path : {&p.stdout_path, &p.stderr_path}) {
      if (!path->empty() && self.control_.file_size(*path)) {
        if (!self.control_.clear_log(*path)) {
          return fault_error(Fault::Failed, given);
        }
      }
    }
    return ok(Json(true));
  }
  static void clear_process_logs(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    auto target = resolve_process(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    reply(clear_one(self, *target->process, name));
  }
  static void clear_all_process_logs(RpcMethods& self, const Args&, RpcReply reply) {
    Json results = Json::array();
    for (const auto& g : self.supervisor_.groups()) {
      for (const ProcessEntry* p : by_priority(g)) {
        results.push_back(result_struct(g.name, p->config.name,
                                        clear_one(self, *p, namespec(g.name, p->config.name))));
      }
    }
    reply(ok(std::move(results)));
  }

  // -- process info --

  static void get_process_info(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    auto target = resolve_process(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    reply(ok(process_info(self, *target->group, *target->process)));
  }

  static void get_all_process_info(RpcMethods& self, const Args&, RpcReply reply) {
    // supervisord compat: lexical order, group name then process name.
    std::vector<std::pair<const GroupEntry*, const ProcessEntry*>> all;
    for (const auto& g : self.supervisor_.groups()) {
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
      out.push_back(process_info(self, *g, *p));
    }
    reply(ok(std::move(out)));
  }

  static Json log_target_value(const LogChannelConfig& c) {
    switch (c.logfile.kind) {
      case LogTargetKind::Auto:
        return "auto";
      case LogTargetKind::None:
      case LogTargetKind::Syslog:
        return "none";
      case LogTargetKind::Path:
        return c.logfile.path;
    }
    return "none";
  }

  static void get_all_config_info(RpcMethods& self, const Args&, RpcReply reply) {
    Json out = Json::array();
    for (const auto& g : self.config_.groups) {
      const bool inuse = self.supervisor_.find_group(g.name) != nullptr;
      for (const auto& p : g.processes) {
        // An active process's AUTO log shows its real file, as supervisord's does.
        const ProcessEntry* entry = self.supervisor_.find(g.name, p.name);
        Json d = Json::object();
        d["autostart"] = p.autostart;
        d["directory"] = p.directory ? Json(*p.directory) : Json("none");
        d["uid"] = p.user ? Json(p.user->uid) : Json("none");
        d["command"] = p.command;
        d["exitcodes"] = p.exitcodes;
        d["group"] = g.name;
        d["group_prio"] = g.priority;
        d["inuse"] = inuse;
        d["killasgroup"] = p.killasgroup;
        d["name"] = p.name;
        d["process_prio"] = p.priority;
        d["redirect_stderr"] = p.redirect_stderr;
        d["startretries"] = p.startretries;
        d["startsecs"] = p.startsecs;
        for (const auto& [prefix, c] : {std::pair<std::string, const LogChannelConfig*>{
                                            "stdout_", &p.stdout_log},
                                        {"stderr_", &p.stderr_log}}) {
          d[prefix + "capture_maxbytes"] = c->capture_maxbytes;
          d[prefix + "events_enabled"] = c->events_enabled;
          const std::string* real = nullptr;
          if (entry != nullptr && entry->config == p) {
            real = prefix == "stdout_" ? &entry->stdout_path : &entry->stderr_path;
          }
          d[prefix + "logfile"] = c->logfile.kind == LogTargetKind::Auto && real != nullptr &&
                                          !real->empty()
                                      ? Json(*real)
                                      : log_target_value(*c);
          d[prefix + "logfile_backups"] = c->backups;
          d[prefix + "logfile_maxbytes"] = c->maxbytes;
          d[prefix + "syslog"] = c->syslog;
        }
        d["stopsignal"] = p.stopsignal;
        d["stopwaitsecs"] = p.stopwaitsecs;
        d["serverurl"] = p.serverurl ? Json(*p.serverurl) : Json("none");
        out.push_back(std::move(d));
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const Json& x, const Json& y) {
      return x["name"].get<std::string>() < y["name"].get<std::string>();
    });
    reply(ok(std::move(out)));
  }

  // -- start --

  /// startProcess for one process (spec/rpc.md §4.3); `done` is called now or later.
  static void start_one(RpcMethods& self, const std::string& group, const std::string& name,
                        const std::string& given, bool wait, RpcReply done) {
    const ProcessEntry* p = self.supervisor_.find(group, name);
    if (p == nullptr) {
      done(fault_error(Fault::BadName, given));
      return;
    }
    // supervisord compat: the command is resolved first, even for a running process.
    const auto env = child_environment({}, {}, p->config, "");
    const std::string search = choose_search_path(env, self.control_.agent_path());
    if (auto resolved = resolve_command(p->config.command, search, self.control_.file_probe());
        !resolved) {
      done(fault_error(command_fault(resolved.error()) == CommandFault::NoFile
                           ? Fault::NoFile
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
    if (auto started = self.supervisor_.start_process(group, name); !started) {
      done(fsm_fault(started.error(), given));
      return;
    }
    auto check = [&self, group, name, given, wait, done]() -> bool {
      const ProcessEntry* e = self.supervisor_.find(group, name);
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
      self.add_waiter(std::move(check));
    }
  }

  // -- stop --

  /// STARTING, RUNNING, BACKOFF (supervisord), or EXITED with a delayed restart pending
  /// (zagent's restart_delay: the stop cancels it).
  static bool stoppable(const ProcessEntry& p) {
    return is_running_state(p.record.state) ||
           (p.record.state == ProcessState::Exited && p.record.deadline.has_value());
  }

  static void stop_one(RpcMethods& self, const std::string& group, const std::string& name,
                       const std::string& given, bool wait, RpcReply done) {
    const ProcessEntry* p = self.supervisor_.find(group, name);
    if (p == nullptr) {
      done(fault_error(Fault::BadName, given));
      return;
    }
    if (!stoppable(*p)) {
      done(fault_error(Fault::NotRunning, given));
      return;
    }
    if (auto stopped = self.supervisor_.stop_process(group, name); !stopped) {
      done(fsm_fault(stopped.error(), given));
      return;
    }
    auto check = [&self, group, name, wait, done]() -> bool {
      const ProcessEntry* e = self.supervisor_.find(group, name);
      if (!wait || e == nullptr || is_stopped_state(e->record.state)) {
        done(ok(Json(true)));
        return true;
      }
      return false;
    };
    if (!check()) {
      self.add_waiter(std::move(check));
    }
  }

  // -- start and stop for a group, a name and all (one shape, two verbs) --

  /// A process verb: which processes a group/all call acts on, and the one-process action.
  struct Verb {
    bool (*selects)(const ProcessEntry&);
    void (*one)(RpcMethods&, const std::string& group, const std::string& name,
                const std::string& given, bool wait, RpcReply done);
  };
  static bool not_running(const ProcessEntry& p) { return !is_running_state(p.record.state); }
  static constexpr Verb kStart{&not_running, &start_one};
  static constexpr Verb kStop{&stoppable, &stop_one};

  /// Every selected process of the group, in priority order, into `collector`.
  static void act_on_group(RpcMethods& self, const Verb& verb, const GroupEntry& g, bool wait,
                           const std::shared_ptr<Collector>& collector) {
    std::vector<std::string> targets;
    for (const ProcessEntry* p : by_priority(g)) {
      if (verb.selects(*p)) {
        targets.push_back(p->config.name);
      }
    }
    const std::string group = g.name;  // `g` may move once an action has run
    for (const auto& name : targets) {
      verb.one(self, group, name, namespec(group, name), wait,
               collector_slot(collector, group, name));
    }
  }

  /// startProcess / stopProcess: one process, or `g:*` as the group variant.
  static void act_on_name(RpcMethods& self, const Verb& verb, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const bool wait = a[1].get<bool>();
    auto target = resolve(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    if (target->process == nullptr) {
      auto collector = make_collector(std::move(reply));
      act_on_group(self, verb, *target->group, wait, collector);
      finish_collector(collector);
      return;
    }
    verb.one(self, target->group->name, target->process->config.name, name, wait,
             std::move(reply));
  }

  /// startProcessGroup / stopProcessGroup.
  static void act_on_group_name(RpcMethods& self, const Verb& verb, const Args& a,
                                RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const GroupEntry* g = self.supervisor_.find_group(name);
    if (g == nullptr) {
      reply(fault_error(Fault::BadName, name));
      return;
    }
    auto collector = make_collector(std::move(reply));
    act_on_group(self, verb, *g, a[1].get<bool>(), collector);
    finish_collector(collector);
  }

  /// startAllProcesses / stopAllProcesses: every group in ascending priority.
  static void act_on_all(RpcMethods& self, const Verb& verb, const Args& a, RpcReply reply) {
    auto collector = make_collector(std::move(reply));
    for (const auto& name : group_names(self)) {
      if (const GroupEntry* g = self.supervisor_.find_group(name)) {
        act_on_group(self, verb, *g, a[0].get<bool>(), collector);
      }
    }
    finish_collector(collector);
  }

  static void start_process(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_name(self, kStart, a, std::move(reply));
  }
  static void start_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_group_name(self, kStart, a, std::move(reply));
  }
  static void start_all(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_all(self, kStart, a, std::move(reply));
  }
  static void stop_process(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_name(self, kStop, a, std::move(reply));
  }
  static void stop_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_group_name(self, kStop, a, std::move(reply));
  }
  static void stop_all(RpcMethods& self, const Args& a, RpcReply reply) {
    act_on_all(self, kStop, a, std::move(reply));
  }

  // -- signal --

  static RpcOutcome signal_one(RpcMethods& self, const std::string& group,
                               const std::string& name, const std::string& given,
                               const std::string& signal) {
    auto signo = parse_signal(signal);
    if (!signo) {
      return fault_error(Fault::BadSignal, signal);
    }
    const ProcessEntry* p = self.supervisor_.find(group, name);
    if (p == nullptr) {
      return fault_error(Fault::BadName, given);
    }
    if (!is_signallable_state(p->record.state)) {
      return fault_error(Fault::NotRunning, given);
    }
    if (auto sent = self.supervisor_.signal_process(group, name, *signo); !sent) {
      return fsm_fault(sent.error(), given);
    }
    return ok(Json(true));
  }

  static void signal_group(RpcMethods& self, const GroupEntry& g, const std::string& signal,
                           Json& results) {
    std::vector<std::string> targets;
    for (const ProcessEntry* p : by_priority(g)) {
      if (is_signallable_state(p->record.state)) {
        targets.push_back(p->config.name);
      }
    }
    for (const auto& name : targets) {
      results.push_back(
          result_struct(g.name, name, signal_one(self, g.name, name, namespec(g.name, name),
                                                 signal)));
    }
  }

  static void signal_process(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const std::string signal = a[1].get<std::string>();
    auto target = resolve(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    if (target->process == nullptr) {
      Json results = Json::array();
      signal_group(self, *target->group, signal, results);
      reply(ok(std::move(results)));
      return;
    }
    reply(signal_one(self, target->group->name, target->process->config.name, name, signal));
  }

  static void signal_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const GroupEntry* g = self.supervisor_.find_group(name);
    if (g == nullptr) {
      reply(fault_error(Fault::BadName, name));
      return;
    }
    Json results = Json::array();
    signal_group(self, *g, a[1].get<std::string>(), results);
    reply(ok(std::move(results)));
  }

  static void signal_all(RpcMethods& self, const Args& a, RpcReply reply) {
    Json results = Json::array();
    for (const auto& name : group_names(self)) {
      if (const GroupEntry* g = self.supervisor_.find_group(name)) {
        signal_group(self, *g, a[0].get<std::string>(), results);
      }
    }
    reply(ok(std::move(results)));
  }

  static void send_process_stdin(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    auto target = resolve_process(self, name);
    if (!target) {
      reply(target.error());
      return;
    }
    const ProcessEntry& p = *target->process;
    if (p.record.pid == 0 || p.record.killing) {
      reply(fault_error(Fault::NotRunning, name));
      return;
    }
    // zagent gives children /dev/null as stdin (DESIGN.md): there is no channel to write to.
    reply(fault_error(Fault::NoFile, name));
  }

  static void send_remote_comm_event(RpcMethods&, const Args&, RpcReply reply) {
    // No event listeners exist yet (docs/compat.md): accepted and dropped.
    reply(ok(Json(true)));
  }

  // -- config --

  static void reload_config(RpcMethods& self, const Args&, RpcReply reply) {
    ConfigLoad load = self.control_.reread_config();
    if (!load.config) {
      RpcError e = fault_error(Fault::CantReread, load.errors.empty()
                                                      ? std::string("unknown error")
                                                      : load.errors.front().supervisord_text());
      Json errors = Json::array();
      for (const auto& err : load.errors) {
        errors.push_back(err.render());
      }
      e.data = Json{{"errors", std::move(errors)}};
      reply(std::move(e));
      return;
    }
    self.config_ = std::move(*load.config);
    std::vector<GroupConfig> active;
    for (const auto& g : self.supervisor_.groups()) {
      active.push_back(*self.supervisor_.group_config(g.name));
    }
    const ConfigDiff diff = diff_groups(self.config_.groups, active);
    reply(ok(Json::array({Json::array({diff.added, diff.changed, diff.removed})})));
  }

  static const GroupConfig* stored_group(RpcMethods& self, const std::string& name) {
    for (const auto& g : self.config_.groups) {
      if (g.name == name) {
        return &g;
      }
    }
    return nullptr;
  }

  static void add_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const GroupConfig* g = stored_group(self, name);
    if (g == nullptr) {
      reply(fault_error(Fault::BadName, name));
      return;
    }
    if (self.supervisor_.find_group(name) != nullptr) {
      reply(fault_error(Fault::AlreadyAdded, name));
      return;
    }
    const GroupConfig copy = *g;
    if (!self.supervisor_.add_group(copy, self.control_.create_auto_logs(copy))) {
      reply(fault_error(Fault::AlreadyAdded, name));
      return;
    }
    reply(ok(Json(true)));
    self.schedule_waiters();
  }

  static void remove_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    if (self.supervisor_.find_group(name) == nullptr) {
      reply(fault_error(Fault::BadName, name));
      return;
    }
    if (!self.supervisor_.remove_group(name)) {
      reply(fault_error(Fault::StillRunning, name));
      return;
    }
    reply(ok(Json(true)));
    self.schedule_waiters();
  }

  /// zagent.updateProcessGroup: applies the stored config of one active group, restarting
  /// only the processes whose config changed (and dropping/adding the others).
  static void update_process_group(RpcMethods& self, const Args& a, RpcReply reply) {
    const std::string name = a[0].get<std::string>();
    const GroupConfig* wanted = stored_group(self, name);
    const auto active = self.supervisor_.group_config(name);
    if (wanted == nullptr || !active) {
      reply(fault_error(Fault::BadName, name));
      return;
    }
    const GroupConfig next = *wanted;
    // The processes that must stop: changed or gone.
    std::vector<std::string> to_stop;
    for (const auto& p : active->processes) {
      const auto same = std::find(next.processes.begin(), next.processes.end(), p);
      if (same == next.processes.end()) {
        to_stop.push_back(p.name);
      }
    }
    for (const auto& p : to_stop) {
      const ProcessEntry* e = self.supervisor_.find(name, p);
      if (e != nullptr && is_running_state(e->record.state)) {
        if (auto stopped = self.supervisor_.stop_process(name, p); !stopped) {
          reply(fsm_fault(stopped.error(), namespec(name, p)));
          return;
        }
      }
    }
    auto apply = [&self, name, next, to_stop, reply]() -> bool {
      if (self.control_.state() != SupervisorState::Running) {
        reply(fault_error(Fault::ShutdownState));
        return true;
      }
      for (const auto& p : to_stop) {
        const ProcessEntry* e = self.supervisor_.find(name, p);
        if (e != nullptr && !is_stopped_state(e->record.state)) {
          return false;  // still stopping
        }
      }
      if (self.supervisor_.find_group(name) == nullptr) {
        reply(fault_error(Fault::BadName, name));
        return true;
      }
      // AUTO log files only for the processes that get a fresh entry.
      GroupConfig fresh = next;
      const auto current = self.supervisor_.group_config(name);
      std::erase_if(fresh.processes, [&](const ProcessConfig& p) {
        return std::find(current->processes.begin(), current->processes.end(), p) !=
               current->processes.end();
      });
      if (!self.supervisor_.update_group(next, self.control_.create_auto_logs(fresh))) {
        reply(fault_error(Fault::Failed, "could not update group " + name));
        return true;
      }
      reply(ok(Json(true)));
      return true;
    };
    // The table change must not happen inside a supervisor callback: always via the waiters.
    self.add_waiter(std::move(apply));
    self.schedule_waiters();
  }

  // -- system --

  static void list_methods(RpcMethods& self, const Args&, RpcReply reply) {
    reply(ok(Json(self.method_names())));
  }
  static void method_help(RpcMethods&, const Args& a, RpcReply reply);
  static void method_signature(RpcMethods&, const Args& a, RpcReply reply);
  static void multicall(RpcMethods& self, const Args& a, RpcReply reply);
};

namespace {

// Parameter lists used by several methods.
const std::vector<Param> kNone{};
const std::vector<Param> kName{{"name", "string", std::nullopt}};
const std::vector<Param> kNameWait{{"name", "string", std::nullopt},
                                   {"wait", "boolean", Json(true)}};
const std::vector<Param> kWait{{"wait", "boolean", Json(true)}};
const std::vector<Param> kOffsetLength{{"offset", "int", std::nullopt},
                                       {"length", "int", std::nullopt}};
const std::vector<Param> kNameOffsetLength{{"name", "string", std::nullopt},
                                           {"offset", "int", std::nullopt},
                                           {"length", "int", std::nullopt}};
const std::vector<Param> kNameSignal{{"name", "string", std::nullopt},
                                     {"signal", "signal", std::nullopt}};

using M = MethodTable;
using Spec = RpcMethods::MethodSpec;

const std::vector<Spec>& table() {
  static const std::vector<Spec> specs = {
      {"supervisor.addProcessGroup", "boolean", kName,
       "Activate the group `name` from the last-read config; its processes then follow "
       "autostart. Faults: BAD_NAME, ALREADY_ADDED.",
       &M::add_process_group},
      {"supervisor.clearAllProcessLogs", "array", kNone,
       "Empty the stdout and stderr logs of every process; one result struct per process.",
       &M::clear_all_process_logs},
      {"supervisor.clearLog", "boolean", kNone,
       "Delete and reopen the agent's main log. Faults: NO_FILE, FAILED.", &M::clear_main_log},
      {"supervisor.clearProcessLog", "boolean", kName, "Alias of supervisor.clearProcessLogs.",
       &M::clear_process_logs},
      {"supervisor.clearProcessLogs", "boolean", kName,
       "Empty the stdout and stderr logs of one process. Faults: BAD_NAME, FAILED.",
       &M::clear_process_logs},
      {"supervisor.getAPIVersion", "string", kNone,
       "The version of the control API: 3.0, as supervisord.", &M::get_api_version},
      {"supervisor.getAllConfigInfo", "array", kNone,
       "One config struct per process of the last-read config, sorted by process name.",
       &M::get_all_config_info},
      {"supervisor.getAllProcessInfo", "array", kNone,
       "The info struct of every process, sorted by group then process name.",
       &M::get_all_process_info},
      {"supervisor.getIdentification", "string", kNone,
       "The agent's identifier ([supervisord] identifier=).", &M::get_identification},
      {"supervisor.getPID", "int", kNone, "The agent's process id.", &M::get_pid},
      {"supervisor.getProcessInfo", "struct", kName,
       "The info struct of one process (`name` or `group:name`). Fault: BAD_NAME.",
       &M::get_process_info},
      {"supervisor.getState", "struct", kNone,
       "The agent's state: {statecode, statename}.", &M::get_state},
      {"supervisor.getSupervisorVersion", "string", kNone,
       "The supervisord version whose behaviour the agent provides.", &M::get_supervisor_version},
      {"supervisor.getVersion", "string", kNone, "Alias of supervisor.getAPIVersion.",
       &M::get_api_version},
      {"supervisor.readLog", "string", kOffsetLength,
       "Read the main log: the last -offset bytes (offset < 0, length 0), or length bytes from "
       "offset (length 0: to the end). Faults: NO_FILE, BAD_ARGUMENTS, FAILED.",
       &M::read_main_log},
      {"supervisor.readMainLog", "string", kOffsetLength, "Alias of supervisor.readLog.",
       &M::read_main_log},
      {"supervisor.readProcessLog", "string", kNameOffsetLength,
       "Alias of supervisor.readProcessStdoutLog.", &M::read_stdout},
      {"supervisor.readProcessStderrLog", "string", kNameOffsetLength,
       "Read a process's stderr log, with the offset rules of supervisor.readLog.",
       &M::read_stderr},
      {"supervisor.readProcessStdoutLog", "string", kNameOffsetLength,
       "Read a process's stdout log, with the offset rules of supervisor.readLog.",
       &M::read_stdout},
      {"supervisor.reloadConfig", "array", kNone,
       "Read the config files again and report [[added, changed, removed]] group names; "
       "nothing is started or stopped. Fault: CANT_REREAD.",
       &M::reload_config},
      {"supervisor.removeProcessGroup", "boolean", kName,
       "Remove an active group whose processes are all stopped. Faults: BAD_NAME, "
       "STILL_RUNNING.",
       &M::remove_process_group},
      {"supervisor.restart", "boolean", kNone,
       "Stop every process and start again with the config read anew.", &M::restart},
      {"supervisor.sendProcessStdin", "boolean", {{"name", "string", std::nullopt},
                                                  {"chars", "string", std::nullopt}},
       "Write to a process's stdin. zagent children read /dev/null, so a running process "
       "gives NO_FILE. Faults: BAD_NAME, NOT_RUNNING, NO_FILE.",
       &M::send_process_stdin},
      {"supervisor.sendRemoteCommEvent", "boolean", {{"type", "string", std::nullopt},
                                                     {"data", "string", std::nullopt}},
       "Accepted for compatibility; there are no event listeners yet.",
       &M::send_remote_comm_event, false},
      {"supervisor.shutdown", "boolean", kNone, "Stop every process, then the agent.",
       &M::shutdown},
      {"supervisor.signalAllProcesses", "array", {{"signal", "signal", std::nullopt}},
       "Send a signal to every process in STARTING, RUNNING or STOPPING.", &M::signal_all},
      {"supervisor.signalProcess", "boolean", kNameSignal,
       "Send a signal (name or number) to one process, or to `group:*`. Faults: BAD_NAME, "
       "BAD_SIGNAL, NOT_RUNNING, FAILED.",
       &M::signal_process},
      {"supervisor.signalProcessGroup", "array", kNameSignal,
       "Send a signal to every signallable process of a group.", &M::signal_process_group},
      {"supervisor.startAllProcesses", "array", kWait,
       "Start every process that is not running, in priority order.", &M::start_all},
      {"supervisor.startProcess", "boolean", kNameWait,
       "Start one process, or `group:*`; with wait, answer once it is RUNNING. Faults: "
       "BAD_NAME, NO_FILE, NOT_EXECUTABLE, ALREADY_STARTED, SPAWN_ERROR, "
       "ABNORMAL_TERMINATION.",
       &M::start_process},
      {"supervisor.startProcessGroup", "array", kNameWait,
       "Start every process of a group that is not running.", &M::start_process_group},
      {"supervisor.stopAllProcesses", "array", kWait,
       "Stop every running process, in priority order.", &M::stop_all},
      {"supervisor.stopProcess", "boolean", kNameWait,
       "Stop one process, or `group:*`; with wait, answer once it has stopped. Faults: "
       "BAD_NAME, NOT_RUNNING, FAILED.",
       &M::stop_process},
      {"supervisor.stopProcessGroup", "array", kNameWait,
       "Stop every running process of a group.", &M::stop_process_group},
      {"supervisor.tailProcessLog", "array", kNameOffsetLength,
       "Alias of supervisor.tailProcessStdoutLog.", &M::tail_stdout},
      {"supervisor.tailProcessStderrLog", "array", kNameOffsetLength,
       "Like supervisor.tailProcessStdoutLog, for stderr.", &M::tail_stderr},
      {"supervisor.tailProcessStdoutLog", "array", kNameOffsetLength,
       "[bytes, offset, overflow]: at most the last `length` bytes of the stdout log written "
       "since `offset`; the returned offset is the file size.",
       &M::tail_stdout},
      {"system.listMethods", "array", kNone, "Every method name, sorted.", &M::list_methods,
       false},
      {"system.methodHelp", "string", kName, "The help text of a method.", &M::method_help,
       false},
      {"system.methodSignature", "array", kName,
       "[return type, parameter types...] of a method, in XML-RPC type names.",
       &M::method_signature, false},
      {"system.multicall", "array", {{"calls", "array", std::nullopt}},
       "Run [{methodName, params}, ...] in order; each entry is the bare result or a "
       "{faultCode, faultString} struct.",
       &M::multicall, false},
      {"zagent.updateProcessGroup", "boolean", kName,
       "Apply the last-read config to one active group: only the processes whose config "
       "changed are stopped and started again; the others keep running with the same pid. "
       "Faults: BAD_NAME, FAILED.",
       &M::update_process_group},
  };
  return specs;
}

const Spec* find_spec(std::string_view name) {
  for (const auto& s : table()) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

bool type_matches(const Json& value, std::string_view type) {
  if (type == "string") {
    return value.is_string();
  }
  if (type == "signal") {  // a name or a number, as supervisord's signal_number() takes
    return value.is_string() || value.is_number_integer();
  }
  if (type == "int") {
    return value.is_number_integer();
  }
  if (type == "boolean") {
    return value.is_boolean();
  }
  if (type == "array") {
    return value.is_array();
  }
  if (type == "struct") {
    return value.is_object();
  }
  return false;
}

/// Positional or named parameters -> the full positional list, defaults filled in.
boost::system::result<Args, RpcError> bind_params(const Spec& spec, const Json& params) {
  const std::size_t total = spec.params.size();
  std::size_t required = 0;
  for (const auto& p : spec.params) {
    if (!p.fallback) {
      ++required;
    }
  }
  std::vector<std::optional<Json>> slots(total);
  if (params.is_array()) {
    if (params.size() > total || params.size() < required) {
      return rpc::standard_error(
          rpc::StdError::InvalidParams,
          fmt::format("{} takes {} argument{}, got {}", spec.name,
                      required == total ? std::to_string(total)
                                        : fmt::format("{} to {}", required, total),
                      total == 1 ? "" : "s", params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      slots[i] = params[i];
    }
  } else if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      bool known = false;
      for (std::size_t i = 0; i < total; ++i) {
        if (spec.params[i].name == key) {
          slots[i] = value;
          known = true;
        }
      }
      if (!known) {
        return rpc::standard_error(rpc::StdError::InvalidParams,
                                   fmt::format("{} has no parameter '{}'", spec.name, key));
      }
    }
  } else if (!params.is_null()) {
    return rpc::standard_error(rpc::StdError::InvalidParams, "params must be an array or object");
  }
  Args out;
  for (std::size_t i = 0; i < total; ++i) {
    const Param& p = spec.params[i];
    if (!slots[i]) {
      if (!p.fallback) {
        return rpc::standard_error(rpc::StdError::InvalidParams,
                                   fmt::format("{}: missing parameter '{}'", spec.name, p.name));
      }
      slots[i] = *p.fallback;
    }
    if (!type_matches(*slots[i], p.type)) {
      return rpc::standard_error(
          rpc::StdError::InvalidParams,
          fmt::format("{}: parameter '{}' must be {} {}", spec.name, p.name,
                      p.type == "int" || p.type == "array" ? "an" : "a",
                      p.type == "signal" ? "string or an int" : p.type));
    }
    if (p.type == "signal" && slots[i]->is_number_integer()) {
      slots[i] = std::to_string(slots[i]->get<std::int64_t>());
    }
    out.push_back(std::move(*slots[i]));
  }
  return out;
}

}  // namespace

void MethodTable::method_help(RpcMethods&, const Args& a, RpcReply reply) {
  const Spec* spec = find_spec(a[0].get<std::string>());
  if (spec == nullptr) {
    reply(fault_error(Fault::SignatureUnsupported));
    return;
  }
  reply(ok(Json(std::string(spec->help))));
}

void MethodTable::method_signature(RpcMethods&, const Args& a, RpcReply reply) {
  const Spec* spec = find_spec(a[0].get<std::string>());
  if (spec == nullptr) {
    reply(fault_error(Fault::SignatureUnsupported));
    return;
  }
  Json sig = Json::array({std::string(spec->returns)});
  for (const auto& p : spec->params) {
    sig.push_back(p.type == "signal" ? std::string("string") : std::string(p.type));
  }
  // supervisord compat: one flat [rtype, ptypes...] array (spec/rpc.md §4.5), not the
  // XML-RPC introspection convention of an array of signatures.
  reply(ok(std::move(sig)));
}

void MethodTable::multicall(RpcMethods& self, const Args& a, RpcReply reply) {
  struct State {
    Json calls;
    Json results = Json::array();
    std::size_t next = 0;
    RpcReply reply;
  };
  auto state = std::make_shared<State>();
  state->calls = a[0];
  state->reply = std::move(reply);
  // Runs the calls one after another: a waiting call holds the ones after it.
  auto run = std::make_shared<std::function<void()>>();
  *run = [&self, state, weak = std::weak_ptr<std::function<void()>>(run)]() {
    while (state->next < state->calls.size()) {
      const Json& c = state->calls[state->next++];
      const Json* method = c.is_object() && c.contains("methodName") ? &c["methodName"] : nullptr;
      if (method == nullptr || !method->is_string()) {
        state->results.push_back(
            Json{{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}});
        continue;
      }
      const std::string name = method->get<std::string>();
      if (name == "system.multicall") {
        state->results.push_back(
            Json{{"faultCode", 2},
                 {"faultString", "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"}});
        continue;
      }
      const Json params = c.contains("params") ? c["params"] : Json::array();
      struct Flags {
        bool answered = false;
        bool waiting = false;
      };
      auto flags = std::make_shared<Flags>();
      auto again = weak.lock();  // held by a waiting reply until it comes
      self.call(name, params, [state, flags, again](RpcOutcome o) {
        state->results.push_back(o ? std::move(*o) : rpc::fault_struct(o.error()));
        flags->answered = true;
        if (flags->waiting && again) {
          (*again)();  // a waiting call finished later: go on with the rest
        }
      });
      if (!flags->answered) {
        flags->waiting = true;
        return;
      }
    }
    state->reply(ok(std::move(state->results)));
  };
  (*run)();
}

// ---- RpcMethods ---------------------------------------------------------------------------------

RpcMethods::RpcMethods(Supervisor& supervisor, AgentControl& control, Clock& clock,
                       AgentConfig config)
    : supervisor_(supervisor),
      control_(control),
      clock_(clock),
      config_(std::move(config)),
      alive_(std::make_shared<bool>(true)) {
  supervisor_.set_observer(
      [this](const ProcessEntry&, const StateChanged&) { schedule_waiters(); });
}

RpcMethods::~RpcMethods() {
  *alive_ = false;
  supervisor_.set_observer(nullptr);
}

bool RpcMethods::has_method(std::string_view method) const { return find_spec(method) != nullptr; }

std::vector<std::string> RpcMethods::method_names() const {
  std::vector<std::string> out;
  for (const auto& s : table()) {
    out.emplace_back(s.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RpcMethods::call(std::string_view method, const Json& params, RpcReply reply) {
  const Spec* spec = find_spec(method);
  if (spec == nullptr) {
    RpcError e = rpc::standard_error(rpc::StdError::MethodNotFound, method);
    e.data = rpc::fault_struct(rpc::fault_error(Fault::UnknownMethod));  // supervisord's text
    reply(std::move(e));
    return;
  }
  auto args = bind_params(*spec, params);
  if (!args) {
    reply(args.error());
    return;
  }
  if (spec->state_checked && control_.state() != SupervisorState::Running) {
    reply(fault_error(Fault::ShutdownState));
    return;
  }
  // A handler that throws (a bug, or an adapter failing unexpectedly) must neither take the
  // agent down nor leave its caller waiting forever: the call is answered FAILED unless it
  // has already been answered (supervisord's multicall answers `FAILED: <class>:<msg>`).
  auto answered = std::make_shared<bool>(false);
  RpcReply once = [answered, reply = std::move(reply)](RpcOutcome outcome) {
    if (!*answered) {
      *answered = true;
      reply(std::move(outcome));
    }
  };
  try {
    spec->handler(*this, *args, once);
  } catch (const std::exception& e) {
    once(fault_error(Fault::Failed, e.what()));
  } catch (...) {
    once(fault_error(Fault::Failed, "unknown exception"));
  }
  control_.changed();
}

boost::system::result<std::string, RpcError> RpcMethods::process_log_path(
    std::string_view name, std::string_view channel) const {
  const NameSpec spec = split_namespec(name);
  const ProcessEntry* p =
      spec.process ? supervisor_.find(spec.group, *spec.process) : nullptr;
  if (p == nullptr) {
    return fault_error(Fault::BadName, name);
  }
  const std::string& path = MethodTable::channel_path(*p, channel);
  if (path.empty()) {
    return fault_error(Fault::NoFile, "None");
  }
  return path;
}

void RpcMethods::add_waiter(Waiter waiter) { waiters_.push_back(std::move(waiter)); }

void RpcMethods::schedule_waiters() {
  if (waiters_scheduled_ || waiters_.empty()) {
    return;
  }
  waiters_scheduled_ = true;
  control_.post([this, alive = alive_]() {
    if (*alive) {
      waiters_scheduled_ = false;
      run_waiters();
    }
  });
}

void RpcMethods::run_waiters() {
  if (running_waiters_) {
    return;
  }
  running_waiters_ = true;
  // A waiter may complete others' work (e.g. an update) and add new waiters: loop until a
  // pass changes nothing.
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      Waiter w = *it;  // a copy: the call may add waiters
      if (w()) {
        it = waiters_.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  running_waiters_ = false;
  control_.changed();
}


}  // namespace zagent
