#include "ctl/verb_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "common/process_state.h"
#include "common/pystr.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"

namespace zagent::ctl {
namespace {

using Kind = CallError::Kind;

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

}  // namespace

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

std::int64_t int_field(const Json& j, const char* key, std::int64_t fallback) {
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

std::optional<double> number_field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return std::nullopt;
  }
  return it->get<double>();
}

std::optional<std::string> string_field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

bool is_stopped(const Json& info) {
  const auto state = process_state_from_code(static_cast<int>(int_field(info, "state", -1)));
  return state && is_stopped_state(*state);
}

std::string namespec_of(const Json& info) {
  return make_namespec(str_field(info, "group"), str_field(info, "name"));
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool is_transport_errno(const CallResult<Json>& r, int err) {
  return !r && r.error().kind == Kind::Transport && r.error().sys_errno == err;
}

bool is_unknown_method(const CallError& e) {
  return e.fault() == Fault::UnknownMethod ||
         (e.kind == Kind::Rpc && e.rpc.code == static_cast<int>(rpc::StdError::MethodNotFound));
}

NameError no_such_name(const std::string& name) {
  const NameSpec spec = split_namespec(name);
  if (spec.process) {
    return {name, "no such process"};
  }
  return {spec.group, "no such group"};
}

std::string name_error_line(const NameError& e) {
  return fmt::format("{}: ERROR ({})", e.name, e.error);
}

std::string name_errors_text(const std::vector<NameError>& errors) {
  std::string out;
  for (const NameError& e : errors) {
    out += name_error_line(e) + "\n";
  }
  return out;
}

Json name_errors_json(const std::vector<NameError>& errors) {
  Json out = Json::array();
  for (const NameError& e : errors) {
    out.push_back({{"name", e.name}, {"error", e.error}});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

void VerbResult::fail(std::string text, int code, std::string help) {
  failure = Failure{text, text, std::move(help)};
  exit_code = code;
}

void VerbResult::unexpected(const CallError& e) {
  std::string text;
  switch (e.kind) {
    case Kind::Interrupted:
      interrupted = true;
      return;
    case Kind::Rpc:
      if (e.rpc.code == static_cast<int>(rpc::StdError::Unauthorized)) {
        // zagent difference: supervisorctl retries once and prints a Python ProtocolError.
        failure = Failure{"Server requires authentication\nerror: 401 Unauthorized",
                          "Server requires authentication",
                          {}};
        exit_code = exit_code::kGeneric;
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
        text = python_error(os_error_class(e.sys_errno),
                            fmt::format("[Errno {}] {}", e.sys_errno, std::strerror(e.sys_errno)));
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

void VerbResult::bad_reply(std::string_view method) {
  CallError e;
  e.kind = Kind::Protocol;
  e.message = fmt::format("unexpected reply to {}", method);
  unexpected(e);
}

void VerbResult::exit_from_fault(int code, std::optional<Fault> ignored) {
  if ((ignored && code == fault_code(*ignored)) || code == fault_code(Fault::Success)) {
    return;
  }
  if (code == fault_code(Fault::SpawnError) || code == fault_code(Fault::AbnormalTermination) ||
      code == fault_code(Fault::NotRunning)) {
    exit_code = exit_code::kNotRunning;
  } else {
    exit_code = exit_code::kGeneric;
  }
}

void write_text(Session& s, const VerbResult& r, std::string_view body) {
  s.output->out(body);
  if (r.failure) {
    s.output->out(fmt::format("{}\n", r.failure->text));
    if (!r.failure->help.empty()) {
      s.output->out(help_topic(r.failure->help).value_or(""));
    }
  }
  s.output->flush();
}

void write_json(Session& s, const VerbResult& r, Json doc) {
  if (!r.interrupted) {
    if (r.failure) {
      doc["error"] = r.failure->error;
    }
    s.output->out(rpc::encode_line(doc));
  }
  s.output->flush();
}

void write_stream_failure(Session& s, const VerbResult& r) {
  if (s.json) {
    Json doc = Json::object();
    if (r.failure) {
      doc["error"] = r.failure->error;
    }
    s.output->out(rpc::encode_line(doc));
  } else if (r.failure) {
    s.output->out(fmt::format("{}\n", r.failure->text));
  }
}

// ---------------------------------------------------------------------------------------------

Call get_version_call() { return {"supervisor.getVersion", Json::array()}; }

bool upcheck_reply(Session& s, VerbResult& r, const CallResult<Json>& reply, bool for_status) {
  const std::string& url = s.serverurl;
  if (reply) {
    const std::string version = py_str(*reply);
    if (version == "3.0") {
      return true;
    }
    r.fail(api_version_text(version),
           for_status ? exit_code::kStatusUnknown : exit_code::kNotInstalled);
    return false;
  }
  if (reply.error().fault() == Fault::UnknownMethod) {
    r.fail(unknown_namespace_text(),
           for_status ? exit_code::kStatusUnknown : exit_code::kUnimplementedFeature);
  } else if (is_transport_errno(reply, ECONNREFUSED)) {
    r.fail(refused_connection_text(url), exit_code::kInsufficientPrivileges);
  } else if (is_transport_errno(reply, ENOENT)) {
    r.fail(no_such_file_text(url), for_status ? exit_code::kStatusUnknown : exit_code::kNotRunning);
  } else {
    r.unexpected(reply.error());
  }
  return false;
}

bool upcheck(Session& s, VerbResult& r, bool for_status) {
  const Call call = get_version_call();
  return upcheck_reply(s, r, s.client->call(call.method, call.params), for_status);
}

bool require_names(VerbResult& r, const std::vector<std::string>& names, std::string_view verb,
                   int exit_status) {
  if (!names.empty()) {
    return true;
  }
  r.fail(fmt::format("Error: {} requires a process name", verb), exit_status, std::string(verb));
  return false;
}

bool no_arguments(VerbResult& r, const std::vector<std::string>& words, std::string_view verb) {
  if (words.empty()) {
    return true;
  }
  r.fail(fmt::format("Error: {} accepts no arguments", verb), exit_code::kGeneric,
         std::string(verb));
  return false;
}

std::optional<double> parse_seconds(const std::string& text, bool allow_zero) {
  constexpr double kMaxSeconds = 1e9;
  char* end = nullptr;
  const double seconds = text.empty() ? -1 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() ||
      !(allow_zero ? seconds >= 0 : seconds > 0) || seconds > kMaxSeconds) {
    return std::nullopt;
  }
  return seconds;
}

std::optional<std::string> take_option_value(const std::vector<std::string>& words, std::size_t& i,
                                             std::string_view option) {
  const std::string& word = words[i];
  if (word == option) {
    return i + 1 < words.size() ? words[++i] : std::string();
  }
  if (word.size() > option.size() && word.starts_with(option) && word[option.size()] == '=') {
    return word.substr(option.size() + 1);
  }
  return std::nullopt;
}

std::vector<std::string> take_json_words(Session& s, const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const std::string& word : words) {
    if (word == "--json") {
      s.json = true;
    } else {
      out.push_back(word);
    }
  }
  return out;
}

bool wait_on_connection(Session& s, std::chrono::steady_clock::time_point deadline) {
  using std::chrono::milliseconds;
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - s.now());
    auto event = s.client->wait_event(-1, std::max(milliseconds(0), left));
    if (!event) {
      return true;
    }
    switch (event->kind) {
      case Event::Kind::Interrupted:
        return false;
      case Event::Kind::Notification:
        continue;
      case Event::Kind::Timeout:
      case Event::Kind::InputReady:
      case Event::Kind::Closed:
        return true;
    }
  }
}

std::string local_clock_text(std::chrono::system_clock::time_point at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm local{};
  if (::localtime_r(&t, &local) == nullptr) {
    return "??:??:??";
  }
  return fmt::format("{:02}:{:02}:{:02}", local.tm_hour, local.tm_min, local.tm_sec);
}

std::optional<bool> confirm(Session& s, VerbResult& r, std::string_view question) {
  s.output->out(question);
  s.output->flush();
  if (s.input == nullptr) {
    return false;
  }
  auto answer = s.input->read_line();
  if (!answer) {
    if (s.input->interrupted()) {
      r.interrupted = true;
      return std::nullopt;
    }
    // supervisord compat: raw_input() raises EOFError, which onecmd prints.
    r.fail(python_error("EOFError", "EOF when reading a line"), exit_code::kGeneric);
    return std::nullopt;
  }
  const std::string lower = ascii_lower(*answer);
  return !lower.empty() && lower.front() == 'y';
}

}  // namespace zagent::ctl
