// The crash verbs (zctl extensions, docs/zctl.md "why, crashes"): `why NAME`, the newest crash
// record of one process in words, and `crashes [NAME] [-n N]`, a table of the newest records.
// Both read zagent.getCrashRecords (docs/crashes.md for the record's fields).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/faults.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

constexpr std::string_view kMethod = "zagent.getCrashRecords";
/// `crashes` without -n.
constexpr std::int64_t kDefaultLimit = 20;

/// The lines of a string array field (`last_output.stdout`); other values are skipped.
std::vector<std::string> lines_field(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) {
    return out;
  }
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return out;
  }
  for (const Json& line : *it) {
    out.push_back(py_str(line));
  }
  return out;
}

/// `text` with `prefix` before each of its lines, each ending in `\n`.
std::string indented(std::string_view text, std::string_view prefix) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find('\n', start);
    out += prefix;
    out += text.substr(start, end == std::string_view::npos ? end : end - start);
    out += '\n';
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

std::optional<std::string> ended_text(const Json& record) {
  const auto ended = number_field(record, "ended");
  if (!ended) {
    return std::nullopt;
  }
  return utc_time_text(static_cast<std::int64_t>(std::floor(*ended)));
}

/// A zagent.getCrashRecords reply: an array of objects. False, with the failure, otherwise;
/// BAD_NAME is `NAME: ERROR (no such process)`.
bool read_records(VerbResult& r, const CallResult<Json>& reply, const std::string& name,
                  std::vector<Json>& records) {
  if (!reply) {
    if (reply.error().fault() == Fault::BadName) {
      r.fail(fmt::format("{}: ERROR (no such process)", name), exit_code::kGeneric);
    } else {
      r.unexpected(reply.error());
    }
    return false;
  }
  if (!reply->is_array()) {
    r.bad_reply(kMethod);
    return false;
  }
  for (const Json& record : *reply) {
    if (!record.is_object()) {
      r.bad_reply(kMethod);
      return false;
    }
  }
  records.assign(reply->begin(), reply->end());
  return true;
}

/// The connection check and the records call in one round trip (both only read). False, with
/// the failure, when either failed.
bool fetch(Session& s, VerbResult& r, Json params, const std::string& name,
           std::vector<Json>& records) {
  const auto replies =
      s.client->call_all({get_version_call(), {std::string(kMethod), std::move(params)}});
  return upcheck_reply(s, r, replies.front(), /*for_status=*/false) &&
         read_records(r, replies.back(), name, records);
}

// ---------------------------------------------------------------------------------------------
// why

struct WhyResult : VerbResult {
  bool fetched = false;        ///< the records were read (JSON is the record or null)
  std::string name;            ///< as given
  std::optional<Json> record;  ///< the newest record; none: no crash on record
};

/// The first line: `web: oom_killed (certain), pid 4242, terminated by SIGKILL, uptime 1:02:44`.
std::string why_headline(const std::string& name, const Json& record) {
  const std::string program = string_field(record, "program").value_or(name);
  std::string line = fmt::format("{}: {} ({}", program, str_field(record, "cause"),
                                 str_field(record, "confidence"));
  if (bool_field(record, "expected")) {
    line += ", expected";
  }
  line += ')';
  const auto pid = number_field(record, "pid");
  if (pid) {
    line += fmt::format(", pid {}", static_cast<std::int64_t>(*pid));
  }
  const std::string description = string_field(record, "description").value_or("");
  if (!description.empty()) {
    line += ", " + description;
  }
  // A spawn failure (no pid) never ran: no uptime.
  const auto uptime = number_field(record, "uptime_seconds");
  if (pid && uptime) {
    line += ", uptime " + uptime_text(*uptime);
  }
  return line;
}

std::string why_text(const std::string& name, const Json& record) {
  std::string out = why_headline(name, record) + "\n";
  if (const auto ended = ended_text(record)) {
    out += fmt::format("  ended: {} UTC\n", *ended);
  }
  const std::string note = string_field(record, "note").value_or("");
  if (!note.empty()) {
    out += indented(note, "  note: ");
  }
  const auto evidence = record.find("evidence");
  if (evidence != record.end() && evidence->is_array() && !evidence->empty()) {
    out += "  evidence:\n";
    for (const Json& e : *evidence) {
      out += indented(str_field(e, "text"), fmt::format("    {}: ", str_field(e, "source")));
    }
  }
  const auto output = record.find("last_output");
  if (output != record.end()) {
    for (const char* channel : {"stdout", "stderr"}) {
      const auto lines = lines_field(*output, channel);
      if (lines.empty()) {
        continue;
      }
      out += fmt::format("  last {}:\n", channel);
      for (const std::string& line : lines) {
        out += indented(line, "    ");
      }
    }
  }
  const auto snapshot = string_field(record, "snapshot");
  out += fmt::format("  snapshot: {}\n", snapshot.value_or("none"));
  const std::string snapshot_error = string_field(record, "snapshot_error").value_or("");
  if (!snapshot_error.empty()) {
    out += indented(snapshot_error, "  snapshot error: ");
  }
  return out;
}

