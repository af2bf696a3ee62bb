// An in-memory ConfigHost for unit tests: files, directories, users and environment are
// whatever the test puts in. Globs support '*' and '?' within one path component.
#pragma once

#include <fnmatch.h>

#include <algorithm>

#include <map>
#include <set>
#include <string>

#include "agent/config/config_host.h"

namespace zagent::test {

class FakeConfigHost final : public ConfigHost {
 public:
  FakeConfigHost() {
    dirs_ = {"/", "/etc", "/tmp", "/home", "/home/op", "/srv", "/srv/app", "/var", "/var/log"};
    users_["root"] = UserInfo{"root", 0, 0, "/root"};
    users_["nobody"] = UserInfo{"nobody", 65534, 65534, "/nonexistent"};
    users_["op"] = UserInfo{"op", 1000, 1000, "/home/op"};
    groups_["nogroup"] = 65534;
    groups_["op"] = 1000;
    env_ = {{"HOME", "/home/op"}, {"PATH", "/usr/bin:/bin"}};
  }

  /// Adds a file (and its parent directories).
  void add_file(const std::string& path, const std::string& content) {
    files_[path] = content;
    for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      dirs_.insert(path.substr(0, slash));
    }
  }
  void add_dir(const std::string& path) { dirs_.insert(path); }
  /// The file exists (globs and exists() see it) but cannot be read.
  void add_unreadable(const std::string& path) {
    add_file(path, "");
    unreadable_.insert(path);
  }
  void set_env(EnvironmentList env) { env_ = std::move(env); }
  void set_cwd(std::string cwd) { cwd_ = std::move(cwd); }

  std::optional<std::string> read_file(const std::string& path) override {
    auto it = files_.find(absolute(path));
    if (it == files_.end() || unreadable_.count(it->first) != 0) {
      return std::nullopt;
    }
    return it->second;
  }
  bool exists(const std::string& path) override {
    const auto p = absolute(path);
    return files_.count(p) != 0 || dirs_.count(p) != 0;
  }
  bool is_directory(const std::string& path) override { return dirs_.count(absolute(path)) != 0; }
  std::vector<std::string> glob(const std::string& pattern) override {
    std::vector<std::string> out;
    for (const auto& [path, content] : files_) {
      if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) {
        out.push_back(path);
      }
    }
    // Unsorted on purpose: the loader must sort.
    std::reverse(out.begin(), out.end());
    return out;
  }
  std::optional<UserInfo> user_by_name(const std::string& name) override {
    auto it = users_.find(name);
    if (it == users_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  std::optional<UserInfo> user_by_uid(uid_t uid) override {
    for (const auto& [name, info] : users_) {
      if (info.uid == uid) {
        return info;
      }
    }
    return std::nullopt;
  }
  std::optional<gid_t> group_by_name(const std::string& name) override {
    auto it = groups_.find(name);
    if (it == groups_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  bool group_exists(gid_t gid) override {
    for (const auto& [name, id] : groups_) {
      if (id == gid) {
        return true;
      }
    }
    return false;
  }
  std::string host_node_name() override { return "gpu-box-1"; }
  std::string cwd() override { return cwd_; }
  EnvironmentList environment() override { return env_; }
  std::string temp_dir() override { return "/tmp"; }

 private:
  std::string absolute(const std::string& p) const {
    if (!p.empty() && p.front() == '/') {
      return p;
    }
    std::string joined = cwd_ == "/" ? "/" + p : cwd_ + "/" + p;
    while (joined.size() > 1 && joined.back() == '/') {
      joined.pop_back();
    }
    return joined;
  }

  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
  std::set<std::string> unreadable_;
  std::map<std::string, UserInfo> users_;
  std::map<std::string, gid_t> groups_;
  EnvironmentList env_;
  std::string cwd_ = "/srv";
};

}  // namespace zagent::test
