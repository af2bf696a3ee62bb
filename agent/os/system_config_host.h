// ConfigHost over the real machine: files, glob(3), the user and group databases, uname(2),
// the agent's environment. An adapter; config/ reaches it only through the ConfigHost port.
#pragma once

#include "agent/config/config_host.h"

namespace zagent {

/// The real machine.
class SystemConfigHost final : public ConfigHost {
 public:
  std::optional<std::string> read_file(const std::string& path) override;
  bool exists(const std::string& path) override;
  bool is_directory(const std::string& path) override;
  std::vector<std::string> glob(const std::string& pattern) override;
  std::optional<UserInfo> user_by_name(const std::string& name) override;
  std::optional<UserInfo> user_by_uid(uid_t uid) override;
  std::optional<gid_t> group_by_name(const std::string& name) override;
  bool group_exists(gid_t gid) override;
  std::string host_node_name() override;
  std::string cwd() override;
  EnvironmentList environment() override;
  std::string temp_dir() override;
};

}  // namespace zagent
