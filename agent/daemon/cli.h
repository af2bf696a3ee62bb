// zagent's command line: supervisord's options (spec/config.md §1) plus --check and
// --dump-config. Pure: arguments in, options or supervisord's usage-error text out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "common/error.h"

namespace zagent {

struct AgentCli {
  std::optional<std::string> config_path;  ///< -c; nullopt = search (DESIGN.md)
  ConfigOverrides overrides;               ///< options that override [supervisord] keys
  bool check = false;                      ///< --check: validate, print a summary, exit
  bool dump_config = false;                ///< --dump-config: print the resolved model as JSON
  bool help = false;
  bool version = false;
};

/// Parses the arguments after argv[0]. The error message is what follows `Error: ` in
/// supervisord's usage errors (e.g. `option --bogus not recognized`).
Result<AgentCli> parse_agent_cli(const std::vector<std::string>& args);

/// The -h text, with `argv0` as the program name.
std::string agent_usage(std::string_view argv0);

/// The version printed by -v.
std::string_view agent_version();

}  // namespace zagent
