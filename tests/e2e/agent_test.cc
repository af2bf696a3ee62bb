// End-to-end: the real zagent supervising the helper programs in a temp dir. Every wait is a
// condition with a deadline; every test leaves no process behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test {
namespace {

using ::testing::HasSubstr;

const std::string kZagent = ZAGENT_BIN;
const std::string kHelpers = ZAGENT_HELPERS_DIR;

std::string helper(const std::string& name) { return kHelpers + "/" + name; }

/// A zagent on a config in a fresh temp dir, stopped and cleaned up by the destructor
/// (including any child pid it logged as spawned).
class AgentFixture : public ::testing::Test {
 protected:
  ~AgentFixture() override {
    agent_.reset();
    for (const pid_t pid : spawned_pids()) {
      if (process_alive(pid)) {
        ADD_FAILURE() << "process " << pid << " survived the agent";
        kill(pid, SIGKILL);
      }
    }
  }

  /// Writes the config (sections after a standard header) and starts `zagent -n`.
  void start(const std::string& programs, const std::vector<std::string>& extra_args = {}) {
    write_config(programs);
    std::vector<std::string> argv = {kZagent, "-c", conf_, "-n"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    agent_ = std::make_unique<BackgroundProcess>(argv, dir_.path().string(), dir_.file("out"),
                                                 dir_.file("err"));
    ASSERT_TRUE(wait_log("supervisord started with pid " + std::to_string(agent_->pid())))
        << main_log() << read_file(dir_.file("err"));
  }

  void write_config(const std::string& programs) {
    conf_ = dir_.write("z.conf",
                       "[unix_http_server]\nfile=%(here)s/z.sock\n"
                       "[supervisord]\nlogfile=%(here)s/z.log\npidfile=%(here)s/z.pid\n"
                       "childlogdir=%(here)s\nloglevel=debug\n" +
                           programs);
  }

  std::string main_log() const { return read_file(dir_.file("z.log")); }

  /// Waits until the main log contains `text`.
  bool wait_log(const std::string& text, std::chrono::milliseconds deadline =
                                             std::chrono::milliseconds(10000)) const {
    return wait_until([&] { return main_log().find(text) != std::string::npos; }, deadline);
  }

  /// How many times `text` occurs in the main log.
  size_t count_log(const std::string& text) const {
    const std::string log = main_log();
    size_t n = 0;
    for (size_t pos = log.find(text); pos != std::string::npos; pos = log.find(text, pos + 1)) {
      ++n;
    }
    return n;
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

  /// The pid of the last `spawned: 'NAME'` line, or 0.
  pid_t last_pid(const std::string& name) const {
    const std::string log = main_log();
    const std::regex spawned("spawned: '" + name + R"(' with pid (\d+))");
    pid_t pid = 0;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), spawned);
         it != std::sregex_iterator(); ++it) {
      pid = std::stoi((*it)[1]);
    }
    return pid;
  }

  /// SIGTERM to the agent; expects a clean exit.
  void stop_agent() {
    agent_->signal(SIGTERM);
    const auto code = agent_->wait(std::chrono::milliseconds(15000));
    ASSERT_TRUE(code.has_value()) << "agent did not exit\n" << main_log();
    EXPECT_EQ(*code, 0) << read_file(dir_.file("err"));
  }

  TempDir dir_;
  std::string conf_;
  std::unique_ptr<BackgroundProcess> agent_;
};

TEST_F(AgentFixture, StartsProgramsAndShutsDownCleanly) {
  start("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  const pid_t child = last_pid("sleeper");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(process_alive(child));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("z.sock")));
  EXPECT_EQ(read_file(dir_.file("z.pid")), std::to_string(agent_->pid()) + "\n");

  stop_agent();
  const std::string log = main_log();
  EXPECT_THAT(log, HasSubstr("WARN received SIGTERM indicating exit request"));
  EXPECT_THAT(log, HasSubstr("INFO waiting for sleeper to die"));
  EXPECT_THAT(log, HasSubstr("WARN stopped: sleeper (terminated by SIGTERM)"));
  EXPECT_FALSE(process_alive(child));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("z.sock")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("z.pid")));
}

