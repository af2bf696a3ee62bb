// End-to-end: the real zctl against the real zagent, for every command and every error case of
// spec/ctl.md §1.2-§8. stdout, stderr and the exit status are compared exactly, as full
// strings; only pids, uptimes and dates are normalised (normalise()). Each test runs its own
// agent in a fresh temp dir with a short socket path, waits on conditions with deadlines and
// leaves no process behind (agent_fixture.h: its destructor checks every pid the agent spawned).
//
// The expected texts are supervisorctl 4.2.5's (checked against the real supervisorctl where the
// spec was not explicit); the `error: ...` lines for Python exceptions use zctl's documented
// form (`file: zctl line: 0`, docs/zctl.md), since Python's file/line cannot be reproduced.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/agent_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A sleep_forever program (prints "ready", then sleeps); RUNNING at once unless `extra`
/// says otherwise.
std::string sleeper(const std::string& name, const std::string& extra = "startsecs=0\n") {
  return program(name, helper("sleep_forever"), extra);
}

/// Pids, uptimes and dates vary from run to run: `pid <PID>, uptime <UP>`, `<DATE>`.
std::string normalise(std::string text) {
  static const std::regex kUptime(R"(pid \d+, uptime \d+:\d\d:\d\d)");
  static const std::regex kDate(R"([A-Z][a-z][a-z] \d\d \d\d:\d\d [AP]M)");
  text = std::regex_replace(text, kUptime, "pid <PID>, uptime <UP>");
  return std::regex_replace(text, kDate, "<DATE>");
}

/// The lines of `text` sorted: group and `all` results come in completion order.
std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line + "\n");
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) {
    out += l;
  }
  return out;
}

/// SIGKILL to one process; never to 0 or -1 (the whole group / everything).
void kill_process(pid_t pid) {
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
}

// supervisorctl 4.2.5's help texts (spec/ctl.md §8), as `supervisorctl help TOPIC` prints them.
const std::map<std::string, std::string>& help_texts() {
  static const std::map<std::string, std::string> texts = {
      {"help",
       "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>\n"},
      {"add", "add <name> [...]\tActivates any updates in config for process/group\n"},
      {"avail", "avail\t\t\tDisplay all configured processes\n"},
      {"clear",
       "clear <name>\t\tClear a process' log files.\n"
       "clear <name> <name>\tClear multiple process' log files\n"
       "clear all\t\tClear all process' log files\n"},
      {"exit", "exit\tExit the supervisor shell.\n"},
      {"fg", "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit\n"},
      {"maintail",
       "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n"
       "maintail -100\tlast 100 *bytes* of supervisord main log file\n"
       "maintail\tlast 1600 *bytes* of supervisor main log file\n"
       "\n"},
      {"open",
       "open <url>\tConnect to a remote supervisord process.\n"
       "\t\t(for UNIX domain socket, use unix:///socket/path)\n"},
      {"pid",
       "pid\t\t\tGet the PID of supervisord.\n"
       "pid <name>\t\tGet the PID of a single child process by name.\n"
       "pid all\t\t\tGet the PID of every child process, one per line.\n"},
      {"quit", "quit\tExit the supervisor shell.\n"},
      {"reload", "reload \t\tRestart the remote supervisord.\n"},
      {"remove", "remove <name> [...]\tRemoves process/group from active config\n"},
      {"reread", "reread \t\t\tReload the daemon's configuration files without add/remove\n"},
      {"restart",
       "restart <name>\t\tRestart a process\n"
       "restart <gname>:*\tRestart all processes in a group\n"
       "restart <name> <name>\tRestart multiple processes or groups\n"
       "restart all\t\tRestart all processes\n"
       "Note: restart does not reread config files. For that, see reread and update.\n"},
      {"shutdown", "shutdown \tShut the remote supervisord down.\n"},
      {"signal",
       "signal <signal name> <name>\t\tSignal a process\n"
       "signal <signal name> <gname>:*\t\tSignal all processes in a group\n"
       "signal <signal name> <name> <name>\tSignal multiple processes or groups\n"
       "signal <signal name> all\t\tSignal all processes\n"},
      {"start",
       "start <name>\t\tStart a process\n"
       "start <gname>:*\t\tStart all processes in a group\n"
       "start <name> <name>\tStart multiple processes or groups\n"
       "start all\t\tStart all processes\n"},
      {"status",
       "status <name>\t\tGet status for a single process\n"
       "status <gname>:*\tGet status for all processes in a group\n"
       "status <name> <name>\tGet status for multiple named processes\n"
       "status\t\t\tGet all process status info\n"},
      {"stop",
       "stop <name>\t\tStop a process\n"
       "stop <gname>:*\t\tStop all processes in a group\n"
       "stop <name> <name>\tStop multiple processes or groups\n"
       "stop all\t\tStop all processes\n"},
      {"tail",
       "tail [-f] <name> [stdout|stderr] (default stdout)\n"
       "Ex:\n"
       "tail -f <name>\t\tContinuous tail of named process stdout\n"
       "\t\t\tCtrl-C to exit.\n"
       "tail -100 <name>\tlast 100 *bytes* of process stdout\n"
       "tail <name> stderr\tlast 1600 *bytes* of process stderr\n"},
      {"update",
       "update\t\t\tReload config and add/remove as necessary, and will restart affected "
       "programs\n"
       "update all\t\tReload config and add/remove as necessary, and will restart affected "
       "programs\n"
       "update <gname> [...]\tUpdate specific groups\n"},
      {"version", "version\t\t\tShow the version of the remote supervisord process\n"},
  };
  return texts;
}

std::string help_of(const std::string& topic) { return help_texts().at(topic); }

// `help` without a topic; lines 4-6 end in spaces.
const std::string kHelpIndex =
    "\n"
    "default commands (type help <topic>):\n"
    "=====================================\n"
    "add    exit      open  reload  restart   start   tail   \n"
    "avail  fg        pid   remove  shutdown  status  update \n"
    "clear  maintail  quit  reread  signal    stop    version\n"
    "\n";

/// A program whose stdin is a pipe the test writes to (the shell, `fg`); stdout and stderr go
/// to files. The destructor kills and reaps it if it is still there.
class PipedProcess {
 public:
  PipedProcess(const std::vector<std::string>& argv, const std::string& cwd,
               const std::string& out_path, const std::string& err_path) {
    int fds[2] = {-1, -1};
    if (pipe2(fds, O_CLOEXEC) != 0) {
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    argp.reserve(args.size() + 1);
    for (auto& a : args) {
      argp.push_back(a.data());
    }
    argp.push_back(nullptr);
    if (posix_spawn(&pid_, argp[0], &actions, nullptr, argp.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    stdin_ = fds[1];
  }
  ~PipedProcess() {
    close_stdin();
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  PipedProcess(const PipedProcess&) = delete;
  PipedProcess& operator=(const PipedProcess&) = delete;

  void close_stdin() {
    if (stdin_ >= 0) {
      close(stdin_);
      stdin_ = -1;
    }
  }
  void signal(int signo) const {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, signo);
    }
  }
  /// The exit status (128+signal if killed), or nullopt if it did not exit in time.
  std::optional<int> wait(milliseconds deadline) {
    if (pid_ <= 0) {
      return std::nullopt;
    }
    if (!reaped_ &&
        !wait_until([this] { return waitpid(pid_, &status_, WNOHANG) == pid_; }, deadline)) {
      return std::nullopt;
    }
    reaped_ = true;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// A control socket that answers every call with `answer(request)` (members `result` or
/// `error`): an agent zagent cannot be made to be (an old API version, no supervisor.*).
class FakeServer {
 public:
  FakeServer(const std::string& path, std::function<Json(const Json&)> answer)
      : answer_(std::move(answer)) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || listen(fd_, 8) != 0) {
      ADD_FAILURE() << "cannot listen on " << path;
      return;
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    close(fd_);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) {
        continue;
      }
      const int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        continue;
      }
      std::string buffer;
      while (!stop_) {
        pollfd q{conn, POLLIN, 0};
        if (poll(&q, 1, 20) <= 0) {
          continue;
        }
        char chunk[4096];
        const ssize_t n = read(conn, chunk, sizeof chunk);
        if (n <= 0) {
          break;
        }
        buffer.append(chunk, static_cast<size_t>(n));
        for (size_t nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
          const Json frame = Json::parse(buffer.substr(0, nl), nullptr, false);
          buffer.erase(0, nl + 1);
          // A batch (zctl sends several calls as one) is answered with one array.
          const auto answer = [this](const Json& request) {
            Json reply = answer_(request);
            reply["jsonrpc"] = "2.0";
            reply["id"] = request["id"];
            return reply;
          };
          Json out;
          if (frame.is_array()) {
            out = Json::array();
            for (const Json& request : frame) {
              if (request.is_object() && request.contains("id")) {
                out.push_back(answer(request));
              }
            }
          } else if (frame.is_object() && frame.contains("id")) {
            out = answer(frame);
          }
          if (out.is_null() || out.empty()) {
            continue;
          }
          const std::string line = out.dump() + "\n";
          if (send(conn, line.data(), line.size(), MSG_NOSIGNAL) < 0) {
            break;
          }
        }
      }
      close(conn);
    }
  }

