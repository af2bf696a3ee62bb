// The health verbs (zctl extensions, docs/zctl.md "wait, health"): `wait NAME...`, which polls
// supervisor.getAllProcessInfo until the processes are RUNNING with a passing health check (or
// cannot get there, or a deadline passes), and `health [NAME]`, the agent's health checks
// (zagent.getHealth) as a table with the last checks of a named process.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/faults.h"
#include "common/process_state.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// wait

constexpr std::string_view kAllInfo = "supervisor.getAllProcessInfo";
/// `wait` without --timeout.
constexpr double kDefaultWaitSeconds = 300;
/// How often `wait` asks for the states.
constexpr milliseconds kPollInterval(100);

struct WaitOptions {
  std::vector<std::string> names;  ///< `all` among them: every process
  double timeout_seconds = kDefaultWaitSeconds;
};

/// How far one process is from what `wait` waits for.
enum class Readiness {
  Ready,    ///< RUNNING, and its health check (if it has one) passing
  Waiting,  ///< may still get there
  WontBe,   ///< FATAL or STOPPED: nothing will start it again by itself
};

/// The info struct's `health` object; null when it has none (no check, or an agent without
/// health checks).
const Json& health_of(const Json& info) {
  static const Json kNull;
  const auto it = info.find("health");
  return it != info.end() && it->is_object() ? *it : kNull;
}

Readiness readiness(const Json& info) {
  const auto state = process_state_from_code(static_cast<int>(int_field(info, "state", -1)));
  if (state == ProcessState::Fatal || state == ProcessState::Stopped) {
    return Readiness::WontBe;
  }
  if (state != ProcessState::Running) {
    return Readiness::Waiting;
  }
  const Json& health = health_of(info);
  return health.is_null() || str_field(health, "status") == "passing" ? Readiness::Ready
                                                                      : Readiness::Waiting;
}

/// `NAME: STATENAME (DESCRIPTION)` of a process that is not ready. A RUNNING process whose
/// check is not passing gets `, health: STATUS: LAST_ERROR` unless the agent's description
/// already says how its health is.
std::string not_ready_line(const Json& info) {
  std::string detail = str_field(info, "description");
  const Json& health = health_of(info);
  if (!health.is_null() && detail.find("health:") == std::string::npos &&
      str_field(info, "statename") == state_name(ProcessState::Running)) {
    std::string suffix = "health: " + str_field(health, "status");
    if (const auto error = string_field(health, "last_error"); error && !error->empty()) {
      suffix += ": " + *error;
    }
    detail += detail.empty() ? suffix : ", " + suffix;
  }
  const std::string head = fmt::format("{}: {}", namespec_of(info), str_field(info, "statename"));
  return detail.empty() ? head : fmt::format("{} ({})", head, detail);
}

struct WaitResult : VerbResult {
  bool checked = false;           ///< the connection check passed (JSON has the members)
  bool ready = false;             ///< every process was ready at the last poll
  bool timed_out = false;         ///< the deadline passed first
  std::vector<NameError> errors;  ///< unknown names: the wait ends at once
  std::vector<Json> processes;    ///< the info structs of the last poll, in argument order
};

std::string to_text(const WaitResult& r) {
  if (r.interrupted) {
    return {};
  }
  if (!r.errors.empty()) {
    return name_errors_text(r.errors);
  }
  std::string out;
  for (const Json& info : r.processes) {
    if (r.ready) {
      out += namespec_of(info) + ": ready\n";
    } else if (readiness(info) != Readiness::Ready) {
      out += not_ready_line(info) + "\n";
    }
  }
  return out;
}

Json to_json(const WaitResult& r) {
  if (!r.checked) {
    return Json::object();
  }
  Json processes = Json::array();
  for (const Json& info : r.processes) {
    const Json& health = health_of(info);
    processes.push_back({{"name", namespec_of(info)},
                         {"statename", str_field(info, "statename")},
                         {"description", str_field(info, "description")},
                         {"health", health},
                         {"ready", readiness(info) == Readiness::Ready}});
  }
  return {{"ready", r.ready},
          {"timed_out", r.timed_out},
          {"processes", std::move(processes)},
          {"errors", name_errors_json(r.errors)}};
}

