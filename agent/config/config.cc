#include "agent/config/config.h"

#include "agent/config/loader.h"
#include "common/pystr.h"

namespace zagent {

std::string ConfigError::supervisord_text() const {
  if (section.empty()) {
    return message;
  }
  return message + " in section " + py_repr(section) + " (file: " + py_repr(file) + ")";
}

std::string ConfigError::render() const {
  std::string out = message;
  if (!section.empty()) {
    out += " in section " + py_repr(section);
  }
  if (!file.empty() && message.find(file) == std::string::npos) {
    out += " (file: " + py_repr(file);
    if (line > 0) {
      out += ", line " + std::to_string(line);
    }
    out += ")";
  } else if (!section.empty()) {
    out += " (file: " + py_repr(file) + ")";
  }
  return out;
}

const ProcessConfig* AgentConfig::find_process(std::string_view group,
                                               std::string_view name) const {
  for (const auto& g : groups) {
    if (g.name != group) {
      continue;
    }
    for (const auto& p : g.processes) {
      if (p.name == name) {
        return &p;
      }
    }
  }
  return nullptr;
}

std::size_t AgentConfig::process_count() const {
  std::size_t n = 0;
  for (const auto& g : groups) {
    n += g.processes.size();
  }
  return n;
}

ConfigLoad load_config(const std::string& path, const ConfigOverrides& overrides,
                       ConfigHost& host) {
  return loading::Loader(path, overrides, host).run();
}

}  // namespace zagent