  std::function<Json(const Json&)> answer_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// A socket file nobody listens on, as a killed agent leaves behind: connect() is refused.
void make_stale_socket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  EXPECT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)), 0);
  close(fd);
}

/// The shared fixture, plus `zctl pid`.
class ZctlTest : public AgentFixture {
 protected:
  ZctlTest() : url_("unix://" + sock()) {}

  /// `zctl pid NAME` as a number (0: not running, -1: no answer).
  pid_t pid_of(const std::string& name) const {
    const RunResult r = ctl("pid " + name);
    return r.out.empty() || !std::isdigit(static_cast<unsigned char>(r.out[0]))
               ? -1
               : static_cast<pid_t>(std::stol(r.out));
  }

  std::string url_;  // unix:// + the socket path
};

void check_result(const RunResult& r, const std::string& out, const std::string& err, int code) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(normalise(r.out), out);
  EXPECT_EQ(normalise(r.err), err);
  EXPECT_EQ(r.exit_code, code);
}

// zctl LINE must print exactly OUT (after normalise) on stdout, nothing on stderr, and exit CODE.
#define EXPECT_CTL(line_, out_, code_)                        \
  do {                                                        \
    SCOPED_TRACE("zctl " + std::string(line_));               \
    check_result(ctl(line_), std::string(out_), "", (code_)); \
  } while (0)

// The same for stdout and stderr.
#define EXPECT_CTL_ERR(line_, out_, err_, code_)                             \
  do {                                                                       \
    SCOPED_TRACE("zctl " + std::string(line_));                              \
    check_result(ctl(line_), std::string(out_), std::string(err_), (code_)); \
  } while (0)

// Group/all results come in completion order: stdout compared with its lines sorted.
#define EXPECT_CTL_ANY_ORDER(line_, out_, code_)                         \
  do {                                                                   \
    SCOPED_TRACE("zctl " + std::string(line_));                          \
    const RunResult result_ = ctl(line_);                                \
    EXPECT_EQ(sorted_lines(normalise(result_.out)), sorted_lines(out_)); \
    EXPECT_EQ(result_.err, "");                                          \
    EXPECT_EQ(result_.exit_code, (code_));                               \
  } while (0)

// =============================================================================================
// §3 status

/// Every state a settled agent shows, in group-then-name order.
std::string status_programs() {
  return program("ok", helper("sleep_forever"), "startsecs=0\npriority=10\n") +
         program("exit0", helper("exit_with") + " 0", "startsecs=0\nautorestart=false\n") +
         program("fatal", helper("exit_with") + " 1", "startretries=0\n") +
         sleeper("manual", "autostart=false\n") +
         program("missing", "/nonexistent/cmd", "startretries=0\n") +
         "[group:grp]\nprograms=g1,g2\npriority=50\n" + sleeper("g1") +
         sleeper("g2", "autostart=false\n") +
         sleeper("multi",
                 "numprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nautostart=false\n");
}

const std::string kOkRow = "ok                               RUNNING   pid <PID>, uptime <UP>\n";
const std::string kG1Row = "grp:g1                           RUNNING   pid <PID>, uptime <UP>\n";
const std::string kG2Row = "grp:g2                           STOPPED   Not started\n";
const std::string kFatalRow =
    "fatal                            FATAL     Exited too quickly (process log may have "
    "details)\n";
const std::string kMulti0Row = "multi:multi_00                   STOPPED   Not started\n";
const std::string kMulti1Row = "multi:multi_01                   STOPPED   Not started\n";
const std::string kStatusTable =
    "exit0                            EXITED    <DATE>\n" + kFatalRow + kG1Row + kG2Row +
    "manual                           STOPPED   Not started\n"
    "missing                          FATAL     can't find command '/nonexistent/cmd'\n" +
    kMulti0Row + kMulti1Row + kOkRow;

TEST_F(ZctlTest, StatusShowsEveryProcessAndEveryForm) {
  ASSERT_TRUE(start_agent(status_programs()));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  ASSERT_TRUE(wait_state("exit0", "EXITED"));
  ASSERT_TRUE(wait_state("fatal", "FATAL"));
  ASSERT_TRUE(wait_state("missing", "FATAL"));
  ASSERT_TRUE(wait_state("grp:g1", "RUNNING"));

  EXPECT_CTL("status", kStatusTable, 3);
  EXPECT_CTL("status all", kStatusTable, 3);
  EXPECT_CTL("status ok all", kStatusTable, 3);  // `all` anywhere means all
  EXPECT_CTL("status nosuch all", kStatusTable, 3);
  EXPECT_CTL("status ok", kOkRow, 0);
  EXPECT_CTL("status grp:g1 ok", kG1Row + kOkRow, 0);  // argument order
  EXPECT_CTL("status ok grp:g1", kOkRow + kG1Row, 0);
  EXPECT_CTL("status grp:*", kG1Row + kG2Row, 3);
  EXPECT_CTL("status grp:", kG1Row + kG2Row, 3);
  EXPECT_CTL("status multi:*", kMulti0Row + kMulti1Row, 3);
  EXPECT_CTL("status multi:multi_01", kMulti1Row, 3);
  EXPECT_CTL("status fatal", kFatalRow, 3);
  EXPECT_CTL("status nosuch", "nosuch: ERROR (no such process)\n", 4);
  EXPECT_CTL("status grp:nosuch", "grp:nosuch: ERROR (no such process)\n", 4);
  EXPECT_CTL("status grp:g1:x", "grp:g1:x: ERROR (no such process)\n", 4);  // first `:` splits
  EXPECT_CTL("status nosuch:*", "nosuch: ERROR (no such group)\n", 4);
  // A group whose processes have other names is not a group reference.
  EXPECT_CTL("status grp", "grp: ERROR (no such process)\n", 4);
  // Unknown names come first, before the table.
  EXPECT_CTL("status ok nosuch", "nosuch: ERROR (no such process)\n" + kOkRow, 4);
  EXPECT_CTL("status nosuch ok grp:nosuch",
             "nosuch: ERROR (no such process)\ngrp:nosuch: ERROR (no such process)\n" + kOkRow, 4);
  // The stopped check runs last: 3 wins over 4.
  EXPECT_CTL("status fatal nosuch", "nosuch: ERROR (no such process)\n" + kFatalRow, 3);
}

TEST_F(ZctlTest, StatusColumnFitsTheLongestPrintedName) {
  const std::string long_name = "a_very_long_program_name_exceeding_thirty_chars8";
  ASSERT_EQ(long_name.size(), 48u);
  ASSERT_TRUE(
      start_agent(sleeper(long_name) +
                  sleeper("nolog", "startsecs=0\nstdout_logfile=NONE\nredirect_stderr=true\n")));
  ASSERT_TRUE(wait_state(long_name, "RUNNING"));
  ASSERT_TRUE(wait_state("nolog", "RUNNING"));
  // W = 48 + 3 = 51.
  EXPECT_CTL(
      "status",
      "a_very_long_program_name_exceeding_thirty_chars8   RUNNING   pid <PID>, uptime <UP>\n"
      "nolog                                              RUNNING   pid <PID>, uptime <UP>\n",
      0);
  // Only the printed rows count: W = 30 + 3.
  EXPECT_CTL("status nolog", "nolog                            RUNNING   pid <PID>, uptime <UP>\n",
             0);
}

TEST_F(ZctlTest, StatusWithNothingConfigured) {
  ASSERT_TRUE(start_agent(""));
  EXPECT_CTL("status", "", 0);
  EXPECT_CTL("status all", "", 0);
  EXPECT_CTL("status nosuch", "nosuch: ERROR (no such process)\n", 4);
}

