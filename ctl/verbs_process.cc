// The process verbs (spec/ctl.md §3, §4): status, start, stop, restart, signal, pid, clear.
// Each computes one result, which emit() writes as supervisorctl's text or as JSON.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "common/faults.h"
#include "common/process_state.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

using Kind = CallError::Kind;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// status

struct StatusResult : VerbResult {
  bool checked = false;           ///< the connection check passed (JSON has both lists)
  std::vector<NameError> errors;  ///< printed before the table, as supervisorctl does
  std::vector<Json> processes;    ///< the matching info structs, once all were read
  /// --json only: each process's `resources` from zagent.getProcessStats, by namespec.
  std::map<std::string, Json> resources;
  /// --json only: each process's `gpu` from the same reply, by namespec.
  std::map<std::string, Json> gpu;
};

std::string to_text(const StatusResult& r) {
  std::string out = name_errors_text(r.errors);
  std::vector<StatusRow> rows;
  rows.reserve(r.processes.size());
  for (const Json& info : r.processes) {
    rows.push_back(
        {namespec_of(info), str_field(info, "statename"), str_field(info, "description")});
  }
  return out + status_table(rows);
}

Json status_row_json(const Json& info, const std::map<std::string, Json>& resources,
                     const std::map<std::string, Json>& gpu) {
  Json row = Json::object();
  row["namespec"] = namespec_of(info);
  for (const char* key : {"name", "group", "state", "statename", "description", "pid", "start",
                          "stop", "now", "exitstatus", "spawnerr", "stdout_logfile",
                          "stderr_logfile", "stdout_log_error", "stderr_log_error"}) {
    if (info.is_object() && info.contains(key)) {
      row[key] = info[key];
    }
  }
  // How the process last ended (a crash cause name); null when it has not ended since the
  // agent started, or from an agent that does not say.
  const auto cause = info.is_object() ? info.find("last_cause") : info.end();
  row["last_cause"] = info.is_object() && cause != info.end() ? *cause : Json(nullptr);
  // The health check's status (docs/health.md); null without a check or from an older agent.
  const auto health = info.is_object() ? info.find("health") : info.end();
  row["health"] = info.is_object() && health != info.end() ? *health : Json(nullptr);
  // The latest resource sample (docs/zctl.md "top"); null without a sample, or from an agent
  // without zagent.getProcessStats.
  const auto sample = resources.find(row["namespec"].get<std::string>());
  row["resources"] = sample != resources.end() ? sample->second : Json(nullptr);
  // The GPU use the agent matched to the process (docs/zctl.md "gpu"); null the same way, and
  // when GPU monitoring is off or no use is known.
  const auto gpu_use = gpu.find(row["namespec"].get<std::string>());
  row["gpu"] = gpu_use != gpu.end() ? gpu_use->second : Json(nullptr);
  return row;
}

Json to_json(const StatusResult& r) {
  Json doc = Json::object();
  if (r.checked) {
    doc["processes"] = Json::array();
    for (const Json& info : r.processes) {
      doc["processes"].push_back(status_row_json(info, r.resources, r.gpu));
    }
    doc["errors"] = name_errors_json(r.errors);
  }
  return doc;
}

/// The named processes and groups of `status NAME...`; false when the verb must stop.
/// `replies`: getVersion's, one per process name, then getAllProcessInfo's when `need_all`.
bool match_names(StatusResult& r, const std::vector<std::string>& words,
                 const std::vector<CallResult<Json>>& replies, bool need_all,
                 std::vector<Json>& matching) {
  const CallResult<Json>* all = need_all ? &replies.back() : nullptr;
  if (all != nullptr && *all && !(*all)->is_array()) {
    r.bad_reply("supervisor.getAllProcessInfo");
    return false;
  }
  std::size_t next = 1;  // replies[0] is getVersion's
  for (const std::string& name : words) {
    const NameSpec spec = split_namespec(name);
    if (spec.process) {
      const CallResult<Json>& reply = replies[next++];
      if (reply) {
        matching.push_back(*reply);
        continue;
      }
      if (reply.error().fault() != Fault::BadName) {
        r.unexpected(reply.error());
        return false;
      }
      r.errors.push_back({name, "no such process"});
    } else {
      if (!*all) {
        r.unexpected(all->error());
        return false;
      }
      bool found = false;
      for (const Json& info : **all) {
        if (str_field(info, "group") == spec.group) {
          matching.push_back(info);
          found = true;
        }
      }
      if (found) {
        continue;
      }
      r.errors.push_back({spec.group, "no such group"});
    }
    r.exit_code = exit_code::kStatusUnknown;
  }
  return true;
}

