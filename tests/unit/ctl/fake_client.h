// A scripted zctl Client and Input for the command tests: every call must match the next
// expected (method, params) in order; events for tail -f / fg are queued the same way.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/process_state.h"
#include "ctl/commands.h"
#include "ctl/rpc_client.h"

namespace zagent::ctl::test {

inline CallResult<Json> ok(Json value) {
  return CallResult<Json>(boost::system::in_place_value, std::move(value));
}

inline CallResult<Json> err(CallError e) {
  return CallResult<Json>(boost::system::in_place_error, std::move(e));
}

/// A supervisord fault as the agent sends it (`BAD_NAME: nosuch`).
inline CallResult<Json> fault(Fault f, std::string_view detail = {}) {
  CallError e;
  e.kind = CallError::Kind::Rpc;
  e.rpc = rpc::fault_error(f, detail);
  return err(std::move(e));
}

/// A standard JSON-RPC error (-32601 ...).
inline CallResult<Json> std_error(rpc::StdError code, std::string_view detail = {}) {
  CallError e;
  e.kind = CallError::Kind::Rpc;
  e.rpc = rpc::standard_error(code, detail);
  return err(std::move(e));
}

/// A failed system call on the socket (ENOENT, ECONNREFUSED, ...).
inline CallResult<Json> os_error(int errnum) {
  CallError e;
  e.kind = CallError::Kind::Transport;
  e.sys_errno = errnum;
  e.message = "connect";
  return err(std::move(e));
}

inline CallResult<Json> kind_error(CallError::Kind kind) {
  CallError e;
  e.kind = kind;
  return err(std::move(e));
}

/// A process info struct as the agent sends it (spec/rpc.md §3.1).
inline Json info(const std::string& group, const std::string& name, ProcessState state,
                 const std::string& description, int pid = 0) {
  return {{"name", name},
          {"group", group},
          {"start", 0},
          {"stop", 0},
          {"now", 0},
          {"state", static_cast<int>(state)},
          {"statename", std::string(state_name(state))},
          {"spawnerr", ""},
          {"exitstatus", 0},
          {"logfile", ""},
          {"stdout_logfile", ""},
          {"stderr_logfile", ""},
          {"pid", pid},
          {"description", description}};
}

/// A result struct of the group/all methods (spec/rpc.md §3.2).
inline Json result(const std::string& group, const std::string& name, Fault status,
                   const std::string& description = "OK") {
  return {{"name", name},
          {"group", group},
          {"status", fault_code(status)},
          {"description", description}};
}

inline Event notification(std::string method, Json params) {
  Event e;
  e.kind = Event::Kind::Notification;
  e.method = std::move(method);
  e.params = std::move(params);
  return e;
}

inline Event event_of(Event::Kind kind) {
  Event e;
  e.kind = kind;
  return e;
}

class FakeClient final : public Client {
 public:
  struct Expected {
    std::string method;
    std::optional<Json> params;  ///< nullopt: not checked
    CallResult<Json> reply;
    bool with_timeout = false;  ///< must come through call_with_timeout
  };

  FakeClient& expect(std::string method, Json params, CallResult<Json> reply) {
    script_.push_back({std::move(method), std::move(params), std::move(reply), false});
    return *this;
  }
  FakeClient& expect_timed(std::string method, Json params, CallResult<Json> reply) {
    script_.push_back({std::move(method), std::move(params), std::move(reply), true});
    return *this;
  }
  /// The upcheck's getVersion answered with 3.0.
  FakeClient& version_ok() { return expect("supervisor.getVersion", Json::array(), ok("3.0")); }
  FakeClient& event(Event e) {
    events_.push_back(std::move(e));
    return *this;
  }

