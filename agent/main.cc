// zagent: command line -> config -> (for now) check or dump. Maps failures to exit codes:
// 0 success, 1 runtime failure, 2 usage or config error.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "agent/config/config.h"
#include "agent/config/config_host.h"
#include "agent/config/config_json.h"
#include "agent/daemon/cli.h"
#include "agent/daemon/daemon.h"
#include "agent/os/system_config_host.h"
#include "common/config_search.h"

namespace {

constexpr int kExitUsage = 2;

std::string self_path(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

int usage_error(const std::string& argv0, const std::string& message) {
  fmt::print(stderr, "Error: {}\nFor help, use {} -h\n", message, argv0);
  return kExitUsage;
}

int run(int argc, char** argv) {
  const std::string argv0 = argc > 0 ? argv[0] : "zagent";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto cli = zagent::parse_agent_cli(args);
  if (!cli) {
    return usage_error(argv0, cli.error().message);
  }
  if (cli->help) {
    fmt::print("{}", zagent::agent_usage(argv0));
    return 0;
  }
  if (cli->version) {
    fmt::print("{}\n", zagent::agent_version());
    return 0;
  }

  zagent::SystemConfigHost host;
  std::string path;
  if (cli->config_path) {
    path = *cli->config_path;
  } else {
    const auto candidates = zagent::config_search_paths(self_path(argv0.c_str()));
    auto found = zagent::find_first(candidates,
                                    [&host](const std::string& p) { return host.exists(p); });
    if (!found) {
      return usage_error(argv0, zagent::no_config_found_message(candidates));
    }
    path = *found;
  }

  auto load = zagent::load_config(path, cli->overrides, host);
  if (!load.config) {
    for (const auto& e : load.errors) {
      fmt::print(stderr, "Error: {}\n", e.render());
    }
    fmt::print(stderr, "For help, use {} -h\n", argv0);
    return kExitUsage;
  }
  const zagent::AgentConfig& config = *load.config;
  if (cli->dump_config) {
    fmt::print("{}\n", zagent::config_to_json(config).dump(2));
    return 0;
  }
  if (cli->check) {
    for (const auto& note : config.notes) {
      if (note.level != zagent::LogLevel::Info) {
        fmt::print(stderr, "{} {}\n", zagent::log_level_tag(note.level), note.text);
      }
    }
    fmt::print("{}: OK: {} group{}, {} process{}\n", path, config.groups.size(),
               config.groups.size() == 1 ? "" : "s", config.process_count(),
               config.process_count() == 1 ? "" : "es");
    return 0;
  }
  return zagent::run_daemon(path, *cli, argv0);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "zagent: unexpected error: {}\n", e.what());
    return 1;
  }
}
