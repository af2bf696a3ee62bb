#include "agent/os/system_config_host.h"

#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

extern char** environ;

namespace zagent {
namespace {

std::optional<UserInfo> from_passwd(const passwd* pw) {
  if (pw == nullptr) {
    return std::nullopt;
  }
  return UserInfo{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir};
}

}  // namespace

std::optional<std::string> SystemConfigHost::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return std::nullopt;
  }
  return ss.str();
}

bool SystemConfigHost::exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool SystemConfigHost::is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> SystemConfigHost::glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  // supervisord compat: Python's glob does not match dot files with '*' and never errors.
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      out.emplace_back(g.gl_pathv[i]);
    }
  }
  globfree(&g);
  return out;
}

std::optional<UserInfo> SystemConfigHost::user_by_name(const std::string& name) {
  return from_passwd(getpwnam(name.c_str()));
}

std::optional<UserInfo> SystemConfigHost::user_by_uid(uid_t uid) {
  return from_passwd(getpwuid(uid));
}

std::optional<gid_t> SystemConfigHost::group_by_name(const std::string& name) {
  const group* gr = getgrnam(name.c_str());
  if (gr == nullptr) {
    return std::nullopt;
  }
  return gr->gr_gid;
}

bool SystemConfigHost::group_exists(gid_t gid) { return getgrgid(gid) != nullptr; }

std::string SystemConfigHost::host_node_name() {
  utsname u{};
  if (uname(&u) != 0) {
    return "";
  }
  return u.nodename;
}

std::string SystemConfigHost::cwd() {
  std::string buf(4096, '\0');
  if (getcwd(buf.data(), buf.size()) == nullptr) {
    return "/";
  }
  buf.resize(std::char_traits<char>::length(buf.c_str()));
  return buf;
}

EnvironmentList SystemConfigHost::environment() {
  EnvironmentList env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string SystemConfigHost::temp_dir() {
  for (const char* var : {"TMPDIR", "TEMP", "TMP"}) {
    const char* v = getenv(var);
    if (v != nullptr && *v != '\0' && is_directory(v)) {
      return v;
    }
  }
  return "/tmp";
}

}  // namespace zagent