/// The `resources` and `gpu` objects of a zagent.getProcessStats("") reply, by namespec.
/// False, with the failure, only for a failure that ends the verb (Ctrl-C, the connection): a
/// fault (an agent without the method, supervisord) or a reply of another shape leaves them
/// all null.
bool read_resources(StatusResult& r, const CallResult<Json>& reply) {
  if (!reply) {
    if (reply.error().kind == Kind::Rpc) {
      return true;
    }
    r.unexpected(reply.error());
    return false;
  }
  if (!reply->is_array()) {
    return true;
  }
  for (const Json& process : *reply) {
    if (!process.is_object()) {
      continue;
    }
    const auto ns = process.find("namespec");
    const std::string namespec =
        ns != process.end() && ns->is_string() ? ns->get<std::string>() : namespec_of(process);
    const auto resources = process.find("resources");
    if (resources != process.end()) {
      r.resources[namespec] = *resources;
    }
    const auto gpu = process.find("gpu");
    if (gpu != process.end()) {
      r.gpu[namespec] = *gpu;
    }
  }
  return true;
}

StatusResult status(Session& s, const std::vector<std::string>& words) {
  StatusResult r;
  // zagent: the connection check goes in the same round trip as the status calls (pipelined,
  // answered in order); they only read, so nothing is done when the check then fails. Each
  // round trip costs two wake-ups, which a busy machine makes slow.
  std::vector<Call> calls{get_version_call()};
  const bool everything = words.empty() || contains(words, "all");
  bool need_all = everything;
  if (!everything) {
    // zagent: a process name costs one getProcessInfo, so that `status web` stays fast with
    // many programs; only group references fetch everything.
    for (const std::string& name : words) {
      if (split_namespec(name).process) {
        calls.push_back({"supervisor.getProcessInfo", Json::array({name})});
      } else {
        need_all = true;
      }
    }
  }
  if (need_all) {
    calls.push_back({"supervisor.getAllProcessInfo", Json::array()});
  }
  // zagent: --json rows carry the resource samples, from one more call in the same round
  // trip; the text table is supervisorctl's and makes no such call.
  if (s.json) {
    calls.push_back({"zagent.getProcessStats", Json{{"name", ""}}});
  }
  auto replies = s.client->call_all(calls);
  std::optional<CallResult<Json>> stats;
  if (s.json) {
    stats = std::move(replies.back());
    replies.pop_back();
  }
  if (!upcheck_reply(s, r, replies.front(), /*for_status=*/true)) {
    return r;
  }
  r.checked = true;
  std::vector<Json> matching;
  if (everything) {
    const CallResult<Json>& all = replies.back();
    if (!all) {
      r.unexpected(all.error());
      return r;
    }
    if (!all->is_array()) {
      r.bad_reply("supervisor.getAllProcessInfo");
      return r;
    }
    matching.assign(all->begin(), all->end());
  } else if (!match_names(r, words, replies, need_all, matching)) {
    return r;
  }
  // supervisord compat: checked last, so a stopped process makes it 3 even after an unknown
  // name set 4.
  for (const Json& info : matching) {
    if (is_stopped(info)) {
      r.exit_code = exit_code::kStatusNotRunning;
    }
  }
  if (stats && !read_resources(r, *stats)) {
    return r;
  }
  r.processes = std::move(matching);
  return r;
}

// ---------------------------------------------------------------------------------------------
// start / stop / restart / signal / clear: one result line per process

struct ControlLine {
  std::string action;         ///< "start", "stop", "signal", "clear" (JSON `action`)
  std::string name;           ///< the namespec
  ResultLine line;            ///< the text, and the message of the JSON entry
  std::optional<int> status;  ///< the result code; none for a timed-out start
};

