// The resolved config as JSON for `zagent --dump-config`: every section's values after
// defaults and expansion, with supervisord's key names. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace zagent {

/// Keys keep a fixed, documented order (docs/config.md, "--dump-config").
nlohmann::ordered_json config_to_json(const AgentConfig& config);
/// One process's keys, in the order of the rows of program_keys.cc.
nlohmann::ordered_json process_to_json(const ProcessConfig& process);

/// `{"KEY": "value", …}` in the list's order.
nlohmann::ordered_json environment_to_json(const EnvironmentList& env);
/// `0022`-style octal text (a leading `-` for a negative value).
std::string octal_text(std::int64_t value);

}  // namespace zagent