/// wait's words: names, `--timeout SECS` and `--timeout=SECS`. False, with the usage error.
bool parse_wait_words(VerbResult& r, const std::vector<std::string>& words, WaitOptions& opts) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (const auto value = take_option_value(words, i, "--timeout")) {
      const auto seconds = parse_seconds(*value, /*allow_zero=*/true);
      if (!seconds) {
        r.fail("Error: --timeout requires a number of seconds", exit_code::kInvalidArgs, "wait");
        return false;
      }
      opts.timeout_seconds = *seconds;
    } else if (word.starts_with('-')) {
      r.fail(fmt::format("Error: unknown option {}", word), exit_code::kInvalidArgs, "wait");
      return false;
    } else {
      opts.names.push_back(word);
    }
  }
  return require_names(r, opts.names, "wait", exit_code::kInvalidArgs);
}

/// The processes `names` mean among the info structs `all`, each once, in argument order
/// (`all`: the agent's order). A name that matches nothing goes to `errors`.
std::vector<Json> match_processes(const std::vector<std::string>& names, const Json& all,
                                  std::vector<NameError>& errors) {
  if (contains(names, "all")) {
    return {all.begin(), all.end()};
  }
  std::vector<Json> out;
  std::set<std::string> taken;
  for (const std::string& name : names) {
    const NameSpec spec = split_namespec(name);
    bool found = false;
    for (const Json& info : all) {
      if (str_field(info, "group") != spec.group ||
          (spec.process && str_field(info, "name") != *spec.process)) {
        continue;
      }
      found = true;
      if (taken.insert(namespec_of(info)).second) {
        out.push_back(info);
      }
    }
    if (!found) {
      errors.push_back(no_such_name(name));
    }
  }
  return out;
}

/// Judges one poll: true when the wait is over (ready, a process that will not get there, or
/// the deadline), with `r` saying how it ended.
bool judge(WaitResult& r, const WaitOptions& opts, bool past_deadline) {
  std::string wont_be;
  bool all_ready = true;
  for (const Json& info : r.processes) {
    const Readiness ready = readiness(info);
    all_ready = all_ready && ready == Readiness::Ready;
    if (ready == Readiness::WontBe) {
      wont_be += fmt::format("{}{} is {}", wont_be.empty() ? "" : ", ", namespec_of(info),
                             str_field(info, "statename"));
    }
  }
  if (all_ready) {
    r.ready = true;
  } else if (!wont_be.empty()) {
    r.fail("ERROR: " + wont_be, exit_code::kGeneric);
  } else if (past_deadline) {
    r.timed_out = true;
    r.fail(fmt::format("ERROR: timed out after {}s", opts.timeout_seconds), exit_code::kGeneric);
  } else {
    return false;
  }
  return true;
}

