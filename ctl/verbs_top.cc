// The `top` verb (a zctl extension, docs/zctl.md "top"): the resource use of the processes
// (zagent.getProcessStats) as a table, once, or redrawn every SECS seconds with --watch until
// Ctrl-C or SIGTERM.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/faults.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kMethod = "zagent.getProcessStats";
/// Cursor home, then erase the screen: each --watch screen starts at the top.
constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";
struct TopResult : VerbResult {
  bool checked = false;           ///< the connection check passed (JSON has both lists)
  std::vector<NameError> errors;  ///< printed before the table, as status does
  std::vector<Json> processes;    ///< the agent's objects, in argument order, once all were read
};

/// A row's namespec: the agent's, else made from group and name (an older agent).
std::string row_namespec(const Json& process) {
  const auto it = process.find("namespec");
  return it != process.end() && it->is_string() ? it->get<std::string>() : namespec_of(process);
}

std::optional<std::int64_t> integer_field(const Json& j, const char* key) {
  const auto n = number_field(j, key);
  if (!n) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(*n));
}

/// A missing field, or a missing `resources` or `gpu` object, reads as null: `-`.
TopRow top_row(const Json& process) {
  TopRow row;
  row.namespec = row_namespec(process);
  row.statename = str_field(process, "statename");
  row.pid = int_field(process, "pid");
  row.uptime_seconds = number_field(process, "uptime_seconds");
  row.restarts = integer_field(process, "restarts");
  const auto resources = process.find("resources");
  if (resources != process.end() && resources->is_object()) {
    row.cpu_percent = number_field(*resources, "cpu_percent");
    row.rss_bytes = number_field(*resources, "rss_bytes");
    row.pss_bytes = number_field(*resources, "pss_bytes");
    row.threads = integer_field(*resources, "threads");
    row.trend_bytes_per_hour = number_field(*resources, "memory_trend_bytes_per_hour");
  }
  // null: no GPU use known, or GPU monitoring off (or an agent without it).
  const auto gpu = process.find("gpu");
  if (gpu != process.end() && gpu->is_object()) {
    row.gpu_bytes = number_field(*gpu, "memory_bytes");
    row.gpu_estimated = bool_field(*gpu, "estimated");
  }
  return row;
}

std::string to_text(const TopResult& r) {
  std::string out = name_errors_text(r.errors);
  // `top nosuch` prints its error line alone; `top` with nothing configured, the header.
  if (r.checked && r.ok() && (!r.processes.empty() || r.errors.empty())) {
    std::vector<TopRow> rows;
    rows.reserve(r.processes.size());
    for (const Json& process : r.processes) {
      rows.push_back(top_row(process));
    }
    out += top_table(rows);
  }
  return out;
}

Json to_json(const TopResult& r) {
  Json doc = Json::object();
  if (r.checked) {
    doc["processes"] = Json::array();
    for (const Json& process : r.processes) {
      Json row = process;
      if (!row.contains("namespec")) {
        row["namespec"] = namespec_of(process);
      }
      doc["processes"].push_back(std::move(row));
    }
    doc["errors"] = name_errors_json(r.errors);
  }
  return doc;
}

struct TopOptions {
  std::vector<std::string> names;  ///< empty (or `all` among them): every process
  std::optional<double> watch;     ///< --watch SECS
};

/// top's words: names, `--watch SECS` and `--watch=SECS`. False, with the usage error.
bool parse_top_words(VerbResult& r, const std::vector<std::string>& words, TopOptions& opts) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (const auto value = take_option_value(words, i, "--watch")) {
      opts.watch = parse_seconds(*value, /*allow_zero=*/false);
      if (!opts.watch) {
        r.fail("Error: --watch requires a positive number of seconds", exit_code::kInvalidArgs,
               "top");
        return false;
      }
    } else if (word.starts_with('-')) {
      r.fail(fmt::format("Error: unknown option {}", word), exit_code::kInvalidArgs, "top");
      return false;
    } else {
      opts.names.push_back(word);
    }
  }
  return true;
}

