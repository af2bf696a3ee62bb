#include "agent/config/config_info.h"

#include "agent/config/program_keys.h"

namespace zagent {

nlohmann::json process_config_info(const GroupConfig& group, const ProcessConfig& process,
                                   bool inuse, const std::string* real_stdout_log,
                                   const std::string* real_stderr_log) {
  const ConfigInfoSource source{group, process, real_stdout_log, real_stderr_log};
  nlohmann::json dict = nlohmann::json::object();
  for (const ProgramKey& row : program_keys()) {
    if (!row.info_key.empty()) {
      dict[std::string(row.info_key)] = row.info(source);
    }
  }
  // Facts of the group and of the running supervisor, not program keys.
  dict["group_prio"] = group.priority;
  dict["inuse"] = inuse;
  return dict;
}

}  // namespace zagent
