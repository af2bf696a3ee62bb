// PosixSpawner against the real OS: the helper programs in tests/helpers are forked and
// exec'd; their stdout and stderr pipes are handed to the test, which drains them as it waits. Every test kills and reaps what it started
// (ChildGuard), even when an assertion fails; waits poll a condition up to a deadline.
#include "agent/os/posix_spawner.h"

#include "agent/os/fd_range.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

constexpr auto kDeadline = 10s;

std::string helper(std::string_view name) {
  return std::string(ZAGENT_HELPERS_DIR) + "/" + std::string(name);
}

/// Polls `done` until it holds or `deadline` passes.
template <typename Pred>
bool wait_until(Pred done, std::chrono::milliseconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// Kills (SIGKILL, the process and its group) and reaps every process it was given, when it
/// goes away. The test process is a child subreaper meanwhile, so orphaned grandchildren
/// become its children and are reaped too.
class ChildGuard {
 public:
  ChildGuard() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~ChildGuard() {
    for (const pid_t pid : leaders_) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      reap(pid);
    }
    for (const pid_t pid : others_) {
      ::kill(pid, SIGKILL);
      reap(pid);
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

  void add_leader(pid_t pid) { leaders_.push_back(pid); }
  void add_other(pid_t pid) { others_.push_back(pid); }

  /// Reaps `pid` (a child of this process) if it has ended: its wait status, or nullopt.
  std::optional<int> try_reap(pid_t pid) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) != pid) {
      return std::nullopt;
    }
    forget(pid);
    return st;
  }

 private:
  static void reap(pid_t pid) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  void forget(pid_t pid) {
    std::erase(leaders_, pid);
    std::erase(others_, pid);
  }

  std::vector<pid_t> leaders_;  // spawned children, each leading its own group
  std::vector<pid_t> others_;   // grandchildren that may have left the group
};

/// Appends what the non-blocking pipe `fd` holds now to `into`; closes it at EOF (fd = -1).
void drain_pipe(int& fd, std::string& into) {
  char buf[65536];
  while (fd >= 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      ::close(fd);
      fd = -1;
    } else if (errno != EINTR) {
      return;  // EAGAIN: empty for now
    }
  }
}

/// The pipes PosixSpawner handed over for each spawn, and what was read from them.
struct Handed {
  pid_t pid = 0;
  int in_fd = -1;  ///< the write end of the child's stdin; closed here once it is reaped
  int out_fd = -1;
  int err_fd = -1;
  bool redirect_stderr = false;
};

class PosixSpawnerTest : public ::testing::Test {
 protected:
  ~PosixSpawnerTest() override {
    for (Handed& h : handed_) {
      for (int* fd : {&h.in_fd, &h.out_fd, &h.err_fd}) {
        if (*fd >= 0) {
          ::close(*fd);
        }
      }
    }
  }

  SpawnSpec spec(std::string command) const {
    SpawnSpec s;
    s.name = "test";
    s.command = std::move(command);
    s.environment = {"PATH=/usr/bin:/bin", "ZAGENT_TEST=1"};
    return s;
  }
  /// Everything read so far from the stdout / stderr pipes of every spawn, in spawn order.
  std::string out() { return pump(), out_; }
  std::string err() { return pump(), err_; }

  /// Reads whatever the pipes hold now (a child blocks once its pipe is full).
  void pump() {
    for (Handed& h : handed_) {
      drain_pipe(h.out_fd, out_);
      drain_pipe(h.err_fd, err_);
    }
  }

  /// Spawns and registers the child with the guard; fails the test on a spawn error.
  pid_t start(const SpawnSpec& s) {
    auto pid = spawner_.spawn(s);
    EXPECT_TRUE(pid) << (pid ? "" : pid.error().message);
    if (!pid) {
      return -1;
    }
    guard_.add_leader(*pid);
    return *pid;
  }

  /// Waits for the child's exit, draining its pipes meanwhile; then reads them to EOF unless
  /// `to_eof` is false (grandchildren that outlive the child keep its pipes open).
  std::optional<int> wait_exit(pid_t pid, bool to_eof = true) {
    std::optional<int> status;
    wait_until([&] {
      pump();
      status = guard_.try_reap(pid);
      return status.has_value();
    });
    for (Handed& h : handed_) {
      if (h.pid == pid && h.in_fd >= 0) {
        ::close(h.in_fd);  // as the agent does at the reap
        h.in_fd = -1;
      }
    }
    wait_until([&] {
      pump();
      if (!to_eof) {
        return true;
      }
      return std::all_of(handed_.begin(), handed_.end(),
                         [](const Handed& h) { return h.out_fd < 0 && h.err_fd < 0; });
    });
    return status;
  }

