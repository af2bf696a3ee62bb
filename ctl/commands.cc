#include "ctl/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <utility>

#include "common/faults.h"
#include "common/process_state.h"
#include "common/pystr.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"

namespace zagent::ctl {
namespace {

using Kind = CallError::Kind;
using std::chrono::milliseconds;

constexpr std::string_view kPressCtrlC = "==> Press Ctrl-C to exit <==\n";
constexpr std::string_view kTruncated = "==> File truncated <==\n";
constexpr int kTailBytes = 1600;
constexpr int kFollowBytes = 1024;
constexpr milliseconds kFgPollInterval{1000};

// ---------------------------------------------------------------------------------------------
// Reading loosely typed replies. A field of the wrong type reads as empty/0, as Python's `%s`
// would still print something; shape errors that make a reply unusable are protocol errors.

std::string py_str(const Json& j) {
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (j.is_boolean()) {
    return j.get<bool>() ? "True" : "False";
  }
  if (j.is_number_integer()) {
    return std::to_string(j.get<std::int64_t>());
  }
  if (j.is_null()) {
    return "None";
  }
  return j.dump();
}

std::string str_field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return {};
  }
  const auto it = j.find(key);
  return it == j.end() ? std::string() : py_str(*it);
}

std::int64_t int_field(const Json& j, const char* key, std::int64_t fallback = 0) {
  if (!j.is_object()) {
    return fallback;
  }
  const auto it = j.find(key);
  if (it == j.end()) {
    return fallback;
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  if (it->is_boolean()) {
    return it->get<bool>() ? 1 : 0;
  }
  return fallback;
}

bool bool_field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return false;
  }
  const auto it = j.find(key);
  if (it == j.end()) {
    return false;
  }
  if (it->is_boolean()) {
    return it->get<bool>();
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>() != 0;
  }
  if (it->is_string()) {
    return !it->get<std::string>().empty();
  }
  return false;
}

bool is_stopped(const Json& info) {
  const auto state = process_state_from_code(static_cast<int>(int_field(info, "state", -1)));
  return state && is_stopped_state(*state);
}

std::string namespec_of(const Json& info) {
  return make_namespec(str_field(info, "group"), str_field(info, "name"));
}

/// Python's class for an OSError errno, for the `error:` line.
std::string_view os_error_class(int err) {
  switch (err) {
    case ENOENT:
      return "FileNotFoundError";
    case ECONNREFUSED:
      return "ConnectionRefusedError";
    case EACCES:
    case EPERM:
      return "PermissionError";
    case ECONNRESET:
      return "ConnectionResetError";
    case ECONNABORTED:
      return "ConnectionAbortedError";
    case EPIPE:
    case ESHUTDOWN:
      return "BrokenPipeError";
    case ETIMEDOUT:
      return "TimeoutError";
    default:
      return "OSError";
  }
}

bool is_transport_errno(const CallResult<Json>& r, int err) {
  return !r && r.error().kind == Kind::Transport && r.error().sys_errno == err;
}

// ---------------------------------------------------------------------------------------------
// One command's output and exit status, as text or as one JSON document.

class Ctx {
 public:
  explicit Ctx(Session& s) : s_(s), json_(s.json) {}

  Session& session() { return s_; }
  Client& client() { return *s_.client; }
  bool json() const { return json_; }
  Json& doc() { return doc_; }
  int exit_code() const { return outcome_.exit_code; }
  bool aborted() const { return outcome_.interrupted; }

  void set_exit(int code) { outcome_.exit_code = code; }
  void set_quit() { outcome_.quit = true; }

  /// A stdout line in text mode.
  void line(std::string_view text) {
    if (!json_) {
      s_.output->out(fmt::format("{}\n", text));
    }
  }
  /// Raw stdout text in text mode.
  void raw(std::string_view text) {
    if (!json_) {
      s_.output->out(text);
    }
  }
  /// A failure: its line in text mode, "error" in JSON mode; sets the exit status.
  void fail(std::string text, int code) {
    if (json_) {
      doc_["error"] = std::move(text);
    } else {
      line(text);
    }
    set_exit(code);
  }
  /// The help block printed after a usage error (text mode only).
  void help(std::string_view topic) {
    if (!json_) {
      s_.output->out(help_topic(topic).value_or(""));
    }
  }
  /// Adds a result of a control verb.
  void result(std::string_view action, std::string_view name, const ResultLine& r,
              std::optional<int> status) {
    if (json_) {
      doc_["results"].push_back({{"action", action},
                                 {"name", name},
                                 {"ok", r.ok},
                                 {"status", status ? Json(*status) : Json(nullptr)},
                                 {"message", r.message}});
    } else {
      line(r.line);
    }
  }

  /// supervisorctl's generic handling of anything it did not expect: one `error:` line, exit 1
  /// (spec/ctl.md §1.3); 401 prints the authentication lines (§1.4); Ctrl-C aborts quietly.
  void unexpected(const CallError& e) {
    std::string text;
    switch (e.kind) {
      case Kind::Interrupted:
        outcome_.interrupted = true;
        return;
      case Kind::Rpc:
        if (e.rpc.code == static_cast<int>(rpc::StdError::Unauthorized)) {
          // zagent difference: supervisorctl retries once and prints a Python ProtocolError.
          if (json_) {
            doc_["error"] = "Server requires authentication";
          } else {
            line("Server requires authentication");
            line("error: 401 Unauthorized");
          }
          set_exit(exit_code::kGeneric);
          return;
        }
        if (const auto fault = e.fault()) {
          text =
              python_error("xmlrpc.client.Fault", fault_repr(fault_code(*fault), e.fault_string()));
        } else {
          text = python_error("zagent.RpcError",
                              fmt::format("<RpcError {}: {}>", e.rpc.code, py_repr(e.rpc.message)));
        }
        break;
      case Kind::Transport:
        if (e.sys_errno != 0) {
          text = python_error(os_error_class(e.sys_errno), fmt::format("[Errno {}] {}", e.sys_errno,
                                                                       std::strerror(e.sys_errno)));
        } else {
          text = python_error("OSError", e.message);
        }
        break;
      case Kind::Closed:
        text = python_error("http.client.RemoteDisconnected",
                            "Remote end closed connection without response");
        break;
      case Kind::Protocol:
        text = python_error("zagent.ProtocolError", e.message);
        break;
      case Kind::Timeout:
        text = python_error("TimeoutError", "timed out");
        break;
    }
    fail(std::move(text), exit_code::kGeneric);
  }

  /// A reply of the wrong shape.
  void bad_reply(std::string_view method) {
    CallError e;
    e.kind = Kind::Protocol;
    e.message = fmt::format("unexpected reply to {}", method);
    unexpected(e);
  }

  /// Streaming verbs have written their JSON lines themselves.
  void mark_streamed() { streamed_ = true; }

  Outcome done() {
    if (json_ && !streamed_ && !outcome_.interrupted) {
      s_.output->out(rpc::encode_line(doc_));
    }
    s_.output->flush();
    return outcome_;
  }

 private:
  Session& s_;
  bool json_;
  Json doc_ = Json::object();
  Outcome outcome_;
  bool streamed_ = false;
};

/// supervisorctl's set_exitstatus_from_xmlrpc_fault.
void exit_from_fault(Ctx& c, int code, std::optional<Fault> ignored) {
  if ((ignored && code == fault_code(*ignored)) || code == fault_code(Fault::Success)) {
    return;
  }
  if (code == fault_code(Fault::SpawnError) || code == fault_code(Fault::AbnormalTermination) ||
      code == fault_code(Fault::NotRunning)) {
    c.set_exit(exit_code::kNotRunning);
  } else {
    c.set_exit(exit_code::kGeneric);
  }
}