  CallResult<Json> call(std::string_view method, Json params) override {
    return next(method, std::move(params), false);
  }
  CallResult<Json> call_with_timeout(std::string_view method, Json params,
                                     std::chrono::milliseconds timeout) override {
    timeouts.push_back(timeout);
    return next(method, std::move(params), true);
  }
  /// As SocketClient: every call of the batch is sent before a reply is read, so each one is
  /// answered in order; once the connection failed (Transport, Closed), the rest of the
  /// batch gets the same error without being scripted.
  std::vector<CallResult<Json>> call_all(const std::vector<Call>& batch) override {
    batches.push_back(batch.size());
    std::vector<CallResult<Json>> out;
    for (const Call& c : batch) {
      if (!out.empty() && !out.back() &&
          (out.back().error().kind == CallError::Kind::Transport ||
           out.back().error().kind == CallError::Kind::Closed)) {
        out.push_back(out.back());
        continue;
      }
      out.push_back(next(c.method, c.params, false));
    }
    return out;
  }
  CallResult<Event> wait_event(int input_fd,
                               std::optional<std::chrono::milliseconds> timeout) override {
    waits.emplace_back(input_fd, timeout);
    if (on_wait) {
      on_wait(timeout);
    }
    if (events_.empty()) {
      ADD_FAILURE() << "unexpected wait_event";
      return event_of(Event::Kind::Closed);
    }
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }
  void reset() override { ++resets; }

  /// Every scripted call and event was used.
  bool done() const { return script_.empty() && events_.empty(); }
  std::string remaining() const {
    std::string out;
    for (const Expected& e : script_) {
      out += e.method + " ";
    }
    return out + std::to_string(events_.size()) + " events";
  }

  std::vector<std::pair<std::string, Json>> calls;  ///< every call made, in order
  std::vector<std::size_t> batches;  ///< the size of each call_all() batch, in order
  std::vector<std::chrono::milliseconds> timeouts;  ///< of call_with_timeout
  std::vector<std::pair<int, std::optional<std::chrono::milliseconds>>> waits;
  /// Called with each wait_event()'s timeout before it answers: a test moves its fake clock by
  /// it, as if the wait had lasted that long.
  std::function<void(std::optional<std::chrono::milliseconds>)> on_wait;
  int resets = 0;

 private:
  CallResult<Json> next(std::string_view method, Json params, bool timed) {
    calls.emplace_back(std::string(method), params);
    if (script_.empty()) {
      ADD_FAILURE() << "unexpected call " << method << " " << params.dump();
      return os_error(EIO);
    }
    Expected e = std::move(script_.front());
    script_.pop_front();
    EXPECT_EQ(e.method, method) << "params " << params.dump();
    if (e.params) {
      EXPECT_EQ(*e.params, params) << "for " << method;
    }
    EXPECT_EQ(e.with_timeout, timed) << "for " << method;
    return std::move(e.reply);
  }

  std::deque<Expected> script_;
  std::deque<Event> events_;
};

/// A Client that forwards to another (for a Session that owns the client `open` makes).
class FakeClientRef final : public Client {
 public:
  explicit FakeClientRef(Client& target) : target_(target) {}
  CallResult<Json> call(std::string_view method, Json params) override {
    return target_.call(method, std::move(params));
  }
  CallResult<Json> call_with_timeout(std::string_view method, Json params,
                                     std::chrono::milliseconds timeout) override {
    return target_.call_with_timeout(method, std::move(params), timeout);
  }
  std::vector<CallResult<Json>> call_all(const std::vector<Call>& batch) override {
    return target_.call_all(batch);
  }
  CallResult<Event> wait_event(int input_fd,
                               std::optional<std::chrono::milliseconds> timeout) override {
    return target_.wait_event(input_fd, timeout);
  }
  void reset() override { target_.reset(); }

 private:
  Client& target_;
};

/// Scripted user input: lines for read_line() (the shell, confirmations) and
/// read_available() (fg).
class FakeInput final : public Input {
 public:
  explicit FakeInput(std::vector<std::string> lines = {}, bool interrupt_at_end = false)
      : lines_(lines.begin(), lines.end()), interrupt_at_end_(interrupt_at_end) {}

  std::optional<std::string> read_line() override {
    if (lines_.empty()) {
      interrupted_ = interrupt_at_end_;
      return std::nullopt;
    }
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    return line;
  }
  int fd() const override { return -1; }
  bool has_line() const override { return false; }
  bool read_available(std::vector<std::string>& lines) override {
    if (lines_.empty()) {
      return false;
    }
    lines.push_back(std::move(lines_.front()));
    lines_.pop_front();
    return true;
  }
  bool interrupted() const override { return interrupted_; }
  bool at_eof() const override { return false; }

 private:
  std::deque<std::string> lines_;
  bool interrupt_at_end_;
  bool interrupted_ = false;
};

}  // namespace zagent::ctl::test
