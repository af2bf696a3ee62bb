// zctl's side of the control socket: the `Client` interface the commands call (tests use a
// fake), and `SocketClient`, one blocking JSON-RPC connection over a Unix or TCP socket
// (DESIGN.md "JSON-RPC 2.0 on the socket"). Depends on common/ only.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/framing.h"
#include "common/protocol.h"

namespace zagent::ctl {

using Json = nlohmann::json;

/// Why a call or a wait produced no result.
struct CallError {
  enum class Kind {
    Transport,    ///< a system call failed (connect, read, write); see `sys_errno`
    Closed,       ///< the agent closed the connection before answering
    Protocol,     ///< the agent sent something that is not JSON-RPC
    Rpc,          ///< the agent answered with a JSON-RPC error (`rpc`)
    Timeout,      ///< the call's timeout passed; the connection was dropped
    Interrupted,  ///< the interrupt fd became readable (Ctrl-C)
  };
  Kind kind = Kind::Transport;
  int sys_errno = 0;    ///< Transport: errno of the failed call (ENOENT, ECONNREFUSED, ...)
  std::string message;  ///< Transport/Protocol: what failed, for the `error:` line
  rpc::RpcError rpc;    ///< Rpc: the error as received

  /// The supervisord fault of an Rpc error (see rpc::RpcError::fault), nullopt otherwise.
  std::optional<Fault> fault() const;
  /// The faultString of an Rpc error: data.faultString when present, else the message.
  std::string fault_string() const;
};

template <typename T>
using CallResult = boost::system::result<T, CallError>;

/// One call of a pipelined batch.
struct Call {
  std::string method;
  Json params = Json::array();
};

/// What wait_event() saw first.
struct Event {
  enum class Kind {
    Notification,  ///< a notification from the agent (`method`, `params`)
    InputReady,    ///< the input fd is readable (or at EOF)
    Timeout,       ///< the timeout passed
    Interrupted,   ///< the interrupt fd became readable (Ctrl-C)
    Closed,        ///< the agent closed the connection
  };
  Kind kind = Kind::Timeout;
  std::string method;
  Json params;
};

/// A connection to the agent. Calls are made one after the other on one connection; the
/// connection is opened by the first call (so commands that need no server never connect).
/// Notifications that arrive while waiting for a response are kept for wait_event().
class Client {
 public:
  virtual ~Client() = default;

  /// Calls `method` with positional `params` and waits for its response without a limit.
  virtual CallResult<Json> call(std::string_view method, Json params) = 0;
  /// As call(), but gives up after `timeout`: Kind::Timeout, and the connection is dropped
  /// (the agent carries on with the request).
  virtual CallResult<Json> call_with_timeout(std::string_view method, Json params,
                                             std::chrono::milliseconds timeout) = 0;
  /// Sends every call before reading the responses (one round trip for many names); the
  /// results are in the order of `calls`.
  virtual std::vector<CallResult<Json>> call_all(const std::vector<Call>& calls);
  /// Waits for the next notification, for `input_fd` to become readable (-1: no input), or for
  /// `timeout` (nullopt: no limit). Queued notifications come first. Errors: transport.
  virtual CallResult<Event> wait_event(int input_fd,
                                       std::optional<std::chrono::milliseconds> timeout) = 0;
  /// Closes the connection (after following a log, or a timed-out call); the next call opens
  /// a new one.
  virtual void reset() = 0;
};

/// Where a server URL points: `unix:///path` (the rest of the URL is the path, verbatim) or
/// `http://host[:port][/...]` (port 80 by default).
struct ServerAddress {
  bool unix_socket = false;
  std::string path;  ///< unix
  std::string host;  ///< http
  std::string port;  ///< http
};
Result<ServerAddress> parse_server_url(std::string_view url);

/// A blocking client on one socket, opened lazily. Not thread-safe.
class SocketClient final : public Client {
 public:
  struct Options {
    std::string serverurl;
    std::string username;  ///< non-empty: `zagent.login [username, password]` on connect
    std::string password;
    int interrupt_fd = -1;  ///< readable means "give up" (the Ctrl-C self-pipe); -1: none
  };

  explicit SocketClient(Options options);
  ~SocketClient() override;
  SocketClient(const SocketClient&) = delete;
  SocketClient& operator=(const SocketClient&) = delete;

  CallResult<Json> call(std::string_view method, Json params) override;
  CallResult<Json> call_with_timeout(std::string_view method, Json params,
                                     std::chrono::milliseconds timeout) override;
  std::vector<CallResult<Json>> call_all(const std::vector<Call>& calls) override;
  CallResult<Event> wait_event(int input_fd,
                               std::optional<std::chrono::milliseconds> timeout) override;
  void reset() override;

 private:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;

  CallResult<void> ensure_connected();
  CallResult<void> open_socket();
  /// Writes `bytes` fully, reading (and keeping) whatever the agent sends meanwhile.
  CallResult<void> send_all(std::string_view bytes);
  /// Reads until a complete line is decoded; nullopt when `input_fd` became readable or the
  /// deadline passed (`timed_out` tells which).
  CallResult<std::optional<std::string>> next_line(Deadline deadline, int input_fd,
                                                   bool& timed_out);
  /// Reads once from the socket into the decoder; false at EOF.
  CallResult<bool> read_some();
  /// Waits for the responses to `ids` (in any order), queueing notifications.
  std::vector<CallResult<Json>> await(const std::vector<long long>& ids, Deadline deadline);
  /// Drops a connection that the agent has closed meanwhile (e.g. after `reload`).
  void drop_if_closed();

  Options options_;
  int fd_ = -1;                              // the socket, -1 when not connected
  rpc::LineDecoder decoder_;                 // bytes received -> lines
  std::deque<rpc::Incoming> notifications_;  // received, not yet taken by wait_event()
  long long next_id_ = 1;                    // id of the next request on this client
};

}  // namespace zagent::ctl