struct ControlResult : VerbResult {
  bool checked = false;  ///< the checks passed (JSON has "results")
  std::vector<ControlLine> lines;
};

std::string to_text(const ControlResult& r) {
  std::string out;
  for (const ControlLine& l : r.lines) {
    out += l.line.line;
    out += '\n';
  }
  return out;
}

Json to_json(const ControlResult& r) {
  Json doc = Json::object();
  if (r.checked) {
    doc["results"] = Json::array();
    for (const ControlLine& l : r.lines) {
      doc["results"].push_back({{"action", l.action},
                                {"name", l.name},
                                {"ok", l.line.ok},
                                {"status", l.status ? Json(*l.status) : Json(nullptr)},
                                {"message", l.line.message}});
    }
  }
  return doc;
}

/// How one control verb formats and scores its results.
struct Action {
  std::string_view name;
  std::function<std::optional<ResultLine>(std::string_view, int, std::string_view)> format;
  std::optional<Fault> ignored;  ///< a fault that leaves the exit status alone
};

const Action kStart{
    "start", [](std::string_view ns, int code, std::string_view) { return start_result(ns, code); },
    Fault::AlreadyStarted};
const Action kStop{"stop",
                   [](std::string_view ns, int code, std::string_view desc) {
                     return signal_result(ns, code, desc, "stopped");
                   },
                   Fault::NotRunning};
const Action kSignal{"signal",
                     [](std::string_view ns, int code, std::string_view desc) {
                       return signal_result(ns, code, desc, "signalled");
                     },
                     std::nullopt};
const Action kClear{
    "clear", [](std::string_view ns, int code, std::string_view) { return clear_result(ns, code); },
    std::nullopt};

/// One result; false (with the `ValueError` failure) when supervisorctl cannot format the code.
bool add_result(ControlResult& r, const Action& a, std::string_view ns, int code,
                std::string_view description) {
  auto line = a.format(ns, code, description);
  if (!line) {
    r.fail(unknown_result_code(code, ns), exit_code::kGeneric);
    return false;
  }
  r.lines.push_back({std::string(a.name), std::string(ns), std::move(*line), code});
  r.exit_from_fault(code, a.ignored);
  return true;
}

/// The result structs of a group/all call.
bool add_results(ControlResult& r, const Action& a, const Json& results, std::string_view method) {
  if (!results.is_array()) {
    r.bad_reply(method);
    return false;
  }
  for (const Json& one : results) {
    if (!add_result(r, a, namespec_of(one), static_cast<int>(int_field(one, "status")),
                    str_field(one, "description"))) {
      return false;
    }
  }
  return true;
}

/// A single-process call's fault as supervisorctl turns it into a result struct.
bool add_fault(ControlResult& r, const Action& a, const NameSpec& spec, const CallError& e) {
  const auto fault = e.fault();
  if (!fault) {
    r.unexpected(e);
    return false;
  }
  return add_result(r, a, make_namespec(spec.group, spec.process), fault_code(*fault),
                    e.fault_string());
}

/// `g: ERROR (no such group)` for a group-level BAD_NAME.
void add_no_such_group(ControlResult& r, std::string_view action, const std::string& group,
                       int exit_status) {
  ResultLine line;
  line.message = "ERROR (no such group)";
  line.line = fmt::format("{}: {}", group, line.message);
  r.lines.push_back({std::string(action), group, std::move(line), fault_code(Fault::BadName)});
  r.exit_code = exit_status;
}

void add_timed_out(ControlResult& r, std::string_view ns) {
  ResultLine line;
  line.message = "ERROR (timed out)";
  line.line = fmt::format("{}: {}", ns, line.message);
  r.lines.push_back({"start", std::string(ns), std::move(line), std::nullopt});
  r.exit_code = exit_code::kGeneric;
}

/// start's calls, with zagent's --no-wait / --timeout.
class Starter {
 public:
  Starter(Session& s, ControlResult& r, const StartOptions& opts) : s_(s), r_(r), opts_(opts) {
    if (opts_.timeout) {
      deadline_ = s_.now() + *opts_.timeout;
    }
  }