/// The connection check of spec/ctl.md §1.3 on the reply `r` of supervisor.getVersion;
/// false (with the output done) when it failed.
bool upcheck_reply(Ctx& c, const CallResult<Json>& r, bool for_status) {
  const std::string& url = c.session().serverurl;
  if (r) {
    const std::string version = py_str(*r);
    if (version == "3.0") {
      return true;
    }
    c.fail(api_version_text(version),
           for_status ? exit_code::kStatusUnknown : exit_code::kNotInstalled);
    return false;
  }
  if (r.error().fault() == Fault::UnknownMethod) {
    c.fail(unknown_namespace_text(),
           for_status ? exit_code::kStatusUnknown : exit_code::kUnimplementedFeature);
  } else if (is_transport_errno(r, ECONNREFUSED)) {
    c.fail(refused_connection_text(url), exit_code::kInsufficientPrivileges);
  } else if (is_transport_errno(r, ENOENT)) {
    c.fail(no_such_file_text(url), for_status ? exit_code::kStatusUnknown : exit_code::kNotRunning);
  } else {
    c.unexpected(r.error());
  }
  return false;
}

const Call kGetVersion{"supervisor.getVersion", Json::array()};

bool upcheck(Ctx& c, bool for_status) {
  return upcheck_reply(c, c.client().call(kGetVersion.method, kGetVersion.params), for_status);
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// ---------------------------------------------------------------------------------------------
// status

Json status_json(const Json& info) {
  Json row = Json::object();
  row["namespec"] = namespec_of(info);
  for (const char* key :
       {"name", "group", "state", "statename", "description", "pid", "start", "stop", "now",
        "exitstatus", "spawnerr", "stdout_logfile", "stderr_logfile", "stdout_log_error",
        "stderr_log_error"}) {
    if (info.is_object() && info.contains(key)) {
      row[key] = info[key];
    }
  }
  return row;
}

void status_body(Ctx& c, const std::vector<std::string>& words) {
  // zagent: the connection check goes in the same round trip as the status calls (pipelined,
  // answered in order); they only read, so nothing is done when the check then fails. Each
  // round trip costs two wake-ups, which a busy machine makes slow.
  std::vector<Call> calls{kGetVersion};
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
  auto replies = c.client().call_all(calls);
  if (!upcheck_reply(c, replies.front(), /*for_status=*/true)) {
    return;
  }
  std::vector<Json> matching;
  if (c.json()) {
    c.doc()["processes"] = Json::array();
    c.doc()["errors"] = Json::array();
  }
  if (everything) {
    const CallResult<Json>& all = replies.back();
    if (!all) {
      c.unexpected(all.error());
      return;
    }
    if (!all->is_array()) {
      c.bad_reply("supervisor.getAllProcessInfo");
      return;
    }
    matching.assign(all->begin(), all->end());
  } else {
    const CallResult<Json>* all = need_all ? &replies.back() : nullptr;
    if (all != nullptr && *all && !(*all)->is_array()) {
      c.bad_reply("supervisor.getAllProcessInfo");
      return;
    }
    std::size_t next = 1;  // replies[0] is getVersion's
    for (const std::string& name : words) {
      const NameSpec spec = split_namespec(name);
      std::string error;
      std::string shown;
      if (spec.process) {
        const CallResult<Json>& r = replies[next++];
        if (r) {
          matching.push_back(*r);
          continue;
        }
        if (r.error().fault() != Fault::BadName) {
          c.unexpected(r.error());
          return;
        }
        shown = name;
        error = "no such process";
      } else {
        if (!*all) {
          c.unexpected(all->error());
          return;
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
        shown = spec.group;
        error = "no such group";
      }
      // supervisord compat: error lines come before the table (they are printed while the
      // names are matched).
      if (c.json()) {
        c.doc()["errors"].push_back({{"name", shown}, {"error", error}});
      } else {
        c.line(fmt::format("{}: ERROR ({})", shown, error));
      }
      c.set_exit(exit_code::kStatusUnknown);
    }
  }
  if (c.json()) {
    for (const Json& info : matching) {
      c.doc()["processes"].push_back(status_json(info));
    }
  } else {
    std::vector<StatusRow> rows;
    rows.reserve(matching.size());
    for (const Json& info : matching) {
      rows.push_back(
          {namespec_of(info), str_field(info, "statename"), str_field(info, "description")});
    }
    c.raw(status_table(rows));
  }
  // supervisord compat: checked last, so a stopped process makes it 3 even after an unknown
  // name set 4.
  for (const Json& info : matching) {
    if (is_stopped(info)) {
      c.set_exit(exit_code::kStatusNotRunning);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// start / stop / restart / signal / clear

/// How one control verb formats and scores its results.
struct Action {
  std::string_view name;  ///< "start", "stop", "signal", "clear" (JSON `action`)
  std::function<std::optional<ResultLine>(std::string_view, int, std::string_view)> format;
  std::optional<Fault> ignored;  ///< a fault that leaves the exit status alone
};

const Action& start_action() {
  static const Action a{
      "start",
      [](std::string_view ns, int code, std::string_view) { return start_result(ns, code); },
      Fault::AlreadyStarted};
  return a;
}

const Action& stop_action() {
  static const Action a{"stop",
                        [](std::string_view ns, int code, std::string_view desc) {
                          return signal_result(ns, code, desc, "stopped");
                        },
                        Fault::NotRunning};
  return a;
}

const Action& signal_action() {
  static const Action a{"signal",
                        [](std::string_view ns, int code, std::string_view desc) {
                          return signal_result(ns, code, desc, "signalled");
                        },
                        std::nullopt};
  return a;
}

const Action& clear_action() {
  static const Action a{
      "clear",
      [](std::string_view ns, int code, std::string_view) { return clear_result(ns, code); },
      std::nullopt};
  return a;
}

/// Prints one result; false (after the `ValueError` line) when supervisorctl cannot format
/// the code.
bool emit_result(Ctx& c, const Action& a, std::string_view ns, int code,
                 std::string_view description) {
  const auto r = a.format(ns, code, description);
  if (!r) {
    c.fail(unknown_result_code(code, ns), exit_code::kGeneric);
    return false;
  }
  c.result(a.name, ns, *r, code);
  exit_from_fault(c, code, a.ignored);
  return true;
}

/// The result structs of a group/all call.
bool emit_results(Ctx& c, const Action& a, const Json& results, std::string_view method) {
  if (!results.is_array()) {
    c.bad_reply(method);
    return false;
  }
  for (const Json& r : results) {
    if (!emit_result(c, a, namespec_of(r), static_cast<int>(int_field(r, "status")),
                     str_field(r, "description"))) {
      return false;
    }
  }
  return true;
}

/// A single-process call's fault as supervisorctl turns it into a result struct.
bool emit_fault(Ctx& c, const Action& a, const NameSpec& spec, const CallError& e) {
  const auto fault = e.fault();
  if (!fault) {
    c.unexpected(e);
    return false;
  }
  return emit_result(c, a, make_namespec(spec.group, spec.process), fault_code(*fault),
                     e.fault_string());
}

/// `g: ERROR (no such group)` for a group-level BAD_NAME.
void emit_no_such_group(Ctx& c, std::string_view action, const std::string& group,
                        int exit_status) {
  ResultLine r;
  r.message = "ERROR (no such group)";
  r.line = fmt::format("{}: {}", group, r.message);
  c.result(action, group, r, fault_code(Fault::BadName));
  c.set_exit(exit_status);
}

void emit_timed_out(Ctx& c, std::string_view ns) {
  ResultLine r;
  r.message = "ERROR (timed out)";
  r.line = fmt::format("{}: {}", ns, r.message);
  c.result("start", ns, r, std::nullopt);
  c.set_exit(exit_code::kGeneric);
}

/// start's calls, with zagent's --no-wait / --timeout.
class Starter {
 public:
  Starter(Ctx& c, const StartOptions& opts) : c_(c), opts_(opts) {
    if (opts_.timeout) {
      deadline_ = c_.session().now() + *opts_.timeout;
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
      return {c_.client().call(method, std::move(params)), false};
    }
    const auto left = std::chrono::duration_cast<milliseconds>(*deadline_ - c_.session().now());
    if (!opts_.wait || left.count() <= 0) {
      // Past the deadline the remaining names are still started, without waiting; they are
      // reported as timed out since nobody waits for them to reach RUNNING.
      params.push_back(false);
      return {c_.client().call(method, std::move(params)), opts_.wait};
    }
    params.push_back(true);
    Reply reply{c_.client().call_with_timeout(method, std::move(params), left), false};
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
    auto all = c_.client().call("supervisor.getAllProcessInfo", Json::array());
    if (!all || !all->is_array()) {
      if (!all) {
        c_.unexpected(all.error());
      } else {
        c_.bad_reply("supervisor.getAllProcessInfo");
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
  Ctx& c_;
  const StartOptions& opts_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

/// Results of a group/all start that came back after the deadline: SUCCESS means "started
/// without waiting", so it is reported as timed out.
bool emit_late_results(Ctx& c, const Json& results, std::string_view method) {
  if (!results.is_array()) {
    c.bad_reply(method);
    return false;
  }
  for (const Json& r : results) {
    const int code = static_cast<int>(int_field(r, "status"));
    if (code == fault_code(Fault::Success)) {
      emit_timed_out(c, namespec_of(r));
    } else if (!emit_result(c, start_action(), namespec_of(r), code, str_field(r, "description"))) {
      return false;
    }
  }
  return true;
}

/// A group/all start reply (or its failure); false when the command must stop.
bool handle_group_start(Ctx& c, Starter::Reply& reply, const std::vector<std::string>& pending,
                        std::string_view method, const std::optional<std::string>& group) {
  if (reply.result) {
    return reply.late ? emit_late_results(c, *reply.result, method)
                      : emit_results(c, start_action(), *reply.result, method);
  }
  const CallError& e = reply.result.error();
  if (e.kind == Kind::Timeout) {
    for (const std::string& ns : pending) {
      emit_timed_out(c, ns);
    }
    return true;
  }
  if (group && e.fault() == Fault::BadName) {
    emit_no_such_group(c, "start", *group, exit_code::kInvalidArgs);
    return true;
  }
  c.unexpected(e);
  return false;
}

bool start_body(Ctx& c, const std::vector<std::string>& names, const StartOptions& opts) {
  Starter starter(c, opts);
  if (contains(names, "all")) {
    const auto pending = starter.pending(std::nullopt);
    if (!pending) {
      return false;
    }
    auto reply = starter.call("supervisor.startAllProcesses", Json::array());
    return handle_group_start(c, reply, *pending, "supervisor.startAllProcesses", std::nullopt);
  }
  for (const std::string& name : names) {
    const NameSpec spec = split_namespec(name);
    if (!spec.process) {
      const auto pending = starter.pending(spec.group);
      if (!pending) {
        return false;
      }
      auto reply = starter.call("supervisor.startProcessGroup", Json::array({spec.group}));
      if (!handle_group_start(c, reply, *pending, "supervisor.startProcessGroup", spec.group)) {
        return false;
      }
      continue;
    }
    auto reply = starter.call("supervisor.startProcess", Json::array({name}));
    const std::string ns = make_namespec(spec.group, spec.process);
    if (reply.result) {
      if (reply.late) {
        emit_timed_out(c, ns);
      } else {
        emit_result(c, start_action(), ns, fault_code(Fault::Success), "OK");
      }
      continue;
    }
    if (reply.late) {
      emit_timed_out(c, ns);
      continue;
    }
    if (!emit_fault(c, start_action(), spec, reply.result.error())) {
      return false;
    }
  }
  return true;
}

/// stop and signal: `extra` follows the name (the signal), `method_suffix` picks the call.
bool stop_or_signal_body(Ctx& c, const Action& a, const std::vector<std::string>& names,
                         const std::string& method_stem, const Json& extra) {
  const auto with = [&](Json params) {
    for (const Json& e : extra) {
      params.push_back(e);
    }
    return params;
  };
  if (contains(names, "all")) {
    const std::string method = fmt::format("supervisor.{}AllProcesses", method_stem);
    auto r = c.client().call(method, with(Json::array()));
    if (!r) {
      c.unexpected(r.error());
      return false;
    }
    return emit_results(c, a, *r, method);
  }
  for (const std::string& name : names) {
    const NameSpec spec = split_namespec(name);
    if (!spec.process) {
      const std::string method = fmt::format("supervisor.{}ProcessGroup", method_stem);
      auto r = c.client().call(method, with(Json::array({spec.group})));
      if (r) {
        if (!emit_results(c, a, *r, method)) {
          return false;
        }
      } else if (r.error().fault() == Fault::BadName) {
        emit_no_such_group(c, a.name, spec.group, exit_code::kGeneric);
      } else {
        c.unexpected(r.error());
        return false;
      }
      continue;
    }
    auto r = c.client().call(fmt::format("supervisor.{}Process", method_stem),
                             with(Json::array({name})));
    if (r) {
      emit_result(c, a, make_namespec(spec.group, spec.process), fault_code(Fault::Success), "OK");
    } else if (!emit_fault(c, a, spec, r.error())) {
      return false;
    }
  }
  return true;
}

bool stop_body(Ctx& c, const std::vector<std::string>& names) {
  return stop_or_signal_body(c, stop_action(), names, "stop", Json::array({true}));
}

bool require_names(Ctx& c, const std::vector<std::string>& names, std::string_view verb,
                   int exit_status) {
  if (!names.empty()) {
    return true;
  }
  c.fail(fmt::format("Error: {} requires a process name", verb), exit_status);
  c.help(verb);
  return false;
}

// ---------------------------------------------------------------------------------------------
// logs

/// Follows a log through zagent.followProcessLog / followMainLog until Ctrl-C or the
/// connection closes (spec/ctl.md §5.1, the HTTP /logtail stream of supervisorctl).
void follow(Ctx& c, std::string_view method, Json params, std::string_view url_path) {
  Session& s = c.session();
  c.mark_streamed();
  c.raw(kPressCtrlC);
  s.output->flush();
  auto r = c.client().call(method, std::move(params));
  if (!r) {
    const auto fault = r.error().fault();
    if (fault == Fault::BadName || fault == Fault::NoFile) {
      // supervisord compat: the HTTP handler's 404, on stderr; the command still exits 0.
      const std::string text =
          fmt::format("{}{} Cannot read, status code 404", s.serverurl, url_path);
      if (c.json()) {
        s.output->out(rpc::encode_line({{"error", text}}));
      } else {
        s.output->err(text + "\n");
      }
      return;
    }
    if (r.error().kind == Kind::Interrupted) {
      c.raw("\n");
      return;
    }
    c.unexpected(r.error());
    if (c.json()) {
      s.output->out(rpc::encode_line(c.doc()));
    }
    return;
  }
  for (;;) {
    auto event = c.client().wait_event(-1, std::nullopt);
    if (!event) {
      c.unexpected(event.error());
      if (c.json()) {
        s.output->out(rpc::encode_line(c.doc()));
      }
      break;
    }
    if (event->kind == Event::Kind::Interrupted) {
      c.raw("\n");
      break;
    }
    if (event->kind == Event::Kind::Closed) {
      break;
    }
    if (event->kind != Event::Kind::Notification || event->method != "zagent.logData") {
      continue;
    }
    const bool truncated = bool_field(event->params, "truncated");
    const std::string data = str_field(event->params, "data");
    if (c.json()) {
      s.output->out(rpc::encode_line({{"data", data}, {"truncated", truncated}}));
    } else {
      if (truncated) {
        s.output->out(kTruncated);
      }
      s.output->out(data);
    }
    s.output->flush();
  }
  // The follow stays registered on this connection; a shell continues on a fresh one.
  c.client().reset();
}

/// `-N` of tail/maintail: the byte count, nullopt when Python's int() would fail.
std::optional<std::int64_t> modifier_bytes(std::string_view what) {
  auto n = py_int(what);
  if (n && *n == std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return n;
}

void print_log(Ctx& c, const CallResult<Json>& r, std::string_view who, Json json_doc) {
  if (!r) {
    const auto fault = r.error().fault();
    if (fault == Fault::NoFile) {
      c.fail(fmt::format("{}: ERROR (no log file)", who), exit_code::kGeneric);
    } else if (fault == Fault::Failed) {
      c.fail(fmt::format("{}: ERROR (unknown error reading log)", who), exit_code::kGeneric);
    } else if (fault == Fault::BadName && who != "supervisord") {
      c.fail(fmt::format("{}: ERROR (no such process name)", who), exit_code::kGeneric);
    } else {
      c.unexpected(r.error());
    }
    return;
  }
  const std::string data = py_str(*r);
  if (c.json()) {
    json_doc["data"] = data;
    c.doc() = std::move(json_doc);
  } else {
    c.line(data);
  }
}

// ---------------------------------------------------------------------------------------------
// fg

/// Asks a y/N question; true only for an answer starting with y/Y.
std::optional<bool> confirm(Ctx& c, std::string_view question) {
  Session& s = c.session();
  s.output->out(question);
  s.output->flush();
  if (s.input == nullptr) {
    return false;
  }
  auto answer = s.input->read_line();
  if (!answer) {
    if (s.input->interrupted()) {
      CallError e;
      e.kind = Kind::Interrupted;
      c.unexpected(e);
      return std::nullopt;
    }
    // supervisord compat: raw_input() raises EOFError, which onecmd prints.
    c.fail(python_error("EOFError", "EOF when reading a line"), exit_code::kGeneric);
    return std::nullopt;
  }
  const std::string lower = ascii_lower(*answer);
  return !lower.empty() && lower.front() == 'y';
}

class Foreground {
 public:
  Foreground(Ctx& c, std::string name) : c_(c), s_(c.session()), name_(std::move(name)) {}

  void run() {
    c_.mark_streamed();
    say(std::string(kPressCtrlC));
    auto follows = c_.client().call_all(
        {{"zagent.followProcessLog", Json::array({name_, "stdout", kFollowBytes})},
         {"zagent.followProcessLog", Json::array({name_, "stderr", kFollowBytes})}});
    for (std::size_t i = 0; i < follows.size(); ++i) {
      if (follows[i]) {
        continue;
      }
      const auto fault = follows[i].error().fault();
      if (fault == Fault::BadName || fault == Fault::NoFile) {
        // supervisord compat: the /logtail/NAME/stderr handler's 404 (e.g. redirect_stderr).
        const std::string text = fmt::format("{}/logtail/{}/{} Cannot read, status code 404",
                                             s_.serverurl, name_, i == 0 ? "stdout" : "stderr");
        if (c_.json()) {
          s_.output->out(rpc::encode_line({{"error", text}}));
        } else {
          s_.output->err(text + "\n");
        }
        continue;
      }
      if (follows[i].error().kind == Kind::Interrupted) {
        finish("Exiting foreground", "interrupted");
        return;
      }
      fail(follows[i].error());
      return;
    }
    last_poll_ = s_.now();
    while (!done_) {
      if (s_.input != nullptr && s_.input->has_line()) {
        std::vector<std::string> lines;
        const bool more = s_.input->read_available(lines);
        send_lines(lines);
        if (!more && !done_) {
          finish("Exiting foreground", "end of input");
        }
        continue;
      }
      if (s_.input != nullptr && s_.input->at_eof()) {
        finish("Exiting foreground", "end of input");
        break;
      }
      const auto since = std::chrono::duration_cast<milliseconds>(s_.now() - last_poll_);
      const milliseconds wait = std::max(milliseconds(0), kFgPollInterval - since);
      auto event = c_.client().wait_event(s_.input != nullptr ? s_.input->fd() : -1, wait);
      if (!event) {
        fail(event.error());
        break;
      }
      switch (event->kind) {
        case Event::Kind::Notification:
          if (event->method == "zagent.logData") {
            print_data(event->params);
          }
          break;
        case Event::Kind::InputReady: {
          std::vector<std::string> lines;
          const bool more = s_.input != nullptr && s_.input->read_available(lines);
          send_lines(lines);
          if (!more && !done_) {
            finish("Exiting foreground", "end of input");
          }
          break;
        }
        case Event::Kind::Timeout:
          break;
        case Event::Kind::Interrupted:
          finish("Exiting foreground", "interrupted");
          break;
        case Event::Kind::Closed:
          finish("Exiting foreground", "connection closed");
          break;
      }
      if (!done_ && s_.now() - last_poll_ >= kFgPollInterval) {
        check_running();
      }
    }
    c_.client().reset();
  }

 private:
  void say(const std::string& text) {
    if (!c_.json()) {
      s_.output->out(text);
      s_.output->flush();
    }
  }

  void print_data(const Json& params) {
    const std::string data = str_field(params, "data");
    const bool truncated = bool_field(params, "truncated");
    if (c_.json()) {
      s_.output->out(rpc::encode_line({{"data", data}, {"truncated", truncated}}));
    } else {
      if (truncated) {
        s_.output->out(kTruncated);
      }
      s_.output->out(data);
    }
    s_.output->flush();
  }

  /// Ends the session: the text lines, or one JSON line {"exit": reason}.
  void finish(std::string_view text, std::string_view reason) {
    if (c_.json()) {
      s_.output->out(rpc::encode_line({{"exit", reason}}));
    } else {
      s_.output->out(fmt::format("{}\n", text));
    }
    s_.output->flush();
    done_ = true;
  }

  void fail(const CallError& e) {
    c_.unexpected(e);
    if (c_.aborted()) {
      finish("Exiting foreground", "interrupted");
      return;
    }
    if (c_.json()) {
      s_.output->out(rpc::encode_line(c_.doc()));
    }
    done_ = true;
  }

  void send_lines(const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      if (done_) {
        return;
      }
      auto r = c_.client().call("supervisor.sendProcessStdin", Json::array({name_, line + "\n"}));
      if (!r) {
        const auto fault = r.error().fault();
        if (fault == Fault::NotRunning) {
          finish("Process got killed\nExiting foreground", "process got killed");
          return;
        }
        if (fault && fault != Fault::NoFile) {
          finish(fmt::format("ERROR: {}\nExiting foreground",
                             fault_repr(fault_code(*fault), r.error().fault_string())),
                 "error");
          return;
        }
        if (!fault) {
          fail(r.error());
          return;
        }
        // zagent: NO_FILE means the child's stdin is /dev/null; the line is dropped.
      }
      check_running();
    }
  }

  void check_running() {
    last_poll_ = s_.now();
    auto info = c_.client().call("supervisor.getProcessInfo", Json::array({name_}));
    if (!info && !info.error().fault()) {
      fail(info.error());
      return;
    }
    if (!info || int_field(*info, "state", -1) != static_cast<int>(ProcessState::Running)) {
      finish("Process got killed\nExiting foreground", "process got killed");
    }
  }

  Ctx& c_;
  Session& s_;
  std::string name_;
  std::chrono::steady_clock::time_point last_poll_{};
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------
// config commands

/// reloadConfig's `[[added, changed, removed]]`.
struct Changes {
  std::vector<std::string> added, changed, removed;
};

std::optional<Changes> parse_changes(const Json& r) {
  if (!r.is_array() || r.empty() || !r[0].is_array() || r[0].size() != 3) {
    return std::nullopt;
  }
  Changes out;
  std::vector<std::string>* lists[] = {&out.added, &out.changed, &out.removed};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!r[0][i].is_array()) {
      return std::nullopt;
    }
    for (const Json& name : r[0][i]) {
      lists[i]->push_back(py_str(name));
    }
  }
  return out;
}

/// One `update` step: `g: <message>` / JSON {"name","action","ok"}.
void update_line(Ctx& c, const std::string& group, std::string_view message,
                 std::string_view action, bool ok) {
  if (c.json()) {
    if (!action.empty()) {
      c.doc()["groups"].push_back({{"name", group}, {"action", action}, {"ok", ok}});
    }
  } else {
    c.line(fmt::format("{}: {}", group, message));
  }
}

/// update of one changed group: zagent.updateProcessGroup, or supervisorctl's
/// stop/remove/add when the agent does not have it.
bool update_changed_group(Ctx& c, const std::string& g) {
  auto r = c.client().call("zagent.updateProcessGroup", Json::array({g}));
  if (r) {
    update_line(c, g, "stopped", "", true);
    update_line(c, g, "updated process group", "updated", true);
    return true;
  }
  if (r.error().fault() == Fault::UnknownMethod) {
    auto stopped = c.client().call("supervisor.stopProcessGroup", Json::array({g, true}));
    if (!stopped) {
      c.unexpected(stopped.error());
      return false;
    }
    update_line(c, g, "stopped", "", true);
    for (const char* method : {"supervisor.removeProcessGroup", "supervisor.addProcessGroup"}) {
      auto step = c.client().call(method, Json::array({g}));
      if (!step) {
        c.unexpected(step.error());
        return false;
      }
    }
    update_line(c, g, "updated process group", "updated", true);
    return true;
  }
  if (r.error().fault() == Fault::Failed) {
    // The agent stopped the group but could not finish (supervisorctl would fail on the
    // remove after printing `stopped`).
    update_line(c, g, "stopped", "", true);
  }
  c.unexpected(r.error());
  return false;
}

void update_body(Ctx& c, const std::vector<std::string>& words) {
  auto r = c.client().call("supervisor.reloadConfig", Json::array());
  if (!r) {
    if (r.error().fault() == Fault::ShutdownState) {
      c.fail("ERROR: already shutting down", exit_code::kGeneric);
    } else {
      // supervisord compat: CANT_REREAD is not formatted here (an `error:` line).
      c.unexpected(r.error());
    }
    return;
  }
  const auto changes = parse_changes(*r);
  if (!changes) {
    c.bad_reply("supervisor.reloadConfig");
    return;
  }
  if (c.json()) {
    c.doc()["groups"] = Json::array();
    c.doc()["errors"] = Json::array();
  }
  // Named groups in argument order, once each; `all` means every group.
  std::vector<std::string> only;
  for (const std::string& w : words) {
    if (!contains(only, w)) {
      only.push_back(w);
    }
  }
  if (contains(only, "all")) {
    only.clear();
  }
  if (!only.empty()) {
    auto infos = c.client().call("supervisor.getAllProcessInfo", Json::array());
    if (!infos) {
      c.unexpected(infos.error());
      return;
    }
    if (!infos->is_array()) {
      c.bad_reply("supervisor.getAllProcessInfo");
      return;
    }
    std::set<std::string> groups(changes->added.begin(), changes->added.end());
    for (const Json& info : *infos) {
      groups.insert(str_field(info, "group"));
    }
    for (const std::string& g : only) {
      if (groups.count(g) == 0) {
        if (c.json()) {
          c.doc()["errors"].push_back({{"name", g}, {"error", "no such group"}});
        } else {
          c.line(fmt::format("ERROR: no such group: {}", g));
        }
        c.set_exit(exit_code::kGeneric);
      }
    }
  }
  const auto wanted = [&](const std::string& g) { return only.empty() || contains(only, g); };
  for (const std::string& g : changes->removed) {
    if (!wanted(g)) {
      continue;
    }
    auto stopped = c.client().call("supervisor.stopProcessGroup", Json::array({g, true}));
    if (!stopped) {
      c.unexpected(stopped.error());
      return;
    }
    update_line(c, g, "stopped", "", true);
    bool failed = false;
    if (stopped->is_array()) {
      for (const Json& res : *stopped) {
        failed = failed || int_field(res, "status") == fault_code(Fault::Failed);
      }
    }
    if (failed) {
      update_line(c, g, "has problems; not removing", "not removed", false);
      c.set_exit(exit_code::kGeneric);
      continue;
    }
    auto removed = c.client().call("supervisor.removeProcessGroup", Json::array({g}));
    if (!removed) {
      c.unexpected(removed.error());
      return;
    }
    update_line(c, g, "removed process group", "removed", true);
  }
  for (const std::string& g : changes->changed) {
    if (wanted(g) && !update_changed_group(c, g)) {
      return;
    }
  }
  for (const std::string& g : changes->added) {
    if (!wanted(g)) {
      continue;
    }
    auto added = c.client().call("supervisor.addProcessGroup", Json::array({g}));
    if (!added) {
      c.unexpected(added.error());
      return;
    }
    update_line(c, g, "added process group", "added", true);
  }
}

/// add / remove: one line per name.
void add_or_remove(Ctx& c, const std::vector<std::string>& names, bool add) {
  if (c.json()) {
    c.doc()["results"] = Json::array();
  }
  for (const std::string& name : names) {
    auto r = c.client().call(add ? "supervisor.addProcessGroup" : "supervisor.removeProcessGroup",
                             Json::array({name}));
    std::string text;
    bool ok = false;
    int status = fault_code(Fault::Success);
    if (r) {
      text = fmt::format("{}: {} process group", name, add ? "added" : "removed");
      ok = true;
    } else {
      const auto fault = r.error().fault();
      if (add && fault == Fault::ShutdownState) {
        text = "ERROR: shutting down";
        c.set_exit(exit_code::kGeneric);
      } else if (add && fault == Fault::AlreadyAdded) {
        // supervisord compat: not an error for the exit status.
        text = "ERROR: process group already active";
      } else if (!add && fault == Fault::StillRunning) {
        text = fmt::format("ERROR: process/group still running: {}", name);
        c.set_exit(exit_code::kGeneric);
      } else if (fault == Fault::BadName) {
        text = fmt::format("ERROR: no such process/group: {}", name);
        c.set_exit(exit_code::kGeneric);
      } else {
        c.unexpected(r.error());
        return;
      }
      status = fault_code(*fault);
    }
    if (c.json()) {
      c.doc()["results"].push_back({{"action", add ? "add" : "remove"},
                                    {"name", name},
                                    {"ok", ok},
                                    {"status", status},
                                    {"message", text}});
    } else {
      c.line(text);
    }
  }
}

bool no_arguments(Ctx& c, const std::vector<std::string>& words, std::string_view verb) {
  if (words.empty()) {
    return true;
  }
  c.fail(fmt::format("Error: {} accepts no arguments", verb), exit_code::kGeneric);
  c.help(verb);
  return false;
}

/// Python's urlparse(url).scheme.
std::string url_scheme(std::string_view url) {
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  const std::string_view scheme = url.substr(0, colon);
  const auto is_alpha = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
  };
  if (!is_alpha(scheme.front())) {
    return {};
  }
  for (char ch : scheme) {
    if (!is_alpha(ch) && !(ch >= '0' && ch <= '9') && ch != '+' && ch != '-' && ch != '.') {
      return {};
    }
  }
  return ascii_lower(scheme);
}

// ---------------------------------------------------------------------------------------------
// Dispatch

bool is_identchar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/// Takes zctl's options off the front of `arg` (`--json` for every verb; `--wait`,
/// `--no-wait` and `--timeout SECS` for start/restart). Error: the usage message.
Result<std::string> take_verb_options(std::string_view arg, bool start_like, bool& json,
                                      StartOptions& opts) {
  std::string_view rest = strip(arg);
  for (;;) {
    const auto end = rest.find_first_of(" \t\n\r\v\f");
    const std::string_view word = rest.substr(0, end);
    std::string_view after = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (word == "--json") {
      json = true;
    } else if (start_like && word == "--wait") {
      opts.wait = true;
    } else if (start_like && word == "--no-wait") {
      opts.wait = false;
    } else if (start_like && (word == "--timeout" || word.starts_with("--timeout="))) {
      std::string value;
      if (word == "--timeout") {
        after = strip(after);
        const auto value_end = after.find_first_of(" \t\n\r\v\f");
        value = std::string(after.substr(0, value_end));
        after = value_end == std::string_view::npos ? std::string_view() : after.substr(value_end);
      } else {
        value = std::string(word.substr(10));
      }
      char* parse_end = nullptr;
      const double seconds = value.empty() ? -1 : std::strtod(value.c_str(), &parse_end);
      if (value.empty() || parse_end != value.c_str() + value.size() || !(seconds > 0) ||
          seconds > 1e9) {
        return fail("--timeout requires a number of seconds");
      }
      opts.timeout = milliseconds(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
    } else {
      return std::string(rest);
    }
    rest = strip(after);
  }
}

Outcome unknown_syntax(Session& s, std::string_view line) {
  Ctx c(s);
  c.fail(fmt::format("*** Unknown syntax: {}", line), exit_code::kGeneric);
  return c.done();
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// The verbs

Outcome cmd_status(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  status_body(c, words);
  return c.done();
}

Outcome cmd_start(Session& s, const std::vector<std::string>& words, const StartOptions& opts) {
  Ctx c(s);
  if (upcheck(c, false) && require_names(c, words, "start", exit_code::kInvalidArgs)) {
    if (c.json()) {
      c.doc()["results"] = Json::array();
    }
    start_body(c, words, opts);
  }
  return c.done();
}

Outcome cmd_stop(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (upcheck(c, false) && require_names(c, words, "stop", exit_code::kGeneric)) {
    if (c.json()) {
      c.doc()["results"] = Json::array();
    }
    stop_body(c, words);
  }
  return c.done();
}

Outcome cmd_restart(Session& s, const std::vector<std::string>& words, const StartOptions& opts) {
  Ctx c(s);
  if (upcheck(c, false) && require_names(c, words, "restart", exit_code::kGeneric)) {
    if (c.json()) {
      c.doc()["results"] = Json::array();
    }
    // supervisord compat: do_stop then do_start with the same words and exit status.
    if (stop_body(c, words)) {
      start_body(c, words, opts);
    }
  }
  return c.done();
}

Outcome cmd_signal(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false)) {
    return c.done();
  }
  if (words.size() < 2) {
    c.fail("Error: signal requires a signal name and a process name", exit_code::kGeneric);
    c.help("signal");
    return c.done();
  }
  if (c.json()) {
    c.doc()["results"] = Json::array();
  }
  const std::vector<std::string> names(words.begin() + 1, words.end());
  stop_or_signal_body(c, signal_action(), names, "signal", Json::array({words[0]}));
  return c.done();
}

Outcome cmd_pid(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false)) {
    return c.done();
  }
  if (words.empty()) {
    auto r = c.client().call("supervisor.getPID", Json::array());
    if (!r) {
      c.unexpected(r.error());
    } else if (c.json()) {
      c.doc()["pid"] = *r;
    } else {
      c.line(py_str(*r));
    }
    return c.done();
  }
  if (c.json()) {
    c.doc()["pids"] = Json::array();
    c.doc()["errors"] = Json::array();
  }
  const auto emit_pid = [&](const std::string& name, const Json& info) {
    const std::int64_t pid = int_field(info, "pid");
    if (c.json()) {
      c.doc()["pids"].push_back({{"name", name}, {"pid", pid}});
    } else {
      c.line(std::to_string(pid));
    }
  };
  if (contains(words, "all")) {
    auto r = c.client().call("supervisor.getAllProcessInfo", Json::array());
    if (!r) {
      c.unexpected(r.error());
    } else if (!r->is_array()) {
      c.bad_reply("supervisor.getAllProcessInfo");
    } else {
      for (const Json& info : *r) {
        emit_pid(namespec_of(info), info);
      }
    }
    return c.done();
  }
  std::vector<Call> calls;
  for (const std::string& name : words) {
    calls.push_back({"supervisor.getProcessInfo", Json::array({name})});
  }
  auto replies = c.client().call_all(calls);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& r = replies[i];
    if (r) {
      emit_pid(words[i], *r);
      if (int_field(*r, "pid") == 0) {
        c.set_exit(exit_code::kNotRunning);
      }
    } else if (r.error().fault() == Fault::BadName) {
      if (c.json()) {
        c.doc()["errors"].push_back({{"name", words[i]}, {"error", "no such process"}});
      } else {
        c.line(fmt::format("No such process {}", words[i]));
      }
      c.set_exit(exit_code::kGeneric);
    } else {
      c.unexpected(r.error());
      break;
    }
  }
  return c.done();
}

Outcome cmd_clear(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false) || !require_names(c, words, "clear", exit_code::kGeneric)) {
    return c.done();
  }
  if (c.json()) {
    c.doc()["results"] = Json::array();
  }
  if (contains(words, "all")) {
    auto r = c.client().call("supervisor.clearAllProcessLogs", Json::array());
    if (!r) {
      c.unexpected(r.error());
    } else {
      emit_results(c, clear_action(), *r, "supervisor.clearAllProcessLogs");
    }
    return c.done();
  }
  for (const std::string& name : words) {
    // supervisord compat: no group handling; `g:*` reaches the agent and prints `g:None`.
    const NameSpec spec = split_namespec(name);
    auto r = c.client().call("supervisor.clearProcessLogs", Json::array({name}));
    if (r) {
      emit_result(c, clear_action(), make_namespec(spec.group, spec.process),
                  fault_code(Fault::Success), "OK");
    } else if (!emit_fault(c, clear_action(), spec, r.error())) {
      break;
    }
  }
  return c.done();
}

Outcome cmd_tail(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false)) {
    return c.done();
  }
  std::vector<std::string> args = words;
  if (args.empty()) {
    c.fail("Error: too few arguments", exit_code::kGeneric);
    c.help("tail");
    return c.done();
  }
  if (args.size() > 3) {
    c.fail("Error: too many arguments", exit_code::kGeneric);
    c.help("tail");
    return c.done();
  }
  std::optional<std::string> modifier;
  if (args.front().starts_with('-')) {
    modifier = args.front();
    args.erase(args.begin());
  }
  std::string name;
  std::string channel = "stdout";
  if (args.size() == 1) {
    name = args.back();
  } else if (!args.empty()) {
    name = args.front();
    channel = ascii_lower(args.back());
    if (channel != "stdout" && channel != "stderr") {
      c.fail(fmt::format("Error: bad channel {}", py_repr(channel)), exit_code::kGeneric);
      return c.done();
    }
  } else {
    c.fail("Error: tail requires process name", exit_code::kGeneric);
    return c.done();
  }
  std::int64_t bytes = kTailBytes;
  if (modifier) {
    const std::string what = modifier->substr(1);
    if (what == "f") {
      follow(c, "zagent.followProcessLog", Json::array({name, channel, kFollowBytes}),
             fmt::format("/logtail/{}/{}", name, channel));
      return c.done();
    }
    const auto n = modifier_bytes(what);
    if (!n) {
      c.fail(fmt::format("Error: bad argument {}", *modifier), exit_code::kGeneric);
      return c.done();
    }
    bytes = *n;
  }
  const char* method =
      channel == "stdout" ? "supervisor.readProcessStdoutLog" : "supervisor.readProcessStderrLog";
  auto r = c.client().call(method, Json::array({name, -bytes, 0}));
  print_log(c, r, name, {{"name", name}, {"channel", channel}});
  return c.done();
}