std::string to_text(const WhyResult& r) {
  if (!r.fetched) {
    return {};
  }
  if (!r.record) {
    return fmt::format("{}: no crash on record\n", r.name);
  }
  return why_text(r.name, *r.record);
}

Json to_json(const WhyResult& r) {
  if (!r.fetched || !r.ok()) {
    return Json::object();
  }
  return r.record ? *r.record : Json(nullptr);
}

WhyResult why(Session& s, const std::vector<std::string>& words) {
  WhyResult r;
  if (!require_names(r, words, "why", exit_code::kGeneric)) {
    return r;
  }
  if (words.size() > 1) {
    r.fail("Error: too many arguments", exit_code::kGeneric, "why");
    return r;
  }
  r.name = words.front();
  std::vector<Json> records;
  if (!fetch(s, r, Json{{"name", r.name}, {"limit", 1}}, r.name, records)) {
    return r;
  }
  r.fetched = true;
  if (!records.empty()) {
    r.record = std::move(records.front());
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// crashes

struct CrashesResult : VerbResult {
  bool fetched = false;  ///< the records were read (JSON is the array)
  std::vector<Json> records;
};

/// EXIT: the exit code, else the signal's name, else `-`.
std::string exit_column(const Json& record) {
  if (const auto code = number_field(record, "exit_code")) {
    return std::to_string(static_cast<std::int64_t>(*code));
  }
  if (auto signal = string_field(record, "signal")) {
    return *signal;
  }
  return "-";
}

std::string crashes_table(const std::vector<Json>& records) {
  std::vector<std::vector<std::string>> rows{
      {"TIME", "PROGRAM", "CAUSE", "EXIT", "UPTIME", "CONFIDENCE"}};
  for (const Json& record : records) {
    const auto uptime = number_field(record, "uptime_seconds");
    const bool ran = number_field(record, "pid").has_value();
    rows.push_back({ended_text(record).value_or("-"), str_field(record, "program"),
                    str_field(record, "cause"), exit_column(record),
                    ran && uptime ? uptime_text(*uptime) : "-", str_field(record, "confidence")});
  }
  return column_table(rows);
}

std::string to_text(const CrashesResult& r) {
  if (!r.fetched) {
    return {};
  }
  if (r.records.empty()) {
    return "no crashes on record\n";
  }
  return crashes_table(r.records);
}

Json to_json(const CrashesResult& r) {
  if (!r.fetched || !r.ok()) {
    return Json::object();
  }
  return Json(r.records);
}

/// `-n N`'s value: a count of 0 (all) or more.
std::optional<std::int64_t> parse_count(std::string_view text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
    return std::nullopt;
  }
  return n;
}

CrashesResult crashes(Session& s, const std::vector<std::string>& words) {
  CrashesResult r;
  std::optional<std::string> name;
  std::int64_t limit = kDefaultLimit;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "-n" || (word.starts_with("-n") && word.size() > 2)) {
      std::string_view value;
      if (word != "-n") {
        value = std::string_view(word).substr(2);
      } else if (i + 1 < words.size()) {
        value = words[++i];
      }
      const auto count = parse_count(value);
      if (!count) {
        r.fail("Error: -n requires a number of records", exit_code::kInvalidArgs, "crashes");
        return r;
      }
      limit = *count;
    } else if (word.starts_with('-')) {
      r.fail(fmt::format("Error: unknown option {}", word), exit_code::kInvalidArgs, "crashes");
      return r;
    } else if (name) {
      r.fail("Error: too many arguments", exit_code::kGeneric, "crashes");
      return r;
    } else {
      name = word;
    }
  }
  Json params{{"limit", limit}};
  if (name) {
    params["name"] = *name;
  }
  r.fetched = fetch(s, r, std::move(params), name.value_or(""), r.records);
  return r;
}

}  // namespace

Outcome verb_why(Session& s, const VerbCall& call) { return emit(s, why(s, call.words)); }

Outcome verb_crashes(Session& s, const VerbCall& call) { return emit(s, crashes(s, call.words)); }

}  // namespace zagent::ctl
