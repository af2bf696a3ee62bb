// What the method families work on: the process table, the agent (through AgentControl,
// declared in agent/rpc/methods.h), the clock, the last-read config, and the calls waiting
// for a state change. Pure: no sockets, no system calls.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>

#include "agent/config/config.h"
#include "agent/process/clock.h"
#include "agent/process/supervisor.h"

namespace zagent {

class AgentControl;

/// The calls waiting for a state change (a start or stop with `wait`, an update). Loop
/// thread only.
class Waiters {
 public:
  /// A waiting call: re-run after state changes until it returns true (it has replied).
  using Waiter = std::function<bool()>;

  explicit Waiters(AgentControl& control);
  ~Waiters();
  Waiters(const Waiters&) = delete;
  Waiters& operator=(const Waiters&) = delete;

  void add(Waiter waiter);
  /// Posts one run() through AgentControl::post, unless one is posted already or nothing
  /// waits. Safe from inside a supervisor callback.
  void schedule();
  /// Re-checks every waiting call until a pass changes nothing, then reports a change.
  /// Not from inside a supervisor callback (a waiter may change the process table).
  void run();
  /// Number of calls waiting.
  std::size_t size() const { return waiters_.size(); }

 private:
  AgentControl& control_;        // post() and changed()
  std::list<Waiter> waiters_;    // calls waiting for a state change
  bool scheduled_ = false;       // a run() is already posted
  bool running_ = false;         // inside run()
  std::shared_ptr<bool> alive_;  // false once destroyed (guards posted work)
};

/// The state every method handler reaches; owned by RpcMethods, outlives every call.
struct MethodContext {
  MethodContext(Supervisor& process_table, AgentControl& agent, Clock& time, AgentConfig last_read);

  Supervisor& supervisor;  // the process table
  AgentControl& control;   // the agent and its files
  Clock& clock;            // wall time for the process info
  AgentConfig config;      // the last-read config (reloadConfig replaces it)
  Waiters waiters;         // calls waiting for a state change
};

}  // namespace zagent