Outcome cmd_maintail(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false)) {
    return c.done();
  }
  std::int64_t bytes = kTailBytes;
  if (words.size() > 1) {
    c.fail("Error: too many arguments", exit_code::kGeneric);
    c.help("maintail");
    return c.done();
  }
  if (words.size() == 1) {
    const std::string& arg = words.front();
    if (!arg.starts_with('-')) {
      c.fail(fmt::format("Error: bad argument {}", arg), exit_code::kGeneric);
      return c.done();
    }
    const std::string what = arg.substr(1);
    if (what == "f") {
      follow(c, "zagent.followMainLog", Json::array({kFollowBytes}), "/mainlogtail");
      return c.done();
    }
    const auto n = modifier_bytes(what);
    if (!n) {
      c.fail(fmt::format("Error: bad argument {}", arg), exit_code::kGeneric);
      return c.done();
    }
    bytes = *n;
  }
  auto r = c.client().call("supervisor.readLog", Json::array({-bytes, 0}));
  print_log(c, r, "supervisord", Json::object());
  return c.done();
}

Outcome cmd_fg(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!upcheck(c, false)) {
    return c.done();
  }
  if (words.empty()) {
    c.fail("ERROR: no process name supplied", exit_code::kGeneric);
    c.help("fg");
    return c.done();
  }
  if (words.size() > 1) {
    c.fail("ERROR: too many process names supplied", exit_code::kGeneric);
    return c.done();
  }
  auto info = c.client().call("supervisor.getProcessInfo", Json::array({words[0]}));
  if (!info) {
    const auto fault = info.error().fault();
    if (fault == Fault::BadName) {
      c.fail("ERROR: bad process name supplied", exit_code::kGeneric);
    } else if (fault) {
      // supervisord compat: printed, but the exit status is left alone.
      c.fail(fmt::format("ERROR: {}", fault_repr(fault_code(*fault), info.error().fault_string())),
             c.exit_code());
    } else {
      c.unexpected(info.error());
    }
    return c.done();
  }
  if (int_field(*info, "state", -1) != static_cast<int>(ProcessState::Running)) {
    c.fail("ERROR: process not running", exit_code::kGeneric);
    return c.done();
  }
  Foreground(c, words[0]).run();
  return c.done();
}