TEST_F(AgentFixture, LogLinesHaveSupervisordFormat) {
  start("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("spawned: 'sleeper'"));
  const std::regex line(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO spawned: 'sleeper' with pid \d+\n)");
  EXPECT_TRUE(std::regex_search(main_log(), line)) << main_log();
  // With -n the log is copied to stdout too.
  EXPECT_TRUE(wait_until([&] {
    return read_file(dir_.file("out")).find("spawned: 'sleeper'") != std::string::npos;
  }));
}

TEST_F(AgentFixture, CrashAfterRunningIsRestartedAtOnce) {
  // Runs past startsecs=0, then exits 3: unexpected, so autorestart=unexpected restarts it.
  start("[program:crashy]\ncommand=" + helper("exit_with") + " 3 200\nstartsecs=0\n");
  ASSERT_TRUE(wait_until([&] { return count_log("spawned: 'crashy'") >= 3; }));
  EXPECT_THAT(main_log(), HasSubstr("WARN exited: crashy (exit status 3; not expected)"));
  stop_agent();
}

TEST_F(AgentFixture, KilledProcessComesBackWithANewPid) {
  start("[program:web]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("success: web entered RUNNING state"));
  const pid_t first = last_pid("web");
  kill(first, SIGKILL);
  ASSERT_TRUE(wait_until([&] { return last_pid("web") != first; }));
  EXPECT_THAT(main_log(), HasSubstr("WARN exited: web (terminated by SIGKILL; not expected)"));
  EXPECT_TRUE(process_alive(last_pid("web")));
  stop_agent();
}

TEST_F(AgentFixture, ExpectedExitIsNotRestarted) {
  start("[program:job]\ncommand=" + helper("exit_with") + " 0 100\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("INFO exited: job (exit status 0; expected)"));
  stop_agent();
  EXPECT_EQ(count_log("spawned: 'job'"), 1u);
}

TEST_F(AgentFixture, QuickExitsBackOffThenGiveUp) {
  start("[program:quick]\ncommand=" + helper("exit_with") + " 1\nstartretries=1\n");
  ASSERT_TRUE(wait_log("gave up: quick entered FATAL state, too many start retries too quickly"));
  EXPECT_EQ(count_log("spawned: 'quick'"), 2u);
  EXPECT_EQ(count_log("WARN exited: quick (exit status 1; not expected)"), 2u);
  stop_agent();
}

TEST_F(AgentFixture, SpawnErrorIsLoggedAndRetried) {
  start("[program:missing]\ncommand=/nonexistent/cmd\nstartretries=1\n");
  ASSERT_TRUE(wait_log("gave up: missing entered FATAL state"));
  EXPECT_EQ(count_log("INFO spawnerr: can't find command '/nonexistent/cmd'"), 2u);
  stop_agent();
}

TEST_F(AgentFixture, StubbornProcessIsKilledAfterStopwaitsecs) {
  start("[program:stubborn]\ncommand=" + helper("ignore_sigterm") +
        "\nstartsecs=0\nstopwaitsecs=1\n");
  ASSERT_TRUE(wait_log("success: stubborn entered RUNNING state"));
  // ignore_sigterm prints "ready" once its handler is in place.
  ASSERT_TRUE(wait_until([&] {
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      const auto name = e.path().filename().string();
      if (name.starts_with("stubborn-stdout") && read_file(e.path()).find("ready") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  const pid_t child = last_pid("stubborn");
  stop_agent();
  EXPECT_THAT(main_log(),
              HasSubstr("WARN killing 'stubborn' (" + std::to_string(child) + ") with SIGKILL"));
  EXPECT_THAT(main_log(), HasSubstr("WARN stopped: stubborn (terminated by SIGKILL)"));
}

TEST_F(AgentFixture, ChildEnvironmentAndOutputFiles) {
  start("[program:env]\ncommand=" + helper("print_env") +
        "\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/env.out\n"
        "environment=MODEL=\"sdxl\"\n");
  ASSERT_TRUE(wait_log("exited: env (exit status 0; expected)"));
  const std::string out = read_file(dir_.file("env.out"));
  EXPECT_THAT(out, HasSubstr("SUPERVISOR_ENABLED=1\n"));
  EXPECT_THAT(out, HasSubstr("SUPERVISOR_PROCESS_NAME=env\n"));
  EXPECT_THAT(out, HasSubstr("SUPERVISOR_GROUP_NAME=env\n"));
  EXPECT_THAT(out, HasSubstr("SUPERVISOR_SERVER_URL=unix://" + dir_.file("z.sock") + "\n"));
  EXPECT_THAT(out, HasSubstr("MODEL=sdxl\n"));
  EXPECT_THAT(out, HasSubstr("fds=0,1,2\n"));  // nothing of the agent leaks into the child
  stop_agent();
}

TEST_F(AgentFixture, SecondAgentOnTheSameSocketIsRefused) {
  start("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\n");
  const auto second = run({kZagent, "-c", conf_, "-n"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_THAT(second.err,
              HasSubstr("Error: Another program is already listening on a port that one of our "
                        "HTTP servers is configured to use.  Shut this program down first before "
                        "starting supervisord.\n"));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("z.sock")));  // the first one keeps its socket
  stop_agent();
}

TEST_F(AgentFixture, StaleSocketIsRemoved) {
  write_config("");
  {
    // A socket file nobody listens on, as a killed agent leaves behind.
    BackgroundProcess first({kZagent, "-c", conf_, "-n"}, dir_.path().string(), dir_.file("o1"),
                            dir_.file("e1"));
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir_.file("z.sock")); }));
    first.signal(SIGKILL);
    ASSERT_TRUE(first.wait(std::chrono::milliseconds(5000)).has_value());
  }
  ASSERT_TRUE(std::filesystem::exists(dir_.file("z.sock")));
  start("");
  EXPECT_THAT(read_file(dir_.file("err")), HasSubstr("Unlinking stale socket " + dir_.file("z.sock")));
  stop_agent();
}

TEST_F(AgentFixture, ShutdownOrderIsDescendingPriority) {
  start("[program:db]\ncommand=" + helper("sleep_forever") + "\npriority=1\nstartsecs=0\n"
        "[program:web]\ncommand=" + helper("sleep_forever") + "\npriority=999\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("success: db entered RUNNING state"));
  ASSERT_TRUE(wait_log("success: web entered RUNNING state"));
  stop_agent();
  const std::string log = main_log();
  EXPECT_LT(log.find("stopped: web"), log.find("stopped: db"));
}

TEST_F(AgentFixture, HupReloadsInPlace) {
  start("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  const pid_t first = last_pid("sleeper");
  agent_->signal(SIGHUP);
  ASSERT_TRUE(wait_log("WARN received SIGHUP indicating restart request"));
  ASSERT_TRUE(wait_until([&] { return last_pid("sleeper") != first; }));
  EXPECT_EQ(count_log("supervisord started with pid " + std::to_string(agent_->pid())), 2u);
  EXPECT_FALSE(process_alive(first));
  stop_agent();
}

TEST_F(AgentFixture, HupWithABrokenConfigStopsEverythingAndExits2) {
  start("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  const pid_t child = last_pid("sleeper");
  write_config("[program:sleeper]\ncommand=x\nautostart=maybe\n");
  agent_->signal(SIGHUP);
  const auto code = agent_->wait(std::chrono::milliseconds(15000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);  // supervisord compat: exit 2 after stopping every program
  EXPECT_THAT(read_file(dir_.file("err")),
              HasSubstr("Error: not a valid boolean value: 'maybe' in section 'program:sleeper'"));
  EXPECT_THAT(main_log(), HasSubstr("stopped: sleeper"));
  EXPECT_FALSE(process_alive(child));
}

TEST_F(AgentFixture, Usr2ReopensTheMainLog) {
  start("");
  std::filesystem::rename(dir_.file("z.log"), dir_.file("z.log.old"));
  agent_->signal(SIGUSR2);
  // supervisord compat: both lines go to the file being closed; then a new file is opened.
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir_.file("z.log")); }));
  EXPECT_THAT(read_file(dir_.file("z.log.old")),
              HasSubstr("INFO received SIGUSR2 indicating log reopen request\n"));
  EXPECT_THAT(read_file(dir_.file("z.log.old")), HasSubstr("INFO supervisord logreopen\n"));
  stop_agent();
}

TEST_F(AgentFixture, StopLeavesNoSurvivorEvenAfterSetsid) {
  // Two grandchildren stay in the group, two leave it with setsid(); stopasgroup reaches the
  // first two, the stop's descendant sweep the others.
  start("[program:tree]\ncommand=" + helper("spawn_grandchildren") +
        " 2 --setsid\nstartsecs=0\nstopasgroup=true\nstdout_logfile=%(here)s/tree.out\n"
        "[program:flat]\ncommand=" + helper("spawn_grandchildren") +
        " 2\nstartsecs=0\nstopasgroup=true\nstdout_logfile=%(here)s/flat.out\n");
  std::vector<pid_t> grandchildren;
  ASSERT_TRUE(wait_until([&] {
    grandchildren.clear();
    for (const char* f : {"tree.out", "flat.out"}) {
      std::istringstream in(read_file(dir_.file(f)));
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
          grandchildren.push_back(std::stoi(line));
        }
      }
    }
    return grandchildren.size() == 4;
  }));
  for (const pid_t g : grandchildren) {
    ASSERT_TRUE(process_alive(g));
  }
  stop_agent();
  for (const pid_t g : grandchildren) {
    EXPECT_FALSE(process_alive(g)) << g;
  }
  EXPECT_THAT(main_log(), HasSubstr("WARN killing leftover descendants of tree with SIGKILL: "));
  EXPECT_THAT(main_log(), HasSubstr("reaped unknown pid"));  // their exits are reaped by us
}

TEST_F(AgentFixture, KilledAgentTakesItsProgramsWithIt) {
  // Decision (docs/zagent.md): when the agent is killed with SIGKILL, each program receives
  // its own stopsignal, so no service is left running unsupervised (holding a port or GPU
  // memory) for the next agent to collide with.
  start("[program:a]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n"
        "[program:b]\ncommand=" + helper("ignore_sigterm") + "\nstartsecs=0\nstopsignal=INT\n");
  ASSERT_TRUE(wait_log("success: a entered RUNNING state"));
  ASSERT_TRUE(wait_log("success: b entered RUNNING state"));
  const pid_t a = last_pid("a");
  const pid_t b = last_pid("b");
  agent_->signal(SIGKILL);
  ASSERT_TRUE(agent_->wait(std::chrono::milliseconds(5000)).has_value());
  EXPECT_TRUE(wait_until([&] { return !process_alive(a) && !process_alive(b); }))
      << "a alive: " << process_alive(a) << ", b alive: " << process_alive(b);
}

TEST_F(AgentFixture, DaemonModeDetachesAndWritesPidfile) {
  write_config("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n");
  const auto r = run({kZagent, "-c", conf_});  // no -n: the parent returns at once
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(wait_until([&] { return read_file(dir_.file("z.pid")).size() > 1; }));
  const pid_t daemon = std::stoi(read_file(dir_.file("z.pid")));
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  EXPECT_THAT(main_log(), HasSubstr("INFO daemonizing the supervisord process"));
  EXPECT_THAT(main_log(), HasSubstr("supervisord started with pid " + std::to_string(daemon)));
  kill(daemon, SIGTERM);
  EXPECT_TRUE(wait_until([&] { return !process_alive(daemon); }));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("z.pid")));
}

}  // namespace
}  // namespace zagent::test