/// The connection check and one getProcessStats call per name (one with "" for every process)
/// in one round trip (they only read).
TopResult top(Session& s, const std::vector<std::string>& names) {
  TopResult r;
  const bool everything = names.empty() || contains(names, "all");
  std::vector<Call> calls{get_version_call()};
  if (everything) {
    calls.push_back({std::string(kMethod), Json{{"name", ""}}});
  } else {
    for (const std::string& name : names) {
      calls.push_back({std::string(kMethod), Json{{"name", name}}});
    }
  }
  const auto replies = s.client->call_all(calls);
  if (!upcheck_reply(s, r, replies.front(), /*for_status=*/false)) {
    return r;
  }
  r.checked = true;
  std::vector<Json> processes;
  for (std::size_t i = 1; i < replies.size(); ++i) {
    const CallResult<Json>& reply = replies[i];
    if (!reply) {
      if (everything || reply.error().fault() != Fault::BadName) {
        r.unexpected(reply.error());
        return r;
      }
      r.errors.push_back(no_such_name(names[i - 1]));
      r.exit_code = exit_code::kGeneric;
      continue;
    }
    if (!reply->is_array()) {
      r.bad_reply(kMethod);
      return r;
    }
    for (const Json& process : *reply) {
      if (!process.is_object()) {
        r.bad_reply(kMethod);
        return r;
      }
      processes.push_back(process);
    }
  }
  r.processes = std::move(processes);
  return r;
}

// ---------------------------------------------------------------------------------------------
// --watch

/// SIGTERM ends the waits as Ctrl-C does while this lives.
class SigtermCaught {
 public:
  explicit SigtermCaught(Session& s) : s_(s) {
    if (s_.catch_sigterm) {
      s_.catch_sigterm(true);
    }
  }
  ~SigtermCaught() {
    if (s_.catch_sigterm) {
      s_.catch_sigterm(false);
    }
  }
  SigtermCaught(const SigtermCaught&) = delete;
  SigtermCaught& operator=(const SigtermCaught&) = delete;

 private:
  Session& s_;
};

/// One refresh: a JSON line; on a terminal a fresh screen with the title; elsewhere the table
/// after an empty line (but the first). A failure is printed under what is already there.
void write_refresh(Session& s, const TopResult& r, double seconds, bool first) {
  if (s.json) {
    write_json(s, r, to_json(r));
    return;
  }
  std::string screen;
  if (r.ok() && s.terminal) {
    screen =
        fmt::format("{}{}\n", kClearScreen, top_title(seconds, local_clock_text(s.wall_now())));
  } else if (r.ok() && !first) {
    screen = "\n";
  }
  write_text(s, r, screen + to_text(r));
}

/// Refreshes until Ctrl-C or SIGTERM (exit 0), an unknown name (after printing that refresh;
/// exit 1) or a failure such as the agent going away (its usual line and exit status).
Outcome watch(Session& s, const TopOptions& opts) {
  const SigtermCaught sigterm(s);
  const milliseconds interval(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(*opts.watch * 1000.0))));
  for (bool first = true;; first = false) {
    const auto started = s.now();
    const TopResult r = top(s, opts.names);
    if (r.interrupted) {
      s.output->flush();
      return {};
    }
    write_refresh(s, r, *opts.watch, first);
    if (!r.ok() || !r.errors.empty()) {
      return r.outcome();
    }
    if (!wait_on_connection(s, started + interval)) {
      return {};
    }
  }
}

}  // namespace

Outcome verb_top(Session& s, const VerbCall& call) {
  TopOptions opts;
  VerbResult usage;
  if (!parse_top_words(usage, call.words, opts)) {
    return emit(s, usage);
  }
  if (opts.watch) {
    return watch(s, opts);
  }
  return emit(s, top(s, opts.names));
}

}  // namespace zagent::ctl