Outcome cmd_reread(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!no_arguments(c, words, "reread")) {
    return c.done();
  }
  auto r = c.client().call("supervisor.reloadConfig", Json::array());
  if (!r) {
    const auto fault = r.error().fault();
    if (fault == Fault::ShutdownState) {
      c.fail("ERROR: supervisor shutting down", exit_code::kGeneric);
    } else if (fault == Fault::CantReread) {
      c.fail(fmt::format("ERROR: {}", r.error().fault_string()), exit_code::kGeneric);
    } else {
      c.unexpected(r.error());
    }
    return c.done();
  }
  const auto changes = parse_changes(*r);
  if (!changes) {
    c.bad_reply("supervisor.reloadConfig");
  } else if (c.json()) {
    c.doc() = {
        {"added", changes->added}, {"changed", changes->changed}, {"removed", changes->removed}};
  } else {
    c.raw(reread_text(changes->added, changes->changed, changes->removed));
  }
  return c.done();
}

Outcome cmd_update(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  update_body(c, words);
  return c.done();
}

Outcome cmd_add(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  add_or_remove(c, words, true);
  return c.done();
}

Outcome cmd_remove(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  add_or_remove(c, words, false);
  return c.done();
}

Outcome cmd_avail(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!no_arguments(c, words, "avail")) {
    return c.done();
  }
  auto r = c.client().call("supervisor.getAllConfigInfo", Json::array());
  if (!r) {
    if (r.error().fault() == Fault::ShutdownState) {
      c.fail("ERROR: supervisor shutting down", exit_code::kGeneric);
    } else {
      c.unexpected(r.error());
    }
    return c.done();
  }
  if (!r->is_array()) {
    c.bad_reply("supervisor.getAllConfigInfo");
    return c.done();
  }
  if (c.json()) {
    c.doc()["processes"] = Json::array();
  }
  for (const Json& info : *r) {
    const std::string ns = namespec_of(info);
    if (c.json()) {
      c.doc()["processes"].push_back({{"name", ns},
                                      {"group", str_field(info, "group")},
                                      {"process", str_field(info, "name")},
                                      {"inuse", bool_field(info, "inuse")},
                                      {"autostart", bool_field(info, "autostart")},
                                      {"group_prio", int_field(info, "group_prio")},
                                      {"process_prio", int_field(info, "process_prio")}});
    } else {
      c.line(avail_line(ns, bool_field(info, "inuse"), bool_field(info, "autostart"),
                        str_field(info, "group_prio"), str_field(info, "process_prio")));
    }
  }
  return c.done();
}

