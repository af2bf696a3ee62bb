// The real SnapshotRunner: snapshot_command under /bin/sh -c in its own process group, its
// output read from one pipe on the loop, with a timeout. An adapter (posix_spawn, Asio).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/crash/ports.h"
#include "agent/os/child_watch.h"

namespace zagent {

/// Loop thread only. The agent reaps every child itself (waitpid(-1) on SIGCHLD), so this
/// runner never waits for its children: the reaper hands each reaped pid to on_child_exit().
class PosixSnapshotRunner final : public SnapshotRunner {
 public:
  /// Output kept per run; the rest is read and dropped, and `[output truncated]` noted.
  static constexpr std::size_t kMaxOutputBytes = 256 * 1024;

  explicit PosixSnapshotRunner(boost::asio::io_context& io) : io_(io), children_(io) {}
  /// SIGKILLs the process group of every run still going; their `done` is never called.
  ~PosixSnapshotRunner() override { *alive_ = false; }
  PosixSnapshotRunner(const PosixSnapshotRunner&) = delete;
  PosixSnapshotRunner& operator=(const PosixSnapshotRunner&) = delete;

  /// Starts `/bin/sh -c command` (stdin /dev/null, stdout and stderr on one pipe). `done` is
  /// called exactly once, from the loop (posted, never from inside run() or
  /// on_child_exit()), when the shell was reaped and its pipe reached end of file, or when
  /// the timeout passed (the group is then SIGKILLed and `done` follows its reap). A spawn
  /// failure gives `done` the error text.
  void run(const std::string& command, std::chrono::milliseconds timeout,
           std::function<void(std::string output)> done) override;

  /// The agent reaped `pid`: true if it was one of this runner's shells (then the status is
  /// consumed here), false for anybody else's child.
  bool on_child_exit(pid_t pid, int status) { return children_.on_child_exit(pid, status); }

  /// Runs still going (not yet handed to `done`).
  std::size_t running() const { return children_.running(); }

 private:
  boost::asio::io_context& io_;  // the loop: posted spawn failures
  /// False once destroyed: a posted spawn failure is then dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ChildWatch children_;  // the shells running: pipes, timeouts, reaps
};

}  // namespace zagent
