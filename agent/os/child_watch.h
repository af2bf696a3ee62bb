// Short-lived children of the agent (snapshot_command, health-check commands): each one's
// output read from one pipe on the loop, its process group killed at a timeout, and its end
// reported once the agent's reaper handed the pid over. An adapter (Asio); starts nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

namespace zagent {

/// Loop thread only. The agent reaps every child itself (waitpid(-1) on SIGCHLD), so this
/// never waits for a child: the reaper hands each reaped pid to on_child_exit().
class ChildWatch {
 public:
  /// Which part of a long output is kept.
  enum class Keep {
    Head,  ///< the first max_output bytes (a report read from the top)
    Tail,  ///< the last max_output bytes (where the reason for a failure is)
  };

  /// Bounds of one child.
  struct Limits {
    std::chrono::milliseconds timeout{0};  ///< from watch(); then the group is SIGKILLed
    std::size_t max_output = 0;            ///< bytes of output kept; the rest is dropped
    Keep keep = Keep::Head;
  };

  /// How one child ended.
  struct Outcome {
    std::string output;           ///< what was kept of stdout+stderr
    bool truncated = false;       ///< more was written than kept
    bool timed_out = false;       ///< the timeout passed first: the group was SIGKILLed
    bool exited_in_time = false;  ///< reaped before the timeout: `status` is its own end
    int status = 0;               ///< the wait status the reaper handed over
  };

  explicit ChildWatch(boost::asio::io_context& io) : io_(io) {}
  /// SIGKILLs the process group of every child still watched; their `done` is never called.
  ~ChildWatch();
  ChildWatch(const ChildWatch&) = delete;
  ChildWatch& operator=(const ChildWatch&) = delete;

  /// Watches `pid`, which leads its own process group (the kill at the timeout is sent to
  /// the group), and takes ownership of `read_fd`, the agent's end of the pipe its stdout
  /// and stderr write to. `done` is called exactly once, posted (never from inside watch()
  /// or on_child_exit()), when the child was reaped and the pipe reached end of file, or when
  /// the child was reaped after the timeout killed its group (a descendant that left the
  /// group may hold the pipe open for ever).
  void watch(pid_t pid, int read_fd, const Limits& limits, std::function<void(Outcome)> done);

  /// The agent reaped `pid`: true if it is watched here (then the status is consumed here),
  /// false for anybody else's child.
  bool on_child_exit(pid_t pid, int status);

  /// Children still watched (not yet handed to `done`).
  std::size_t running() const { return children_.size(); }

 private:
  struct Child;
  void start_read(const std::shared_ptr<Child>& child);
  void on_timeout(const std::shared_ptr<Child>& child);
  void maybe_finish(const std::shared_ptr<Child>& child);

  boost::asio::io_context& io_;                       // the loop: pipes, timers, done
  std::map<pid_t, std::shared_ptr<Child>> children_;  // by pid (= its group id)
  /// False once destroyed: a posted `done` is then dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace zagent
