#include "agent/rpc/context.h"

#include <utility>

#include "agent/rpc/methods.h"

namespace zagent {

Waiters::Waiters(AgentControl& control) : control_(control), alive_(std::make_shared<bool>(true)) {}

Waiters::~Waiters() { *alive_ = false; }

void Waiters::add(Waiter waiter) { waiters_.push_back(std::move(waiter)); }

void Waiters::schedule() {
  if (scheduled_ || waiters_.empty()) {
    return;
  }
  scheduled_ = true;
  control_.post([this, alive = alive_]() {
    if (*alive) {
      scheduled_ = false;
      run();
    }
  });
}

void Waiters::run() {
  if (running_) {
    return;
  }
  running_ = true;
  // A waiter may complete others' work (e.g. an update) and add new waiters: loop until a
  // pass changes nothing.
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      Waiter w = *it;  // a copy: the call may add waiters
      if (w()) {
        it = waiters_.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  running_ = false;
  control_.changed();
}

MethodContext::MethodContext(Supervisor& process_table, AgentControl& agent, Clock& time,
                             AgentConfig last_read)
    : supervisor(process_table),
      control(agent),
      clock(time),
      config(std::move(last_read)),
      waiters(agent) {}

}  // namespace zagent
