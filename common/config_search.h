// Where zagent and zctl look for a config file when no -c is given (DESIGN.md): zagent's own
// names first, then supervisord's list (spec/config.md §1). Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {

/// The candidates in search order. `exe_path` is the absolute path of the running binary;
/// supervisord's `<here>` is the directory two levels above it (/usr for /usr/bin/x).
std::vector<std::string> config_search_paths(std::string_view exe_path);

/// The first candidate for which `exists` is true.
std::optional<std::string> find_first(const std::vector<std::string>& candidates,
                                      const std::function<bool(const std::string&)>& exists);

/// `No config file found at default paths (<p1>, <p2>, ...); use the -c option to specify a
/// config file at a different path`.
std::string no_config_found_message(const std::vector<std::string>& candidates);

/// The control socket used when a config has no [unix_http_server] (agent) or no serverurl
/// anywhere (zctl): `/run/zagent.sock` for root, `$XDG_RUNTIME_DIR/zagent.sock` when that is
/// set, else `/tmp/zagent-<uid>.sock`. `xdg_runtime_dir` may be empty.
std::string default_socket_path(unsigned uid, std::string_view xdg_runtime_dir);

}  // namespace zagent
