// A gtest fixture for end-to-end tests of child logs: the real zagent on its own config in a
// fresh temp dir (short socket path), the real zctl against it, zctl followers in the
// background. Every wait is a condition with a deadline. The destructor stops the followers
// and the agent, then checks that no process the agent spawned survived (and kills any that
// did). Used by logs_test.cc only; the other e2e files keep their own fixtures.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <csignal>
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

/// `tail -f` / `maintail -f` print this line first.
inline const std::string kFollowHeader = "==> Press Ctrl-C to exit <==\n";

inline std::string helper(const std::string& name) { return kHelpers + "/" + name; }

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

class AgentFixture : public ::testing::Test {
 protected:
  AgentFixture() { std::signal(SIGPIPE, SIG_IGN); }

  ~AgentFixture() override {
    followers_.clear();
    agent_.reset();
    for (const pid_t pid : spawned_pids()) {
      if (process_alive(pid)) {
        ADD_FAILURE() << "process " << pid << " survived the agent";
        kill(pid, SIGKILL);
      }
    }
  }

  /// The config shared by zagent and zctl: the standard header (socket s.sock, main log z.log
  /// at loglevel `loglevel`, childlogdir = the temp dir), `supervisord_extra` inside
  /// [supervisord], then `programs`.
  void write_config(const std::string& programs, const std::string& supervisord_extra = "",
                    const std::string& loglevel = "info") {
    conf_ = dir_.write(
        "z.conf",
        "[unix_http_server]\nfile=%(here)s/s.sock\n"
        "[supervisord]\nlogfile=%(here)s/z.log\npidfile=%(here)s/z.pid\n"
        "childlogdir=%(here)s\nloglevel=" +
            loglevel + "\n" + supervisord_extra +
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n" +
            programs);
  }

  /// Writes the config and starts `[wrapper...] zagent -c z.conf -n` (a wrapper execs the
  /// agent, so the pid stays the agent's); false (with a failure) if it did not come up.
  [[nodiscard]] bool start_agent(const std::string& programs,
                                 const std::string& supervisord_extra = "",
                                 const std::string& loglevel = "info",
                                 const std::vector<std::string>& wrapper = {}) {
    write_config(programs, supervisord_extra, loglevel);
    std::vector<std::string> argv = wrapper;
    argv.insert(argv.end(), {kZagent, "-c", conf_, "-n"});
    agent_ = std::make_unique<BackgroundProcess>(argv, dir_.path().string(), dir_.file("agent.out"),
                                                 dir_.file("agent.err"));
    if (!wait_log("supervisord started with pid " + std::to_string(agent_->pid()))) {
      ADD_FAILURE() << "zagent did not start\n" << main_log() << read_file(dir_.file("agent.err"));
      return false;
    }
    return true;
  }

  /// SIGTERM to the agent; expects a clean exit.
  void stop_agent() {
    agent_->signal(SIGTERM);
    const auto code = agent_->wait(kDeadline);
    ASSERT_TRUE(code.has_value()) << "agent did not exit\n" << main_log();
    EXPECT_EQ(*code, 0) << read_file(dir_.file("agent.err"));
  }

  /// `zctl -c z.conf WORDS...` (the line split on spaces).
  RunResult ctl(const std::string& line) const {
    std::vector<std::string> argv = {kZctl, "-c", conf_};
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      argv.push_back(w);
    }
    RunOptions options;
    options.cwd = dir_.path().string();
    return run(argv, options);
  }

  /// zctl in the background (tail -f, maintail -f), output to files NAME.out / NAME.err.
  BackgroundProcess& follower(const std::string& name, const std::string& line) {
    std::vector<std::string> argv = {kZctl, "-c", conf_};
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      argv.push_back(w);
    }
    followers_.push_back(std::make_unique<BackgroundProcess>(
        argv, dir_.path().string(), dir_.file(name + ".out"), dir_.file(name + ".err")));
    return *followers_.back();
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

  bool wait_log(const std::string& text, milliseconds deadline = kDeadline) const {
    return wait_until([&] { return main_log().find(text) != std::string::npos; }, deadline);
  }

  /// Until the file `name` in the temp dir holds exactly `content`.
  bool wait_file(const std::string& name, const std::string& content,
                 milliseconds deadline = kDeadline) const {
    return wait_until([&] { return read_file(dir_.file(name)) == content; }, deadline);
  }

  /// Every pid the agent logged as spawned.
  std::vector<pid_t> spawned_pids() const {
    std::vector<pid_t> pids;
    const std::string log = main_log();
    static const std::regex kSpawned(R"(spawned: '[^']*' with pid (\d+))");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kSpawned);
         it != std::sregex_iterator(); ++it) {
      pids.push_back(std::stoi((*it)[1]));
    }
    return pids;
  }

  TempDir dir_;
  std::string conf_;
  std::unique_ptr<BackgroundProcess> agent_;
  std::vector<std::unique_ptr<BackgroundProcess>> followers_;
};

}  // namespace zagent::test::e2e