  /// Waits until the stdout pipe has given `text`; reports what it last saw.
  void wait_for_output(std::string_view text) {
    EXPECT_TRUE(wait_until([&] { return out().find(text) != std::string::npos; }))
        << "waiting for '" << text << "' in stdout; saw: " << out_;
  }

  /// The lines of print_env's output that have the given prefix (prefix removed).
  std::string field(std::string_view key) {
    std::istringstream in(out());
    std::string line;
    const std::string prefix = std::string(key) + "=";
    while (std::getline(in, line)) {
      if (line.starts_with(prefix)) {
        return line.substr(prefix.size());
      }
    }
    return "<missing " + std::string(key) + ">";
  }

  TempDir dir_;
  ChildGuard guard_;
  std::vector<Handed> handed_;
  std::string out_;
  std::string err_;
  PosixSpawner spawner_{[this](const SpawnSpec& s, pid_t pid, const PosixSpawner::Pipes& p) {
    handed_.push_back(Handed{pid, p.stdin_fd, p.stdout_fd, p.stderr_fd, s.redirect_stderr});
  }};
};

TEST_F(PosixSpawnerTest, SpawnsHelperAndReapsItsExitCode) {
  const pid_t pid = start(spec(helper("exit_with") + " 7"));
  ASSERT_GT(pid, 0);
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 7);
}

TEST_F(PosixSpawnerTest, ChildKilledBySignalIsSeenAsSuch) {
  const pid_t pid = start(spec(helper("exit_with") + " 0 --signal TERM"));
  ASSERT_GT(pid, 0);
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGTERM);
}

TEST_F(PosixSpawnerTest, ChildLeadsItsOwnProcessGroup) {
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  wait_for_output("ready\n");
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_NE(::getpgid(pid), ::getpgrp());
}

TEST_F(PosixSpawnerTest, OnlyStdioIsOpenInTheChild) {
  // A descriptor of the "agent" without O_CLOEXEC must still not leak into the child.
  const int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  const pid_t pid = start(spec(helper("print_env")));
  ::close(leaky);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(field("fds"), "0,1,2") << out();
}

TEST_F(PosixSpawnerTest, NoDescriptorAboveTheChildsOwnLeaksEither) {
  // The child copies only the low part of the agent's table (fd_range.h): a descriptor
  // without O_CLOEXEC far above the child's pipes is not copied, one below them is closed.
  const int low = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(low, 3);
  const int high = ::dup2(low, 900);
  ASSERT_EQ(high, 900);
  const pid_t pid = start(spec(helper("print_env")));
  ::close(low);
  ::close(high);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(field("fds"), "0,1,2") << out();
}

TEST_F(PosixSpawnerTest, TheAgentsEndsLiveAboveTheLowNumbers) {
  // The long-lived ends go to kAgentFdFloor and above, so that the next spawn's child ends
  // get low numbers (its table copy stays small however many programs run).
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(handed_.size(), 1u);
  for (const int fd : {handed_[0].in_fd, handed_[0].out_fd, handed_[0].err_fd}) {
    EXPECT_GE(fd, kAgentFdFloor);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  }
  wait_for_output("ready\n");
}

TEST_F(PosixSpawnerTest, TheChildRunsWithTheAgentsCpuMask) {
  // The agent pins itself to its CPU across the clone; the program gets the full mask back.
  const auto allowed = [](const std::string& pid) {
    const std::string key = "Cpus_allowed_list:";
    std::ifstream in("/proc/" + pid + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.compare(0, key.size(), key) == 0) {
        return line;
      }
    }
    return std::string();
  };
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  wait_for_output("ready\n");
  EXPECT_EQ(allowed(std::to_string(pid)), allowed("self"));
  EXPECT_FALSE(allowed("self").empty());
}

TEST_F(PosixSpawnerTest, AgentKeepsNoDescriptorAfterSpawn) {
  const auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = open_fds();
  const pid_t pid = start(spec(helper("exit_with") + " 0"));
  ASSERT_GT(pid, 0);
  SpawnSpec bad = spec(helper("exit_with") + " 0");
  bad.directory = dir_.file("nonexist");
  EXPECT_FALSE(spawner_.spawn(bad));
  ASSERT_TRUE(wait_exit(pid));  // reads both children's pipes to EOF and closes them
  ASSERT_EQ(handed_.size(), 2u);
  EXPECT_EQ(open_fds(), before) << "only the handed-over read ends were left open";
}