Outcome cmd_version(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!no_arguments(c, words, "version") || !upcheck(c, false)) {
    return c.done();
  }
  auto r = c.client().call("supervisor.getSupervisorVersion", Json::array());
  if (!r) {
    c.unexpected(r.error());
  } else if (c.json()) {
    c.doc()["version"] = py_str(*r);
  } else {
    c.line(py_str(*r));
  }
  return c.done();
}

Outcome cmd_reload(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!no_arguments(c, words, "reload")) {
    return c.done();
  }
  if (s.interactive) {
    const auto really = confirm(c, "Really restart the remote supervisord process y/N? ");
    if (!really || !*really) {
      return c.done();
    }
  }
  auto r = c.client().call("supervisor.restart", Json::array());
  if (!r) {
    if (r.error().fault() == Fault::ShutdownState) {
      c.fail("ERROR: already shutting down", exit_code::kGeneric);
    } else {
      c.unexpected(r.error());
    }
    return c.done();
  }
  if (c.json()) {
    c.doc() = {{"ok", true}, {"message", "Restarted supervisord"}};
  } else {
    c.line("Restarted supervisord");
  }
  // The agent closes this connection when it restarts; the next command reconnects.
  c.client().reset();
  return c.done();
}

Outcome cmd_shutdown(Session& s, const std::vector<std::string>& words) {
  Ctx c(s);
  if (!no_arguments(c, words, "shutdown")) {
    return c.done();
  }
  if (s.interactive) {
    const auto really = confirm(c, "Really shut the remote supervisord process down y/N? ");
    if (!really || !*really) {
      return c.done();
    }
  }
  auto r = c.client().call("supervisor.shutdown", Json::array());
  if (r) {
    if (c.json()) {
      c.doc() = {{"ok", true}, {"message", "Shut down"}};
    } else {
      c.line("Shut down");
    }
    c.client().reset();
  } else if (r.error().fault() == Fault::ShutdownState) {
    // supervisord compat: reported, but the exit status stays 0.
    if (c.json()) {
      c.doc() = {{"ok", false}, {"message", "ERROR: already shutting down"}};
    } else {
      c.line("ERROR: already shutting down");
    }
  } else if (is_transport_errno(r, ECONNREFUSED)) {
    c.fail(fmt::format("ERROR: {} refused connection (already shut down?)", s.serverurl),
           exit_code::kGeneric);
  } else if (is_transport_errno(r, ENOENT)) {
    c.fail(fmt::format("ERROR: {} no such file (already shut down?)", s.serverurl),
           exit_code::kGeneric);
  } else {
    c.unexpected(r.error());
  }
  return c.done();
}

