// Runs a real program to completion for end-to-end tests and captures what it printed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zagent::test {

struct RunResult {
  int exit_code = -1;  ///< exit status, or 128+signal if killed, or -1 if it could not run
  std::string out;     ///< everything written to stdout
  std::string err;     ///< everything written to stderr
  bool timed_out = false;
};

struct RunOptions {
  std::string cwd;                     ///< empty = inherit
  std::vector<std::string> extra_env;  ///< "KEY=value" entries added to the environment
  std::string stdin_data;              ///< written to the child's stdin, then closed
  std::chrono::milliseconds deadline{20000};  ///< killed (SIGKILL) after this long
};

/// Runs argv[0] (a path) with argv; waits until it exits or the deadline passes.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

}  // namespace zagent::test

namespace zagent::test {

/// A program started in the background (the agent under test). Its stdout and stderr go to
/// files. The destructor stops it (SIGTERM, then SIGKILL after a deadline) and reaps it, so
/// a failing test leaves nothing behind.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd,
                    const std::string& out_path, const std::string& err_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  /// Waits for the exit; returns the status as RunResult::exit_code does, or nullopt if it
  /// did not exit before the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// Polls `condition` every few milliseconds until it holds or `deadline` passes.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = std::chrono::milliseconds(10000));

/// True if a process with this pid exists (and is not a zombie).
bool process_alive(pid_t pid);

}  // namespace zagent::test
