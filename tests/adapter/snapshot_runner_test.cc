// PosixSnapshotRunner against the real OS: /bin/sh runs the command; the test plays the
// agent's reaper (waitpid(-1) forwarded to on_child_exit) while it runs the loop, and waits on
// `done` with a deadline. The test process is a child subreaper meanwhile and kills and reaps
// whatever is left at the end.
#include "agent/os/snapshot_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace zagent {
namespace {

using namespace std::chrono_literals;

class SnapshotRunnerTest : public ::testing::Test {
 protected:
  SnapshotRunnerTest() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~SnapshotRunnerTest() override {
    runner_.reset();  // SIGKILLs what is still running
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until && ::waitpid(-1, nullptr, WNOHANG) >= 0) {
      io_.restart();
      io_.run_for(2ms);
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  /// Runs the loop and reaps children (as the agent's SIGCHLD handler) until `done` was
  /// called or the deadline passed. Returns the output, or nullopt on the deadline.
  std::optional<std::string> wait_done(std::chrono::milliseconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!output_) {
      if (std::chrono::steady_clock::now() > until) {
        return std::nullopt;
      }
      for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
          break;
        }
        if (runner_->on_child_exit(pid, status)) {
          ++reaped_;
        }
      }
      io_.restart();
      io_.run_for(2ms);
    }
    return output_;
  }

  void run(const std::string& command, std::chrono::milliseconds timeout) {
    runner_->run(command, timeout, [this](std::string output) {
      ++calls_;
      output_ = std::move(output);
    });
  }

  boost::asio::io_context io_;
  std::optional<PosixSnapshotRunner> runner_{std::in_place, io_};
  std::optional<std::string> output_;
  int calls_ = 0;   // times done was called
  int reaped_ = 0;  // reaped pids the runner claimed
};

TEST_F(SnapshotRunnerTest, CollectsStdoutAndStderr) {
  run("echo hi; echo err >&2", 10s);
  EXPECT_EQ(calls_, 0);  // never from inside run()
  const auto out = wait_done();
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "hi\nerr\n");
  EXPECT_EQ(reaped_, 1);
  EXPECT_EQ(runner_->running(), 0U);
  // Exactly once, and a pid the runner does not know is not its own.
  io_.restart();
  io_.run_for(20ms);
  EXPECT_EQ(calls_, 1);
  EXPECT_FALSE(runner_->on_child_exit(1, 0));
}

TEST_F(SnapshotRunnerTest, StdinIsDevNullAndOtherDescriptorsAreClosed) {
  // A descriptor of ours without O_CLOEXEC must not reach the command.
  const int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  // Only shell built-ins, so the listing itself opens nothing: a pipeline
  // would show its own pipe ends for a moment (`test -e` is a stat).
  run("read x; echo \"read=$?\"; n=0; while [ $n -le " + std::to_string(leaked + 8) +
          " ]; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; n=$((n+1)); done",
      10s);
  const auto out = wait_done();
  ::close(leaked);
  ASSERT_TRUE(out);
  // `read` got end of file at once; the shell holds 0, 1 and 2 only.
  EXPECT_EQ(*out, "read=1\n0 1 2 ") << *out;
}

TEST_F(SnapshotRunnerTest, RunsInItsOwnProcessGroup) {
  run("ps -o pgid= -p $$; ps -o pid= -p $$", 10s);
  const auto out = wait_done();
  ASSERT_TRUE(out);
  std::vector<long> numbers;
  for (size_t pos = 0; pos < out->size();) {
    const size_t end = out->find('\n', pos);
    numbers.push_back(std::stol(out->substr(pos, end - pos)));
    pos = end == std::string::npos ? out->size() : end + 1;
  }
  ASSERT_EQ(numbers.size(), 2U) << *out;
  EXPECT_EQ(numbers[0], numbers[1]);  // the shell leads its group
  EXPECT_NE(numbers[0], static_cast<long>(::getpgrp()));
}

TEST_F(SnapshotRunnerTest, TimeoutKillsTheGroup) {
  const auto start = std::chrono::steady_clock::now();
  run("echo started; sleep 30 & sleep 30", 200ms);
  const auto out = wait_done();
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "started\n[snapshot_command timed out after 0.2 s]\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(reaped_, 1);
  EXPECT_EQ(calls_, 1);
}

TEST_F(SnapshotRunnerTest, ReapedButPipeHeldOpenEndsAtTheTimeout) {
  // The shell exits at once; the background sleep (same group) keeps the pipe open until
  // the timeout kills the group.
  run("sleep 30 & echo bg", 300ms);
  const auto out = wait_done();
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "bg\n[snapshot_command timed out after 0.3 s]\n");
}

TEST_F(SnapshotRunnerTest, OutputIsCapped) {
  // 300 lines of 999 'a' and a newline: more than the cap, which cuts a line.
  run("i=0; line=$(printf '%999s' '' | tr ' ' a); "
      "while [ $i -lt 300 ]; do echo \"$line\"; i=$((i+1)); done; echo done >&2",
      10s);
  const auto out = wait_done();
  ASSERT_TRUE(out);
  const std::string note = "[output truncated]\n";
  ASSERT_GT(out->size(), note.size());
  EXPECT_EQ(out->substr(out->size() - note.size()), note);
  // The cap, a newline closing the cut line, then the note.
  EXPECT_EQ(out->size(), PosixSnapshotRunner::kMaxOutputBytes + 1 + note.size());
  EXPECT_EQ(out->find("done"), std::string::npos);
  EXPECT_EQ(out->substr(0, 4), "aaaa");
}

TEST_F(SnapshotRunnerTest, DestructorKillsWhatRuns) {
  run("sleep 30", 30s);
  EXPECT_EQ(runner_->running(), 1U);
  runner_.reset();
  // The shell (or the sleep it became) dies of the SIGKILL.
  int status = 0;
  pid_t pid = 0;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < until) {
    io_.restart();
    io_.run_for(2ms);
  }
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  io_.restart();
  io_.run_for(20ms);
  EXPECT_EQ(calls_, 0);  // done is never called after the runner is gone
}

}  // namespace
}  // namespace zagent
