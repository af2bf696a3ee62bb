// zctl's command line and its [supervisorctl] settings (spec/ctl.md §1, spec/config.md §5.4).
// Pure: the caller reads files and supplies the working directory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/datatypes.h"
#include "common/error.h"
#include "common/ini.h"

namespace zagent::ctl {

struct CtlArgs {
  std::optional<std::string> config_path;  ///< -c
  std::optional<std::string> serverurl;    ///< -s, used verbatim
  std::optional<std::string> username;     ///< -u
  std::optional<std::string> password;     ///< -p
  std::optional<std::string> history_file; ///< -r
  bool interactive = false;                ///< -i
  bool help = false;                       ///< -h, -?
  bool json = false;                       ///< --json (zctl extension)
  std::vector<std::string> command;        ///< the action and its arguments
};

/// Parses the arguments after argv[0]; the error is the text after `Error: `.
Result<CtlArgs> parse_ctl_args(const std::vector<std::string>& args);

struct CtlSettings {
  /// Unset when neither -s nor `[supervisorctl] serverurl` gives one; see effective_serverurl.
  std::optional<std::string> serverurl;
  std::string username;
  std::string password;
  std::string prompt = "supervisor";
  std::string history_file;
};

/// Reads [supervisorctl] from a parsed config. Every value is %-expanded with `here` (the
/// config file's directory) and ENV_X for each entry of `env`; a `unix://` server path is
/// made absolute against `cwd`. Errors: `.ini file does not include supervisorctl section`,
/// expansion errors.
Result<CtlSettings> settings_from_config(const IniDocument& doc, std::string_view here,
                                         std::string_view cwd, const EnvironmentList& env);

/// Only what zctl reads from a config file, for parse_ini_chunks(): the text before the first
/// section and the [supervisorctl] and [DEFAULT] sections, each with its first line number
/// (views into `text`), so that a config with a thousand programs costs little more to read
/// than a small one. A section header is a line that starts with `[` in column 0, as in
/// configparser.
std::vector<IniChunk> supervisorctl_sections(std::string_view text);

/// Command-line values win over the config (`-s` is used verbatim).
CtlSettings apply_args(CtlSettings settings, const CtlArgs& args);

/// The URL zctl connects to: the configured one, else (zagent difference: supervisorctl uses
/// http://localhost:9001) `unix://` + default_socket_path(uid, xdg_runtime_dir).
std::string effective_serverurl(const CtlSettings& settings, unsigned uid,
                                std::string_view xdg_runtime_dir);

/// `-s` must have a scheme and a host or path: `value 'bogus' is not a URL`.
Result<void> check_url(std::string_view url);

}  // namespace zagent::ctl