// Issue 12, item 3: as supervisord, stdin is a pipe the agent holds open (not /dev/null): a
// program that reads stdin waits for input, and what the agent writes there reaches it.
TEST_F(PosixSpawnerTest, StdinIsAPipeTheAgentWritesTo) {
  const pid_t pid = start(spec(helper("echo_stdin")));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(handed_.size(), 1u);
  const int in = handed_[0].in_fd;
  ASSERT_GE(in, 0);
  EXPECT_NE(::fcntl(in, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(in, F_GETFD) & FD_CLOEXEC, 0);
  wait_for_output("ready\n");
  const std::string link =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/0").string();
  EXPECT_TRUE(link.starts_with("pipe:[")) << link;
  ASSERT_EQ(::write(in, "hello\n", 6), 6);
  wait_for_output("got: hello\n");
  EXPECT_FALSE(guard_.try_reap(pid).has_value()) << "it waits for more input";
  ::close(in);  // end of file: the helper exits 0
  handed_[0].in_fd = -1;
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_THAT(out(), ::testing::EndsWith("eof\n"));
}

TEST_F(PosixSpawnerTest, ChildThatFailedBeforeExecGetsNoStdinPipe) {
  SpawnSpec bad = spec(helper("exit_with") + " 0");
  bad.directory = dir_.file("nonexist");
  EXPECT_FALSE(spawner_.spawn(bad));
  ASSERT_EQ(handed_.size(), 1u);
  EXPECT_EQ(handed_[0].in_fd, -1);
  EXPECT_GE(handed_[0].out_fd, 0) << "its supervisor: lines still go to the log";
}

TEST_F(PosixSpawnerTest, OutputPipesAreHandedOverNonBlockingAndCloseOnExec) {
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(handed_.size(), 1u);
  const Handed h = handed_[0];
  EXPECT_EQ(h.pid, pid);
  for (const int fd : {h.out_fd, h.err_fd}) {
    ASSERT_GE(fd, 0);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  }
  wait_for_output("ready\n");
  std::error_code ec;
  const std::string base = "/proc/" + std::to_string(pid) + "/fd/";
  const std::string out_link = std::filesystem::read_symlink(base + "1", ec).string();
  const std::string err_link = std::filesystem::read_symlink(base + "2", ec).string();
  EXPECT_TRUE(out_link.starts_with("pipe:[")) << out_link;
  EXPECT_TRUE(err_link.starts_with("pipe:[")) << err_link;
  EXPECT_NE(out_link, err_link);
}

TEST_F(PosixSpawnerTest, EnvironmentIsPassedExactly) {
  SpawnSpec s = spec(helper("print_env"));
  s.environment = {"PATH=/nowhere", "EMPTY=", "SPACES=a b  c", "SUPERVISOR_ENABLED=1"};
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  const std::string text = out();
  EXPECT_EQ(text.substr(0, text.find("cwd=")),
            "PATH=/nowhere\nEMPTY=\nSPACES=a b  c\nSUPERVISOR_ENABLED=1\n");
}

TEST_F(PosixSpawnerTest, DirectoryAndUmaskAreApplied) {
  std::filesystem::create_directory(dir_.path() / "work");
  SpawnSpec s = spec(helper("print_env"));
  s.directory = dir_.file("work");
  s.umask = 027;
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(field("cwd"), dir_.file("work"));
  EXPECT_EQ(field("umask"), "0027");
}

TEST_F(PosixSpawnerTest, ChildWritesZeroToItsCgroupProcsFile) {
  // A regular file stands for cgroup.procs: the child writes "0" (itself) to it before exec.
  const std::string procs = dir_.write("cgroup.procs", "");
  SpawnSpec s = spec(helper("exit_with") + " 3");
  s.cgroup_procs = procs;
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status);
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_EQ(test::read_file(procs), "0");
}

TEST_F(PosixSpawnerTest, ACgroupThatCannotBeJoinedDoesNotStopTheStart) {
  SpawnSpec s = spec(helper("exit_with") + " 4");
  s.cgroup_procs = dir_.file("no-such-cgroup/cgroup.procs");
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status);
  EXPECT_EQ(WEXITSTATUS(*status), 4);
  EXPECT_EQ(err(), "");
}

