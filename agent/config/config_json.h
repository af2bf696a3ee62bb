// The resolved config as JSON for `zagent --dump-config`: every section's values after
// defaults and expansion, with supervisord's key names. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace zagent {

/// Keys keep a fixed, documented order (docs/config.md, "--dump-config").
nlohmann::ordered_json config_to_json(const AgentConfig& config);
nlohmann::ordered_json process_to_json(const ProcessConfig& process);

}  // namespace zagent
