// The real HealthProber: HTTP GETs (Beast), TCP connects (Asio) and commands (PosixSpawner,
// ChildWatch), each bounded by its timeout. An adapter; the health policy never sees it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/health/ports.h"
#include "agent/os/child_watch.h"
#include "agent/os/posix_spawner.h"

namespace zagent {

/// Loop thread only. Checks run concurrently and independently; none blocks the loop (a
/// command's spawn waits only until its exec, as every program's does).
///
/// The agent reaps every child itself (waitpid(-1) on SIGCHLD), so this prober never waits
/// for a command check: the reaper hands each reaped pid to on_child_exit().
class AsioHealthProber final : public HealthProber {
 public:
  /// Output kept of a command check (the end of it, where the reason for a failure is).
  static constexpr std::size_t kMaxOutputBytes = 4096;
  /// After a command check's timeout killed its group, how long its reap may take before
  /// `done` is called without it (a process stuck in the kernel dies only when it leaves).
  static constexpr std::chrono::milliseconds kReapGrace{1000};

  explicit AsioHealthProber(boost::asio::io_context& io);
  /// Cancels every check still going and SIGKILLs the process groups of command checks;
  /// their `done` is never called.
  ~AsioHealthProber() override;
  AsioHealthProber(const AsioHealthProber&) = delete;
  AsioHealthProber& operator=(const AsioHealthProber&) = delete;

  /// Starts the check and returns at once; `done` is posted to the loop exactly once, with
  /// `duration` from this call to the result on the steady clock.
  /// - http: resolve (no name service for a numeric address), connect, `GET target
  ///   HTTP/1.1` with `Host`, `User-Agent: zagent-healthcheck` and `Connection: close`, read
  ///   the response header. A status 200-399 passes. Messages: `HTTP <code>`,
  ///   `cannot resolve '<host>': <reason>`, `connection refused`,
  ///   `connection closed without an answer`, `invalid answer: <parser error>`, or the
  ///   socket error's text.
  /// - tcp: resolve and connect; passes with `connected`.
  /// - cmd: split and resolved as a program's command (its PATH from `environment`, else
  ///   the agent's), run with the request's environment and directory, and its user when the
  ///   agent runs as root, in its own process group, stdin at end of file, stdout and stderr
  ///   on one pipe. Passes with `exit status 0`; fails with `exit status N: <last non-empty
  ///   line of output>` (without `: ...` when it printed nothing), `killed by SIGKILL`, or
  ///   the spawn error (`can't find command 'foo'`).
  /// Every kind fails with `timed out after N s` at request.timeout (N in seconds, with
  /// decimals when not whole); a command's group is then SIGKILLed.
  void check(const CheckRequest& request, std::function<void(CheckResult)> done) override;

  /// The agent reaped `pid`: true if it was one of this prober's command checks (then the
  /// status is consumed here), false for anybody else's child.
  bool on_child_exit(pid_t pid, int status) { return children_.on_child_exit(pid, status); }

  /// Checks still going (not yet handed to `done`).
  std::size_t running() const { return checks_.size(); }

 private:
  struct Check;
  // http and tcp, one step each: resolve, connect, (http:) send the GET, read the header.
  void start_http(const std::shared_ptr<Check>& check);
  void connect(const std::shared_ptr<Check>& check);
  void send_request(const std::shared_ptr<Check>& check);
  void read_header(const std::shared_ptr<Check>& check);
  void start_command(const std::shared_ptr<Check>& check, const CheckRequest& request);
  void arm_timeout(const std::shared_ptr<Check>& check, std::chrono::milliseconds after);
  void finish(const std::shared_ptr<Check>& check, bool passed, std::string message);

  boost::asio::io_context& io_;  // the loop: sockets, timers, posted results
  std::map<std::uint64_t, std::shared_ptr<Check>> checks_;  // those going, by id
  std::uint64_t next_id_ = 0;                               // the id of the next check
  PosixSpawner::Pipes handed_;  // the pipes of the command being spawned, from spawner_
  PosixSpawner spawner_;        // command checks, started as programs are
  /// False once destroyed: a posted `done` is then dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ChildWatch children_;  // last: destroyed first, killing the command checks' groups
};

}  // namespace zagent
