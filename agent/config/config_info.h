// supervisord's getAllConfigInfo dict for one process, built from the program-key table.
// Pure: the caller passes what the running supervisor knows (inuse, the real log paths).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/config/config.h"

namespace zagent {

/// The dict supervisor.getAllConfigInfo returns for `process` of `group`. `inuse`: the group
/// is active. `real_stdout_log`/`real_stderr_log`: the active process's log files, or
/// nullptr; an AUTO log shows that file when it is non-empty, else 'auto'.
nlohmann::json process_config_info(const GroupConfig& group, const ProcessConfig& process,
                                   bool inuse, const std::string* real_stdout_log,
                                   const std::string* real_stderr_log);

}  // namespace zagent
