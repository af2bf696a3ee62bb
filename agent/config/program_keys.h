// The [program:x] keys, one row each: how a key is read into ProcessConfig, how
// `--dump-config` writes it and how supervisord's getAllConfigInfo shows it. Loading, the JSON
// dump and getAllConfigInfo all iterate this table. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace zagent {

namespace loading {
class ProgramKeyReader;
}

/// When the loader reads a row's key.
enum class KeyStage {
  Fixed,    ///< no INI key: the loader sets the field (group, program_name, process_num)
  Section,  ///< once per section, with here, ENV_*, program_name, group_name, host_node_name
  Process,  ///< for each process, also with process_num, numprocs and the program's ENV_*
};

/// What getAllConfigInfo describes one process from.
struct ConfigInfoSource {
  const GroupConfig& group;
  const ProcessConfig& process;
  const std::string* real_stdout_log;  ///< the active process's log file, or nullptr
  const std::string* real_stderr_log;  ///< the same for stderr
};

/// One row of the table.
struct ProgramKey {
  std::string_view key;  ///< the INI key; for Fixed rows the field's name
  KeyStage stage;
  /// supervisord's reading order within the stage: the first error it meets is the one it
  /// reports, and a key may depend on one read before it (killasgroup on stopasgroup).
  int read_rank;
  void (*read)(loading::ProgramKeyReader&);  ///< fills the field; nullptr for Fixed rows
  std::string_view json_key;                  ///< the `--dump-config` key; empty: not dumped
  nlohmann::ordered_json (*json)(const ProcessConfig&);
  std::string_view info_key;  ///< the getAllConfigInfo key; empty: not there
  nlohmann::json (*info)(const ConfigInfoSource&);
};

/// Every row, in `--dump-config` order.
std::span<const ProgramKey> program_keys();

/// The rows of `stage` in reading order.
const std::vector<const ProgramKey*>& program_keys_read_in(KeyStage stage);

/// True for a key that supervisord reads in [program:x].
bool is_program_key(std::string_view key);

}  // namespace zagent