TEST_F(ZctlTest, StatusOfTransientStates) {
  // The stop time of a process stopped out of BACKOFF is epoch 0, shown in the agent's local
  // time: UTC here.
  const char* old_tz = getenv("TZ");
  const std::string saved_tz = old_tz != nullptr ? old_tz : "";
  setenv("TZ", "UTC", 1);
  const bool started =
      start_agent(sleeper("slow", "startsecs=30\n") +
                  program("quick", helper("exit_with") + " 1", "startsecs=1\nstartretries=100\n") +
                  program("backoff", "/nonexistent/cmd", "startretries=100\n") +
                  program("stubborn", helper("ignore_sigterm"),
                          "startsecs=0\nstopwaitsecs=30\nstdout_logfile=%(here)s/stubborn.out\n"));
  if (old_tz != nullptr) {
    setenv("TZ", saved_tz.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  ASSERT_TRUE(started);

  // STARTING (and STOPPING below) keep the padding of the state: trailing spaces.
  ASSERT_TRUE(wait_state("slow", "STARTING"));
  EXPECT_CTL("status slow", "slow                             STARTING  \n", 0);
  const std::string quick_row =
      "quick                            BACKOFF   Exited too quickly (process log may have "
      "details)\n";
  EXPECT_TRUE(wait_until([&] {
    const RunResult r = ctl("status quick");
    return r.out == quick_row && r.exit_code == 0;
  })) << ctl("status quick").out;
  const std::string backoff_row =
      "backoff                          BACKOFF   can't find command '/nonexistent/cmd'\n";
  EXPECT_TRUE(wait_until([&] {
    const RunResult r = ctl("status backoff");
    return r.out == backoff_row && r.exit_code == 0;
  })) << ctl("status backoff").out;

  // STOPPING: stubborn ignores SIGTERM, so its stop waits for stopwaitsecs.
  ASSERT_TRUE(wait_file("stubborn.out", "ready\n"));
  const pid_t stubborn = pid_of("stubborn");
  ASSERT_GT(stubborn, 0);
  BackgroundProcess& stop = background("stop", "stop stubborn");
  ASSERT_TRUE(wait_state("stubborn", "STOPPING"));
  EXPECT_CTL("status stubborn", "stubborn                         STOPPING  \n", 0);
  kill_process(stubborn);
  EXPECT_EQ(stop.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("stop.out")), "stubborn: stopped\n");
  EXPECT_EQ(read_file(dir_.file("stop.err")), "");

  // A BACKOFF process is stopped at once; after a spawn error it never got a stop time.
  EXPECT_CTL("stop backoff", "backoff: stopped\n", 0);
  const RunResult backoff = ctl("status backoff");
  EXPECT_EQ(backoff.out, "backoff                          STOPPED   Jan 01 12:00 AM\n");
  EXPECT_EQ(backoff.exit_code, 3);

  EXPECT_CTL("stop slow", "slow: stopped\n", 0);
  EXPECT_CTL("status slow", "slow                             STOPPED   <DATE>\n", 3);
}

// =============================================================================================
// §4.1 start

TEST_F(ZctlTest, StartReportsEveryOutcome) {
  dir_.write("noexec.sh", "#!/bin/sh\n");  // mode 0644: not executable
  ASSERT_TRUE(start_agent(
      sleeper("ok", "startsecs=0\nautostart=false\n") +
      program("missing", "/nonexistent/cmd", "autostart=false\n") +
      program("noexec", "%(here)s/noexec.sh", "autostart=false\n") +
      program("dir", "%(here)s", "autostart=false\n") +
      program("unparsable", "/bin/echo \"unclosed", "autostart=false\n") +
      program("empty", "", "autostart=false\n") +
      program("relative", "nonexistent_cmd_xyz", "autostart=false\n") +
      program("quick", helper("exit_with") + " 1", "autostart=false\nstartretries=0\n") +
      "[group:grp]\nprograms=g1,g2\n" + sleeper("g1", "startsecs=0\nautostart=false\n") +
      sleeper("g2", "startsecs=0\nautostart=false\n")));

  EXPECT_CTL("start", "Error: start requires a process name\n" + help_of("start"), 2);
  EXPECT_CTL("start nosuch", "nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("start grp:nosuch", "grp:nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("start nosuch:*", "nosuch: ERROR (no such group)\n", 2);
  EXPECT_CTL("start grp", "grp: ERROR (no such process)\n", 1);
  EXPECT_CTL("start missing", "missing: ERROR (no such file)\n", 1);
  EXPECT_CTL("start relative", "relative: ERROR (no such file)\n", 1);  // not on PATH
  EXPECT_CTL("start noexec", "noexec: ERROR (file is not executable)\n", 1);
  EXPECT_CTL("start dir", "dir: ERROR (file is not executable)\n", 1);
  EXPECT_CTL("start unparsable", "unparsable: ERROR (file is not executable)\n", 1);
  EXPECT_CTL("start empty", "empty: ERROR (file is not executable)\n", 1);
  EXPECT_CTL("start quick", "quick: ERROR (spawn error)\n", 7);
  EXPECT_CTL("start ok", "ok: started\n", 0);
  EXPECT_TRUE(process_alive(pid_of("ok")));
  EXPECT_CTL("start ok", "ok: ERROR (already started)\n", 0);
  // The status is only ever set by errors: a later success does not reset it.
  EXPECT_CTL("start nosuch ok", "nosuch: ERROR (no such process)\nok: ERROR (already started)\n",
             1);
  EXPECT_CTL_ANY_ORDER("start grp:*", "grp:g1: started\ngrp:g2: started\n", 0);
  EXPECT_CTL("start grp:*", "", 0);
  EXPECT_CTL("start grp:", "", 0);
}

TEST_F(ZctlTest, StartAllAndStopAllActOnlyWhereNeeded) {
  ASSERT_TRUE(start_agent(sleeper("a", "startsecs=0\nautostart=false\n") +
                          sleeper("b", "startsecs=0\nautostart=false\n") + sleeper("c")));
  ASSERT_TRUE(wait_state("c", "RUNNING"));
  EXPECT_CTL_ANY_ORDER("start all", "a: started\nb: started\n", 0);
  EXPECT_CTL("start all", "", 0);
  EXPECT_CTL_ANY_ORDER("stop all", "a: stopped\nb: stopped\nc: stopped\n", 0);
  EXPECT_CTL("stop all", "", 0);
}

TEST_F(ZctlTest, StartOfAProcessStoppedWhileStartingIsAbnormalTermination) {
  ASSERT_TRUE(start_agent(sleeper("slow", "startsecs=30\nautostart=false\n")));
  BackgroundProcess& start = background("start", "start slow");
  ASSERT_TRUE(wait_state("slow", "STARTING"));
  EXPECT_CTL("stop slow", "slow: stopped\n", 0);
  EXPECT_EQ(start.wait(kDeadline), 7);
  EXPECT_EQ(read_file(dir_.file("start.out")), "slow: ERROR (abnormal termination)\n");
  EXPECT_EQ(read_file(dir_.file("start.err")), "");
}

TEST_F(ZctlTest, StartNoWaitAndTimeout) {
  ASSERT_TRUE(start_agent(sleeper("slow", "startsecs=30\nautostart=false\n") +
                          sleeper("slow2", "startsecs=30\nautostart=false\n")));
  // --no-wait: returns once the process is forked.
  EXPECT_CTL("start --no-wait slow", "slow: started\n", 0);
  EXPECT_CTL("status slow", "slow                             STARTING  \n", 0);
  // --timeout: the start gives up waiting; the agent goes on starting the process.
  const auto before = std::chrono::steady_clock::now();
  EXPECT_CTL("start --timeout 1 slow2", "slow2: ERROR (timed out)\n", 1);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
  EXPECT_CTL("status slow2", "slow2                            STARTING  \n", 0);
  EXPECT_GT(pid_of("slow2"), 0);
  EXPECT_CTL("start --timeout bogus slow", "Error: --timeout requires a number of seconds\n", 2);
}

// =============================================================================================
// §4.2 stop, §4.3 restart

TEST_F(ZctlTest, StopReportsEveryOutcome) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n") +
                          program("backoff", "/nonexistent/cmd", "startretries=100\n") +
                          "[group:grp]\nprograms=g1,g2\n" + sleeper("g1") +
                          sleeper("g2", "autostart=false\n")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  ASSERT_TRUE(wait_state("grp:g1", "RUNNING"));
  ASSERT_TRUE(wait_state("backoff", "BACKOFF"));

  EXPECT_CTL("stop", "Error: stop requires a process name\n" + help_of("stop"), 1);
  EXPECT_CTL("stop nosuch", "nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("stop grp:nosuch", "grp:nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("stop nosuch:*", "nosuch: ERROR (no such group)\n", 1);
  EXPECT_CTL("stop manual", "manual: ERROR (not running)\n", 0);
  // The command is checked before the state: no ALREADY_STARTED for this BACKOFF process.
  EXPECT_CTL("start backoff", "backoff: ERROR (no such file)\n", 1);
  EXPECT_CTL("stop backoff", "backoff: stopped\n", 0);
  const pid_t ok = pid_of("ok");
  EXPECT_CTL("stop ok", "ok: stopped\n", 0);
  EXPECT_FALSE(process_alive(ok));
  EXPECT_CTL("stop grp:*", "grp:g1: stopped\n", 0);  // only what runs
  EXPECT_CTL("stop all", "", 0);
  EXPECT_CTL("stop nosuch manual", "nosuch: ERROR (no such process)\nmanual: ERROR (not running)\n",
             1);
}

TEST_F(ZctlTest, RestartIsStopThenStart) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "startsecs=0\nautostart=false\n") +
                          program("quick", helper("exit_with") + " 1", "startretries=0\n")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  ASSERT_TRUE(wait_state("quick", "FATAL"));

  EXPECT_CTL("restart", "Error: restart requires a process name\n" + help_of("restart"), 1);
  EXPECT_CTL("restart nosuch", "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n",
             1);
  EXPECT_CTL("restart manual", "manual: ERROR (not running)\nmanual: started\n", 0);
  EXPECT_CTL("restart quick", "quick: ERROR (not running)\nquick: ERROR (spawn error)\n", 7);
  const pid_t before = pid_of("ok");
  EXPECT_CTL("restart ok", "ok: stopped\nok: started\n", 0);
  const pid_t after = pid_of("ok");
  EXPECT_GT(after, 0);
  EXPECT_NE(after, before);
  EXPECT_FALSE(process_alive(before));
}

