#include "agent/crash/crash_record.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace zagent {
namespace {

using Json = nlohmann::json;

template <typename T>
Json nullable(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

template <typename T>
bool read_nullable(const Json& j, const char* key, std::optional<T>& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    out.reset();
    return true;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) {
      return false;
    }
  } else if (!it->is_number_integer()) {
    return false;
  }
  out = it->get<T>();
  return true;
}

bool read_lines(const Json& j, std::vector<std::string>& out) {
  if (!j.is_array()) {
    return false;
  }
  for (const auto& line : j) {
    if (!line.is_string()) {
      return false;
    }
    out.push_back(line.get<std::string>());
  }
  return true;
}

}  // namespace

nlohmann::json crash_record_json(const CrashRecord& r) {
  Json j = Json::object();
  j["program"] = r.program;
  j["cause"] = std::string(cause_name(r.cause.kind));
  j["confidence"] = std::string(confidence_name(r.cause.confidence));
  j["expected"] = r.cause.expected;
  j["exit_code"] = nullable(r.exit_code);
  j["signal"] = nullable(r.signal);
  j["core_dumped"] = r.core_dumped;
  j["shell_status"] = nullable(r.shell_status);
  j["pid"] = r.pid ? Json(static_cast<std::int64_t>(*r.pid)) : Json(nullptr);
  j["started"] = r.started;
  j["ended"] = r.ended;
  j["uptime_seconds"] = std::round(r.uptime_seconds * 1000.0) / 1000.0;
  j["description"] = r.description;
  j["note"] = r.cause.note;
  Json evidence = Json::array();
  for (const auto& e : r.cause.evidence) {
    evidence.push_back({{"source", e.source}, {"text", e.text}});
  }
  j["evidence"] = std::move(evidence);
  j["last_output"] = {{"stdout", r.last_stdout}, {"stderr", r.last_stderr}};
  j["snapshot"] = nullable(r.snapshot);
  j["snapshot_error"] = nullable(r.snapshot_error);
  j["resources"] = r.resources ? *r.resources : nlohmann::json(nullptr);
  j["gpu"] = r.gpu ? *r.gpu : nlohmann::json(nullptr);
  j["health"] = r.health ? *r.health : nlohmann::json(nullptr);
  return j;
}

std::optional<CrashRecord> crash_record_from_json(const nlohmann::json& j) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  CrashRecord r;
  const auto str = [&](const char* key, std::string& out) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  std::string cause;
  std::string confidence;
  if (!str("program", r.program) || !str("cause", cause) || !str("confidence", confidence)) {
    return std::nullopt;
  }
  const auto kind = cause_from_name(cause);
  const auto conf = confidence_from_name(confidence);
  if (!kind || !conf) {
    return std::nullopt;
  }
  r.cause.kind = *kind;
  r.cause.confidence = *conf;
  (void)str("description", r.description);
  (void)str("note", r.cause.note);
  const auto flag = [&](const char* key, bool& out) {
    const auto it = j.find(key);
    if (it != j.end() && it->is_boolean()) {
      out = it->get<bool>();
    }
  };
  flag("expected", r.cause.expected);
  flag("core_dumped", r.core_dumped);
  std::optional<std::int64_t> pid;
  if (!read_nullable(j, "exit_code", r.exit_code) || !read_nullable(j, "signal", r.signal) ||
      !read_nullable(j, "shell_status", r.shell_status) || !read_nullable(j, "pid", pid) ||
      !read_nullable(j, "snapshot", r.snapshot) ||
      !read_nullable(j, "snapshot_error", r.snapshot_error)) {
    return std::nullopt;
  }
  if (pid) {
    r.pid = static_cast<pid_t>(*pid);
  }
  if (const auto health = j.find("health"); health != j.end() && health->is_object()) {
    r.health = *health;
  }
  if (const auto gpu = j.find("gpu"); gpu != j.end() && gpu->is_object()) {
    r.gpu = *gpu;
  }
  if (const auto res = j.find("resources"); res != j.end() && res->is_object()) {
    r.resources = *res;
  }
  const auto started = j.find("started");
  const auto ended = j.find("ended");
  const auto uptime = j.find("uptime_seconds");
  if (started == j.end() || !started->is_number_integer() || ended == j.end() ||
      !ended->is_number_integer() || uptime == j.end() || !uptime->is_number()) {
    return std::nullopt;
  }
  r.started = started->get<std::int64_t>();
  r.ended = ended->get<std::int64_t>();
  r.uptime_seconds = uptime->get<double>();
  if (const auto ev = j.find("evidence"); ev != j.end() && ev->is_array()) {
    for (const auto& e : *ev) {
      if (e.is_object() && e.contains("source") && e["source"].is_string() &&
          e.contains("text") && e["text"].is_string()) {
        r.cause.evidence.push_back({e["source"].get<std::string>(), e["text"].get<std::string>()});
      }
    }
  }
  if (const auto out = j.find("last_output"); out != j.end() && out->is_object()) {
    if (out->contains("stdout") && !read_lines((*out)["stdout"], r.last_stdout)) {
      return std::nullopt;
    }
    if (out->contains("stderr") && !read_lines((*out)["stderr"], r.last_stderr)) {
      return std::nullopt;
    }
  }
  return r;
}

void CrashLog::add(CrashRecord record) {
  auto& list = by_program_[record.program];
  auto& seqs = seq_[record.program];
  list.push_front(std::move(record));
  seqs.push_front(next_seq_++);
  while (list.size() > kRecordsPerProgram) {
    list.pop_back();
    seqs.pop_back();
  }
}

void CrashLog::load(std::vector<CrashRecord> records) {
  // Oldest first, so that add() leaves the newest at the front.
  std::stable_sort(records.begin(), records.end(),
                   [](const CrashRecord& a, const CrashRecord& b) { return a.ended < b.ended; });
  for (auto& r : records) {
    add(std::move(r));
  }
}

std::vector<CrashRecord> CrashLog::newest(const std::string& program, std::size_t limit) const {
  std::vector<std::pair<std::uint64_t, const CrashRecord*>> all;
  for (const auto& [name, list] : by_program_) {
    if (!program.empty() && name != program) {
      continue;
    }
    const auto& seqs = seq_.at(name);
    for (std::size_t i = 0; i < list.size(); ++i) {
      all.emplace_back(seqs[i], &list[i]);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.second->ended != b.second->ended) {
      return a.second->ended > b.second->ended;
    }
    return a.first > b.first;
  });
  std::vector<CrashRecord> out;
  for (const auto& [seq, r] : all) {
    if (limit != 0 && out.size() == limit) {
      break;
    }
    out.push_back(*r);
  }
  return out;
}

const CrashRecord* CrashLog::last(const std::string& program) const {
  const auto it = by_program_.find(program);
  return it == by_program_.end() || it->second.empty() ? nullptr : &it->second.front();
}

void CrashLog::snapshot_failed(const std::string& program, const std::string& path,
                               const std::string& error) {
  const auto it = by_program_.find(program);
  if (it == by_program_.end()) {
    return;
  }
  for (auto& r : it->second) {
    if (r.snapshot == path) {
      r.snapshot.reset();
      r.snapshot_error = error;
    }
  }
}

}  // namespace zagent
