// depends_on: which processes a name stands for, and the config check (unknown names,
// cycles). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace zagent {

/// Whether the depends_on entry `wanted` names the process `group:name`: the name of its
/// group (every process of a [program:x] or [group:g]), its own name, or its namespec.
bool names_process(std::string_view wanted, std::string_view group, std::string_view name);

/// A depends_on problem of one process.
struct DependencyProblem {
  std::string group;
  std::string process;
  std::string program_name;  ///< the [program:x] section it comes from
  std::string message;       ///< `depends_on: ...`
  friend bool operator==(const DependencyProblem&, const DependencyProblem&) = default;
};

/// Every entry that names no process (`depends_on: no program or group named 'x'`) and
/// every cycle, once (`depends_on: a cycle: a -> b -> a`), reported at the process whose
/// entry closes it.
std::vector<DependencyProblem> check_dependencies(const std::vector<GroupConfig>& groups);

}  // namespace zagent
