#include "agent/daemon/process_setup.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "agent/config/config.h"
#include "agent/config/config_host.h"
#include "agent/crash/crash_record.h"
#include "agent/crash/crash_store.h"
#include "agent/logs/file_range.h"
#include "agent/logs/follow_registry.h"
#include "agent/logs/log_capture.h"
#include "agent/logs/main_log.h"
#include "agent/os/child_stdin.h"
#include "agent/os/oom_evidence.h"
#include "agent/os/posix_spawner.h"
#include "agent/os/sha1.h"
#include "agent/os/snapshot_runner.h"
#include "agent/os/system_config_host.h"
#include "agent/os/system_file_probe.h"
#include "agent/process/supervisor.h"
#include "agent/rpc/methods.h"
#include "agent/rpc/server.h"
#include "common/config_search.h"
#include "common/pystr.h"

namespace zagent::daemon_setup {

int usage_error(const std::string& argv0, const std::string& message) {
  fmt::print(stderr, "Error: {}\nFor help, use {} -h\n", message, argv0);
  return kExitUsage;
}

// --- the control socket file ----------------------------------------------------------------

namespace {

/// True if something accepts connections on the Unix socket at `path`.
bool socket_answers(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

/// Binds and listens on the configured socket, refusing to start over a live agent and
/// removing a stale file (spec/config.md §5.2). Returns the listening fd.
Result<int> open_control_socket(const UnixHttpServerConfig& server) {
  const std::string& path = server.file;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return fail("Cannot open an HTTP server: socket path too long: " + path);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (socket_answers(path)) {
      return fail(
          "Another program is already listening on a port that one of our HTTP servers is "
          "configured to use.  Shut this program down first before starting supervisord.");
    }
    fmt::print(stderr, "Unlinking stale socket {}\n", path);
    ::unlink(path.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return errno_error("socket", errno);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  // The socket is never world-writable, even for a moment: bind under a tight umask.
  const mode_t old_umask = ::umask(0077);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_umask);
  if (rc != 0) {
    ::close(fd);
    // supervisord compat: its message names the errno symbolically.
    return fail(fmt::format("Cannot open an HTTP server: socket.error reported errno.{} ({})",
                            bind_errno == ENOENT ? "ENOENT" : std::strerror(bind_errno),
                            bind_errno));
  }
  ::chmod(path.c_str(), static_cast<mode_t>(server.chmod));
  if (server.chown_uid) {
    if (::chown(path.c_str(), *server.chown_uid,
                server.chown_gid ? *server.chown_gid : static_cast<gid_t>(-1)) != 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return errno_error("chown " + path, err);
    }
  }
  if (::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    return errno_error("listen " + path, err);
  }
  return fd;
}

// --- AUTO child logs ------------------------------------------------------------------------

namespace {

std::string random_suffix(std::mt19937_64& rng) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string s;
  for (int i = 0; i < 8; ++i) {
    s.push_back(kChars[pick(rng)]);
  }
  return s;
}

}  // namespace

namespace {

std::string regex_escape(const std::string& s) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, kSpecial, R"(\$&)");
}

}  // namespace

