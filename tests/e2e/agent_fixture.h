// The gtest fixture shared by every end-to-end test of a running agent (agent_test.cc,
// logs_test.cc, rpc_test.cc, zctl_test.cc): the real zagent on its own config in a fresh temp
// dir (short socket path), the real zctl against it, zctl in the background. Every wait is a
// condition with a deadline. The destructor stops the background zctls and the agent, then
// checks that no process the agent spawned survived (and kills any that did).
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test::e2e {

using std::chrono::milliseconds;

inline const std::string kZagent = ZAGENT_BIN;
inline const std::string kZctl = ZCTL_BIN;
inline const std::string kHelpers = ZAGENT_HELPERS_DIR;
inline constexpr milliseconds kDeadline{10000};
/// How long stop_agent() waits for the agent to exit after SIGTERM.
inline constexpr milliseconds kStopDeadline{15000};

/// `tail -f` / `maintail -f` / `fg` print this line first.
inline const std::string kFollowHeader = "==> Press Ctrl-C to exit <==\n";

inline std::string helper(const std::string& name) { return kHelpers + "/" + name; }

/// A TCP port on 127.0.0.1 that nobody listened on a moment ago (bound to port 0, read back,
/// closed), for a helper server or `[inet_http_server]`.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot find a free port";
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// `[program:NAME]` with `command=COMMAND` and further `key=value\n` lines.
inline std::string program(const std::string& name, const std::string& command,
                           const std::string& extra = "") {
  return "[program:" + name + "]\ncommand=" + command + "\n" + extra;
}

/// The last `n` bytes of `text` (all of it if shorter).
inline std::string last_bytes(const std::string& text, size_t n) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

/// How often `needle` occurs in `text`.
inline size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

/// What `spew BYTES` writes (tests/helpers/spew.cc).
inline std::string spew_output(size_t bytes) {
  std::string out;
  for (long long n = 1; out.size() < bytes; ++n) {
    char line[80];
    std::snprintf(line, sizeof line, "line %06lld %s\n", n % 1000000,
                  "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
    out += line;
  }
  out.resize(bytes);
  return out;
}

/// Lines (`key=value\n` each) added to the sections of the standard config.
struct ConfigExtras {
  std::string server{};       ///< into [unix_http_server]
  std::string supervisord{};  ///< into [supervisord]
  std::string ctl{};          ///< into [supervisorctl]
};

class AgentFixture : public ::testing::Test {
 protected:
  AgentFixture() {
    std::signal(SIGPIPE, SIG_IGN);  // writing to the stdin of a zctl that has gone
  }

  ~AgentFixture() override {
    background_.clear();
    agent_.reset();
    try {
      for (const pid_t pid : spawned_pids()) {
        if (process_alive(pid)) {
          ADD_FAILURE() << "process " << pid << " survived the agent";
          kill(pid, SIGKILL);
        }
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot check for survivors: " << e.what();
    }
  }

  /// The agent's control socket (s.sock in the temp dir).
  std::string sock() const { return dir_.file("s.sock"); }

  /// The config shared by zagent and zctl: the standard header (socket s.sock, main log z.log
  /// at `loglevel_`, childlogdir = the temp dir, the sections zctl reads) with `extras` in
  /// their sections, then `programs`.
  void write_config(const std::string& programs, const ConfigExtras& extras = {}) {
    conf_ = dir_.write(
        "z.conf",
        "[unix_http_server]\nfile=%(here)s/s.sock\n" + extras.server +
            "[supervisord]\nlogfile=%(here)s/z.log\npidfile=%(here)s/z.pid\n"
            "childlogdir=%(here)s\nloglevel=" +
            loglevel_ + "\n" + extras.supervisord +
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n" +
            extras.ctl + programs);
  }

  /// Writes the config and starts `[wrapper...] zagent -c z.conf -n` (a wrapper execs the
  /// agent, so the pid stays the agent's), output to agent.out / agent.err; false (with a
  /// failure) if it did not come up.
  [[nodiscard]] bool start_agent(const std::string& programs, const ConfigExtras& extras = {},
                                 const std::vector<std::string>& wrapper = {}) {
    write_config(programs, extras);
    std::vector<std::string> argv = wrapper;
    argv.insert(argv.end(), {kZagent, "-c", conf_, "-n"});
    agent_ = std::make_unique<BackgroundProcess>(argv, dir_.path().string(), dir_.file("agent.out"),
                                                 dir_.file("agent.err"));
    if (!wait_log("supervisord started with pid " + std::to_string(agent_->pid()))) {
      ADD_FAILURE() << "zagent did not start\n" << main_log() << read_file(dir_.file("agent.err"));
      return false;
    }
    // The `started` line comes before the life's own lines (the GPU probe's, ...); a call is
    // answered only once they are written, so a test reading the main log sees all of them.
    (void)ctl("pid");
    return true;
  }

  /// SIGTERM to the agent; expects a clean exit.
  void stop_agent() {
    agent_->signal(SIGTERM);
    const auto code = agent_->wait(kStopDeadline);
    ASSERT_TRUE(code.has_value()) << "agent did not exit\n" << main_log();
    EXPECT_EQ(*code, 0) << read_file(dir_.file("agent.err"));
  }

  /// `zctl -c z.conf WORDS...` (the line split on spaces), stdin = `input`.
  RunResult ctl(const std::string& line, const std::string& input = "") const {
    return zctl(ctl_args(line), input);
  }

  /// `zctl ARGS...` exactly as given, stdin = `input`.
  RunResult zctl(const std::vector<std::string>& args, const std::string& input = "") const {
    std::vector<std::string> argv = {kZctl};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.cwd = dir_.path().string();
    options.stdin_data = input;
    return run(argv, options);
  }

  /// `zctl -c z.conf WORDS...` in the background (tail -f, maintail -f, a start or stop that
  /// blocks), output to files NAME.out / NAME.err.
  BackgroundProcess& background(const std::string& name, const std::string& line) {
    std::vector<std::string> argv = {kZctl};
    const std::vector<std::string> args = ctl_args(line);
    argv.insert(argv.end(), args.begin(), args.end());
    background_.push_back(std::make_unique<BackgroundProcess>(
        argv, dir_.path().string(), dir_.file(name + ".out"), dir_.file(name + ".err")));
    return *background_.back();
  }

  /// Until `zctl status NAME` shows STATE.
  bool wait_state(const std::string& name, const std::string& state,
                  milliseconds deadline = kDeadline) const {
    const std::regex line("^" + name + " +" + state + "( |$)");
    return wait_until([&] { return std::regex_search(ctl("status " + name).out, line); }, deadline);
  }

  /// The whole main log: its rotated backups (oldest first), then the current file.
  std::string main_log() const {
    std::string all;
    for (int i = 9; i >= 1; --i) {
      all += read_file(dir_.file("z.log." + std::to_string(i)));
    }
    return all + read_file(dir_.file("z.log"));
  }

  /// Until the main log contains `text`.
  bool wait_log(const std::string& text, milliseconds deadline = kDeadline) const {
    return wait_until([&] { return main_log().find(text) != std::string::npos; }, deadline);
  }

  /// How many times `text` occurs in the main log.
  size_t count_log(const std::string& text) const { return count_of(main_log(), text); }

  /// Until the file `name` in the temp dir holds exactly `content`.
  bool wait_file(const std::string& name, const std::string& content,
                 milliseconds deadline = kDeadline) const {
    return wait_until([&] { return read_file(dir_.file(name)) == content; }, deadline);
  }

  /// Every pid the agent logged as spawned, oldest first; with `name` (a regular expression),
  /// only those of the processes it matches.
  std::vector<pid_t> spawned_pids(const std::string& name = "[^']*") const {
    std::vector<pid_t> pids;
    const std::string log = main_log();
    const std::regex spawned("spawned: '" + name + R"(' with pid (\d+))");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), spawned);
         it != std::sregex_iterator(); ++it) {
      pids.push_back(std::stoi((*it)[1]));
    }
    return pids;
  }

  /// The pid of the last `spawned: 'NAME'` line, or 0.
  pid_t last_pid(const std::string& name) const {
    const std::vector<pid_t> pids = spawned_pids(name);
    return pids.empty() ? 0 : pids.back();
  }

  TempDir dir_;
  std::string loglevel_ = "info";  // [supervisord] loglevel of the configs written
  std::string conf_;               // the config's path, once written
  std::unique_ptr<BackgroundProcess> agent_;
  std::vector<std::unique_ptr<BackgroundProcess>> background_;  // zctl in the background

 private:
  /// `-c z.conf` and the words of `line` (split on spaces).
  std::vector<std::string> ctl_args(const std::string& line) const {
    std::vector<std::string> args = {"-c", conf_};
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      args.push_back(w);
    }
    return args;
  }
};

}  // namespace zagent::test::e2e