Outcome cmd_open(Session& s, std::string_view url) {
  const std::string scheme = url_scheme(url);
  if (scheme != "unix" && scheme != "http") {
    Ctx c(s);
    c.fail("ERROR: url must be http:// or unix://", exit_code::kGeneric);
    return c.done();
  }
  s.serverurl = std::string(url);
  if (s.connect) {
    s.opened = s.connect(s.serverurl);
    s.client = s.opened.get();
  }
  // supervisord compat: the status's exit status is discarded.
  Outcome out = cmd_status(s, {});
  out.exit_code = exit_code::kSuccess;
  return out;
}

Outcome cmd_help(Session& s, std::string_view topic) {
  Ctx c(s);
  std::string text;
  if (topic == "help") {
    text = *help_topic("help");
  } else if (topic.empty()) {
    text = help_index();
  } else {
    text = help_topic(topic).value_or(fmt::format("*** No help on {}\n", topic));
  }
  if (c.json()) {
    c.doc()["help"] = text;
  } else {
    c.raw(text);
  }
  return c.done();
}

Outcome cmd_quit(Session& s) {
  Ctx c(s);
  c.line("");
  c.set_quit();
  return c.done();
}

Outcome run_line(Session& session, std::string_view raw_line) {
  // supervisord compat: cmd.Cmd.parseline + Controller.onecmd.
  std::string line(strip(raw_line));
  if (line.empty()) {
    return {};
  }
  if (line.front() == '?') {
    line = "help " + line.substr(1);
  } else if (line.front() == '!') {
    return unknown_syntax(session, line);
  }
  std::size_t i = 0;
  while (i < line.size() && is_identchar(line[i])) {
    ++i;
  }
  const std::string verb = line.substr(0, i);
  std::string arg(strip(std::string_view(line).substr(i)));
  if (verb.empty()) {
    return unknown_syntax(session, line);
  }
  static const std::set<std::string, std::less<>> kVerbs = {
      "help",   "EOF",    "quit",  "exit",    "status",   "start",    "stop",   "restart",
      "signal", "pid",    "clear", "tail",    "maintail", "fg",       "reread", "update",
      "add",    "remove", "avail", "version", "reload",   "shutdown", "open"};
  if (kVerbs.count(verb) == 0) {
    return unknown_syntax(session, line);
  }
  bool json = session.json;
  StartOptions opts;
  auto rest = take_verb_options(arg, verb == "start" || verb == "restart", json, opts);
  const bool saved_json = session.json;
  session.json = json;
  Outcome out;
  if (!rest) {
    Ctx c(session);
    c.fail(fmt::format("Error: {}", rest.error().message), exit_code::kInvalidArgs);
    out = c.done();
    session.json = saved_json;
    return out;
  }
  arg = *rest;
  const std::vector<std::string> words = split_words(arg);
  if (verb == "help") {
    out = cmd_help(session, arg);
  } else if (verb == "EOF" || verb == "quit" || verb == "exit") {
    out = cmd_quit(session);
  } else if (verb == "status") {
    out = cmd_status(session, words);
  } else if (verb == "start") {
    out = cmd_start(session, words, opts);
  } else if (verb == "stop") {
    out = cmd_stop(session, words);
  } else if (verb == "restart") {
    out = cmd_restart(session, words, opts);
  } else if (verb == "signal") {
    out = cmd_signal(session, words);
  } else if (verb == "pid") {
    out = cmd_pid(session, words);
  } else if (verb == "clear") {
    out = cmd_clear(session, words);
  } else if (verb == "tail") {
    out = cmd_tail(session, words);
  } else if (verb == "maintail") {
    out = cmd_maintail(session, words);
  } else if (verb == "fg") {
    out = cmd_fg(session, words);
  } else if (verb == "reread") {
    out = cmd_reread(session, words);
  } else if (verb == "update") {
    out = cmd_update(session, words);
  } else if (verb == "add") {
    out = cmd_add(session, words);
  } else if (verb == "remove") {
    out = cmd_remove(session, words);
  } else if (verb == "avail") {
    out = cmd_avail(session, words);
  } else if (verb == "version") {
    out = cmd_version(session, words);
  } else if (verb == "reload") {
    out = cmd_reload(session, words);
  } else if (verb == "shutdown") {
    out = cmd_shutdown(session, words);
  } else if (verb == "open") {
    out = cmd_open(session, arg);
  }
  session.json = saved_json;
  return out;
}

