#include "agent/crash/snapshot.h"

#include <fmt/format.h>

#include "agent/config/config_json.h"

namespace zagent {
namespace {

using Json = nlohmann::json;

std::string cause_phrase(const CrashRecord& r) {
  switch (r.cause.kind) {
    case CauseKind::Exited:
      return fmt::format("exited with status {}", r.exit_code.value_or(-1));
    case CauseKind::Signaled:
      return fmt::format("was terminated by {}{}", r.signal.value_or("a signal"),
                         r.core_dumped ? " (core dumped)" : "");
    case CauseKind::OomKilled:
      return "was killed by the kernel OOM killer";
    case CauseKind::SpawnFailed:
      return "could not be spawned";
    case CauseKind::Stopped:
      return "was stopped";
    case CauseKind::StopTimeout:
      return "did not stop within stopwaitsecs and was killed with SIGKILL";
    case CauseKind::MemoryLimit:
    case CauseKind::MemoryGrowth:
    case CauseKind::CpuLimit:
    case CauseKind::OutputPattern:
    case CauseKind::GpuWatermark:
    case CauseKind::GpuMemoryLimit:
    case CauseKind::HealthFailed:
      return fmt::format("was restarted by its guardian ({})", cause_name(r.cause.kind));
  }
  return "ended";
}

}  // namespace

std::string crash_line(const std::string& name, const CrashRecord& record) {
  std::string line = fmt::format("{} {}", name, cause_phrase(record));
  if (!record.cause.evidence.empty()) {
    const Evidence& e = record.cause.evidence.front();
    line += fmt::format(" ({}: {} \"{}\")", confidence_name(record.cause.confidence), e.source,
                        e.text);
  }
  if (!record.cause.note.empty()) {
    line += "; " + record.cause.note;
  }
  if (record.snapshot) {
    line += "; snapshot " + *record.snapshot;
  }
  return line;
}

nlohmann::json snapshot_json(const SnapshotInput& in) {
  Json j = Json::object();
  j["format"] = "zagent-crash-snapshot";
  j["version"] = 1;
  j["record"] = crash_record_json(in.record);
  Json config = Json::parse(process_to_json(in.config).dump(-1, ' ', false,
                                                           Json::error_handler_t::replace));
  if (!in.environment_values) {
    config.erase("environment");  // values stay hidden (crash_env_values)
  }
  j["config"] = std::move(config);
  if (in.environment_values) {
    Json env = Json::object();
    for (const auto& kv : in.environment) {
      const auto eq = kv.find('=');
      env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    j["environment"] = std::move(env);
  } else {
    Json names = Json::array();
    for (const auto& kv : in.environment) {
      names.push_back(kv.substr(0, kv.find('=')));
    }
    j["environment"] = std::move(names);
  }
  j["output"] = {{"stdout", in.stdout_lines}, {"stderr", in.stderr_lines}};
  if (in.command_output) {
    std::string out = *in.command_output;
    if (out.size() > kSnapshotCommandOutputCap) {
      out.resize(kSnapshotCommandOutputCap);
    }
    j["snapshot_command"] = {{"command", in.config.snapshot_command}, {"output", out}};
  } else {
    j["snapshot_command"] = nullptr;
  }
  // The resource samples and the GPU state; the machine's memory is filled by the store.
  j["resources"] = in.resources ? *in.resources : nlohmann::json(nullptr);
  j["gpu"] = in.gpu ? *in.gpu : nlohmann::json(nullptr);
  j["memory"] = nullptr;
  return j;
}

}  // namespace zagent