// =============================================================================================
// §4.4 signal

TEST_F(ZctlTest, SignalReportsEveryOutcome) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n") +
                          "[group:grp]\nprograms=g1,g2\n" + sleeper("g1") + sleeper("g2")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  ASSERT_TRUE(wait_state("grp:g1", "RUNNING"));
  ASSERT_TRUE(wait_state("grp:g2", "RUNNING"));
  const pid_t ok = pid_of("ok");

  const std::string usage =
      "Error: signal requires a signal name and a process name\n" + help_of("signal");
  EXPECT_CTL("signal", usage, 1);
  EXPECT_CTL("signal HUP", usage, 1);
  EXPECT_CTL("signal HUP nosuch", "nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("signal HUP nosuch:*", "nosuch: ERROR (no such group)\n", 1);
  EXPECT_CTL("signal HUP grp", "grp: ERROR (no such process)\n", 1);
  EXPECT_CTL("signal BOGUS ok", "ok: ERROR (bad signal name)\n", 1);
  EXPECT_CTL("signal 99 ok", "ok: ERROR (bad signal name)\n", 1);
  EXPECT_CTL("signal HUP manual", "manual: ERROR (not running)\n", 7);
  EXPECT_CTL("signal BOGUS manual", "manual: ERROR (bad signal name)\n", 1);  // checked first
  // Any case, with or without SIG, or a number (WINCH is ignored by default: ok keeps running).
  EXPECT_CTL("signal winch ok", "ok: signalled\n", 0);
  EXPECT_CTL("signal SIGWINCH ok", "ok: signalled\n", 0);
  EXPECT_CTL("signal sigwinch ok", "ok: signalled\n", 0);
  EXPECT_CTL("signal 28 ok", "ok: signalled\n", 0);
  EXPECT_EQ(pid_of("ok"), ok);
  EXPECT_CTL_ANY_ORDER("signal WINCH grp:*", "grp:g1: signalled\ngrp:g2: signalled\n", 0);
  EXPECT_CTL_ANY_ORDER("signal BOGUS grp:*",
                       "grp:g1: ERROR (bad signal name)\ngrp:g2: ERROR (bad signal name)\n", 1);
  // all: stopped processes are skipped silently.
  EXPECT_CTL_ANY_ORDER("signal WINCH all", "grp:g1: signalled\ngrp:g2: signalled\nok: signalled\n",
                       0);
}

// =============================================================================================
// §4.5 pid, §4.6 clear

TEST_F(ZctlTest, PidForms) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n") +
                          "[group:grp]\nprograms=g1\n" + sleeper("g1")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  ASSERT_TRUE(wait_state("grp:g1", "RUNNING"));
  const std::string ok = std::to_string(last_pid("ok"));
  const std::string g1 = std::to_string(last_pid("g1"));

  EXPECT_CTL("pid", std::to_string(agent_->pid()) + "\n", 0);
  EXPECT_CTL("pid ok", ok + "\n", 0);
  EXPECT_CTL("pid grp:g1", g1 + "\n", 0);
  EXPECT_CTL("pid manual", "0\n", 7);
  EXPECT_CTL("pid ok manual", ok + "\n0\n", 7);
  EXPECT_CTL("pid all", g1 + "\n0\n" + ok + "\n", 0);  // group/name order
  EXPECT_CTL("pid nosuch", "No such process nosuch\n", 1);
  EXPECT_CTL("pid grp:*", "No such process grp:*\n", 1);
}

TEST_F(ZctlTest, ClearTruncatesLogs) {
  ASSERT_TRUE(
      start_agent(sleeper("talker",
                          "startsecs=0\npriority=1\nstdout_logfile=%(here)s/talker.out\n"
                          "stderr_logfile=%(here)s/talker.err\n") +
                  "[group:grp]\nprograms=g1\npriority=50\n" + sleeper("g1") +
                  sleeper("zz", "autostart=false\n") +
                  sleeper("nolog", "startsecs=0\nstdout_logfile=NONE\nredirect_stderr=true\n")));
  ASSERT_TRUE(wait_file("talker.out", "ready\n"));

  EXPECT_CTL("clear talker", "talker: cleared\n", 0);
  EXPECT_EQ(read_file(dir_.file("talker.out")), "");
  EXPECT_TRUE(std::filesystem::exists(dir_.file("talker.err")));
  EXPECT_CTL("clear nosuch", "nosuch: ERROR (no such process)\n", 1);
  EXPECT_CTL("clear", "Error: clear requires a process name\n" + help_of("clear"), 1);
  EXPECT_CTL("clear grp:*", "grp:None: ERROR (no such process)\n", 1);  // not supported
  EXPECT_CTL("clear grp:g1", "grp:g1: cleared\n", 0);
  EXPECT_CTL("clear nolog", "nolog: cleared\n", 0);  // no log files: nothing to do
  // Priority order, then name.
  EXPECT_CTL("clear all", "talker: cleared\ngrp:g1: cleared\nnolog: cleared\nzz: cleared\n", 0);
  EXPECT_CTL("clear nosuch talker", "nosuch: ERROR (no such process)\ntalker: cleared\n", 1);
}

// =============================================================================================
// §5.1 tail

TEST_F(ZctlTest, TailPrintsTheEndOfALog) {
  ASSERT_TRUE(start_agent(
      program("talker", helper("spew") + " 3000",
              "startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/talker.out\n") +
      program("errtalker", helper("spew") + " 2000 --stderr",
              "startsecs=0\nautorestart=false\nstderr_logfile=%(here)s/errtalker.err\n") +
      sleeper("manual", "autostart=false\n")));
  const std::string out = spew_output(3000);
  const std::string err = spew_output(2000);
  ASSERT_TRUE(wait_file("talker.out", out));
  ASSERT_TRUE(wait_file("errtalker.err", err));

  // The last 1600 bytes, then one extra newline.
  EXPECT_CTL("tail talker", last_bytes(out, 1600) + "\n", 0);
  EXPECT_CTL("tail talker stdout", last_bytes(out, 1600) + "\n", 0);
  EXPECT_CTL("tail -50 talker", last_bytes(out, 50) + "\n", 0);  // may start mid-line
  EXPECT_CTL("tail -5000 talker", out + "\n", 0);
  EXPECT_CTL("tail -0 talker", out + "\n", 0);                          // -0: from the start
  EXPECT_CTL("tail talker x stdout", last_bytes(out, 1600) + "\n", 0);  // the middle word is unused
  EXPECT_CTL("tail talker stderr", "\n", 0);                            // an empty AUTO log
  EXPECT_CTL("tail errtalker stderr", last_bytes(err, 1600) + "\n", 0);
  EXPECT_CTL("tail errtalker STDERR", last_bytes(err, 1600) + "\n", 0);  // any case
  EXPECT_CTL("tail -100 errtalker stderr", last_bytes(err, 100) + "\n", 0);
  EXPECT_CTL("tail errtalker", "\n", 0);
  EXPECT_CTL("tail manual", "\n", 0);  // never started, AUTO log
}

TEST_F(ZctlTest, TailErrors) {
  ASSERT_TRUE(start_agent(
      sleeper("ok") + sleeper("nolog", "startsecs=0\nstdout_logfile=NONE\nredirect_stderr=true\n") +
      sleeper("red", "startsecs=0\nredirect_stderr=true\n") +
      sleeper("later", "autostart=false\nstdout_logfile=%(here)s/later.log\n")));
  ASSERT_TRUE(wait_state("nolog", "RUNNING"));

  EXPECT_CTL("tail nolog", "nolog: ERROR (no log file)\n", 1);
  EXPECT_CTL("tail nolog stderr", "nolog: ERROR (no log file)\n", 1);
  EXPECT_CTL("tail red stderr", "red: ERROR (no log file)\n", 1);
  EXPECT_CTL("tail later", "later: ERROR (no log file)\n", 1);  // not yet created
  EXPECT_CTL("tail nosuch", "nosuch: ERROR (no such process name)\n", 1);
  EXPECT_CTL("tail ok bogus", "Error: bad channel 'bogus'\n", 1);
  EXPECT_CTL("tail ok b c", "Error: bad channel 'c'\n", 1);
  EXPECT_CTL("tail -x ok", "Error: bad argument -x\n", 1);
  EXPECT_CTL("tail", "Error: too few arguments\n" + help_of("tail"), 1);
  EXPECT_CTL("tail a b c d", "Error: too many arguments\n" + help_of("tail"), 1);
  EXPECT_CTL("tail -5", "Error: tail requires process name\n", 1);
  // -f: the header, then the HTTP handler's 404 on stderr; exit 0.
  EXPECT_CTL_ERR("tail -f nosuch", kFollowHeader,
                 url_ + "/logtail/nosuch/stdout Cannot read, status code 404\n", 0);
  EXPECT_CTL_ERR("tail -f nolog", kFollowHeader,
                 url_ + "/logtail/nolog/stdout Cannot read, status code 404\n", 0);
  EXPECT_CTL_ERR("tail -f red stderr", kFollowHeader,
                 url_ + "/logtail/red/stderr Cannot read, status code 404\n", 0);
}