int run_shell(Session& session, std::string_view prompt) {
  // supervisord compat: exec_cmdloop queues `status`, then cmdloop; KeyboardInterrupt anywhere
  // prints an empty line and leaves; the exit status is always 0.
  if (run_line(session, "status").interrupted) {
    session.output->out("\n");
    session.output->flush();
    return exit_code::kSuccess;
  }
  for (;;) {
    session.output->out(fmt::format("{}> ", prompt));
    session.output->flush();
    std::optional<std::string> line;
    if (session.input != nullptr) {
      line = session.input->read_line();
    }
    if (!line) {
      if (session.input != nullptr && session.input->interrupted()) {
        session.output->out("\n");
        session.output->flush();
        return exit_code::kSuccess;
      }
      line = "EOF";
    }
    const Outcome out = run_line(session, *line);
    if (out.interrupted) {
      session.output->out("\n");
      session.output->flush();
      return exit_code::kSuccess;
    }
    if (out.quit) {
      return exit_code::kSuccess;
    }
  }
}

CommandResult run_captured(Session& session, std::string_view line) {
  CapturingOutput capture;
  Output* saved = session.output;
  session.output = &capture;
  const Outcome out = run_line(session, line);
  session.output = saved;
  return {out.exit_code, std::move(capture.out_), std::move(capture.err_)};
}

}  // namespace zagent::ctl
