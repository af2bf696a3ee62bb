// The GPU probe over nvidia-smi (gpu=nvidia-smi, or gpu=auto without NVML): one shell command
// per reading (agent/monitor/gpu_smi_parse) run by its own PosixSnapshotRunner. An adapter.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/monitor/gpu_probe.h"
#include "agent/os/snapshot_runner.h"

namespace zagent {

/// Loop thread only. The agent reaps every child (waitpid(-1)) and hands each pid to
/// on_child_exit(), as for PosixSnapshotRunner.
class SmiProbe final : public GpuProbe {
 public:
  /// `nvidia_smi_path`: the executable (a full path, or a name the shell finds on PATH).
  /// `timeout`: the deadline of one reading; at it the command's process group is killed.
  SmiProbe(boost::asio::io_context& io, std::string nvidia_smi_path,
           std::chrono::milliseconds timeout);
  /// Kills a reading still going; its `done` is never called.
  ~SmiProbe() override;
  SmiProbe(const SmiProbe&) = delete;
  SmiProbe& operator=(const SmiProbe&) = delete;

  std::string_view backend() const override { return "nvidia-smi"; }

  /// Runs the command. A reading past the timeout ends with ok=false
  /// `nvidia-smi did not answer within N s`. If its killed process is not reaped within a
  /// grace period after that (stuck in the driver), `done` gets that error all the same, and
  /// later readings get it at once (`... (still running)`) until the reap comes. A read()
  /// while one is going is answered at once with an error.
  void read(std::function<void(GpuReading)> done) override;

  /// The agent reaped `pid`: true if it was this probe's shell (the status is consumed).
  bool on_child_exit(pid_t pid, int status);

  /// The full path of the first executable regular file `nvidia-smi` in the directories of
  /// `path_env` (a PATH value, `:`-separated); nullopt when there is none. Empty and relative
  /// entries are skipped: the agent must not run whatever its working directory holds.
  static std::optional<std::string> find_on_path(const std::string& path_env);

 private:
  void finish(std::uint64_t generation, std::string output);
  void on_deadline(std::uint64_t generation);
  std::string timeout_error() const;
  void post_done(std::function<void(GpuReading)> done, GpuReading reading);

  boost::asio::io_context& io_;           // the loop: timer, posted results
  std::string command_;                   // smi_command() of the path
  std::chrono::milliseconds timeout_;     // one reading's deadline
  boost::asio::steady_timer deadline_;    // timeout + grace: a kill that was not reaped
  std::function<void(GpuReading)> done_;  // the caller of the reading going; empty: none
  bool running_ = false;                  // the runner still has our command
  std::uint64_t generation_ = 0;          // the reading going; older results are dropped
  /// False once destroyed: a posted `done` is then dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  PosixSnapshotRunner runner_;  // last: destroyed first, its callbacks with it
};

}  // namespace zagent