TEST_F(ZctlTest, TailFollowShowsNewOutputUntilCtrlC) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  BackgroundProcess& follow = background("follow", "tail -f sl");
  // The header, then the end of the log.
  ASSERT_TRUE(wait_file("follow.out", kFollowHeader + "ready\n"))
      << read_file(dir_.file("follow.out"));
  // New output appears: a restarted sleep_forever prints "ready" again.
  EXPECT_CTL("restart sl", "sl: stopped\nsl: started\n", 0);
  ASSERT_TRUE(wait_file("follow.out", kFollowHeader + "ready\nready\n"))
      << read_file(dir_.file("follow.out"));
  // The log shrinks (clear): a notice, then the new output.
  EXPECT_CTL("clear sl", "sl: cleared\n", 0);
  const std::string truncated = kFollowHeader + "ready\nready\n==> File truncated <==\n";
  ASSERT_TRUE(wait_file("follow.out", truncated)) << read_file(dir_.file("follow.out"));
  EXPECT_CTL("restart sl", "sl: stopped\nsl: started\n", 0);
  ASSERT_TRUE(wait_file("follow.out", truncated + "ready\n")) << read_file(dir_.file("follow.out"));
  // Ctrl-C: an empty line, exit 0.
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("follow.out")), truncated + "ready\n\n");
  EXPECT_EQ(read_file(dir_.file("follow.err")), "");

  // The stderr channel (empty so far): only the header until Ctrl-C.
  BackgroundProcess& err = background("ferr", "tail -f sl stderr");
  ASSERT_TRUE(wait_file("ferr.out", kFollowHeader));
  err.signal(SIGINT);
  EXPECT_EQ(err.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("ferr.out")), kFollowHeader + "\n");
  EXPECT_EQ(read_file(dir_.file("ferr.err")), "");
}

// =============================================================================================
// §5.2 maintail

TEST_F(ZctlTest, MaintailAndItsErrors) {
  // Enough programs for a main log longer than 1600 bytes.
  std::string programs;
  for (int i = 0; i < 16; ++i) {
    programs += sleeper("p" + std::to_string(i));
  }
  ASSERT_TRUE(start_agent(programs));
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(wait_log("success: p" + std::to_string(i) + " entered RUNNING state"));
  }
  const std::string log = main_log();
  ASSERT_GT(log.size(), 1600u);
  EXPECT_CTL("maintail", last_bytes(log, 1600) + "\n", 0);
  EXPECT_CTL("maintail -100", last_bytes(log, 100) + "\n", 0);
  EXPECT_EQ(main_log(), log);  // nothing was logged in between

  EXPECT_CTL("maintail x y", "Error: too many arguments\n" + help_of("maintail"), 1);
  EXPECT_CTL("maintail -x", "Error: bad argument -x\n", 1);
  EXPECT_CTL("maintail x", "Error: bad argument x\n", 1);

  // The main log file is gone.
  std::filesystem::rename(dir_.file("z.log"), dir_.file("z.log.moved"));
  EXPECT_CTL("maintail", "supervisord: ERROR (no log file)\n", 1);
  EXPECT_CTL_ERR("maintail -f", kFollowHeader, url_ + "/mainlogtail Cannot read, status code 404\n",
                 0);
  std::filesystem::rename(dir_.file("z.log.moved"), dir_.file("z.log"));
}

TEST_F(ZctlTest, MaintailFollowShowsNewLinesUntilCtrlC) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_log("success: sl entered RUNNING state"));
  const std::string log = main_log();
  ASSERT_LT(log.size(), 1024u);
  BackgroundProcess& follow = background("follow", "maintail -f");
  ASSERT_TRUE(wait_file("follow.out", kFollowHeader + log)) << read_file(dir_.file("follow.out"));
  EXPECT_CTL("stop sl", "sl: stopped\n", 0);
  ASSERT_TRUE(wait_until([&] {
    return read_file(dir_.file("follow.out")).find("stopped: sl (terminated by SIGTERM)\n") !=
           std::string::npos;
  })) << read_file(dir_.file("follow.out"));
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(kDeadline), 0);
  const std::string out = read_file(dir_.file("follow.out"));
  EXPECT_THAT(out, StartsWith(kFollowHeader + log));
  EXPECT_THAT(out, EndsWith("\n\n"));  // the last log line, then Ctrl-C's empty line
  EXPECT_EQ(read_file(dir_.file("follow.err")), "");
}

// =============================================================================================
// §5.3 fg

TEST_F(ZctlTest, FgErrors) {
  ASSERT_TRUE(start_agent(sleeper("sl") + sleeper("manual", "autostart=false\n") +
                          "[group:grp]\nprograms=g1\n" + sleeper("g1")));
  EXPECT_CTL("fg", "ERROR: no process name supplied\n" + help_of("fg"), 1);
  EXPECT_CTL("fg a b", "ERROR: too many process names supplied\n", 1);
  EXPECT_CTL("fg nosuch", "ERROR: bad process name supplied\n", 1);
  EXPECT_CTL("fg grp:*", "ERROR: bad process name supplied\n", 1);
  EXPECT_CTL("fg manual", "ERROR: process not running\n", 1);
}

TEST_F(ZctlTest, FgStreamsOutputUntilTheProcessDies) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  PipedProcess fg({kZctl, "-c", conf_, "fg", "sl"}, dir_.path().string(), dir_.file("fg.out"),
                  dir_.file("fg.err"));
  ASSERT_TRUE(wait_file("fg.out", kFollowHeader + "ready\n")) << read_file(dir_.file("fg.out"));
  EXPECT_CTL("stop sl", "sl: stopped\n", 0);
  EXPECT_EQ(fg.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("fg.out")),
            kFollowHeader + "ready\nProcess got killed\nExiting foreground\n");
  EXPECT_EQ(read_file(dir_.file("fg.err")), "");
}

TEST_F(ZctlTest, FgEndsOnCtrlCOrEndOfInput) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  {
    PipedProcess fg({kZctl, "-c", conf_, "fg", "sl"}, dir_.path().string(), dir_.file("fg.out"),
                    dir_.file("fg.err"));
    ASSERT_TRUE(wait_file("fg.out", kFollowHeader + "ready\n")) << read_file(dir_.file("fg.out"));
    fg.signal(SIGINT);
    EXPECT_EQ(fg.wait(kDeadline), 0);
    EXPECT_EQ(read_file(dir_.file("fg.out")), kFollowHeader + "ready\nExiting foreground\n");
    EXPECT_EQ(read_file(dir_.file("fg.err")), "");
  }
  // Piped stdin at its end: zctl leaves (4.2.5 hangs here; not copied).
  const RunResult r = ctl("fg sl");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(r.out == kFollowHeader + "Exiting foreground\n" ||
              r.out == kFollowHeader + "ready\nExiting foreground\n")
      << r.out;
  const pid_t sl = pid_of("sl");
  EXPECT_GT(sl, 0);
  EXPECT_TRUE(process_alive(sl));  // fg does not touch the process
}

// =============================================================================================
// §6.1 reread

TEST_F(ZctlTest, RereadListsChangedGroupsAndChangesNothing) {
  ASSERT_TRUE(start_agent(sleeper("a") + sleeper("b") + sleeper("c")));
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(wait_state(name, "RUNNING"));
  }
  const pid_t a = pid_of("a");
  const pid_t c = pid_of("c");
  EXPECT_CTL("reread", "No config updates to processes\n", 0);

  write_config(sleeper("a", "startsecs=0\nstopwaitsecs=5\n") + sleeper("b") + sleeper("d"));
  EXPECT_CTL("reread", "a: changed\nc: disappeared\nd: available\n", 0);
  EXPECT_CTL("reread", "a: changed\nc: disappeared\nd: available\n", 0);  // nothing applied
  EXPECT_EQ(pid_of("a"), a);
  EXPECT_EQ(pid_of("c"), c);
  EXPECT_CTL("status d", "d: ERROR (no such process)\n", 4);
  EXPECT_CTL("reread x", "Error: reread accepts no arguments\n" + help_of("reread"), 1);

  EXPECT_CTL("update",
             "c: stopped\nc: removed process group\n"
             "a: stopped\na: updated process group\n"
             "d: added process group\n",
             0);
  EXPECT_CTL("reread", "No config updates to processes\n", 0);
}

TEST_F(ZctlTest, RereadAndUpdateWithABrokenConfigTouchNothing) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  const pid_t sl = pid_of("sl");
  write_config(sleeper("sl") + program("broken", "x", "autostart=maybe\n"));
  const std::string message =
      "not a valid boolean value: 'maybe' in section 'program:broken' "
      "(file: '" +
      conf_ + "')";
  EXPECT_CTL("reread", "ERROR: CANT_REREAD: " + message + "\n", 1);
  // update does not format CANT_REREAD (supervisorctl 4.2.5); zctl's `error:` line.
  EXPECT_CTL("update",
             "error: <class 'xmlrpc.client.Fault'>, <Fault 92: \"CANT_REREAD: " + message +
                 "\">: file: zctl line: 0\n",
             1);
  EXPECT_EQ(pid_of("sl"), sl);
  EXPECT_TRUE(process_alive(sl));
  EXPECT_CTL("status", "sl                               RUNNING   pid <PID>, uptime <UP>\n", 0);
}

