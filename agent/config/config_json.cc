#include "agent/config/config_json.h"

#include <fmt/format.h>

#include "agent/config/program_keys.h"

namespace zagent {
namespace {

using Json = nlohmann::ordered_json;

Json optional_text(const std::optional<std::string>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

Json environment_to_json(const EnvironmentList& env) {
  Json out = Json::object();
  for (const auto& [k, v] : env) {
    out[k] = v;
  }
  return out;
}

std::string octal_text(std::int64_t v) {
  return v < 0 ? fmt::format("-{:04o}", -v) : fmt::format("{:04o}", v);
}

Json process_to_json(const ProcessConfig& p) {
  Json out;
  for (const ProgramKey& row : program_keys()) {
    if (!row.json_key.empty()) {
      out[std::string(row.json_key)] = row.json(p);
    }
  }
  return out;
}

Json config_to_json(const AgentConfig& c) {
  Json out;
  out["config_file"] = c.config_file;
  out["here"] = c.here;
  out["included_files"] = c.included_files;
  const auto& sd = c.supervisord;
  Json s;
  s["logfile"] = sd.logfile;
  s["logfile_maxbytes"] = sd.logfile_maxbytes;
  s["logfile_backups"] = sd.logfile_backups;
  s["loglevel"] = log_level_word(sd.loglevel);
  s["pidfile"] = sd.pidfile;
  s["umask"] = octal_text(sd.umask);
  s["nodaemon"] = sd.nodaemon;
  s["silent"] = sd.silent;
  s["minfds"] = sd.minfds;
  s["minprocs"] = sd.minprocs;
  s["nocleanup"] = sd.nocleanup;
  s["childlogdir"] = sd.childlogdir;
  s["user"] = optional_text(sd.user);
  s["directory"] = optional_text(sd.directory);
  s["strip_ansi"] = sd.strip_ansi;
  s["environment"] = environment_to_json(sd.environment);
  s["identifier"] = sd.identifier;
  s["crash_dir"] = sd.crash_dir.empty() ? Json(nullptr) : Json(sd.crash_dir);
  s["crash_keep"] = sd.crash_keep;
  s["crash_lines"] = sd.crash_lines;
  s["crash_env_values"] = sd.crash_env_values;
  s["crash_attribution"] = sd.crash_attribution;
  const auto seconds = [](std::chrono::milliseconds ms) {
    return ms.count() % 1000 == 0 ? Json(ms.count() / 1000)
                                  : Json(static_cast<double>(ms.count()) / 1000.0);
  };
  s["sample_interval"] = seconds(sd.sample_interval);
  s["memory_trend_window"] = seconds(sd.memory_trend_window);
  static constexpr const char* kGpuModes[] = {"auto", "nvml", "nvidia-smi", "off"};
  s["gpu"] = kGpuModes[static_cast<int>(sd.gpu)];
  s["gpu_library"] = sd.gpu_library.empty() ? Json(nullptr) : Json(sd.gpu_library);
  s["gpu_sample_interval"] = seconds(sd.gpu_sample_interval);
  out["supervisord"] = s;

  if (c.unix_http_server) {
    const auto& u = *c.unix_http_server;
    Json j;
    j["file"] = u.file;
    j["chmod"] = octal_text(u.chmod);
    // -1 means "unchanged", as in chown(2).
    j["chown"] = u.chown_uid ? Json({{"uid", *u.chown_uid},
                                     {"gid", u.chown_gid ? Json(*u.chown_gid) : Json(-1)}})
                             : Json(nullptr);
    j["username"] = u.username.empty() ? Json(nullptr) : Json(u.username);
    j["password_set"] = !u.password.empty();
    out["unix_http_server"] = j;
  } else {
    out["unix_http_server"] = nullptr;
  }
  if (c.inet_http_server) {
    const auto& i = *c.inet_http_server;
    out["inet_http_server"] = {{"host", i.address.host},
                               {"port", i.address.port},
                               {"username", i.username.empty() ? Json(nullptr) : Json(i.username)},
                               {"password_set", !i.password.empty()}};
  } else {
    out["inet_http_server"] = nullptr;
  }
  out["rpcinterfaces"] = c.rpcinterfaces;

  Json groups = Json::array();
  for (const auto& g : c.groups) {
    Json jg;
    jg["name"] = g.name;
    jg["priority"] = g.priority;
    jg["kind"] = g.from_group_section ? "group" : "program";
    Json procs = Json::array();
    for (const auto& p : g.processes) {
      procs.push_back(process_to_json(p));
    }
    jg["processes"] = procs;
    groups.push_back(jg);
  }
  out["groups"] = groups;

  Json notes = Json::array();
  for (const auto& n : c.notes) {
    notes.push_back({{"level", log_level_tag(n.level)}, {"text", n.text}});
  }
  out["notes"] = notes;
  return out;
}

}  // namespace zagent
