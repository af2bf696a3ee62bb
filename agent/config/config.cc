#include "agent/config/config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <utility>

#include "common/ini.h"
#include "common/pyformat.h"
#include "common/pystr.h"

namespace zagent {
namespace {

// supervisord compat: keys it reads in [program:x]; anything else is ignored by supervisord
// and noted by us as a warning (a typo such as `autorestrat` would otherwise go unseen).
const std::set<std::string, std::less<>> kProgramKeys = {
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // zagent extensions (docs/config.md): restart delay, backoff cap and crash-loop limit.
    "restart_delay",
    "restart_delay_max",
    "crashloop_max_restarts",
    "crashloop_window_secs",
};
const std::set<std::string, std::less<>> kEventListenerExtraKeys = {"events", "buffer_size",
                                                                    "result_handler"};
const std::set<std::string, std::less<>> kFcgiExtraKeys = {"socket", "socket_owner",
                                                           "socket_mode", "socket_backlog"};
const std::set<std::string, std::less<>> kSupervisordKeys = {
    "logfile",   "logfile_maxbytes", "logfile_backups", "loglevel",    "pidfile",
    "umask",     "nodaemon",         "silent",          "minfds",      "minprocs",
    "nocleanup", "childlogdir",      "user",            "directory",   "strip_ansi",
    "environment", "identifier",
};

// zagent extension limits. kMaxSeconds keeps `now + delay` inside steady_clock's 64-bit
// nanoseconds (about 31 years); kMaxCrashloopRestarts bounds the per-process restart history.
constexpr std::int64_t kMaxSeconds = 1'000'000'000;
constexpr std::int64_t kMaxCrashloopRestarts = 10'000;

std::string invalid_value(std::string_view key, std::string_view value, std::string_view why) {
  return "invalid value for " + std::string(key) + ": " + py_repr(value) + " (" + std::string(why) +
         ")";
}

bool all_ascii_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// zagent extension: seconds written `5`, `0.5`, `.25` or `5.`, kept to the millisecond
// (further digits are dropped). No sign, exponent or `_`: these keys are new, so there is no
// Python behaviour to copy, and a plain decimal is what a user writes.
Result<std::chrono::milliseconds> parse_seconds(std::string_view key, std::string_view value) {
  std::string_view text = py_strip(value);
  const bool negative = text.starts_with('-');
  if (negative) {
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if ((whole.empty() && fraction.empty()) || !all_ascii_digits(whole) ||
      !all_ascii_digits(fraction)) {
    return fail(invalid_value(key, value, "seconds expected"));
  }
  const std::string too_large = "at most " + std::to_string(kMaxSeconds) + " seconds";
  std::int64_t millis = 0;
  for (const char c : whole) {
    millis = millis * 10 + (c - '0');
    if (millis > kMaxSeconds) {
      return fail(invalid_value(key, value, too_large));
    }
  }
  for (std::size_t i = 0; i < 3; ++i) {
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  if (negative && millis != 0) {
    return fail(invalid_value(key, value, "must not be negative"));
  }
  if (millis > kMaxSeconds * 1000) {
    return fail(invalid_value(key, value, too_large));
  }
  return std::chrono::milliseconds(millis);
}

// zagent extension: an integer key with bounds; not-a-number keeps supervisord's int() text.
Result<std::int64_t> parse_integer_in(std::string_view key, std::string_view value,
                                      std::int64_t min, std::int64_t max) {
  auto number = parse_integer(value);
  if (!number) {
    return number;
  }
  if (*number < min) {
    return fail(invalid_value(key, value,
                              min == 0 ? std::string("must not be negative")
                                       : "must be at least " + std::to_string(min)));
  }
  if (*number > max) {
    return fail(invalid_value(key, value, "at most " + std::to_string(max)));
  }
  return *number;
}

constexpr std::string_view kMainRpcFactory = "supervisor.rpcinterface:make_main_rpcinterface";

std::string_view after_colon(std::string_view section) {
  const auto colon = section.find(':');
  return colon == std::string_view::npos ? std::string_view{} : section.substr(colon + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

// Python's os.path.dirname: everything before the last '/', trailing slashes removed unless
// the result is only slashes.
std::string py_dirname(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return "";
  }
  std::string head(path.substr(0, slash + 1));
  const auto not_slash = head.find_last_not_of('/');
  if (not_slash != std::string::npos) {
    head.resize(not_slash + 1);
  }
  return head;
}

// Python's os.path.normpath(os.path.join(cwd, path)) for absolute results.
std::string absolute_normal(const std::string& cwd, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) {
    p = std::filesystem::path(cwd) / p;
  }
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

class Loader {
 public:
  Loader(std::string path, const ConfigOverrides& overrides, ConfigHost& host)
      : path_(std::move(path)), overrides_(overrides), host_(host) {}

  ConfigLoad run();

 private:
  // --- reporting ---------------------------------------------------------------------------
  void add_error(std::string message, const IniSection* section, const IniOption* option,
                 bool with_section_suffix) {
    ConfigError e;
    e.message = std::move(message);
    if (option != nullptr) {
      e.file = option->file;
      e.line = option->line;
    } else if (section != nullptr) {
      e.file = section->file;
      e.line = section->line;
    }
    if (with_section_suffix && section != nullptr) {
      e.section = section->name;
      e.file = section->file;  // supervisord names the file that defined the section
    }
    for (const auto& existing : errors_) {
      if (existing.message == e.message && existing.section == e.section &&
          existing.line == e.line && existing.file == e.file) {
        return;  // numprocs > 1 repeats per-process errors; report each once
      }
    }
    errors_.push_back(std::move(e));
  }

  void note(LogLevel level, std::string text) {
    notes_.push_back(ConfigNote{level, std::move(text)});
  }

  // --- files -------------------------------------------------------------------------------
  bool read_main();
  void read_includes();

  /// supervisord compat: configparser gives every section the options of [DEFAULT] that it
  /// does not set itself.
  void inherit_defaults();

  // --- expansion and conversion ------------------------------------------------------------
  /// The option's value expanded with `names` (label "section.key"), or nullopt if the option
  /// is absent or failed (the failure is recorded).
  std::optional<std::string> expanded(const IniSection& section, std::string_view key,
                                      const FormatNames& names, bool suffix,
                                      std::string_view label = {});

  template <typename T, typename Convert>
  T value_of(const IniSection& section, std::string_view key, const FormatNames& names,
             bool suffix, T fallback, Convert convert) {
    const auto text = expanded(section, key, names, suffix);
    if (!text) {
      return fallback;
    }
    auto converted = convert(*text);
    if (!converted) {
      add_error(converted.error().message, &section, section.find(key), suffix);
      return fallback;
    }
    return *converted;
  }

  Result<std::string> expand_user(std::string_view path);
  Result<std::string> existing_directory(std::string_view value);
  Result<std::string> existing_dirpath(std::string_view value);
  Result<UserSpec> resolve_user(std::string_view value);

  // --- sections ----------------------------------------------------------------------------
  FormatNames base_names() const;
  void load_supervisord(const IniSection& section);
  void apply_overrides();
  void load_servers();
  void load_rpcinterfaces();
  void load_groups();
  std::vector<ProcessConfig> processes_from_section(const IniSection& section,
                                                    const std::string& group_name);
  void check_event_listener(const IniSection& section, const FormatNames& names);
  void warn_unknown_keys(const IniSection& section,
                         const std::set<std::string, std::less<>>& extra);

  std::string path_;                 // the config file as given
  const ConfigOverrides& overrides_;
  ConfigHost& host_;
  IniDocument doc_;
  AgentConfig config_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigNote> notes_;
  std::string cwd_;
  std::string host_node_name_;
  EnvironmentList environ_;  // the agent's environment, then [supervisord] environment=
  std::set<std::pair<std::string, std::string>> inherited_;  // (section, key) from [DEFAULT]
};

void Loader::inherit_defaults() {
  const IniSection* defaults = doc_.find("DEFAULT");
  if (defaults == nullptr) {
    return;
  }
  const std::vector<IniOption> options = defaults->options;
  for (auto& section : doc_.sections) {
    if (section.name == "DEFAULT") {
      continue;
    }
    for (const auto& option : options) {
      if (section.find(option.key) == nullptr) {
        section.options.push_back(option);
        inherited_.emplace(section.name, option.key);
      }
    }
  }
}

std::optional<std::string> Loader::expanded(const IniSection& section, std::string_view key,
                                            const FormatNames& names, bool suffix,
                                            std::string_view label) {
  const IniOption* option = section.find(key);
  if (option == nullptr) {
    return std::nullopt;
  }
  const std::string default_label = section.name + "." + std::string(key);
  auto result = expand(option->value, names, label.empty() ? default_label : label);
  if (!result) {
    add_error(result.error().message, &section, option, suffix);
    return std::nullopt;
  }
  return *result;
}

Result<std::string> Loader::expand_user(std::string_view path) {
  if (!path.starts_with('~')) {
    return std::string(path);
  }
  const auto slash = path.find('/');
  const std::string_view user = path.substr(1, slash == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : slash - 1);
  const std::string_view rest =
      slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  std::string home;
  if (user.empty()) {
    for (const auto& [k, v] : environ_) {
      if (k == "HOME") {
        home = v;
      }
    }
  } else if (auto info = host_.user_by_name(std::string(user))) {
    home = info->home;
  }
  if (home.empty()) {
    return std::string(path);  // Python leaves an unresolvable ~ as it is
  }
  if (home.size() > 1 && home.back() == '/') {
    home.pop_back();
  }
  return home + std::string(rest);
}

Result<std::string> Loader::existing_directory(std::string_view value) {
  auto expanded_path = expand_user(value);
  const std::string& p = *expanded_path;
  if (host_.is_directory(absolute_normal(cwd_, p))) {
    return p;
  }
  return fail(std::string(value) + " is not an existing directory");
}

Result<std::string> Loader::existing_dirpath(std::string_view value) {
  auto expanded_path = expand_user(value);
  const std::string& p = *expanded_path;
  const std::string dir = py_dirname(p);
  if (dir.empty() || host_.is_directory(absolute_normal(cwd_, dir))) {
    return p;
  }
  return fail("The directory named as part of the path " + std::string(value) +
              " does not exist");
}

Result<UserSpec> Loader::resolve_user(std::string_view value) {
  // supervisord compat: name_to_uid() tries the value as a uid first, then as a name.
  if (auto uid = py_int(value)) {
    if (*uid >= 0) {
      if (auto info = host_.user_by_uid(static_cast<uid_t>(*uid))) {
        return UserSpec{info->name, info->uid, info->gid};
      }
    }
    return fail("Invalid user id " + std::string(value));
  }
  if (auto info = host_.user_by_name(std::string(value))) {
    return UserSpec{info->name, info->uid, info->gid};
  }
  return fail("Invalid user name " + std::string(value));
}

bool Loader::read_main() {
  if (!host_.exists(path_)) {
    add_error("could not find config file " + path_, nullptr, nullptr, false);
    return false;
  }
  auto text = host_.read_file(path_);
  if (!text) {
    add_error("could not read config file " + path_, nullptr, nullptr, false);
    return false;
  }
  auto parsed = parse_ini(*text, path_, doc_);
  if (!parsed) {
    add_error(parsed.error().message, nullptr, nullptr, false);
    return false;
  }
  config_.here = py_dirname(absolute_normal(cwd_, path_));
  if (config_.here.empty()) {
    config_.here = "/";
  }
  return true;
}

void Loader::read_includes() {
  const IniSection* include = doc_.find("include");
  if (include == nullptr) {
    return;
  }
  doc_.replace_here(config_.here);
  const IniOption* files = include->find("files");
  if (files == nullptr) {
    add_error(".ini file has [include] section, but no files setting", include, nullptr,
              false);
    return;
  }
  FormatNames names = base_names();
  names["host_node_name"] = host_node_name_;
  const int line = files->line;
  const std::string file = files->file;
  auto value = expand(files->value, names, "include.files");
  if (!value) {
    add_error(value.error().message, include, files, false);
    return;
  }
  // supervisord compat: patterns are split on any whitespace and joined onto the directory
  // of the main file (not the CWD); includes inside included files are not processed.
  std::vector<std::string> patterns;
  std::string current;
  for (const char ch : *value) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f') {
      if (!current.empty()) {
        patterns.push_back(std::move(current));
        current.clear();
      }
    } else {
      current.push_back(ch);
    }
  }
  if (!current.empty()) {
    patterns.push_back(std::move(current));
  }
  for (const auto& raw : patterns) {
    const std::string pattern = raw.starts_with('/') ? raw : config_.here + "/" + raw;
    auto matches = host_.glob(pattern);
    if (matches.empty()) {
      note(LogLevel::Warn, "No file matches via include \"" + pattern + "\"");
      continue;
    }
    std::sort(matches.begin(), matches.end());
    for (const auto& match : matches) {
      note(LogLevel::Info, "Included extra file \"" + match + "\" during parsing");
      config_.included_files.push_back(match);
      auto text = host_.read_file(match);
      if (!text) {
        // supervisord compat: an unreadable match is skipped; we at least say so.
        note(LogLevel::Warn, "Included file \"" + match + "\" (" + file + ":" +
                                 std::to_string(line) + ") could not be read and is skipped");
        continue;
      }
      auto parsed = parse_ini(*text, match, doc_);
      if (!parsed) {
        add_error(parsed.error().message, nullptr, nullptr, false);
        continue;
      }
      doc_.replace_here(py_dirname(absolute_normal(cwd_, match)));
    }
  }
}

FormatNames Loader::base_names() const {
  FormatNames names;
  for (const auto& [k, v] : environ_) {
    names["ENV_" + k] = v;
  }
  names["here"] = config_.here;
  return names;
}

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
  // supervisord compat: the user is checked once options and config are merged (realize()).
  if (sd.user) {
    if (auto spec = resolve_user(*sd.user); !spec) {
      const IniSection* section = doc_.find("supervisord");
      const IniOption* option =
          (section != nullptr && !o.user) ? section->find("user") : nullptr;
      add_error(spec.error().message, option != nullptr ? section : nullptr, option, false);
    }
  }
  // supervisord compat: the main log and pidfile are made absolute against the startup CWD.
  if (sd.logfile != "syslog") {
    sd.logfile = absolute_normal(cwd_, sd.logfile);
  }
  sd.pidfile = absolute_normal(cwd_, sd.pidfile);
}

void Loader::load_servers() {
  const FormatNames names = base_names();
  for (const auto& s : doc_.sections) {
    const bool is_unix = s.name == "unix_http_server";
    const bool is_inet = s.name == "inet_http_server";
    if (!is_unix && !is_inet) {
      continue;
    }
    // supervisord compat: every value of these sections is %-expanded (here, ENV_*).
    const auto username_value = expanded(s, "username", names, false);
    const auto password_value = expanded(s, "password", names, false);
    const std::string username = username_value.value_or("");
    const std::string password = password_value.value_or("");
    if ((s.find("username") == nullptr) != (s.find("password") == nullptr)) {
      add_error("Section [" + s.name +
                    "] contains incomplete authentication: If a username or a password is "
                    "specified, both the username and password must be specified",
                &s, nullptr, false);
    }
    if (is_inet) {
      const IniOption* port = s.find("port");
      if (port == nullptr) {
        add_error("section [inet_http_server] has no port value", &s, nullptr, false);
        continue;
      }
      auto address = expanded(s, "port", names, false);
      if (!address) {
        continue;
      }
      auto parsed = parse_inet_address(*address);
      if (!parsed) {
        add_error(parsed.error().message, &s, port, false);
        continue;
      }
      config_.inet_http_server = InetHttpServerConfig{*parsed, username, password};
      continue;
    }
    UnixHttpServerConfig server;
    server.username = username;
    server.password = password;
    const IniOption* file = s.find("file");
    if (file == nullptr) {
      add_error("section [unix_http_server] has no file value", &s, nullptr, false);
      continue;
    }
    auto path = expanded(s, "file", names, false);
    if (!path) {
      continue;
    }
    auto user_expanded = expand_user(py_strip(*path));
    server.file = absolute_normal(cwd_, *user_expanded);
    if (auto chmod = expanded(s, "chmod", names, false)) {
      if (auto mode = parse_octal(*chmod)) {
        server.chmod = *mode;
      } else {
        add_error("Invalid chmod value " + *chmod, &s, s.find("chmod"), false);
      }
    }
    if (auto chown_value = expanded(s, "chown", names, false)) {
      // supervisord compat: `user` or `user:group`, names or ids, all of which must exist.
      const IniOption* chown = s.find("chown");
      const std::string& v = *chown_value;
      const auto colon = v.find(':');
      const std::string user = v.substr(0, colon);
      bool ok = false;
      if (auto spec = resolve_user(user)) {
        // supervisord compat: `user` alone leaves the socket's group as created.
        server.chown_uid = spec->uid;
        ok = true;
        if (colon != std::string::npos) {
          const std::string group = v.substr(colon + 1);
          if (auto gid = py_int(group); gid && *gid >= 0 &&
                                            host_.group_exists(static_cast<gid_t>(*gid))) {
            server.chown_gid = static_cast<gid_t>(*gid);
          } else if (auto named = host_.group_by_name(group)) {
            server.chown_gid = *named;
          } else {
            ok = false;
          }
        }
      }
      if (!ok) {
        add_error("Invalid sockchown value " + v, &s, chown, false);
      }
    }
    config_.unix_http_server = server;
  }
}

void Loader::load_rpcinterfaces() {
  for (const auto& s : doc_.sections) {
    if (!starts_with(s.name, "rpcinterface:")) {
      continue;
    }
    const IniOption* factory = s.find("supervisor.rpcinterface_factory");
    if (factory == nullptr) {
      add_error("section [" + s.name + "] does not specify a supervisor.rpcinterface_factory",
                &s, nullptr, false);
      continue;
    }
    if (py_strip(factory->value) == kMainRpcFactory) {
      config_.rpcinterfaces.emplace_back(after_colon(s.name));
    } else {
      note(LogLevel::Warn, "[" + s.name + "] names the RPC interface factory " +
                               std::string(py_strip(factory->value)) +
                               ", which is not supported; the section is ignored");
    }
  }
}

void Loader::warn_unknown_keys(const IniSection& s,
                               const std::set<std::string, std::less<>>& known) {
  for (const auto& option : s.options) {
    if (inherited_.count({s.name, option.key}) != 0) {
      continue;
    }
    if (known.count(option.key) == 0 && !(s.name != "supervisord" &&
                                          kProgramKeys.count(option.key) != 0)) {
      note(LogLevel::Warn, "unknown key '" + option.key + "' in [" + s.name + "] (" +
                               option.file + ":" + std::to_string(option.line) +
                               ") is ignored");
    }
  }
}

std::vector<ProcessConfig> Loader::processes_from_section(const IniSection& s,
                                                          const std::string& group_name) {
  constexpr bool kSuffix = true;
  std::vector<ProcessConfig> out;
  ProcessConfig proto;
  proto.program_name = std::string(after_colon(s.name));
  proto.group = group_name;

  FormatNames names = base_names();
  names["program_name"] = proto.program_name;
  names["group_name"] = group_name;
  names["host_node_name"] = host_node_name_;

  const std::int64_t default_priority = starts_with(s.name, "eventlistener:") ? -1 : 999;
  // The priority error itself was reported without a suffix by the caller.
  if (const IniOption* p = s.find("priority")) {
    if (auto text = expand(p->value, names, s.name + ".priority")) {
      proto.priority = value_or(parse_integer(*text), default_priority);
    }
  } else {
    proto.priority = default_priority;
  }
  proto.autostart = value_of(s, "autostart", names, kSuffix, true, parse_boolean);
  proto.autorestart =
      value_of(s, "autorestart", names, kSuffix, AutoRestart::Unexpected, parse_autorestart);
  proto.startsecs = value_of(s, "startsecs", names, kSuffix, std::int64_t{1}, parse_integer);
  proto.startretries =
      value_of(s, "startretries", names, kSuffix, std::int64_t{3}, parse_integer);
  proto.stopsignal = value_of(s, "stopsignal", names, kSuffix, 15, parse_signal);
  proto.stopwaitsecs =
      value_of(s, "stopwaitsecs", names, kSuffix, std::int64_t{10}, parse_integer);
  proto.stopasgroup = value_of(s, "stopasgroup", names, kSuffix, false, parse_boolean);
  proto.killasgroup = value_of(s, "killasgroup", names, kSuffix, proto.stopasgroup, parse_boolean);
  proto.exitcodes =
      value_of(s, "exitcodes", names, kSuffix, std::vector<int>{0}, parse_exit_codes);
  proto.redirect_stderr = value_of(s, "redirect_stderr", names, kSuffix, false, parse_boolean);
  // zagent extensions: restart delay with exponential backoff, and the crash-loop limit.
  const auto seconds_key = [](std::string_view key) {
    return [key](std::string_view v) { return parse_seconds(key, v); };
  };
  const auto integer_key = [](std::string_view key, std::int64_t min, std::int64_t max) {
    return [key, min, max](std::string_view v) { return parse_integer_in(key, v, min, max); };
  };
  proto.restart_delay = value_of(s, "restart_delay", names, kSuffix, proto.restart_delay,
                                 seconds_key("restart_delay"));
  proto.restart_delay_max = value_of(s, "restart_delay_max", names, kSuffix,
                                     proto.restart_delay_max, seconds_key("restart_delay_max"));
  proto.crashloop_max_restarts =
      value_of(s, "crashloop_max_restarts", names, kSuffix, proto.crashloop_max_restarts,
               integer_key("crashloop_max_restarts", 0, kMaxCrashloopRestarts));
  proto.crashloop_window_secs =
      value_of(s, "crashloop_window_secs", names, kSuffix, proto.crashloop_window_secs,
               integer_key("crashloop_window_secs", 1, kMaxSeconds));
  if (proto.restart_delay_max > proto.restart_delay && proto.restart_delay.count() == 0) {
    note(LogLevel::Warn,
         "For [" + s.name + "], restart_delay_max has no effect without restart_delay > 0");
  }
  const std::int64_t numprocs =
      value_of(s, "numprocs", names, kSuffix, std::int64_t{1}, parse_integer);
  const std::int64_t numprocs_start =
      value_of(s, "numprocs_start", names, kSuffix, std::int64_t{0}, parse_integer);
  const IniOption* environment_option = s.find("environment");
  const std::string environment_raw = environment_option ? environment_option->value : "";
  proto.stdout_log.capture_maxbytes = value_of(s, "stdout_capture_maxbytes", names, kSuffix,
                                               std::int64_t{0}, parse_byte_size);
  proto.stdout_log.events_enabled =
      value_of(s, "stdout_events_enabled", names, kSuffix, false, parse_boolean);
  proto.stderr_log.capture_maxbytes = value_of(s, "stderr_capture_maxbytes", names, kSuffix,
                                               std::int64_t{0}, parse_byte_size);
  proto.stderr_log.events_enabled =
      value_of(s, "stderr_events_enabled", names, kSuffix, false, parse_boolean);
  if (auto url = expanded(s, "serverurl", names, kSuffix)) {
    if (ascii_lower(py_strip(*url)) != "auto") {
      proto.serverurl = *url;
    }
  }
  if (auto user = expanded(s, "user", names, kSuffix)) {
    if (auto spec = resolve_user(*user)) {
      proto.user = *spec;
    } else {
      add_error(spec.error().message, &s, s.find("user"), kSuffix);
    }
  }
  if (auto umask = expanded(s, "umask", names, kSuffix)) {
    if (auto mode = parse_octal(*umask)) {
      proto.umask = *mode;
    } else {
      add_error(mode.error().message, &s, s.find("umask"), kSuffix);
    }
  }
  const IniOption* process_name_option = s.find("process_name");
  std::string process_name_raw = "%(program_name)s";
  if (process_name_option != nullptr) {
    // supervisord compat: the name check runs on the unexpanded text only.
    if (auto checked = parse_process_name(process_name_option->value)) {
      process_name_raw = *checked;
    } else {
      add_error(checked.error().message, &s, process_name_option, kSuffix);
    }
  }
  if (numprocs > 1 && process_name_raw.find("%(process_num)") == std::string::npos) {
    add_error("%(process_num) must be present within process_name when numprocs > 1", &s,
              process_name_option != nullptr ? process_name_option : s.find("numprocs"),
              kSuffix);
    return out;
  }
  if (proto.stopasgroup && !proto.killasgroup) {
    add_error("Cannot set stopasgroup=true and killasgroup=false", &s, s.find("killasgroup"),
              kSuffix);
  }

  for (std::int64_t num = numprocs_start; num < numprocs_start + numprocs; ++num) {
    ProcessConfig p = proto;
    p.process_num = num;
    p.numprocs = numprocs;
    FormatNames pnames = names;
    pnames["process_num"] = num;
    pnames["numprocs"] = numprocs;

    if (auto env = expand(environment_raw, pnames, "environment"); !env) {
      add_error(env.error().message, &s, environment_option, kSuffix);
    } else if (auto pairs = parse_environment(*env); !pairs) {
      add_error(pairs.error().message, &s, environment_option, kSuffix);
    } else {
      p.environment = *pairs;
    }
    for (const auto& [k, v] : p.environment) {
      pnames["ENV_" + k] = v;
    }
    p.directory = expanded(s, "directory", pnames, kSuffix);

    for (const bool is_stdout : {true, false}) {
      const std::string channel = is_stdout ? "stdout" : "stderr";
      LogChannelConfig& log = is_stdout ? p.stdout_log : p.stderr_log;
      const std::string key = channel + "_logfile";
      if (const IniOption* lf = s.find(key)) {
        // supervisord compat: log paths are expanded twice (so a literal % is %%%%).
        auto once = expand(lf->value, pnames, s.name + "." + key);
        auto twice = once ? expand(*once, pnames, key) : once;
        if (!twice) {
          add_error(twice.error().message, &s, lf, kSuffix);
        } else {
          log.logfile = classify_log_target(*twice);
          if (log.logfile.kind == LogTargetKind::Path) {
            if (auto checked = existing_dirpath(*twice)) {
              log.logfile.path = *checked;
            } else {
              add_error(checked.error().message, &s, lf, kSuffix);
            }
          }
        }
      }
      log.backups =
          value_of(s, key + "_backups", pnames, kSuffix, std::int64_t{10}, parse_integer);
      log.maxbytes = value_of(s, key + "_maxbytes", pnames, kSuffix,
                              kDefaultChildLogMaxBytes, parse_byte_size);
      log.syslog = value_of(s, channel + "_syslog", pnames, kSuffix, false, parse_boolean);
      if (log.logfile.kind == LogTargetKind::Syslog) {
        note(LogLevel::Warn, "For [" + s.name + "], " + key +
                                 "=syslog but this is deprecated and will be removed.  Use " +
                                 channel + "_syslog=true to enable syslog instead.");
        log.logfile = LogTarget{LogTargetKind::None, ""};
        log.syslog = true;
      }
      if (log.logfile.kind == LogTargetKind::Auto && log.maxbytes == 0) {
        note(LogLevel::Warn, "For [" + s.name + "], AUTO logging used for " + key +
                                 " without rollover, set maxbytes > 0 to avoid filling up "
                                 "filesystem unintentionally");
      }
    }
    if (p.redirect_stderr) {
      if (p.stderr_log.logfile.kind == LogTargetKind::Path) {
        note(LogLevel::Warn, "For [" + s.name +
                                 "], redirect_stderr=true but stderr_logfile has also been "
                                 "set to a filename, the filename has been ignored");
      }
      p.stderr_log.logfile = LogTarget{LogTargetKind::None, ""};
    }

    if (s.find("command") == nullptr) {
      add_error("program section " + s.name + " does not specify a command", &s, nullptr,
                kSuffix);
      return {};
    }
    if (auto command = expanded(s, "command", pnames, kSuffix)) {
      p.command = *command;
    }
    if (auto name = expand(process_name_raw, pnames, "process_name")) {
      p.name = *name;
    } else {
      add_error(name.error().message, &s, process_name_option, kSuffix);
    }
    out.push_back(std::move(p));
  }
  // supervisord compat: processes of one section are ordered by (priority, name); they all
  // share the section's priority, so by name.
  std::stable_sort(out.begin(), out.end(),
                   [](const ProcessConfig& a, const ProcessConfig& b) { return a.name < b.name; });
  return out;
}

void Loader::check_event_listener(const IniSection& s, const FormatNames& names) {
  static const std::set<std::string, std::less<>> kEventTypes = {
      "EVENT", "PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDERR",
      "PROCESS_COMMUNICATION_STDOUT", "PROCESS_GROUP", "PROCESS_GROUP_ADDED",
      "PROCESS_GROUP_REMOVED", "PROCESS_LOG", "PROCESS_LOG_STDERR", "PROCESS_LOG_STDOUT",
      "PROCESS_STATE", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_EXITED", "PROCESS_STATE_FATAL",
      "PROCESS_STATE_RUNNING", "PROCESS_STATE_STARTING", "PROCESS_STATE_STOPPED",
      "PROCESS_STATE_STOPPING", "PROCESS_STATE_UNKNOWN", "REMOTE_COMMUNICATION",
      "SUPERVISOR_STATE_CHANGE", "SUPERVISOR_STATE_CHANGE_RUNNING",
      "SUPERVISOR_STATE_CHANGE_STOPPING", "TICK", "TICK_3600", "TICK_5", "TICK_60"};
  const auto buffer_size =
      value_of(s, "buffer_size", names, false, std::int64_t{10}, parse_integer);
  if (buffer_size < 1) {
    add_error("[" + s.name + "] section sets invalid buffer_size (" +
                  std::to_string(buffer_size) + ")",
              &s, s.find("buffer_size"), false);
  }
  std::vector<std::string> events;
  if (auto list = expanded(s, "events", names, false)) {
    for (std::string event : split_comma_list(*list)) {
      for (char& ch : event) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      events.push_back(std::move(event));
    }
  }
  if (events.empty()) {
    add_error("[" + s.name + "] section requires an \"events\" line", &s, nullptr, false);
  }
  for (const auto& e : events) {
    if (kEventTypes.count(e) == 0) {
      add_error("Unknown event type " + e + " in [" + s.name + "] events", &s, s.find("events"),
                false);
    }
  }
  if (value_of(s, "redirect_stderr", names, false, false, parse_boolean)) {
    add_error("[" + s.name +
                  "] section sets redirect_stderr=true but this is not allowed because it will "
                  "interfere with the eventlistener protocol",
              &s, s.find("redirect_stderr"), false);
  }
}

void Loader::load_groups() {
  const FormatNames names = base_names();
  std::set<std::string, std::less<>> in_group_section;
  auto has_section = [this](const std::string& n) { return doc_.find(n) != nullptr; };

  // Heterogeneous groups first, as supervisord does.
  for (const auto& s : doc_.sections) {
    if (!starts_with(s.name, "group:")) {
      continue;
    }
    auto group_name = parse_process_name(after_colon(s.name));
    if (!group_name) {
      add_error(group_name.error().message, &s, nullptr, false);
      continue;
    }
    GroupConfig group;
    group.name = *group_name;
    group.from_group_section = true;
    std::vector<std::string> programs;
    if (auto list = expanded(s, "programs", names, false)) {
      programs = split_comma_list(*list);
    }
    group.priority = value_of(s, "priority", names, false, std::int64_t{999}, parse_integer);
    // supervisord compat: its error names the previous member's section (the group's own
    // for the first member).
    std::string reported = s.name;
    bool group_ok = true;
    for (const auto& program : programs) {
      const std::string program_section = "program:" + program;
      const std::string fcgi_section = "fcgi-program:" + program;
      const bool is_program = has_section(program_section);
      const bool is_fcgi = has_section(fcgi_section);
      if (!is_program && !is_fcgi) {
        add_error("[" + reported + "] names unknown program or fcgi-program " + program, &s,
                  s.find("programs"), false);
        group_ok = false;
        break;
      }
      if (is_program && is_fcgi) {
        add_error("[" + reported + "] name " + program +
                      " is ambiguous (exists as program and fcgi-program)",
                  &s, s.find("programs"), false);
        group_ok = false;
        break;
      }
      reported = is_program ? program_section : fcgi_section;
      in_group_section.insert(reported);
      if (is_fcgi) {
        continue;  // reported as unsupported with the section itself
      }
      auto processes = processes_from_section(*doc_.find(reported), group.name);
      group.processes.insert(group.processes.end(), processes.begin(), processes.end());
    }
    if (group_ok) {
      config_.groups.push_back(std::move(group));
    }
  }

  for (const auto& s : doc_.sections) {
    const bool is_program = starts_with(s.name, "program:");
    const bool is_listener = starts_with(s.name, "eventlistener:");
    const bool is_fcgi = starts_with(s.name, "fcgi-program:");
    if (!is_program && !is_listener && !is_fcgi) {
      continue;
    }
    auto program_name = parse_process_name(after_colon(s.name));
    if (!program_name) {
      // supervisord compat: reported without the section suffix.
      add_error(program_name.error().message, &s, nullptr, false);
      continue;
    }
    const IniOption* priority_option = s.find("priority");
    if (priority_option != nullptr) {
      if (auto text = expanded(s, "priority", names, false)) {
        if (auto value = parse_integer(*text); !value) {
          add_error(value.error().message, &s, priority_option, false);  // no suffix
        }
      }
    }
    if (is_listener || is_fcgi) {
      // Parsed so that its errors are found, then left out: not supported yet.
      warn_unknown_keys(s, is_listener ? kEventListenerExtraKeys : kFcgiExtraKeys);
      if (is_fcgi) {
        const auto socket = expanded(s, "socket", names, false);
        if (!socket || socket->empty()) {
          add_error("[" + s.name + "] section requires a \"socket\" line", &s, nullptr, false);
        }
      }
      if (is_listener) {
        check_event_listener(s, names);
      }
      processes_from_section(s, *program_name);
      note(LogLevel::Warn, "[" + s.name + "] (" + s.file + ":" + std::to_string(s.line) +
                               ") is not supported yet; its processes will not be started");
      continue;
    }
    warn_unknown_keys(s, {});
    if (in_group_section.count(s.name) != 0) {
      continue;
    }
    GroupConfig group;
    group.name = *program_name;
    auto processes = processes_from_section(s, group.name);
    group.priority = processes.empty() ? 999 : processes.front().priority;
    if (processes.empty()) {
      // numprocs <= 0 still forms a (empty) group with the section's priority.
      if (priority_option != nullptr) {
        group.priority = value_or(parse_integer(priority_option->value), 999);
      }
    }
    group.processes = std::move(processes);
    config_.groups.push_back(std::move(group));
  }

  // supervisord compat: groups are ordered by (priority, name).
  std::stable_sort(config_.groups.begin(), config_.groups.end(),
                   [](const GroupConfig& a, const GroupConfig& b) {
                     return a.priority != b.priority ? a.priority < b.priority
                                                     : a.name < b.name;
                   });
}

ConfigLoad Loader::run() {
  cwd_ = host_.cwd();
  host_node_name_ = host_.host_node_name();
  environ_ = host_.environment();
  config_.config_file = path_;

  ConfigLoad result;
  if (!read_main()) {
    result.errors = std::move(errors_);
    return result;
  }
  doc_.replace_here(config_.here);
  read_includes();
  inherit_defaults();
  const IniSection* supervisord = doc_.find("supervisord");
  if (supervisord == nullptr) {
    add_error(".ini file does not include supervisord section", nullptr, nullptr, false);
    ConfigError& e = errors_.back();
    e.file = path_;
  } else {
    load_supervisord(*supervisord);
  }
  apply_overrides();
  load_rpcinterfaces();
  load_groups();
  load_servers();

  config_.notes = std::move(notes_);
  if (errors_.empty()) {
    result.config = std::move(config_);
  }
  result.errors = std::move(errors_);
  return result;
}

}  // namespace

std::string ConfigError::supervisord_text() const {
  if (section.empty()) {
    return message;
  }
  return message + " in section " + py_repr(section) + " (file: " + py_repr(file) + ")";
}

std::string ConfigError::render() const {
  std::string out = message;
  if (!section.empty()) {
    out += " in section " + py_repr(section);
  }
  if (!file.empty() && message.find(file) == std::string::npos) {
    out += " (file: " + py_repr(file);
    if (line > 0) {
      out += ", line " + std::to_string(line);
    }
    out += ")";
  } else if (!section.empty()) {
    out += " (file: " + py_repr(file) + ")";
  }
  return out;
}

const ProcessConfig* AgentConfig::find_process(std::string_view group,
                                               std::string_view name) const {
  for (const auto& g : groups) {
    if (g.name != group) {
      continue;
    }
    for (const auto& p : g.processes) {
      if (p.name == name) {
        return &p;
      }
    }
  }
  return nullptr;
}

std::size_t AgentConfig::process_count() const {
  std::size_t n = 0;
  for (const auto& g : groups) {
    n += g.processes.size();
  }
  return n;
}

ConfigLoad load_config(const std::string& path, const ConfigOverrides& overrides,
                       ConfigHost& host) {
  return Loader(path, overrides, host).run();
}

}  // namespace zagent
