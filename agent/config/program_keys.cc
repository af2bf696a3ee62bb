#include "agent/config/program_keys.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "agent/config/config_json.h"
#include "agent/config/loader.h"
#include "agent/config/value_parsers.h"
#include "agent/monitor/output_patterns.h"
#include "common/pystr.h"

namespace zagent {
namespace {

using P = ProcessConfig;
using C = LogChannelConfig;
using R = loading::ProgramKeyReader;
using OJson = nlohmann::ordered_json;
using Json = nlohmann::json;
constexpr KeyStage kFixed = KeyStage::Fixed;
constexpr KeyStage kSection = KeyStage::Section;
constexpr KeyStage kProcess = KeyStage::Process;

// --- column helpers; `Path` is a member path such as &P::stdout_log, &C::maxbytes -----------

template <auto Parse, auto... Path>
void read_value(R& r) {
  r.value((r.process() .* ... .* Path), Parse);
}

template <auto... Path>
OJson dump(const P& p) {
  return (p .* ... .* Path);
}

template <auto... Path>
Json info(const ConfigInfoSource& s) {
  return (s.process .* ... .* Path);
}

template <auto Field>
void read_seconds(R& r) {
  r.value(r.process().*Field, [&r](std::string_view v) { return parse_seconds(r.key(), v); });
}

template <auto Field, std::int64_t Min, std::int64_t Max>
void read_bounded(R& r) {
  r.value(r.process().*Field,
          [&r](std::string_view v) { return parse_integer_in(r.key(), v, Min, Max); });
}

// Whole seconds as an integer (`5`), otherwise a decimal (`0.5`): what the user wrote.
template <auto Field>
OJson dump_seconds(const P& p) {
  const std::chrono::milliseconds ms = p.*Field;
  if (ms.count() % 1000 == 0) {
    return ms.count() / 1000;
  }
  return static_cast<double>(ms.count()) / 1000.0;
}

// --- readers of the keys with their own rules -------------------------------------------------

void read_priority(R& r) {
  // The priority's error itself is reported (without a suffix) by the group loader.
  const std::int64_t fallback = r.section().name.starts_with("eventlistener:") ? -1 : 999;
  const IniOption* option = r.option();
  if (option == nullptr) {
    r.process().priority = fallback;
    return;
  }
  if (auto text = r.expand_text(option->value, r.section().name + ".priority")) {
    r.process().priority = value_or(parse_integer(*text), fallback);
  }
}

void read_killasgroup(R& r) {
  r.process().killasgroup = r.process().stopasgroup;  // supervisord's default
  r.value(r.process().killasgroup, parse_boolean);
}

void read_numprocs_start(R& r) { r.value(r.draft().numprocs_start, parse_integer); }

void read_serverurl(R& r) {
  if (auto url = r.text()) {
    if (ascii_lower(py_strip(*url)) != "auto") {
      r.process().serverurl = *url;
    }
  }
}

void read_user(R& r) {
  // supervisord compat: resolved while the section is read, unlike [supervisord] user=.
  if (auto user = r.text()) {
    if (auto spec = r.loader().resolve_user(*user)) {
      r.process().user = *spec;
    } else {
      r.error(spec.error().message);
    }
  }
}

void read_process_name(R& r) {
  // supervisord compat: the name check runs on the unexpanded text only; the name is expanded
  // for each process once its other keys are read.
  if (const IniOption* option = r.option()) {
    if (auto checked = parse_process_name(option->value)) {
      r.draft().process_name = *checked;
    } else {
      r.error(checked.error().message);
    }
  }
}

void read_environment(R& r) {
  const IniOption* option = r.option();
  ProcessConfig& p = r.process();
  if (auto env = r.expand_text(option != nullptr ? option->value : "", "environment"); !env) {
    r.error(env.error().message);
  } else if (auto pairs = parse_environment(*env); !pairs) {
    r.error(pairs.error().message);
  } else {
    p.environment = *pairs;
  }
  for (const auto& [k, v] : p.environment) {
    r.names()["ENV_" + k] = v;
  }
}

void read_growth_action(R& r) {
  r.value(r.process().memory_growth_action, [](std::string_view v) -> Result<GrowthAction> {
    const std::string word = ascii_lower(py_strip(v));
    if (word == "warn") {
      return GrowthAction::Warn;
    }
    if (word == "restart") {
      return GrowthAction::Restart;
    }
    return fail(invalid_value("memory_growth_action", v, "use warn or restart"));
  });
}

// `95`, `95%`, `150.5`: percent of one core (several cores: more than 100). Taken as written,
// without %(...)s expansion, so that `95%` needs no doubling.
Result<double> parse_cpu_limit(std::string_view v) {
  std::string text(py_strip(v));
  if (text.ends_with('%')) {
    text.pop_back();
  }
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(value >= 0) || value > 1e6) {
    return fail(invalid_value("cpu_limit", v, "a percentage of one core, such as 95"));
  }
  return value;
}

void read_cpu_limit(R& r) {
  if (const IniOption* option = r.option()) {
    if (auto value = parse_cpu_limit(option->value)) {
      r.process().cpu_limit = *value;
    } else {
      r.error(value.error().message);
    }
  }
}

void read_trend_window(R& r) {
  r.value(r.process().memory_trend_window,
          [](std::string_view v) -> Result<std::optional<std::chrono::milliseconds>> {
            auto window = parse_seconds("memory_trend_window", v);
            if (!window) {
              return window.error();
            }
            if (window->count() == 0) {
              return fail(invalid_value("memory_trend_window", v, "must be more than 0"));
            }
            return std::optional<std::chrono::milliseconds>(*window);
          });
}

// A PCRE2 pattern, or @sets: compiled here so that a bad one is a config error with its line.
// The value is taken as written (no %(...)s expansion: a pattern may hold a '%').
void read_restart_on_output(R& r) {
  const IniOption* option = r.option();
  if (option == nullptr) {
    return;
  }
  auto compiled = OutputPattern::compile(option->value);
  if (!compiled) {
    r.error(invalid_value("restart_on_output", option->value, compiled.error().message));
    return;
  }
  r.process().restart_on_output = compiled->spec();
}

// gpu_devices: `auto`, or a comma list of indices (`0,1`) and UUIDs (`GPU-…`, `MIG-…`).
Result<std::vector<std::string>> parse_gpu_devices(std::string_view v) {
  std::vector<std::string> devices;
  const std::string text(py_strip(v));
  if (ascii_lower(text) == "auto") {
    return devices;
  }
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string token(py_strip(std::string_view(text).substr(pos, comma - pos)));
    const bool index = !token.empty() && token.size() <= 3 &&
                       std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
    const bool uuid = (token.starts_with("GPU-") || token.starts_with("MIG-")) && token.size() > 4;
    if (!index && !uuid) {
      return fail(invalid_value("gpu_devices", v,
                                "use auto, or device indices and UUIDs (0,1 or GPU-...)"));
    }
    devices.push_back(token);
    pos = comma + 1;
  }
  return devices;
}