// =============================================================================================
// §6.2 update

TEST_F(ZctlTest, UpdateAppliesRemovedChangedAndAddedGroups) {
  ASSERT_TRUE(start_agent(sleeper("keep") + sleeper("chg") + sleeper("gone") +
                          sleeper("idle", "autostart=false\n")));
  for (const char* name : {"keep", "chg", "gone"}) {
    ASSERT_TRUE(wait_state(name, "RUNNING"));
  }
  const pid_t keep = pid_of("keep");
  const pid_t chg = pid_of("chg");
  const pid_t gone = pid_of("gone");

  write_config(sleeper("keep") + sleeper("chg", "startsecs=0\nstopwaitsecs=5\n") + sleeper("new") +
               sleeper("idle", "autostart=false\n"));
  EXPECT_CTL("update",
             "gone: stopped\ngone: removed process group\n"
             "chg: stopped\nchg: updated process group\n"
             "new: added process group\n",
             0);
  EXPECT_FALSE(process_alive(gone));
  EXPECT_FALSE(process_alive(chg));
  EXPECT_CTL("status gone", "gone: ERROR (no such process)\n", 4);
  ASSERT_TRUE(wait_state("chg", "RUNNING"));  // started by the agent (autostart)
  ASSERT_TRUE(wait_state("new", "RUNNING"));
  EXPECT_NE(pid_of("chg"), chg);
  EXPECT_EQ(pid_of("keep"), keep);
  EXPECT_CTL("update", "", 0);  // nothing to do

  // `stopped` is printed even when nothing was running.
  write_config(sleeper("keep") + sleeper("chg", "startsecs=0\nstopwaitsecs=5\n") + sleeper("new"));
  EXPECT_CTL("update", "idle: stopped\nidle: removed process group\n", 0);
  EXPECT_EQ(pid_of("keep"), keep);
}

TEST_F(ZctlTest, UpdateOfNamedGroupsOnly) {
  ASSERT_TRUE(start_agent(sleeper("a") + sleeper("b")));
  ASSERT_TRUE(wait_state("a", "RUNNING"));
  ASSERT_TRUE(wait_state("b", "RUNNING"));
  const pid_t b = pid_of("b");
  write_config(sleeper("a", "startsecs=0\nstopwaitsecs=5\n") +
               sleeper("b", "startsecs=0\nstopwaitsecs=5\n") + sleeper("c", "autostart=false\n"));

  EXPECT_CTL("update nosuch", "ERROR: no such group: nosuch\n", 1);
  EXPECT_CTL("reread", "a: changed\nb: changed\nc: available\n", 0);  // nothing applied
  EXPECT_CTL("update a", "a: stopped\na: updated process group\n", 0);
  EXPECT_EQ(pid_of("b"), b);
  EXPECT_CTL("update c", "c: added process group\n", 0);
  EXPECT_CTL("status c", "c                                STOPPED   Not started\n", 3);
  EXPECT_CTL("update nosuch b",
             "ERROR: no such group: nosuch\nb: stopped\nb: updated process group\n", 1);
  EXPECT_CTL("update all", "", 0);
}

TEST_F(ZctlTest, UpdateRestartsOnlyTheChangedProgramOfAGroup) {
  ASSERT_TRUE(start_agent("[group:x]\nprograms=p1,p2\n" + sleeper("p1") + sleeper("p2")));
  ASSERT_TRUE(wait_state("x:p1", "RUNNING"));
  ASSERT_TRUE(wait_state("x:p2", "RUNNING"));
  const pid_t p1 = pid_of("x:p1");
  const pid_t p2 = pid_of("x:p2");

  write_config("[group:x]\nprograms=p1,p2\n" + sleeper("p1") +
               sleeper("p2", "startsecs=0\nstopwaitsecs=5\n"));
  EXPECT_CTL("reread", "x: changed\n", 0);
  EXPECT_CTL("update", "x: stopped\nx: updated process group\n", 0);
  ASSERT_TRUE(wait_state("x:p2", "RUNNING"));
  // zagent: only the changed program was restarted.
  EXPECT_EQ(pid_of("x:p1"), p1);
  EXPECT_TRUE(process_alive(p1));
  EXPECT_NE(pid_of("x:p2"), p2);
  EXPECT_GT(pid_of("x:p2"), 0);
  EXPECT_FALSE(process_alive(p2));
}

// =============================================================================================
// §6.3 add / remove, §6.4 avail

TEST_F(ZctlTest, AddAndRemove) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));

  EXPECT_CTL("add", "", 0);
  EXPECT_CTL("remove", "", 0);
  EXPECT_CTL("add nosuch", "ERROR: no such process/group: nosuch\n", 1);
  EXPECT_CTL("remove nosuch", "ERROR: no such process/group: nosuch\n", 1);
  EXPECT_CTL("add ok", "ERROR: process group already active\n", 0);
  EXPECT_CTL("remove ok", "ERROR: process/group still running: ok\n", 1);
  EXPECT_CTL("remove manual", "manual: removed process group\n", 0);
  EXPECT_CTL("status manual", "manual: ERROR (no such process)\n", 4);
  EXPECT_CTL("avail",
             "manual                           avail     manual    999:999\n"
             "ok                               in use    auto      999:999\n",
             0);
  EXPECT_CTL("add manual", "manual: added process group\n", 0);
  EXPECT_CTL("status manual", "manual                           STOPPED   Not started\n", 3);
  EXPECT_CTL("add nosuch manual",
             "ERROR: no such process/group: nosuch\nERROR: process group already active\n", 1);
  EXPECT_CTL("stop ok", "ok: stopped\n", 0);
  EXPECT_CTL("remove ok", "ok: removed process group\n", 0);
}

TEST_F(ZctlTest, AvailListsConfiguredProcessesByName) {
  ASSERT_TRUE(start_agent(sleeper("ok", "startsecs=0\npriority=10\n") +
                          sleeper("manual", "autostart=false\n") +
                          "[group:grp]\nprograms=g1,g2\npriority=50\n" + sleeper("g1") +
                          sleeper("g2", "autostart=false\n")));
  write_config(sleeper("ok", "startsecs=0\npriority=10\n") +
               sleeper("manual", "autostart=false\n") +
               "[group:grp]\nprograms=g1,g2\npriority=50\n" + sleeper("g1") +
               sleeper("g2", "autostart=false\n") + sleeper("newprog"));
  EXPECT_CTL("reread", "newprog: available\n", 0);
  EXPECT_CTL("avail",
             "grp:g1                           in use    auto      50:999\n"
             "grp:g2                           in use    manual    50:999\n"
             "manual                           in use    manual    999:999\n"
             "newprog                          avail     auto      999:999\n"
             "ok                               in use    auto      10:10\n",
             0);
  EXPECT_CTL("avail x", "Error: avail accepts no arguments\n" + help_of("avail"), 1);
}

// =============================================================================================
// §7 agent commands

TEST_F(ZctlTest, Version) {
  ASSERT_TRUE(start_agent(""));
  EXPECT_CTL("version", "4.2.5\n", 0);
  EXPECT_CTL("version x", "Error: version accepts no arguments\n" + help_of("version"), 1);
}

TEST_F(ZctlTest, ReloadRestartsTheAgent) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  const pid_t before = pid_of("sl");
  EXPECT_CTL("reload x", "Error: reload accepts no arguments\n" + help_of("reload"), 1);
  EXPECT_CTL("reload", "Restarted supervisord\n", 0);
  const std::string started = "supervisord started with pid " + std::to_string(agent_->pid());
  ASSERT_TRUE(wait_until([&] { return count_log(started) == 2; })) << main_log();
  ASSERT_TRUE(wait_until([&] {
    const pid_t now = pid_of("sl");
    return now > 0 && now != before;
  }));
  EXPECT_FALSE(process_alive(before));
  EXPECT_CTL("pid", std::to_string(agent_->pid()) + "\n", 0);  // the same agent process
}

TEST_F(ZctlTest, ShutdownAndAfterwards) {
  ASSERT_TRUE(start_agent(sleeper("sl")));
  ASSERT_TRUE(wait_state("sl", "RUNNING"));
  const pid_t sl = pid_of("sl");
  EXPECT_CTL("shutdown x", "Error: shutdown accepts no arguments\n" + help_of("shutdown"), 1);
  EXPECT_CTL("shutdown", "Shut down\n", 0);
  EXPECT_EQ(agent_->wait(milliseconds(15000)), 0);
  EXPECT_FALSE(process_alive(sl));
  EXPECT_CTL("shutdown", "ERROR: " + url_ + " no such file (already shut down?)\n", 1);
  EXPECT_CTL("status", url_ + " no such file\n", 4);
}

