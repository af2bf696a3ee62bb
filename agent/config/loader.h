// The config loader's internals, shared by the files that each read one kind of section
// (spec/config.md). Not part of the config API: include config.h instead. Pure: the machine is
// reached only through ConfigHost.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "common/ini.h"
#include "common/pyformat.h"

namespace zagent::loading {

using KeySet = std::set<std::string, std::less<>>;

/// One load of one config file: the document, the config being built, and what was found.
class Loader {
 public:
  Loader(std::string path, const ConfigOverrides& overrides, ConfigHost& host)
      : path_(std::move(path)), overrides_(overrides), host_(host) {}

  ConfigLoad run();

  // --- reporting (loader.cc) ---------------------------------------------------------------
  /// Records an error once; `with_section_suffix` gives supervisord's ` in section '…'` form.
  void add_error(std::string message, const IniSection* section, const IniOption* option,
                 bool with_section_suffix);
  void note(LogLevel level, std::string text);

  // --- expansion and conversion (loader.cc) ------------------------------------------------
  /// The option's value expanded with `names` (label "section.key"), or nullopt if the option
  /// is absent or failed (the failure is recorded).
  std::optional<std::string> expanded(const IniSection& section, std::string_view key,
                                      const FormatNames& names, bool suffix,
                                      std::string_view label = {});

  /// The converted value of `key`, or `fallback` when it is absent or wrong (then recorded).
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

  /// `here` and the ENV_* names (the agent's environment plus [supervisord] environment=).
  FormatNames base_names() const;
  const std::string& host_node_name() const { return host_node_name_; }

 private:
  // --- files (config_files.cc) -------------------------------------------------------------
  bool read_main();
  void read_includes();
  /// supervisord compat: configparser gives every section the options of [DEFAULT] that it
  /// does not set itself.
  void inherit_defaults();

  // --- [supervisord] (supervisord_section.cc) ----------------------------------------------
  void load_supervisord(const IniSection& section);
  void load_crash_keys(const IniSection& section, const FormatNames& names);
  void load_gpu_keys(const IniSection& section, const FormatNames& names);
  void apply_overrides();
  /// The checks supervisord makes once the whole file is read (ServerOptions.realize()).
  void realize_supervisord();

  // --- servers and RPC interfaces (server_sections.cc) -------------------------------------
  void load_servers();
  void load_inet_http_server(const IniSection& section, const FormatNames& names,
                             const std::string& username, const std::string& password);
  void load_unix_http_server(const IniSection& section, const FormatNames& names,
                             const std::string& username, const std::string& password);
  void load_socket_chown(const IniSection& section, const std::string& value,
                         UnixHttpServerConfig& server);
  void load_rpcinterfaces();

  // --- groups, listeners, fcgi programs (group_sections.cc) --------------------------------
  void load_groups();
  /// [group:g] sections; fills `in_group_section` with the member sections they claim.
  void load_group_sections(KeySet& in_group_section);
  void load_program_sections(const KeySet& in_group_section);
  void load_unsupported_section(const IniSection& section, const std::string& program_name,
                                const FormatNames& names);
  void check_event_listener(const IniSection& section, const FormatNames& names);
  void warn_unknown_keys(const IniSection& section, const KeySet& extra);

  // --- [program:x] (program_section.cc) ----------------------------------------------------
  std::vector<ProcessConfig> processes_from_section(const IniSection& section,
                                                    const std::string& group_name);

  std::string path_;                 // the config file as given
  const ConfigOverrides& overrides_;  // command-line values, applied over [supervisord]
  ConfigHost& host_;                 // the machine: files, users, environment
  IniDocument doc_;                  // every section read, includes merged in
  AgentConfig config_;               // what is being built
  std::vector<ConfigError> errors_;  // in the order found
  std::vector<ConfigNote> notes_;    // in the order found
  std::string cwd_;                  // the agent's start directory
  bool crash_dir_given_ = false;     // [supervisord] crash_dir= was read
  std::string host_node_name_;       // `uname -n`
  EnvironmentList environ_;  // the agent's environment, then [supervisord] environment=
  std::set<std::pair<std::string, std::string>> inherited_;  // (section, key) from [DEFAULT]
};

/// The values of one [program:x] section that no ProcessConfig field holds.
struct ProgramDraft {
  std::int64_t numprocs_start = 0;
  std::string process_name = "%(program_name)s";  ///< checked, not yet expanded
  bool stop = false;  ///< the section yields no processes (its error is recorded)
};

/// What a row of program_keys.cc reads its key through: the section, the names it is
/// expanded with, the process being built, and the loader's reporting. Errors carry
/// supervisord's section suffix.
class ProgramKeyReader {
 public:
  ProgramKeyReader(Loader& loader, const IniSection& section, ProgramDraft& draft,
                   ProcessConfig& process, FormatNames& names)
      : loader_(loader), section_(section), draft_(draft), process_(process), names_(names) {}

  void set_key(std::string_view key) { key_ = key; }
  std::string_view key() const { return key_; }
  const IniSection& section() const { return section_; }
  /// The current key's option, or nullptr when the section does not set it.
  const IniOption* option() const { return section_.find(key_); }
  ProcessConfig& process() { return process_; }
  ProgramDraft& draft() { return draft_; }
  FormatNames& names() { return names_; }
  Loader& loader() { return loader_; }

  /// The key's expanded value, or nullopt when absent or failed (recorded).
  std::optional<std::string> text() { return loader_.expanded(section_, key_, names_, true); }
  /// `raw` expanded with the current names; nothing is recorded.
  Result<std::string> expand_text(std::string_view raw, std::string_view label) const {
    return expand(raw, names_, label);
  }
  /// Sets `field` to the converted value; leaves it (the default) when absent or wrong.
  template <typename T, typename Convert>
  void value(T& field, Convert convert) {
    const auto t = text();
    if (!t) {
      return;
    }
    auto converted = convert(*t);
    if (!converted) {
      error(converted.error().message);
      return;
    }
    field = *converted;
  }
  /// An error at the current key's line (the section's line when it is absent).
  void error(std::string message) {
    loader_.add_error(std::move(message), &section_, option(), true);
  }
  /// An error at the section's line.
  void section_error(std::string message) {
    loader_.add_error(std::move(message), &section_, nullptr, true);
  }
  /// The section yields no processes.
  void stop() { draft_.stop = true; }

 private:
  Loader& loader_;
  const IniSection& section_;
  ProgramDraft& draft_;
  ProcessConfig& process_;
  FormatNames& names_;
  std::string_view key_;
};

}  // namespace zagent::loading