// `%(pid)s` is only known when the command runs: it survives the expansion here.
void read_healthcheck(R& r) {
  r.value(r.process().healthcheck,
          [](std::string_view v) -> Result<std::optional<HealthCheckSpec>> {
            auto spec = parse_healthcheck(v);
            if (!spec) {
              return fail(invalid_value("healthcheck", v, spec.error().message));
            }
            return std::optional<HealthCheckSpec>(std::move(*spec));
          });
}

// Positive seconds: a zero interval or timeout would check without pause.
template <auto Field>
void read_positive_seconds(R& r) {
  r.value(r.process().*Field, [&r](std::string_view v) -> Result<std::chrono::milliseconds> {
    auto seconds = parse_seconds(r.key(), v);
    if (seconds && seconds->count() <= 0) {
      return fail(invalid_value(r.key(), v, "must be more than 0"));
    }
    return seconds;
  });
}

void read_depends_on(R& r) {
  r.value(r.process().depends_on, [](std::string_view v) -> Result<std::vector<std::string>> {
    return split_comma_list(v);
  });
}

void read_snapshot_command(R& r) {
  const IniOption* option = r.option();
  if (option == nullptr) {
    return;
  }
  FormatNames names = r.names();
  names["pid"] = "%(pid)s";
  auto value = expand(option->value, names, r.section().name + ".snapshot_command");
  if (!value) {
    r.error(value.error().message);
    return;
  }
  r.process().snapshot_command = *value;
}