TEST_F(ZctlTest, CommandsWhileTheAgentShutsDown) {
  ASSERT_TRUE(
      start_agent(program("stubborn", helper("ignore_sigterm"),
                          "startsecs=0\nstopwaitsecs=30\nstdout_logfile=%(here)s/stubborn.out\n") +
                  sleeper("manual", "autostart=false\n")));
  ASSERT_TRUE(wait_file("stubborn.out", "ready\n"));  // SIGTERM is ignored from here on
  // The child may print before the agent logs its pid.
  ASSERT_TRUE(wait_until([&] { return last_pid("stubborn") > 0; }));
  const pid_t stubborn = last_pid("stubborn");
  EXPECT_CTL("shutdown", "Shut down\n", 0);

  // The agent waits for stubborn (stopwaitsecs=30) and answers SHUTDOWN_STATE meanwhile.
  const std::string fault =
      "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: zctl line: 0\n";
  ASSERT_TRUE(wait_until([&] { return ctl("status").out == fault; })) << ctl("status").out;
  for (const char* line :
       {"status", "start manual", "stop stubborn", "restart manual", "signal HUP stubborn", "pid",
        "pid stubborn", "tail stubborn", "tail -f stubborn", "maintail", "clear stubborn",
        "version", "fg stubborn", "remove manual"}) {
    EXPECT_CTL(line, fault, 1);
  }
  EXPECT_CTL("shutdown", "ERROR: already shutting down\n", 0);
  EXPECT_CTL("reload", "ERROR: already shutting down\n", 1);
  EXPECT_CTL("reread", "ERROR: supervisor shutting down\n", 1);
  EXPECT_CTL("update", "ERROR: already shutting down\n", 1);
  EXPECT_CTL("update manual", "ERROR: already shutting down\n", 1);
  EXPECT_CTL("add manual", "ERROR: shutting down\n", 1);
  EXPECT_CTL("avail", "ERROR: supervisor shutting down\n", 1);

  kill_process(stubborn);
  EXPECT_EQ(agent_->wait(milliseconds(15000)), 0);
}

TEST_F(ZctlTest, OpenConnectsAndRunsStatus) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  // The status's exit status (3: manual is stopped) is discarded.
  EXPECT_CTL("open " + url_, "manual                           STOPPED   Not started\n" + kOkRow,
             0);
  EXPECT_CTL("open " + url_ + "x", url_ + "x no such file\n", 0);
  EXPECT_CTL("open", "ERROR: url must be http:// or unix://\n", 1);
  EXPECT_CTL("open ftp://x", "ERROR: url must be http:// or unix://\n", 1);
}

// =============================================================================================
// §8 help, unknown commands, quit

TEST_F(ZctlTest, HelpIndexAndEveryTopic) {
  write_config("");  // no agent: help needs no server
  EXPECT_CTL("help", kHelpIndex, 0);
  for (const auto& [topic, text] : help_texts()) {
    EXPECT_CTL("help " + topic, text, 0);
  }
  EXPECT_CTL("?", kHelpIndex, 0);
  EXPECT_CTL("?start", help_of("start"), 0);
  EXPECT_CTL("help bogus", "*** No help on bogus\n", 0);
  EXPECT_CTL("help EOF", "*** No help on EOF\n", 0);
}

TEST_F(ZctlTest, UnknownSyntaxAndQuit) {
  write_config("");
  EXPECT_CTL("bogus arg", "*** Unknown syntax: bogus arg\n", 1);
  EXPECT_CTL("STATUS", "*** Unknown syntax: STATUS\n", 1);  // actions are case-sensitive
  EXPECT_CTL("!ls", "*** Unknown syntax: !ls\n", 1);
  EXPECT_CTL("quit", "\n", 0);
  EXPECT_CTL("exit", "\n", 0);
  EXPECT_CTL("EOF", "\n", 0);
}

// =============================================================================================
// §1.1 the interactive shell

