#include "agent/config/config_json.h"

#include <fmt/format.h>

namespace zagent {
namespace {

using Json = nlohmann::ordered_json;

Json optional_text(const std::optional<std::string>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json environment_to_json(const EnvironmentList& env) {
  Json out = Json::object();
  for (const auto& [k, v] : env) {
    out[k] = v;
  }
  return out;
}

Json log_target_to_json(const LogTarget& t) {
  switch (t.kind) {
    case LogTargetKind::Auto:
      return "AUTO";
    case LogTargetKind::None:
      return "NONE";
    case LogTargetKind::Syslog:
      return "syslog";
    case LogTargetKind::Path:
      return t.path;
  }
  return nullptr;
}

std::string octal(std::int64_t v) {
  return v < 0 ? fmt::format("-{:04o}", -v) : fmt::format("{:04o}", v);
}

// Whole seconds as an integer (`5`), otherwise a decimal (`0.5`): what the user wrote.
Json seconds_to_json(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) {
    return ms.count() / 1000;
  }
  return static_cast<double>(ms.count()) / 1000.0;
}

void channel_to_json(Json& out, const std::string& channel, const LogChannelConfig& c) {
  out[channel + "_logfile"] = log_target_to_json(c.logfile);
  out[channel + "_logfile_maxbytes"] = c.maxbytes;
  out[channel + "_logfile_backups"] = c.backups;
  out[channel + "_capture_maxbytes"] = c.capture_maxbytes;
  out[channel + "_events_enabled"] = c.events_enabled;
  out[channel + "_syslog"] = c.syslog;
}

}  // namespace

Json process_to_json(const ProcessConfig& p) {
  Json out;
  out["name"] = p.name;
  out["group"] = p.group;
  out["program_name"] = p.program_name;
  out["process_num"] = p.process_num;
  out["numprocs"] = p.numprocs;
  out["command"] = p.command;
  out["directory"] = optional_text(p.directory);
  out["umask"] = p.umask ? Json(octal(*p.umask)) : Json(nullptr);
  out["priority"] = p.priority;
  out["autostart"] = p.autostart;
  out["autorestart"] = autorestart_word(p.autorestart);
  out["startsecs"] = p.startsecs;
  out["startretries"] = p.startretries;
  out["exitcodes"] = p.exitcodes;
  out["stopsignal"] = signal_name(p.stopsignal);
  out["stopwaitsecs"] = p.stopwaitsecs;
  out["stopasgroup"] = p.stopasgroup;
  out["killasgroup"] = p.killasgroup;
  if (p.user) {
    out["user"] = {{"name", p.user->name}, {"uid", p.user->uid}, {"gid", p.user->gid}};
  } else {
    out["user"] = nullptr;
  }
  out["redirect_stderr"] = p.redirect_stderr;
  channel_to_json(out, "stdout", p.stdout_log);
  channel_to_json(out, "stderr", p.stderr_log);
  out["environment"] = environment_to_json(p.environment);
  out["serverurl"] = p.serverurl ? Json(*p.serverurl) : Json("AUTO");
  out["restart_delay"] = seconds_to_json(p.restart_delay);
  out["restart_delay_max"] = seconds_to_json(p.restart_delay_max);
  out["crashloop_max_restarts"] = p.crashloop_max_restarts;
  out["crashloop_window_secs"] = p.crashloop_window_secs;
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
  s["umask"] = octal(sd.umask);
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
  out["supervisord"] = s;

  if (c.unix_http_server) {
    const auto& u = *c.unix_http_server;
    Json j;
    j["file"] = u.file;
    j["chmod"] = octal(u.chmod);
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
