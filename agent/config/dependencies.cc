#include "agent/config/dependencies.h"

#include <cstddef>
#include <functional>
#include <set>

#include "common/pystr.h"

namespace zagent {

bool names_process(std::string_view wanted, std::string_view group, std::string_view name) {
  if (wanted == group || wanted == name) {
    return true;
  }
  return wanted.size() == group.size() + 1 + name.size() && wanted.starts_with(group) &&
         wanted[group.size()] == ':' && wanted.ends_with(name);
}

std::vector<DependencyProblem> check_dependencies(const std::vector<GroupConfig>& groups) {
  std::vector<const ProcessConfig*> nodes;
  for (const auto& g : groups) {
    for (const auto& p : g.processes) {
      nodes.push_back(&p);
    }
  }
  const auto namespec = [](const ProcessConfig& p) {
    return p.group == p.name ? p.name : p.group + ":" + p.name;
  };
  const auto problem = [&](const ProcessConfig& p, std::string message) {
    return DependencyProblem{p.group, p.name, p.program_name, std::move(message)};
  };
  std::vector<DependencyProblem> problems;
  std::vector<std::vector<std::size_t>> edges(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& wanted : nodes[i]->depends_on) {
      bool found = false;
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        if (names_process(wanted, nodes[j]->group, nodes[j]->name)) {
          edges[i].push_back(j);
          found = true;
        }
      }
      if (!found) {
        problems.push_back(
            problem(*nodes[i], "depends_on: no program or group named " + py_repr(wanted)));
      }
    }
  }
  // Depth-first search; a back edge closes a cycle, reported once by its members.
  enum class Mark { New, Open, Done };
  std::vector<Mark> mark(nodes.size(), Mark::New);
  std::vector<std::size_t> path;
  std::set<std::size_t> in_reported_cycle;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    mark[i] = Mark::Open;
    path.push_back(i);
    for (const std::size_t j : edges[i]) {
      if (mark[j] == Mark::Open) {
        std::size_t from = path.size() - 1;
        while (path[from] != j) {
          --from;
        }
        bool reported = false;
        std::string text;
        for (std::size_t k = from; k < path.size(); ++k) {
          reported = reported || in_reported_cycle.contains(path[k]);
          text += namespec(*nodes[path[k]]) + " -> ";
        }
        if (!reported) {
          for (std::size_t k = from; k < path.size(); ++k) {
            in_reported_cycle.insert(path[k]);
          }
          problems.push_back(
              problem(*nodes[i], "depends_on: a cycle: " + text + namespec(*nodes[j])));
        }
      } else if (mark[j] == Mark::New) {
        visit(j);
      }
    }
    path.pop_back();
    mark[i] = Mark::Done;
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (mark[i] == Mark::New) {
      visit(i);
    }
  }
  return problems;
}

}  // namespace zagent