TEST_F(ZctlTest, InteractiveShellTranscript) {
  ASSERT_TRUE(start_agent(sleeper("ok")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  // spec/ctl.md §1.1's verified transcript: status first, then one prompt per line, and the
  // empty line printed at EOF. The exit status is always 0.
  check_result(zctl({"-c", conf_}, "status ok\nbogus\nstop ok\n"),
               kOkRow + "supervisor> " + kOkRow +
                   "supervisor> *** Unknown syntax: bogus\n"
                   "supervisor> ok: stopped\n"
                   "supervisor> \n",
               "", 0);
}

TEST_F(ZctlTest, InteractiveShellPromptEmptyLinesAndConfirmations) {
  ASSERT_TRUE(start_agent(sleeper("ok"), {.ctl = "prompt=zz\n"}));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  // Empty lines do nothing; shutdown/reload ask first and anything but y cancels; quit leaves
  // (the `status` after it never runs).
  check_result(
      zctl({"-c", conf_}, "status ok\n\n\nversion\nshutdown\nn\nreload\nN\nquit\nstatus\n"),
      kOkRow + "zz> " + kOkRow + "zz> zz> zz> 4.2.5\n" +
          "zz> Really shut the remote supervisord process down y/N? "
          "zz> Really restart the remote supervisord process y/N? zz> \n",
      "", 0);
  EXPECT_EQ(count_log("supervisord started with pid"), 1u);
  EXPECT_CTL("status ok", kOkRow, 0);  // neither shut down nor restarted
  // With an action -i does not start the shell, but shutdown still asks.
  check_result(zctl({"-c", conf_, "-i", "shutdown"}, "n\n"),
               "Really shut the remote supervisord process down y/N? ", "", 0);
  check_result(zctl({"-c", conf_, "-i", "status", "ok"}), kOkRow, "", 0);
  EXPECT_CTL("status ok", kOkRow, 0);
}

TEST_F(ZctlTest, InteractiveCtrlCAtThePromptLeaves) {
  ASSERT_TRUE(start_agent(""));
  PipedProcess shell({kZctl, "-c", conf_}, dir_.path().string(), dir_.file("sh.out"),
                     dir_.file("sh.err"));
  ASSERT_TRUE(wait_file("sh.out", "supervisor> "));
  shell.signal(SIGINT);
  EXPECT_EQ(shell.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("sh.out")), "supervisor> \n");
  EXPECT_EQ(read_file(dir_.file("sh.err")), "");
}

// =============================================================================================
// §1 options, §1.3 server down, §1.4 authentication

TEST_F(ZctlTest, OptionErrors) {
  write_config("");
  const std::string help_line = "For help, use " + kZctl + " -h\n";
  check_result(zctl({"-s", "bogus", "status"}), "",
               "Error: invalid value for -s 'bogus': value 'bogus' is not a URL\n" + help_line, 2);
  check_result(zctl({"-x", "status"}), "", "Error: option -x not recognized\n" + help_line, 2);
  check_result(zctl({"-c", "/nonexist", "status"}), "",
               "Error: could not find config file /nonexist\n" + help_line, 2);
  const std::string no_section = dir_.write("nosec.conf", "[supervisord]\n");
  check_result(zctl({"-c", no_section, "status"}), "",
               "Error: .ini file does not include supervisorctl section\n" + help_line, 2);
  // supervisorctl takes -? as -h.
  for (const char* flag : {"-h", "--help", "-?"}) {
    const RunResult r = zctl({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_EQ(r.err, "") << flag;
    EXPECT_THAT(r.out, HasSubstr("Usage: " + kZctl + " [options] [action [arguments]]\n"));
  }
  // -r (history file) is accepted and ignored.
  check_result(zctl({"-c", conf_, "-r", dir_.file("history"), "status"}), url_ + " no such file\n",
               "", 4);
  // -s wins over [supervisorctl] serverurl.
  check_result(zctl({"-c", conf_, "-s", url_ + "x", "status"}), url_ + "x no such file\n", "", 4);
}

// A large config (zctl maps it instead of reading it) is read to its end: the
// [supervisorctl] section after a thousand program sections is the one that counts.
TEST_F(ZctlTest, LargeConfigIsReadToItsEnd) {
  write_config("");
  std::string text = "[supervisord]\n";
  for (int i = 0; i < 1000; ++i) {
    text += "[program:p" + std::to_string(i) + "]\ncommand=/bin/true\n";
  }
  ASSERT_GT(text.size(), 32U * 1024U);
  const std::string programs = text;
  text += "[supervisorctl]\nserverurl=" + url_ + "z\n";
  const std::string large = dir_.write("large.conf", text);
  check_result(zctl({"-c", large, "status"}), url_ + "z no such file\n", "", 4);
  // The same section at the top: the rest of the file is not the client's.
  const std::string top =
      dir_.write("top.conf", "[supervisorctl]\nserverurl=" + url_ + "t\n" + programs);
  check_result(zctl({"-c", top, "status"}), url_ + "t no such file\n", "", 4);
}

TEST_F(ZctlTest, ServerDownSocketMissing) {
  write_config("");  // no agent
  const std::string no_file = url_ + " no such file\n";
  EXPECT_CTL("status", no_file, 4);
  for (const char* line :
       {"start x", "stop x", "restart x", "signal HUP x", "pid", "pid x", "tail x", "tail -f x",
        "maintail", "maintail -f", "clear x", "version", "fg x"}) {
    EXPECT_CTL(line, no_file, 7);
  }
  for (const char* line : {"avail", "reread", "update", "add x", "remove x", "reload"}) {
    EXPECT_CTL(line,
               "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: "
               "file: zctl line: 0\n",
               1);
  }
  EXPECT_CTL("shutdown", "ERROR: " + url_ + " no such file (already shut down?)\n", 1);
  EXPECT_CTL("help quit", help_of("quit"), 0);
  EXPECT_CTL("quit", "\n", 0);
  EXPECT_CTL("bogus", "*** Unknown syntax: bogus\n", 1);
  const RunResult json = ctl("--json status");
  EXPECT_EQ(json.exit_code, 4);
  EXPECT_EQ(Json::parse(json.out), Json({{"error", url_ + " no such file"}}));
}

TEST_F(ZctlTest, ServerDownStaleSocket) {
  write_config("");
  make_stale_socket(dir_.file("s.sock"));
  const std::string refused = url_ + " refused connection\n";
  EXPECT_CTL("status", refused, 4);
  EXPECT_CTL("start x", refused, 4);
  EXPECT_CTL("tail x", refused, 4);
  EXPECT_CTL("version", refused, 4);
  EXPECT_CTL("avail",
             "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused: "
             "file: zctl line: 0\n",
             1);
  EXPECT_CTL("shutdown", "ERROR: " + url_ + " refused connection (already shut down?)\n", 1);
  // TCP: nothing listens on port 1.
  check_result(zctl({"-c", conf_, "-s", "http://127.0.0.1:1", "status"}),
               "http://127.0.0.1:1 refused connection\n", "", 4);
  check_result(zctl({"-c", conf_, "-s", "http://127.0.0.1:1", "start", "x"}),
               "http://127.0.0.1:1 refused connection\n", "", 4);
}

TEST_F(ZctlTest, ServerWithoutTheSupervisorNamespaceOrAnotherApiVersion) {
  write_config("");
  const std::string fake = dir_.file("f.sock");
  const std::vector<std::string> base = {"-c", conf_, "-s", "unix://" + fake};
  const auto with = [&](std::vector<std::string> words) {
    std::vector<std::string> args = base;
    args.insert(args.end(), words.begin(), words.end());
    return args;
  };
  {
    FakeServer server(fake, [](const Json&) {
      return Json{{"error",
                   {{"code", -32601},
                    {"message", "method not found"},
                    {"data", {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}}}}}};
    });
    const std::string sorry =
        "Sorry, supervisord responded but did not recognize the supervisor namespace commands "
        "that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] "
        "section is enabled in the configuration file (see sample.conf).\n";
    check_result(zctl(with({"status"})), sorry, "", 4);
    check_result(zctl(with({"start", "x"})), sorry, "", 3);
    check_result(zctl(with({"version"})), sorry, "", 3);
  }
  std::filesystem::remove(fake);
  {
    FakeServer server(fake, [](const Json&) { return Json{{"result", "2.0"}}; });
    const std::string sorry =
        "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, "
        "but the remote version is 2.0.\n";
    check_result(zctl(with({"status"})), sorry, "", 4);
    check_result(zctl(with({"start", "x"})), sorry, "", 5);
    check_result(zctl(with({"pid"})), sorry, "", 5);
  }
}

TEST_F(ZctlTest, AuthenticationRequired) {
  ASSERT_TRUE(start_agent(sleeper("ok"), {.server = "username=user\npassword=secret\n"}));
  // zctl's documented second line (supervisorctl prints a Python ProtocolError there).
  const std::string denied = "Server requires authentication\nerror: 401 Unauthorized\n";
  EXPECT_CTL("status ok", denied, 1);
  EXPECT_CTL("stop ok", denied, 1);
  EXPECT_CTL("avail", denied, 1);
  check_result(zctl({"-c", conf_, "-u", "user", "-p", "wrong", "status", "ok"}), denied, "", 1);
  ASSERT_TRUE(wait_until([&] {
    return zctl({"-c", conf_, "-u", "user", "-p", "secret", "status", "ok"}).exit_code == 0;
  }));
  check_result(zctl({"-c", conf_, "-u", "user", "-p", "secret", "status", "ok"}), kOkRow, "", 0);
  // Credentials from [supervisorctl].
  const std::string with_credentials =
      dir_.write("ctl.conf",
                 "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\nusername=user\n"
                 "password=secret\n");
  check_result(zctl({"-c", with_credentials, "status", "ok"}), kOkRow, "", 0);
}

// =============================================================================================
// zctl extensions: --json

TEST_F(ZctlTest, JsonStatus) {
  ASSERT_TRUE(start_agent(sleeper("ok") + sleeper("manual", "autostart=false\n")));
  ASSERT_TRUE(wait_state("ok", "RUNNING"));
  const pid_t ok = pid_of("ok");

  for (const char* line : {"--json status", "status --json"}) {
    SCOPED_TRACE(line);
    const RunResult r = ctl(line);
    EXPECT_EQ(r.exit_code, 3);  // manual is stopped, as in text mode
    EXPECT_EQ(r.err, "");
    ASSERT_THAT(r.out, EndsWith("\n"));
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1);  // one line
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["errors"], Json::array());
    ASSERT_EQ(doc["processes"].size(), 2u);
    const Json& manual = doc["processes"][0];
    EXPECT_EQ(manual["namespec"], "manual");
    EXPECT_EQ(manual["name"], "manual");
    EXPECT_EQ(manual["group"], "manual");
    EXPECT_EQ(manual["statename"], "STOPPED");
    EXPECT_EQ(manual["state"], 0);
    EXPECT_EQ(manual["pid"], 0);
    EXPECT_EQ(manual["description"], "Not started");
    const Json& running = doc["processes"][1];
    EXPECT_EQ(running["namespec"], "ok");
    EXPECT_EQ(running["statename"], "RUNNING");
    EXPECT_EQ(running["state"], 20);
    EXPECT_EQ(running["pid"], ok);
    EXPECT_EQ(normalise(running["description"].get<std::string>()), "pid <PID>, uptime <UP>");
    for (const char* key :
         {"start", "stop", "now", "exitstatus", "spawnerr", "stdout_logfile", "stderr_logfile"}) {
      EXPECT_TRUE(running.contains(key)) << key;
    }
  }
  const RunResult ok_only = ctl("--json status ok");
  EXPECT_EQ(ok_only.exit_code, 0);
  EXPECT_EQ(Json::parse(ok_only.out)["processes"].size(), 1u);
  const RunResult unknown = ctl("--json status nosuch");
  EXPECT_EQ(unknown.exit_code, 4);
  EXPECT_EQ(
      Json::parse(unknown.out),
      Json::parse(R"j({"processes":[],"errors":[{"name":"nosuch","error":"no such process"}]})j"));
}

TEST_F(ZctlTest, JsonStartAndStop) {
  ASSERT_TRUE(start_agent(sleeper("manual", "startsecs=0\nautostart=false\n")));
  const auto json_of = [&](const std::string& line, int code) {
    SCOPED_TRACE(line);
    const RunResult r = ctl(line);
    EXPECT_EQ(r.exit_code, code);
    EXPECT_EQ(r.err, "");
    return Json::parse(r.out, nullptr, false);
  };
  EXPECT_EQ(json_of("--json start manual", 0),
            Json::parse(R"j({"results":[{"action":"start","name":"manual","ok":true,"status":80,
                            "message":"started"}]})j"));
  EXPECT_EQ(json_of("start --json manual", 0),
            Json::parse(R"j({"results":[{"action":"start","name":"manual","ok":false,"status":60,
                            "message":"ERROR (already started)"}]})j"));
  EXPECT_EQ(json_of("--json start nosuch", 1),
            Json::parse(R"j({"results":[{"action":"start","name":"nosuch","ok":false,"status":10,
                            "message":"ERROR (no such process)"}]})j"));
  EXPECT_EQ(json_of("--json start nosuch:*", 2),
            Json::parse(R"j({"results":[{"action":"start","name":"nosuch","ok":false,"status":10,
                            "message":"ERROR (no such group)"}]})j"));
  EXPECT_EQ(json_of("--json start", 2),
            Json::parse(R"j({"error":"Error: start requires a process name"})j"));
  EXPECT_EQ(json_of("--json stop manual", 0),
            Json::parse(R"j({"results":[{"action":"stop","name":"manual","ok":true,"status":80,
                            "message":"stopped"}]})j"));
  EXPECT_EQ(json_of("--json stop manual", 0),
            Json::parse(R"j({"results":[{"action":"stop","name":"manual","ok":false,"status":70,
                            "message":"ERROR (not running)"}]})j"));
  EXPECT_EQ(json_of("--json stop", 1),
            Json::parse(R"j({"error":"Error: stop requires a process name"})j"));
}

}  // namespace
}  // namespace zagent::test::e2e
