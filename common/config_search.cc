#include "common/config_search.h"

#include <filesystem>

namespace zagent {

std::vector<std::string> config_search_paths(std::string_view exe_path) {
  const std::filesystem::path exe(exe_path);
  const std::string here = exe.parent_path().parent_path().string();
  return {
      "zagent.conf",
      "/etc/zagent/zagent.conf",
      here + "/etc/supervisord.conf",
      here + "/supervisord.conf",
      "supervisord.conf",
      "etc/supervisord.conf",
      "/etc/supervisord.conf",
      "/etc/supervisor/supervisord.conf",
  };
}

std::optional<std::string> find_first(const std::vector<std::string>& candidates,
                                      const std::function<bool(const std::string&)>& exists) {
  for (const auto& c : candidates) {
    if (exists(c)) {
      return c;
    }
  }
  return std::nullopt;
}

std::string no_config_found_message(const std::vector<std::string>& candidates) {
  std::string joined;
  for (const auto& c : candidates) {
    if (!joined.empty()) {
      joined += ", ";
    }
    joined += c;
  }
  return "No config file found at default paths (" + joined +
         "); use the -c option to specify a config file at a different path";
}

std::string default_socket_path(unsigned uid, std::string_view xdg_runtime_dir) {
  if (uid == 0) {
    return "/run/zagent.sock";
  }
  if (!xdg_runtime_dir.empty() && xdg_runtime_dir.front() == '/') {
    return std::string(xdg_runtime_dir) + "/zagent.sock";
  }
  return "/tmp/zagent-" + std::to_string(uid) + ".sock";
}

}  // namespace zagent
