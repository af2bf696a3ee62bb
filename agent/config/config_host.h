// The system facts that config loading needs (files, globs, the user database, host name,
// environment), behind an interface so that config loading stays testable without a real
// system. The real machine is os/system_config_host.h. Pure: no system headers.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/datatypes.h"

namespace zagent {

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  ///< primary group
  std::string home;
};

/// Read-only access to the machine, used while loading a config. Called from one thread.
class ConfigHost {
 public:
  virtual ~ConfigHost() = default;
  /// The whole file, or nullopt if it cannot be read.
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual bool is_directory(const std::string& path) = 0;
  /// Paths matching a shell glob (`*`, `?`, `[...]`), in any order.
  virtual std::vector<std::string> glob(const std::string& pattern) = 0;
  virtual std::optional<UserInfo> user_by_name(const std::string& name) = 0;
  virtual std::optional<UserInfo> user_by_uid(uid_t uid) = 0;
  virtual std::optional<gid_t> group_by_name(const std::string& name) = 0;
  virtual bool group_exists(gid_t gid) = 0;
  /// `uname -n`.
  virtual std::string host_node_name() = 0;
  /// Absolute current directory.
  virtual std::string cwd() = 0;
  /// The agent's environment at startup, in order.
  virtual EnvironmentList environment() = 0;
  /// $TMPDIR if it names a directory, else /tmp (Python's tempfile.gettempdir()).
  virtual std::string temp_dir() = 0;
};

}  // namespace zagent