void read_directory(R& r) { r.process().directory = r.text(); }

void read_command(R& r) {
  if (r.option() == nullptr) {
    r.section_error("program section " + r.section().name + " does not specify a command");
    r.stop();
    return;
  }
  if (auto command = r.text()) {
    r.process().command = *command;
  }
}

template <auto Channel>
void read_logfile(R& r) {
  const IniOption* option = r.option();
  if (option == nullptr) {
    return;
  }
  // supervisord compat: log paths are expanded twice (so a literal % is %%%%).
  auto once = r.expand_text(option->value, r.section().name + "." + std::string(r.key()));
  auto twice = once ? r.expand_text(*once, r.key()) : once;
  if (!twice) {
    r.error(twice.error().message);
    return;
  }
  LogChannelConfig& log = r.process().*Channel;
  log.logfile = classify_log_target(*twice);
  if (log.logfile.kind == LogTargetKind::Path) {
    if (auto checked = r.loader().existing_dirpath(*twice)) {
      log.logfile.path = *checked;
    } else {
      r.error(checked.error().message);
    }
  }
}

// --- JSON and getAllConfigInfo values ---------------------------------------------------------

OJson dump_optional(const std::optional<std::string>& v) { return v ? OJson(*v) : OJson(nullptr); }

template <auto Channel>
OJson dump_logfile(const P& p) {
  const LogTarget& t = (p.*Channel).logfile;
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

// supervisord compat: an active process's AUTO log shows its real file; otherwise 'auto',
// and 'none' for NONE or syslog.
template <auto Channel>
Json info_logfile(const ConfigInfoSource& s) {
  const std::string* real = Channel == &P::stdout_log ? s.real_stdout_log : s.real_stderr_log;
  const LogTarget& t = (s.process.*Channel).logfile;
  switch (t.kind) {
    case LogTargetKind::Auto:
      return real != nullptr && !real->empty() ? Json(*real) : Json("auto");
    case LogTargetKind::None:
    case LogTargetKind::Syslog:
      return "none";
    case LogTargetKind::Path:
      return t.path;
  }
  return "none";
}

// supervisord compat: getAllConfigInfo writes a missing value as the string 'none'.
Json none_or(const std::optional<std::string>& v) { return v ? Json(*v) : Json("none"); }

// clang-format off
// key, stage, read rank, read: the INI side; then the --dump-config key and value; then the
// getAllConfigInfo key and value. One row per key (docs/config.md, "[program:x]").
const std::array kRows = {
  ProgramKey{"process_name", kSection, 250, read_process_name,
             "name", [](const P& p) -> OJson { return p.name; },
             "name", [](const ConfigInfoSource& s) -> Json { return s.process.name; }},
  ProgramKey{"group", kFixed, 0, nullptr,
             "group", dump<&P::group>,
             "group", [](const ConfigInfoSource& s) -> Json { return s.group.name; }},
  ProgramKey{"program_name", kFixed, 0, nullptr,
             "program_name", dump<&P::program_name>, "", nullptr},
  ProgramKey{"process_num", kFixed, 0, nullptr, "process_num", dump<&P::process_num>, "", nullptr},
  ProgramKey{"numprocs", kSection, 160, read_value<parse_integer, &P::numprocs>,
             "numprocs", dump<&P::numprocs>, "", nullptr},
  ProgramKey{"numprocs_start", kSection, 170, read_numprocs_start, "", nullptr, "", nullptr},
  ProgramKey{"command", kProcess, 110, read_command,
             "command", dump<&P::command>, "command", info<&P::command>},
  ProgramKey{"directory", kProcess, 20, read_directory,
             "directory", [](const P& p) { return dump_optional(p.directory); },
             "directory",
             [](const ConfigInfoSource& s) { return none_or(s.process.directory); }},
  ProgramKey{"umask", kSection, 240, read_value<parse_octal, &P::umask>,
             "umask",
             [](const P& p) { return p.umask ? OJson(octal_text(*p.umask)) : OJson(nullptr); },
             "", nullptr},
  ProgramKey{"priority", kSection, 10, read_priority,
             "priority", dump<&P::priority>, "process_prio", info<&P::priority>},
  ProgramKey{"autostart", kSection, 20, read_value<parse_boolean, &P::autostart>,
             "autostart", dump<&P::autostart>, "autostart", info<&P::autostart>},
  ProgramKey{"autorestart", kSection, 30, read_value<parse_autorestart, &P::autorestart>,
             "autorestart", [](const P& p) -> OJson { return autorestart_word(p.autorestart); },
             "", nullptr},
  ProgramKey{"startsecs", kSection, 40, read_value<parse_integer, &P::startsecs>,
             "startsecs", dump<&P::startsecs>, "startsecs", info<&P::startsecs>},
  ProgramKey{"startretries", kSection, 50, read_value<parse_integer, &P::startretries>,
             "startretries", dump<&P::startretries>, "startretries", info<&P::startretries>},
  ProgramKey{"exitcodes", kSection, 100, read_value<parse_exit_codes, &P::exitcodes>,
             "exitcodes", dump<&P::exitcodes>, "exitcodes", info<&P::exitcodes>},
  ProgramKey{"stopsignal", kSection, 60, read_value<parse_signal, &P::stopsignal>,
             "stopsignal", [](const P& p) -> OJson { return signal_name(p.stopsignal); },
             "stopsignal", info<&P::stopsignal>},
  ProgramKey{"stopwaitsecs", kSection, 70, read_value<parse_integer, &P::stopwaitsecs>,
             "stopwaitsecs", dump<&P::stopwaitsecs>, "stopwaitsecs", info<&P::stopwaitsecs>},
  ProgramKey{"stopasgroup", kSection, 80, read_value<parse_boolean, &P::stopasgroup>,
             "stopasgroup", dump<&P::stopasgroup>, "", nullptr},
  ProgramKey{"killasgroup", kSection, 90, read_killasgroup,
             "killasgroup", dump<&P::killasgroup>, "killasgroup", info<&P::killasgroup>},
  ProgramKey{"user", kSection, 230, read_user,
             "user", [](const P& p) -> OJson {
               return p.user ? OJson({{"name", p.user->name}, {"uid", p.user->uid},
                                      {"gid", p.user->gid}})
                             : OJson(nullptr); },
             "uid", [](const ConfigInfoSource& s) {
               return s.process.user ? Json(s.process.user->uid) : Json("none"); }},
  ProgramKey{"redirect_stderr", kSection, 110, read_value<parse_boolean, &P::redirect_stderr>,
             "redirect_stderr", dump<&P::redirect_stderr>,
             "redirect_stderr", info<&P::redirect_stderr>},

  ProgramKey{"stdout_logfile", kProcess, 30, read_logfile<&P::stdout_log>,
             "stdout_logfile", dump_logfile<&P::stdout_log>,
             "stdout_logfile", info_logfile<&P::stdout_log>},
  ProgramKey{"stdout_logfile_maxbytes", kProcess, 50,
             read_value<parse_byte_size, &P::stdout_log, &C::maxbytes>,
             "stdout_logfile_maxbytes", dump<&P::stdout_log, &C::maxbytes>,
             "stdout_logfile_maxbytes", info<&P::stdout_log, &C::maxbytes>},
  ProgramKey{"stdout_logfile_backups", kProcess, 40,
             read_value<parse_integer, &P::stdout_log, &C::backups>,
             "stdout_logfile_backups", dump<&P::stdout_log, &C::backups>,
             "stdout_logfile_backups", info<&P::stdout_log, &C::backups>},
  ProgramKey{"stdout_capture_maxbytes", kSection, 180,
             read_value<parse_byte_size, &P::stdout_log, &C::capture_maxbytes>,
             "stdout_capture_maxbytes", dump<&P::stdout_log, &C::capture_maxbytes>,
             "stdout_capture_maxbytes", info<&P::stdout_log, &C::capture_maxbytes>},
  ProgramKey{"stdout_events_enabled", kSection, 190,
             read_value<parse_boolean, &P::stdout_log, &C::events_enabled>,
             "stdout_events_enabled", dump<&P::stdout_log, &C::events_enabled>,
             "stdout_events_enabled", info<&P::stdout_log, &C::events_enabled>},
  ProgramKey{"stdout_syslog", kProcess, 60, read_value<parse_boolean, &P::stdout_log, &C::syslog>,
             "stdout_syslog", dump<&P::stdout_log, &C::syslog>,
             "stdout_syslog", info<&P::stdout_log, &C::syslog>},

  ProgramKey{"stderr_logfile", kProcess, 70, read_logfile<&P::stderr_log>,
             "stderr_logfile", dump_logfile<&P::stderr_log>,
             "stderr_logfile", info_logfile<&P::stderr_log>},
  ProgramKey{"stderr_logfile_maxbytes", kProcess, 90,
             read_value<parse_byte_size, &P::stderr_log, &C::maxbytes>,
             "stderr_logfile_maxbytes", dump<&P::stderr_log, &C::maxbytes>,
             "stderr_logfile_maxbytes", info<&P::stderr_log, &C::maxbytes>},
  ProgramKey{"stderr_logfile_backups", kProcess, 80,
             read_value<parse_integer, &P::stderr_log, &C::backups>,
             "stderr_logfile_backups", dump<&P::stderr_log, &C::backups>,
             "stderr_logfile_backups", info<&P::stderr_log, &C::backups>},
  ProgramKey{"stderr_capture_maxbytes", kSection, 200,
             read_value<parse_byte_size, &P::stderr_log, &C::capture_maxbytes>,
             "stderr_capture_maxbytes", dump<&P::stderr_log, &C::capture_maxbytes>,
             "stderr_capture_maxbytes", info<&P::stderr_log, &C::capture_maxbytes>},
  ProgramKey{"stderr_events_enabled", kSection, 210,
             read_value<parse_boolean, &P::stderr_log, &C::events_enabled>,
             "stderr_events_enabled", dump<&P::stderr_log, &C::events_enabled>,
             "stderr_events_enabled", info<&P::stderr_log, &C::events_enabled>},
  ProgramKey{"stderr_syslog", kProcess, 100, read_value<parse_boolean, &P::stderr_log, &C::syslog>,
             "stderr_syslog", dump<&P::stderr_log, &C::syslog>,
             "stderr_syslog", info<&P::stderr_log, &C::syslog>},

  ProgramKey{"environment", kProcess, 10, read_environment,
             "environment", [](const P& p) { return environment_to_json(p.environment); },
             "", nullptr},
  ProgramKey{"serverurl", kSection, 220, read_serverurl,
             "serverurl",
             [](const P& p) { return p.serverurl ? OJson(*p.serverurl) : OJson("AUTO"); },
             "serverurl", [](const ConfigInfoSource& s) { return none_or(s.process.serverurl); }},

  // zagent extensions (docs/config.md): restart delay, backoff cap, crash-loop limit, the
  // stop's tree sweep.
  ProgramKey{"restart_delay", kSection, 120, read_seconds<&P::restart_delay>,
             "restart_delay", dump_seconds<&P::restart_delay>, "", nullptr},
  ProgramKey{"restart_delay_max", kSection, 130, read_seconds<&P::restart_delay_max>,
             "restart_delay_max", dump_seconds<&P::restart_delay_max>, "", nullptr},
  ProgramKey{"crashloop_max_restarts", kSection, 140,
             read_bounded<&P::crashloop_max_restarts, 0, kMaxCrashloopRestarts>,
             "crashloop_max_restarts", dump<&P::crashloop_max_restarts>, "", nullptr},
  ProgramKey{"crashloop_window_secs", kSection, 150,
             read_bounded<&P::crashloop_window_secs, 1, kMaxSeconds>,
             "crashloop_window_secs", dump<&P::crashloop_window_secs>, "", nullptr},
  ProgramKey{"killastree", kSection, 160, read_value<parse_boolean, &P::killastree>,
             "killastree", dump<&P::killastree>, "", nullptr},
  // crash attribution (docs/crashes.md)
  ProgramKey{"snapshot_command", kProcess, 120, read_snapshot_command,
             "snapshot_command", dump<&P::snapshot_command>, "", nullptr},
  ProgramKey{"snapshot_timeout", kSection, 170,
             read_bounded<&P::snapshot_timeout, 1, kMaxSeconds>,
             "snapshot_timeout", dump<&P::snapshot_timeout>, "", nullptr},
  ProgramKey{"python_faulthandler", kSection, 180,
             read_value<parse_boolean, &P::python_faulthandler>,
             "python_faulthandler", dump<&P::python_faulthandler>, "", nullptr},
  // resource guards (docs/monitoring.md)
  ProgramKey{"memory_limit", kSection, 230, read_value<parse_byte_size, &P::memory_limit>,
             "memory_limit", dump<&P::memory_limit>, "", nullptr},
  ProgramKey{"memory_limit_for", kSection, 240, read_seconds<&P::memory_limit_for>,
             "memory_limit_for", dump_seconds<&P::memory_limit_for>, "", nullptr},
  ProgramKey{"memory_growth_limit", kSection, 250,
             read_value<parse_byte_size, &P::memory_growth_limit>,
             "memory_growth_limit", dump<&P::memory_growth_limit>, "", nullptr},
  ProgramKey{"memory_growth_action", kSection, 260, read_growth_action,
             "memory_growth_action",
             [](const P& p) {
               return OJson(p.memory_growth_action == GrowthAction::Restart ? "restart" : "warn");
             },
             "", nullptr},
  ProgramKey{"memory_trend_window", kSection, 270, read_trend_window,
             "memory_trend_window",
             [](const P& p) {
               return p.memory_trend_window
                          ? OJson(static_cast<double>(p.memory_trend_window->count()) / 1000.0)
                          : OJson(nullptr);
             },
             "", nullptr},
  ProgramKey{"cpu_limit", kSection, 280, read_cpu_limit,
             "cpu_limit", dump<&P::cpu_limit>, "", nullptr},
  ProgramKey{"cpu_limit_for", kSection, 290, read_seconds<&P::cpu_limit_for>,
             "cpu_limit_for", dump_seconds<&P::cpu_limit_for>, "", nullptr},
  ProgramKey{"restart_on_output", kSection, 300, read_restart_on_output,
             "restart_on_output", dump<&P::restart_on_output>, "", nullptr},
  // the GPU guardian (docs/gpu.md)
  ProgramKey{"gpu_devices", kSection, 310, read_value<parse_gpu_devices, &P::gpu_devices>,
             "gpu_devices",
             [](const P& p) { return p.gpu_devices.empty() ? OJson("auto") : OJson(p.gpu_devices); },
             "", nullptr},
  ProgramKey{"gpu_min_free", kSection, 320, read_value<parse_byte_size, &P::gpu_min_free>,
             "gpu_min_free", dump<&P::gpu_min_free>, "", nullptr},
  ProgramKey{"gpu_min_free_for", kSection, 330, read_seconds<&P::gpu_min_free_for>,
             "gpu_min_free_for", dump_seconds<&P::gpu_min_free_for>, "", nullptr},
  ProgramKey{"gpu_start_min_free", kSection, 340,
             read_value<parse_byte_size, &P::gpu_start_min_free>,
             "gpu_start_min_free", dump<&P::gpu_start_min_free>, "", nullptr},
  ProgramKey{"gpu_start_timeout", kSection, 350, read_seconds<&P::gpu_start_timeout>,
             "gpu_start_timeout", dump_seconds<&P::gpu_start_timeout>, "", nullptr},
  ProgramKey{"gpu_memory_limit", kSection, 360, read_value<parse_byte_size, &P::gpu_memory_limit>,
             "gpu_memory_limit", dump<&P::gpu_memory_limit>, "", nullptr},
  // health checks and dependencies (docs/health.md)
  ProgramKey{"healthcheck", kProcess, 130, read_healthcheck, "healthcheck",
             [](const P& p) { return p.healthcheck ? OJson(p.healthcheck->text) : OJson(nullptr); },
             "", nullptr},
  ProgramKey{"healthcheck_interval", kSection, 370,
             read_positive_seconds<&P::healthcheck_interval>,
             "healthcheck_interval", dump_seconds<&P::healthcheck_interval>, "", nullptr},
  ProgramKey{"healthcheck_timeout", kSection, 380, read_positive_seconds<&P::healthcheck_timeout>,
             "healthcheck_timeout", dump_seconds<&P::healthcheck_timeout>, "", nullptr},
  ProgramKey{"healthcheck_retries", kSection, 390,
             read_bounded<&P::healthcheck_retries, 1, 1'000'000>,
             "healthcheck_retries", dump<&P::healthcheck_retries>, "", nullptr},
  ProgramKey{"healthcheck_start_timeout", kSection, 400,
             read_positive_seconds<&P::healthcheck_start_timeout>,
             "healthcheck_start_timeout", dump_seconds<&P::healthcheck_start_timeout>, "", nullptr},
  ProgramKey{"depends_on", kSection, 410, read_depends_on, "depends_on",
             dump<&P::depends_on>, "", nullptr},
};
// clang-format on

std::vector<const ProgramKey*> rows_read_in(KeyStage stage) {
  std::vector<const ProgramKey*> rows;
  for (const auto& row : kRows) {
    if (row.stage == stage) {
      rows.push_back(&row);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ProgramKey* a, const ProgramKey* b) {
    return a->read_rank < b->read_rank;
  });
  return rows;
}

}  // namespace

std::span<const ProgramKey> program_keys() { return kRows; }

const std::vector<const ProgramKey*>& program_keys_read_in(KeyStage stage) {
  static const std::vector<const ProgramKey*> kSectionRows = rows_read_in(KeyStage::Section);
  static const std::vector<const ProgramKey*> kProcessRows = rows_read_in(KeyStage::Process);
  static const std::vector<const ProgramKey*> kFixedRows = rows_read_in(KeyStage::Fixed);
  switch (stage) {
    case KeyStage::Section:
      return kSectionRows;
    case KeyStage::Process:
      return kProcessRows;
    case KeyStage::Fixed:
      break;
  }
  return kFixedRows;
}

bool is_program_key(std::string_view key) {
  return std::any_of(kRows.begin(), kRows.end(), [key](const ProgramKey& row) {
    return row.read != nullptr && row.key == key;
  });
}

}  // namespace zagent
