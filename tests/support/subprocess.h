// Runs a real program to completion for end-to-end tests and captures what it printed.
#pragma once

#include <chrono>
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