/// supervisord compat: at start (unless nocleanup) AUTO logs of an earlier run are deleted:
/// files in childlogdir matching `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}`.
void clean_auto_logs(const SupervisordConfig& sd) {
  const std::regex pattern(".+?---" + regex_escape(sd.identifier) + R"(-\S+\.log\.{0,1}\d{0,4})");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(sd.childlogdir, ec)) {
    if (std::regex_match(e.path().filename().string(), pattern)) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

/// Creates the AUTO log files (empty, mode 0600) as supervisord does when a group becomes
/// active: `<name>-<channel>---<identifier>-<8 random chars>.log` in childlogdir.
LogPaths create_auto_logs(const SupervisordConfig& sd, const std::vector<GroupConfig>& groups) {
  LogPaths paths;
  std::mt19937_64 rng(std::random_device{}());
  for (const auto& g : groups) {
    for (const auto& p : g.processes) {
      for (const auto& [channel, log] :
           {std::pair<std::string, const LogChannelConfig*>{"stdout", &p.stdout_log},
            {"stderr", &p.stderr_log}}) {
        if (log->logfile.kind != LogTargetKind::Auto) {
          continue;
        }
        // A file that cannot be created (no directory, no room, a name too long) keeps its
        // path all the same: the program runs, and its log reports the failure as any other
        // log failure does (main log, status description, *_log_error) and is retried with
        // each output, instead of the program running with no log and nothing said.
        std::string path;
        for (int attempt = 0; attempt < 10; ++attempt) {
          path = sd.childlogdir + "/" + p.name + "-" + channel + "---" + sd.identifier + "-" +
                 random_suffix(rng) + ".log";
          const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
          if (fd >= 0) {
            ::close(fd);
            break;
          }
          if (errno != EEXIST) {
            break;  // another name would fail the same way
          }
        }
        paths[{g.name, p.name, channel}] = path;
      }
    }
  }
  return paths;
}

// --- process-wide setup ---------------------------------------------------------------------

namespace {

/// Raises a soft limit to at least `wanted`; returns a message for the log, or an error.
Result<std::string> raise_limit(int resource, const char* name, const char* key,
                                std::int64_t wanted) {
  rlimit lim{};
  if (::getrlimit(resource, &lim) != 0 || wanted <= 0 || lim.rlim_cur == RLIM_INFINITY ||
      static_cast<std::int64_t>(lim.rlim_cur) >= wanted) {
    return std::string();
  }
  if (lim.rlim_max != RLIM_INFINITY && static_cast<std::int64_t>(lim.rlim_max) < wanted) {
    return fail(fmt::format(
        "The minimum number of {} required to run this process is {} as per the \"{}\" "
        "command-line argument or config file setting. The current environment will only "
        "allow {}.  Either raise the limit in your environment or lower the {} setting.",
        name, wanted, key, lim.rlim_max, key));
  }
  lim.rlim_cur = static_cast<rlim_t>(wanted);
  if (::setrlimit(resource, &lim) != 0) {
    return errno_error(std::string("setrlimit ") + name, errno);
  }
  return fmt::format("Increased {} limit to {}",
                     resource == RLIMIT_NOFILE ? "RLIMIT_NOFILE" : "RLIMIT_NPROC", wanted);
}

}  // namespace

namespace {

/// Drops privileges to [supervisord] user= when running as root (supervisord's rules).
Result<std::string> drop_privileges(const SupervisordConfig& sd, ConfigHost& host) {
  if (!sd.user) {
    return std::string();
  }
  std::optional<UserInfo> user;
  if (auto uid = py_int(*sd.user)) {
    user = host.user_by_uid(static_cast<uid_t>(*uid));
  } else {
    user = host.user_by_name(*sd.user);
  }
  if (!user) {
    return fail("Can't find username " + py_repr(*sd.user));
  }
  if (::getuid() != 0) {
    if (user->uid == ::getuid()) {
      return std::string();
    }
    return fail("Can't drop privilege as nonroot user");
  }
  if (::initgroups(user->name.c_str(), user->gid) != 0 || ::setgid(user->gid) != 0 ||
      ::setuid(user->uid) != 0) {
    return errno_error("Could not set user id of process to " + std::to_string(user->uid), errno);
  }
  return fmt::format("Set uid to user {} succeeded", user->uid);
}

}  // namespace

/// supervisord compat: fork, the parent exits 0, the child becomes a session leader with its
/// standard streams on /dev/null, in `directory` with `umask`.
Result<void> daemonize(const SupervisordConfig& sd, LogSink& log) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    return errno_error("fork", errno);
  }
  if (pid > 0) {
    ::_exit(0);
  }
  ::setsid();
  if (sd.directory) {
    if (::chdir(sd.directory->c_str()) != 0) {
      log.log(LogLevel::Critical,
              fmt::format("can't chdir into {}: {}", py_repr(*sd.directory), std::strerror(errno)));
    } else {
      log.log(LogLevel::Info, fmt::format("set current directory: {}", py_repr(*sd.directory)));
    }
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::close(devnull);
  }
  ::umask(static_cast<mode_t>(sd.umask));
  log.log(LogLevel::Info, "daemonizing the supervisord process");
  return {};
}

/// The signals the loop handles. They are blocked from startup until the loop's handlers
/// exist, so that an early SIGTERM is handled (after startup) instead of killing the agent.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signo : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2}) {
    sigaddset(&set, signo);
  }
  return set;
}

bool write_pidfile(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  out << ::getpid() << "\n";
  return static_cast<bool>(out);
}

/// The process-wide setup of a life, with the notes it leaves for the main log: the
/// running-as-root warning, and on the first life only, dropping privileges to `user=` and
/// raising `minfds`/`minprocs`. An error is a usage error (exit 2).
Result<std::vector<ConfigNote>> process_setup(const SupervisordConfig& sd, bool first_life,
                                              ConfigHost& host) {
  std::vector<ConfigNote> notes;
  if (::getuid() == 0 && !sd.user) {
    notes.push_back({LogLevel::Critical,
                     "Supervisor is running as root.  Privileges were not dropped because no "
                     "user is specified in the config file.  If you intend to run as root, you "
                     "can set user=root in the config file to avoid this message."});
  }
  if (!first_life) {
    return notes;
  }
  auto dropped = drop_privileges(sd, host);
  if (!dropped) {
    return dropped.error();
  }
  if (!dropped->empty()) {
    notes.push_back({LogLevel::Info, *dropped});
  }
  for (const auto& [resource, name, key, wanted] :
       {std::tuple{RLIMIT_NOFILE, "file descriptors", "minfds", sd.minfds},
        std::tuple{RLIMIT_NPROC, "available processes", "minprocs", sd.minprocs}}) {
    auto raised = raise_limit(resource, name, key, wanted);
    if (!raised) {
      return raised.error();
    }
    if (!raised->empty()) {
      notes.push_back({LogLevel::Info, *raised});
    }
  }
  return notes;
}

/// `[unix_http_server]`; without that section the agent still serves, on the per-user default
/// socket.
UnixHttpServerConfig control_socket_config(const AgentConfig& config) {
  if (config.unix_http_server) {
    return *config.unix_http_server;
  }
  UnixHttpServerConfig server;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  server.file = default_socket_path(::getuid(), xdg != nullptr ? xdg : "");
  return server;
}

/// Who may use the socket: root, the agent's own uid, the chown= owner and group, and the
/// section's login.
AccessPolicy access_policy(const UnixHttpServerConfig& server) {
  AccessPolicy policy;
  policy.uids = {0, ::geteuid()};
  if (server.chown_uid) {
    policy.uids.insert(*server.chown_uid);
  }
  policy.gid = server.chown_gid;
  policy.username = server.username;
  policy.password = server.password;
  policy.sha1_hex = sha1_hex;
  return policy;
}

}  // namespace zagent::daemon_setup