TEST_F(PosixSpawnerTest, SeparatePipesGetTheirOwnBytes) {
  const pid_t pid = start(spec(helper("spew") + " 200000 --stderr"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(err().size(), 200000u);
  EXPECT_TRUE(err().starts_with("line 000001 "));
  EXPECT_EQ(out(), "");

  const pid_t pid2 = start(spec(helper("spew") + " 1000"));
  ASSERT_GT(pid2, 0);
  ASSERT_TRUE(wait_exit(pid2));
  EXPECT_EQ(out().size(), 1000u);
  EXPECT_EQ(err().size(), 200000u);
}

TEST_F(PosixSpawnerTest, RedirectStderrSendsBothToTheStdoutPipe) {
  SpawnSpec s = spec(helper("spew") + " 5000 --stderr");
  s.redirect_stderr = true;
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(handed_.size(), 1u);
  EXPECT_EQ(handed_[0].err_fd, -1) << "no stderr pipe";
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(out().size(), 5000u);
}

TEST_F(PosixSpawnerTest, MissingDirectoryIsASpawnErrorAndTheChildIsReaped) {
  SpawnSpec s = spec(helper("exit_with") + " 0");
  s.directory = dir_.file("nonexist");
  const auto r = spawner_.spawn(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "couldn't chdir to " + dir_.file("nonexist") + ": ENOENT");
  ASSERT_EQ(handed_.size(), 1u) << "the failed child's pipes are handed over too";
  EXPECT_TRUE(wait_until([&] { return pump(), handed_[0].err_fd < 0; }));
  EXPECT_EQ(err(), "supervisor: couldn't chdir to " + dir_.file("nonexist") +
                       ": ENOENT\nsupervisor: child process was not spawned\n");
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the failed child must already be reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(PosixSpawnerTest, ExecFailureWithRedirectGoesToTheStdoutPipe) {
  const std::string bogus = dir_.write("bogus", "not a program\n");
  ASSERT_EQ(::chmod(bogus.c_str(), 0755), 0);
  SpawnSpec s = spec(bogus + " arg");
  s.redirect_stderr = true;
  const auto r = spawner_.spawn(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "couldn't exec " + bogus + ": ENOEXEC");
  ASSERT_EQ(handed_.size(), 1u);
  EXPECT_TRUE(wait_until([&] { return pump(), handed_[0].out_fd < 0; }));
  EXPECT_EQ(out(), "supervisor: couldn't exec " + bogus +
                       ": ENOEXEC\nsupervisor: child process was not spawned\n");
}

TEST_F(PosixSpawnerTest, CommandResolutionErrors) {
  const std::string noexec = dir_.write("noexec.sh", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(noexec.c_str(), 0644), 0);
  struct Case {
    std::string command;
    std::string message;
  };
  const Case cases[] = {
      {dir_.file("nope") + " -x", "can't find command '" + dir_.file("nope") + "'"},
      {"nosuchprog_xyz", "can't find command 'nosuchprog_xyz'"},
      {noexec, "command at '" + noexec + "' is not executable"},
      {dir_.path().string(), "command at '" + dir_.path().string() + "' is a directory"},
      {"", "command is empty"},
  };
  for (const auto& c : cases) {
    const auto r = spawner_.spawn(spec(c.command));
    ASSERT_FALSE(r) << c.command;
    EXPECT_EQ(r.error().message, c.message);
  }
  EXPECT_TRUE(handed_.empty()) << "no fork, no pipes";
}

TEST_F(PosixSpawnerTest, PathFromTheChildEnvironmentIsSearched) {
  SpawnSpec s = spec("exit_with 3");
  s.environment = {"PATH=/nonexistent:" + std::string(ZAGENT_HELPERS_DIR)};
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
}

TEST_F(PosixSpawnerTest, SendSignalToThePid) {
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  wait_for_output("ready\n");
  ASSERT_TRUE(spawner_.send_signal(pid, SIGTERM, false));
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status && WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGTERM);
}

/// The pids spawn_grandchildren printed, once all `count` are there.
std::vector<pid_t> grandchildren(const std::string& text) {
  std::vector<pid_t> pids;
  std::istringstream in(text);
  for (pid_t p = 0; in >> p;) {
    pids.push_back(p);
  }
  return pids;
}

TEST_F(PosixSpawnerTest, GroupSignalReachesGrandchildrenThatStayInTheGroup) {
  const pid_t pid = start(spec(helper("spawn_grandchildren") + " 2"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until([&] { return grandchildren(out()).size() == 2; })) << out();
  const auto kids = grandchildren(out());
  for (const pid_t k : kids) {
    guard_.add_other(k);
  }
  ASSERT_TRUE(spawner_.send_signal(pid, SIGTERM, true));
  const auto status = wait_exit(pid);
  ASSERT_TRUE(status && WIFSIGNALED(*status));
  // Orphaned, the grandchildren are now children of this (subreaper) process.
  for (const pid_t k : kids) {
    const auto st = wait_exit(k);
    ASSERT_TRUE(st) << "grandchild " << k << " survived the group signal";
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGTERM);
  }
}

TEST_F(PosixSpawnerTest, GroupSignalMissesGrandchildrenThatCalledSetsid) {
  const pid_t pid = start(spec(helper("spawn_grandchildren") + " 2 --setsid"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until([&] { return grandchildren(out()).size() == 2; })) << out();
  const auto kids = grandchildren(out());
  for (const pid_t k : kids) {
    guard_.add_other(k);
    ASSERT_TRUE(wait_until([&] { return ::getsid(k) == k; })) << "grandchild " << k;
  }
  ASSERT_TRUE(spawner_.send_signal(pid, SIGTERM, true));
  ASSERT_TRUE(wait_exit(pid, false));
  for (const pid_t k : kids) {
    int st = 0;
    EXPECT_EQ(::waitpid(k, &st, WNOHANG), 0) << "grandchild " << k << " should still run";
  }
}

TEST_F(PosixSpawnerTest, SignallingAGoneProcessIsSuccess) {
  const pid_t pid = start(spec(helper("exit_with") + " 0"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_TRUE(spawner_.send_signal(pid, SIGTERM, false));
  EXPECT_TRUE(spawner_.send_signal(pid, SIGKILL, true));
}

TEST_F(PosixSpawnerTest, SendSignalReportsOtherErrors) {
  const pid_t pid = start(spec(helper("sleep_forever")));
  ASSERT_GT(pid, 0);
  const auto r = spawner_.send_signal(pid, 9999, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Invalid argument");
}

TEST_F(PosixSpawnerTest, UserIsTheCurrentUser) {
  const passwd* me = ::getpwuid(::getuid());
  ASSERT_NE(me, nullptr);
  SpawnSpec s = spec(helper("print_env"));
  s.user = UserSpec{me->pw_name, me->pw_uid, me->pw_gid};
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(field("uid"), std::to_string(::getuid()));
}

TEST_F(PosixSpawnerTest, UserSwitchesToNobodyWhenRoot) {
  if (::getuid() != 0) {
    GTEST_SKIP() << "switching user needs root; the non-root path is UserIsTheCurrentUser";
  }
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) {
    GTEST_SKIP() << "no 'nobody' user on this machine";
  }
  // The build tree may sit in a 0700 home directory (a clone in /root): `nobody` could not
  // reach the helper there. Issue 12, item 1: a copy in a directory it may enter.
  namespace fs = std::filesystem;
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec |
                                   fs::perms::others_exec);
  const fs::path copy = dir_.path() / "print_env";
  fs::copy_file(helper("print_env"), copy);
  fs::permissions(copy, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  SpawnSpec s = spec(copy.string());
  s.user = UserSpec{nobody->pw_name, nobody->pw_uid, nobody->pw_gid};
  const pid_t pid = start(s);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_exit(pid));
  EXPECT_EQ(field("uid"), std::to_string(nobody->pw_uid)) << out();
  EXPECT_EQ(field("gid"), std::to_string(nobody->pw_gid)) << out();
}

TEST_F(PosixSpawnerTest, NonRootCannotSwitchUser) {
  if (::getuid() == 0) {
    GTEST_SKIP() << "root can switch to any user";
  }
  SpawnSpec s = spec(helper("exit_with") + " 0");
  s.user = UserSpec{"root", 0, 0};
  const auto r = spawner_.spawn(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "couldn't setuid to 0: Can't drop privilege as nonroot user");
  EXPECT_EQ(err(),
            "supervisor: couldn't setuid to 0: Can't drop privilege as nonroot user\n"
            "supervisor: child process was not spawned\n");
}

}  // namespace
}  // namespace zagent

namespace zagent {
namespace {

TEST(ProcStat, ParsesFieldsAfterTheCommandName) {
  // The command name may hold spaces and parentheses; fields are counted after the last ')'.
  const std::string text =
      "4242 (we(ird) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
      "1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto st = parse_proc_stat(text);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->starttime, 987654u);
  EXPECT_FALSE(parse_proc_stat("garbage").has_value());
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2").has_value());
}

TEST(ProcStat, DescendantsOfThisTestIncludeAForkedChild) {
  PosixSpawner spawner;
  const pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  const auto found = spawner.descendants(getpid());
  const bool listed = std::any_of(found.begin(), found.end(),
                                  [child](const ProcessId& p) { return p.pid == child; });
  EXPECT_TRUE(listed);
  ProcessId stale{child, 1};  // wrong start time: a reused pid must not be signalled
  EXPECT_FALSE(spawner.signal_if_alive(stale, SIGKILL));
  for (const auto& p : found) {
    if (p.pid == child) {
      EXPECT_TRUE(spawner.signal_if_alive(p, SIGKILL));
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
}

}  // namespace
}  // namespace zagent
