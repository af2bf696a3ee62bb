// The [supervisord] section and the command-line values that override it.
#include "agent/config/loader.h"
#include "agent/config/value_parsers.h"
#include "common/pystr.h"

namespace zagent::loading {
namespace {

// supervisord compat: keys it reads in [supervisord]; others are noted as unknown.
const KeySet kSupervisordKeys = {
    "logfile",   "logfile_maxbytes", "logfile_backups", "loglevel",    "pidfile",
    "umask",     "nodaemon",         "silent",          "minfds",      "minprocs",
    "nocleanup", "childlogdir",      "user",            "directory",   "strip_ansi",
    "environment", "identifier",
    // zagent extensions (docs/crashes.md)
    "crash_dir", "crash_keep", "crash_lines", "crash_env_values", "crash_attribution",
    // zagent extensions (docs/monitoring.md)
    "sample_interval", "memory_trend_window",
    // zagent extensions (docs/gpu.md)
    "gpu", "gpu_library", "gpu_sample_interval",
};

}  // namespace

void Loader::load_supervisord(const IniSection& s) {
  auto& sd = config_.supervisord;
  const FormatNames names = base_names();
  // supervisord compat: errors in [supervisord] carry no section suffix.
  constexpr bool kNoSuffix = false;
  sd.minfds = value_of(s, "minfds", names, kNoSuffix, sd.minfds, parse_integer);
  sd.minprocs = value_of(s, "minprocs", names, kNoSuffix, sd.minprocs, parse_integer);
  if (auto dir = expanded(s, "directory", names, kNoSuffix)) {
    auto checked = existing_directory(*dir);
    if (checked) {
      sd.directory = *checked;
    } else {
      add_error(checked.error().message, &s, s.find("directory"), kNoSuffix);
    }
  }
  // Checked once the whole file is read (realize_supervisord()).
  if (auto user = expanded(s, "user", names, kNoSuffix)) {
    sd.user = *user;
  }
  sd.umask = value_of(s, "umask", names, kNoSuffix, sd.umask, parse_octal);
  const auto dirpath = [this](std::string_view v) { return existing_dirpath(v); };
  sd.logfile = value_of(s, "logfile", names, kNoSuffix, std::string("supervisord.log"), dirpath);
  sd.logfile_maxbytes =
      value_of(s, "logfile_maxbytes", names, kNoSuffix, sd.logfile_maxbytes, parse_byte_size);
  sd.logfile_backups =
      value_of(s, "logfile_backups", names, kNoSuffix, sd.logfile_backups, parse_integer);
  sd.loglevel = value_of(s, "loglevel", names, kNoSuffix, sd.loglevel, parse_log_level);
  sd.pidfile = value_of(s, "pidfile", names, kNoSuffix, std::string("supervisord.pid"), dirpath);
  if (auto identifier = expanded(s, "identifier", names, kNoSuffix)) {
    sd.identifier = *identifier;
  }
  sd.nodaemon = value_of(s, "nodaemon", names, kNoSuffix, sd.nodaemon, parse_boolean);
  sd.silent = value_of(s, "silent", names, kNoSuffix, sd.silent, parse_boolean);
  const auto dir = [this](std::string_view v) { return existing_directory(v); };
  sd.childlogdir = value_of(s, "childlogdir", names, kNoSuffix, host_.temp_dir(), dir);
  sd.nocleanup = value_of(s, "nocleanup", names, kNoSuffix, sd.nocleanup, parse_boolean);
  sd.strip_ansi = value_of(s, "strip_ansi", names, kNoSuffix, sd.strip_ansi, parse_boolean);
  load_crash_keys(s, names);

  // supervisord compat: environment= is expanded twice, the second time with
  // host_node_name too, and reported as plain `environment`.
  if (auto env = expanded(s, "environment", names, kNoSuffix)) {
    FormatNames more = names;
    more["host_node_name"] = host_node_name_;
    auto again = expand(*env, more, "environment");
    if (!again) {
      add_error(again.error().message, &s, s.find("environment"), kNoSuffix);
    } else if (auto pairs = parse_environment(*again); !pairs) {
      add_error(pairs.error().message, &s, s.find("environment"), kNoSuffix);
    } else {
      sd.environment = *pairs;
    }
  }
  for (const auto& [k, v] : sd.environment) {
    set_environment_value(environ_, k, v);
  }
  warn_unknown_keys(s, kSupervisordKeys);
}

void Loader::load_crash_keys(const IniSection& s, const FormatNames& names) {
  auto& sd = config_.supervisord;
  constexpr bool kNoSuffix = false;
  if (auto dir = expanded(s, "crash_dir", names, kNoSuffix)) {
    crash_dir_given_ = true;
    if (*dir == "NONE" || dir->empty()) {
      sd.crash_dir.clear();
    } else if (auto path = expand_user(*dir); !path) {
      add_error(path.error().message, &s, s.find("crash_dir"), kNoSuffix);
    } else {
      sd.crash_dir = absolute_normal(cwd_, *path);
    }
  }
  const auto bounded = [](std::string_view key, std::int64_t min, std::int64_t max) {
    return [key, min, max](std::string_view v) { return parse_integer_in(key, v, min, max); };
  };
  sd.crash_keep = value_of(s, "crash_keep", names, kNoSuffix, sd.crash_keep,
                           bounded("crash_keep", 0, 10'000));
  sd.crash_lines = value_of(s, "crash_lines", names, kNoSuffix, sd.crash_lines,
                            bounded("crash_lines", 0, 100'000));
  sd.crash_env_values =
      value_of(s, "crash_env_values", names, kNoSuffix, sd.crash_env_values, parse_boolean);
  sd.crash_attribution =
      value_of(s, "crash_attribution", names, kNoSuffix, sd.crash_attribution, parse_boolean);
  sd.sample_interval =
      value_of(s, "sample_interval", names, kNoSuffix, sd.sample_interval,
               [](std::string_view v) { return parse_seconds("sample_interval", v); });
  sd.memory_trend_window = value_of(
      s, "memory_trend_window", names, kNoSuffix, sd.memory_trend_window,
      [](std::string_view v) -> Result<std::chrono::milliseconds> {
        auto window = parse_seconds("memory_trend_window", v);
        if (window && window->count() == 0) {
          return fail(invalid_value("memory_trend_window", v, "must be more than 0"));
        }
        return window;
      });
  load_gpu_keys(s, names);
}

void Loader::load_gpu_keys(const IniSection& s, const FormatNames& names) {
  auto& sd = config_.supervisord;
  constexpr bool kNoSuffix = false;
  sd.gpu = value_of(s, "gpu", names, kNoSuffix, sd.gpu, [](std::string_view v) -> Result<GpuMode> {
    const std::string word = ascii_lower(py_strip(v));
    if (word == "auto") return GpuMode::Auto;
    if (word == "nvml") return GpuMode::Nvml;
    if (word == "nvidia-smi") return GpuMode::NvidiaSmi;
    if (word == "off") return GpuMode::Off;
    return fail(invalid_value("gpu", v, "use auto, nvml, nvidia-smi or off"));
  });
  if (auto library = expanded(s, "gpu_library", names, kNoSuffix)) {
    if (library->empty()) {
      sd.gpu_library.clear();
    } else if (auto path = expand_user(*library); !path) {
      add_error(path.error().message, &s, s.find("gpu_library"), kNoSuffix);
    } else {
      sd.gpu_library = absolute_normal(cwd_, *path);
    }
  }
  sd.gpu_sample_interval =
      value_of(s, "gpu_sample_interval", names, kNoSuffix, sd.gpu_sample_interval,
               [](std::string_view v) { return parse_seconds("gpu_sample_interval", v); });
}

void Loader::apply_overrides() {
  auto& sd = config_.supervisord;
  const auto& o = overrides_;
  if (o.nodaemon) sd.nodaemon = *o.nodaemon;
  if (o.silent) sd.silent = *o.silent;
  if (o.user) sd.user = *o.user;
  if (o.umask) sd.umask = *o.umask;
  if (o.directory) sd.directory = *o.directory;
  if (o.logfile) sd.logfile = *o.logfile;
  if (o.logfile_maxbytes) sd.logfile_maxbytes = *o.logfile_maxbytes;
  if (o.logfile_backups) sd.logfile_backups = *o.logfile_backups;
  if (o.loglevel) sd.loglevel = *o.loglevel;
  if (o.pidfile) sd.pidfile = *o.pidfile;
  if (o.identifier) sd.identifier = *o.identifier;
  if (o.childlogdir) sd.childlogdir = *o.childlogdir;
  if (o.nocleanup) sd.nocleanup = *o.nocleanup;
  if (o.minfds) sd.minfds = *o.minfds;
  if (o.strip_ansi) sd.strip_ansi = *o.strip_ansi;
  if (o.minprocs) sd.minprocs = *o.minprocs;
}

void Loader::realize_supervisord() {
  auto& sd = config_.supervisord;
  // supervisord compat: the user (from the file or -u) is checked in ServerOptions.realize(),
  // after read_config() has read every section, so a [program:x] user= error comes first.
  if (sd.user) {
    if (auto spec = resolve_user(*sd.user); !spec) {
      const IniSection* section = doc_.find("supervisord");
      const IniOption* option =
          (section != nullptr && !overrides_.user) ? section->find("user") : nullptr;
      add_error(spec.error().message, option != nullptr ? section : nullptr, option, false);
    }
  }
  // supervisord compat: the main log and pidfile are made absolute against the startup CWD.
  if (sd.logfile != "syslog") {
    sd.logfile = absolute_normal(cwd_, sd.logfile);
  }
  sd.pidfile = absolute_normal(cwd_, sd.pidfile);
  if (!crash_dir_given_) {
    // Default: `crashes` in childlogdir (created when the first snapshot is written).
    const std::string& dir = sd.childlogdir.empty() ? host_.temp_dir() : sd.childlogdir;
    sd.crash_dir = absolute_normal(cwd_, dir + (dir.ends_with('/') ? "" : "/") + "crashes");
  }
}

}  // namespace zagent::loading