  struct Reply {
    CallResult<Json> result;
    bool late = false;  ///< timed out, or started without waiting after the deadline
  };

  /// Calls `method` with `params` + [wait].
  Reply call(std::string_view method, Json params) {
    if (!deadline_) {
      params.push_back(opts_.wait);
      return {s_.client->call(method, std::move(params)), false};
    }
    const auto left = std::chrono::duration_cast<milliseconds>(*deadline_ - s_.now());
    if (!opts_.wait || left.count() <= 0) {
      // Past the deadline the remaining names are still started, without waiting; they are
      // reported as timed out since nobody waits for them to reach RUNNING.
      params.push_back(false);
      return {s_.client->call(method, std::move(params)), opts_.wait};
    }
    params.push_back(true);
    Reply reply{s_.client->call_with_timeout(method, std::move(params), left), false};
    if (!reply.result && reply.result.error().kind == Kind::Timeout) {
      reply.late = true;
    }
    return reply;
  }

  /// The processes a group/all start would act on (for the timed-out lines); only fetched
  /// with --timeout. `group` nullopt: all groups.
  std::optional<std::vector<std::string>> pending(const std::optional<std::string>& group) {
    if (!deadline_) {
      return std::vector<std::string>();
    }
    auto all = s_.client->call("supervisor.getAllProcessInfo", Json::array());
    if (!all || !all->is_array()) {
      if (!all) {
        r_.unexpected(all.error());
      } else {
        r_.bad_reply("supervisor.getAllProcessInfo");
      }
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (const Json& info : *all) {
      const auto state = process_state_from_code(static_cast<int>(int_field(info, "state", -1)));
      if ((!group || str_field(info, "group") == *group) && !(state && is_running_state(*state))) {
        names.push_back(namespec_of(info));
      }
    }
    return names;
  }

 private:
  Session& s_;
  ControlResult& r_;
  const StartOptions& opts_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

/// Results of a group/all start that came back after the deadline: SUCCESS means "started
/// without waiting", so it is reported as timed out.
bool add_late_results(ControlResult& r, const Json& results, std::string_view method) {
  if (!results.is_array()) {
    r.bad_reply(method);
    return false;
  }
  for (const Json& one : results) {
    const int code = static_cast<int>(int_field(one, "status"));
    if (code == fault_code(Fault::Success)) {
      add_timed_out(r, namespec_of(one));
    } else if (!add_result(r, kStart, namespec_of(one), code, str_field(one, "description"))) {
      return false;
    }
  }
  return true;
}

/// A group/all start reply (or its failure); false when the verb must stop.
bool add_group_start(ControlResult& r, Starter::Reply& reply,
                     const std::vector<std::string>& pending, std::string_view method,
                     const std::optional<std::string>& group) {
  if (reply.result) {
    return reply.late ? add_late_results(r, *reply.result, method)
                      : add_results(r, kStart, *reply.result, method);
  }
  const CallError& e = reply.result.error();
  if (e.kind == Kind::Timeout) {
    for (const std::string& ns : pending) {
      add_timed_out(r, ns);
    }
    return true;
  }
  if (group && e.fault() == Fault::BadName) {
    add_no_such_group(r, "start", *group, exit_code::kInvalidArgs);
    return true;
  }
  r.unexpected(e);
  return false;
}

bool start_names(Session& s, ControlResult& r, const std::vector<std::string>& names,
                 const StartOptions& opts) {
  Starter starter(s, r, opts);
  if (contains(names, "all")) {
    const auto pending = starter.pending(std::nullopt);
    if (!pending) {
      return false;
    }
    auto reply = starter.call("supervisor.startAllProcesses", Json::array());
    return add_group_start(r, reply, *pending, "supervisor.startAllProcesses", std::nullopt);
  }
  for (const std::string& name : names) {
    const NameSpec spec = split_namespec(name);
    if (!spec.process) {
      const auto pending = starter.pending(spec.group);
      if (!pending) {
        return false;
      }
      auto reply = starter.call("supervisor.startProcessGroup", Json::array({spec.group}));
      if (!add_group_start(r, reply, *pending, "supervisor.startProcessGroup", spec.group)) {
        return false;
      }
      continue;
    }
    auto reply = starter.call("supervisor.startProcess", Json::array({name}));
    const std::string ns = make_namespec(spec.group, spec.process);
    if (reply.late) {
      add_timed_out(r, ns);
    } else if (reply.result) {
      add_result(r, kStart, ns, fault_code(Fault::Success), "OK");
    } else if (!add_fault(r, kStart, spec, reply.result.error())) {
      return false;
    }
  }
  return true;
}

/// stop and signal: `extra` follows the name (the signal), `method_stem` picks the call.
bool stop_or_signal_names(Session& s, ControlResult& r, const Action& a,
                          const std::vector<std::string>& names, std::string_view method_stem,
                          const Json& extra) {
  const auto with = [&](Json params) {
    for (const Json& e : extra) {
      params.push_back(e);
    }
    return params;
  };
  if (contains(names, "all")) {
    const std::string method = fmt::format("supervisor.{}AllProcesses", method_stem);
    auto reply = s.client->call(method, with(Json::array()));
    if (!reply) {
      r.unexpected(reply.error());
      return false;
    }
    return add_results(r, a, *reply, method);
  }
  for (const std::string& name : names) {
    const NameSpec spec = split_namespec(name);
    if (!spec.process) {
      const std::string method = fmt::format("supervisor.{}ProcessGroup", method_stem);
      auto reply = s.client->call(method, with(Json::array({spec.group})));
      if (reply) {
        if (!add_results(r, a, *reply, method)) {
          return false;
        }
      } else if (reply.error().fault() == Fault::BadName) {
        add_no_such_group(r, a.name, spec.group, exit_code::kGeneric);
      } else {
        r.unexpected(reply.error());
        return false;
      }
      continue;
    }
    auto reply =
        s.client->call(fmt::format("supervisor.{}Process", method_stem), with(Json::array({name})));
    if (reply) {
      add_result(r, a, make_namespec(spec.group, spec.process), fault_code(Fault::Success), "OK");
    } else if (!add_fault(r, a, spec, reply.error())) {
      return false;
    }
  }
  return true;
}

bool stop_names(Session& s, ControlResult& r, const std::vector<std::string>& names) {
  return stop_or_signal_names(s, r, kStop, names, "stop", Json::array({true}));
}

/// The checks before a control verb acts: the connection, then a name.
ControlResult checked_control(Session& s, const std::vector<std::string>& names,
                              std::string_view verb, int no_name_exit) {
  ControlResult r;
  r.checked = upcheck(s, r, false) && require_names(r, names, verb, no_name_exit);
  return r;
}

ControlResult clear(Session& s, const std::vector<std::string>& words) {
  ControlResult r = checked_control(s, words, "clear", exit_code::kGeneric);
  if (!r.checked) {
    return r;
  }
  if (contains(words, "all")) {
    auto reply = s.client->call("supervisor.clearAllProcessLogs", Json::array());
    if (!reply) {
      r.unexpected(reply.error());
    } else {
      add_results(r, kClear, *reply, "supervisor.clearAllProcessLogs");
    }
    return r;
  }
  for (const std::string& name : words) {
    // supervisord compat: no group handling; `g:*` reaches the agent and prints `g:None`.
    const NameSpec spec = split_namespec(name);
    auto reply = s.client->call("supervisor.clearProcessLogs", Json::array({name}));
    if (reply) {
      add_result(r, kClear, make_namespec(spec.group, spec.process), fault_code(Fault::Success),
                 "OK");
    } else if (!add_fault(r, kClear, spec, reply.error())) {
      break;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// pid

/// One line of `pid NAME...`.
struct PidLine {
  std::string name;
  std::optional<std::int64_t> pid;  ///< none: `No such process NAME`
};

struct PidResult : VerbResult {
  std::optional<Json> agent_pid;  ///< `pid` alone: supervisor.getPID's reply
  bool listed = false;            ///< `pid NAME...` (JSON has "pids" and "errors")
  std::vector<PidLine> lines;     ///< in argument order
};

std::string to_text(const PidResult& r) {
  std::string out;
  if (r.agent_pid) {
    out = py_str(*r.agent_pid) + "\n";
  }
  for (const PidLine& l : r.lines) {
    out += l.pid ? fmt::format("{}\n", *l.pid) : fmt::format("No such process {}\n", l.name);
  }
  return out;
}

Json to_json(const PidResult& r) {
  Json doc = Json::object();
  if (r.agent_pid) {
    doc["pid"] = *r.agent_pid;
  }
  if (r.listed) {
    doc["pids"] = Json::array();
    doc["errors"] = Json::array();
    for (const PidLine& l : r.lines) {
      if (l.pid) {
        doc["pids"].push_back({{"name", l.name}, {"pid", *l.pid}});
      } else {
        doc["errors"].push_back({{"name", l.name}, {"error", "no such process"}});
      }
    }
  }
  return doc;
}

PidResult pid(Session& s, const std::vector<std::string>& words) {
  PidResult r;
  if (!upcheck(s, r, false)) {
    return r;
  }
  if (words.empty()) {
    auto reply = s.client->call("supervisor.getPID", Json::array());
    if (!reply) {
      r.unexpected(reply.error());
    } else {
      r.agent_pid = *reply;
    }
    return r;
  }
  r.listed = true;
  if (contains(words, "all")) {
    auto reply = s.client->call("supervisor.getAllProcessInfo", Json::array());
    if (!reply) {
      r.unexpected(reply.error());
    } else if (!reply->is_array()) {
      r.bad_reply("supervisor.getAllProcessInfo");
    } else {
      for (const Json& info : *reply) {
        r.lines.push_back({namespec_of(info), int_field(info, "pid")});
      }
    }
    return r;
  }
  std::vector<Call> calls;
  for (const std::string& name : words) {
    calls.push_back({"supervisor.getProcessInfo", Json::array({name})});
  }
  const auto replies = s.client->call_all(calls);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& reply = replies[i];
    if (reply) {
      r.lines.push_back({words[i], int_field(*reply, "pid")});
      if (int_field(*reply, "pid") == 0) {
        r.exit_code = exit_code::kNotRunning;
      }
    } else if (reply.error().fault() == Fault::BadName) {
      r.lines.push_back({words[i], std::nullopt});
      r.exit_code = exit_code::kGeneric;
    } else {
      r.unexpected(reply.error());
      break;
    }
  }
  return r;
}

}  // namespace

Outcome verb_status(Session& s, const VerbCall& call) { return emit(s, status(s, call.words)); }

Outcome verb_start(Session& s, const VerbCall& call) {
  ControlResult r = checked_control(s, call.words, "start", exit_code::kInvalidArgs);
  if (r.checked) {
    start_names(s, r, call.words, call.start);
  }
  return emit(s, r);
}

Outcome verb_stop(Session& s, const VerbCall& call) {
  ControlResult r = checked_control(s, call.words, "stop", exit_code::kGeneric);
  if (r.checked) {
    stop_names(s, r, call.words);
  }
  return emit(s, r);
}

Outcome verb_restart(Session& s, const VerbCall& call) {
  ControlResult r = checked_control(s, call.words, "restart", exit_code::kGeneric);
  // supervisord compat: do_stop then do_start with the same words and exit status.
  if (r.checked && stop_names(s, r, call.words)) {
    start_names(s, r, call.words, call.start);
  }
  return emit(s, r);
}

Outcome verb_signal(Session& s, const VerbCall& call) {
  ControlResult r;
  if (!upcheck(s, r, false)) {
    return emit(s, r);
  }
  if (call.words.size() < 2) {
    r.fail("Error: signal requires a signal name and a process name", exit_code::kGeneric,
           "signal");
    return emit(s, r);
  }
  r.checked = true;
  const std::vector<std::string> names(call.words.begin() + 1, call.words.end());
  stop_or_signal_names(s, r, kSignal, names, "signal", Json::array({call.words[0]}));
  return emit(s, r);
}

Outcome verb_pid(Session& s, const VerbCall& call) { return emit(s, pid(s, call.words)); }

Outcome verb_clear(Session& s, const VerbCall& call) { return emit(s, clear(s, call.words)); }

}  // namespace zagent::ctl