/// Polls every kPollInterval until judge() ends the wait, a name is unknown (exit 4, as
/// `status` does) or a call fails. The connection check goes with the first poll; the deadline
/// is on s.now()'s monotonic clock, and a poll at or after it is the last.
WaitResult wait(Session& s, const WaitOptions& opts) {
  WaitResult r;
  const auto deadline =
      s.now() + milliseconds(static_cast<std::int64_t>(std::llround(opts.timeout_seconds * 1e3)));
  for (bool first = true;; first = false) {
    const auto polled = s.now();
    std::vector<Call> calls;
    if (first) {
      calls.push_back(get_version_call());
    }
    calls.push_back({std::string(kAllInfo), Json::array()});
    const auto replies = s.client->call_all(calls);
    if (first && !upcheck_reply(s, r, replies.front(), /*for_status=*/false)) {
      return r;
    }
    r.checked = true;
    // A failed poll reports only its failure, not what an earlier poll saw.
    r.processes.clear();
    const CallResult<Json>& all = replies.back();
    if (!all) {
      r.unexpected(all.error());
      return r;
    }
    if (!all->is_array()) {
      r.bad_reply(kAllInfo);
      return r;
    }
    r.processes = match_processes(opts.names, *all, r.errors);
    if (!r.errors.empty()) {
      r.exit_code = exit_code::kStatusUnknown;
      return r;
    }
    if (judge(r, opts, s.now() >= deadline)) {
      return r;
    }
    if (!wait_on_connection(s, std::min(polled + kPollInterval, deadline))) {
      r.interrupted = true;
      return r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// health

constexpr std::string_view kHealthMethod = "zagent.getHealth";

struct HealthResult : VerbResult {
  std::optional<std::string> name;  ///< NAME as given; none: every process
  std::optional<Json> reply;        ///< the agent's array, once read
};

bool has_check(const Json& row) { return string_field(row, "healthcheck").has_value(); }

/// Epoch seconds as the local `HH:MM:SS`; `-` when missing or null.
std::string epoch_clock(const Json& j, const char* key) {
  const auto epoch = number_field(j, key);
  if (!epoch) {
    return "-";
  }
  const std::chrono::system_clock::time_point at(
      std::chrono::seconds(static_cast<std::int64_t>(std::floor(*epoch))));
  return local_clock_text(at);
}

std::string health_table(const Json& rows) {
  std::vector<std::vector<std::string>> cells{
      {"NAME", "CHECK", "STATUS", "FAILS", "LAST CHECK", "LAST ERROR"}};
  for (const Json& row : rows) {
    if (!has_check(row)) {
      cells.push_back({namespec_of(row), "-", "-", "-", "-", "-"});
      continue;
    }
    const auto error = string_field(row, "last_error");
    cells.push_back(
        {namespec_of(row), str_field(row, "healthcheck"), str_field(row, "status"),
         fmt::format("{}/{}", int_field(row, "consecutive_failures"), int_field(row, "retries")),
         epoch_clock(row, "last_check"), error && !error->empty() ? *error : "-"});
  }
  return column_table(cells);
}

/// `TIME  pass|FAIL  DURATIONms  MESSAGE` per check, oldest first, aligned.
std::string checks_text(const Json& row) {
  const auto checks = row.find("checks");
  if (checks == row.end() || !checks->is_array() || checks->empty()) {
    return "no checks yet\n";
  }
  std::vector<std::vector<std::string>> cells;
  for (const Json& check : *checks) {
    cells.push_back({epoch_clock(check, "time"), bool_field(check, "passed") ? "pass" : "FAIL",
                     fmt::format("{}ms", int_field(check, "duration_ms")),
                     str_field(check, "message")});
  }
  return column_table(cells);
}

std::string to_text(const HealthResult& r) {
  if (!r.reply) {
    return {};
  }
  const Json& rows = *r.reply;
  if (r.name && split_namespec(*r.name).process && rows.size() == 1 && !has_check(rows[0])) {
    return fmt::format("{}: no health check configured\n", *r.name);
  }
  if (rows.empty()) {
    return {};
  }
  std::string out = health_table(rows);
  if (!r.name) {
    return out;
  }
  const auto checked = std::count_if(rows.begin(), rows.end(), has_check);
  for (const Json& row : rows) {
    if (has_check(row)) {
      out += "\n";
      out += checked > 1 ? namespec_of(row) + ":\n" : "";
      out += checks_text(row);
    }
  }
  return out;
}

/// --json: the agent's array as it came.
Json to_json(const HealthResult& r) { return r.reply ? *r.reply : Json::object(); }

HealthResult health(Session& s, const std::vector<std::string>& words) {
  HealthResult r;
  for (const std::string& word : words) {
    if (word.starts_with('-')) {
      r.fail(fmt::format("Error: unknown option {}", word), exit_code::kInvalidArgs, "health");
      return r;
    }
  }
  if (words.size() > 1) {
    r.fail("Error: too many arguments", exit_code::kGeneric, "health");
    return r;
  }
  if (!words.empty() && words.front() != "all") {
    r.name = words.front();
  }
  const auto replies = s.client->call_all(
      {get_version_call(),
       {std::string(kHealthMethod), r.name ? Json::array({*r.name}) : Json::array()}});
  if (!upcheck_reply(s, r, replies.front(), /*for_status=*/false)) {
    return r;
  }
  const CallResult<Json>& reply = replies.back();
  if (!reply) {
    const CallError& e = reply.error();
    if (r.name && e.fault() == Fault::BadName) {
      r.fail(name_error_line(no_such_name(*r.name)), exit_code::kStatusUnknown);
    } else if (is_unknown_method(e)) {
      r.fail(fmt::format("Error: the agent does not serve {} (supervisord, or a zagent without "
                         "health checks)",
                         kHealthMethod),
             exit_code::kGeneric);
    } else {
      r.unexpected(e);
    }
    return r;
  }
  if (!reply->is_array() ||
      !std::all_of(reply->begin(), reply->end(), [](const Json& j) { return j.is_object(); })) {
    r.bad_reply(kHealthMethod);
    return r;
  }
  r.reply = *reply;
  return r;
}

}  // namespace

Outcome verb_wait(Session& s, const VerbCall& call) {
  WaitOptions opts;
  VerbResult usage;
  if (!parse_wait_words(usage, take_json_words(s, call.words), opts)) {
    return emit(s, usage);
  }
  return emit(s, wait(s, opts));
}

Outcome verb_health(Session& s, const VerbCall& call) {
  return emit(s, health(s, take_json_words(s, call.words)));
}

}  // namespace zagent::ctl
