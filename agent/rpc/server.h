// The control socket's listener (DESIGN.md "The control socket"): accepts on the listening
// Unix socket, tells the protocol of each connection by its first byte (docs/http.md
// "Listeners": `{` or `[` JSON-RPC, a letter HTTP) and starts an RpcSession
// (agent/rpc/session.h) or an HTTP session (agent/http/http_session.h) for it; drains them
// at the end of a life. An adapter: it owns the acceptor.
// Runs on the agent's one io_context.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/http/http_listener.h"
#include "agent/logs/follow_registry.h"
#include "agent/rpc/access.h"
#include "agent/rpc/methods.h"
#include "agent/rpc/session.h"

namespace zagent {

class RpcServer {
 public:
  /// Takes over `listen_fd` (a bound, listening Unix stream socket). Sessions follow logs in
  /// `follows` (fed by the log writers; it must outlive the server). `main_log_path` gives
  /// the current main log file for zagent.followMainLog ("" = none).
  RpcServer(boost::asio::io_context& io, int listen_fd, RpcMethods& methods, AccessPolicy policy,
            FollowRegistry& follows, std::function<std::string()> main_log_path);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  /// Starts accepting.
  void start();
  /// Stops accepting and closes every session once what is queued for it has been written
  /// (at most `grace` later), and every connection that has not sent its first byte yet;
  /// then calls `done`.
  void drain(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t session_count() const;

 private:
  void accept();
  /// Starts the session for `socket` whose first byte is `first`.
  void hand_off(boost::asio::local::stream_protocol::socket socket, unsigned char first);

  boost::asio::local::stream_protocol::acceptor acceptor_;
  SessionContext context_;                   // what the sessions share
  http::ConnectionSet connections_;          // sessions, and connections not told apart yet
  boost::asio::steady_timer accept_timer_;   // retries accept() after EMFILE
  bool draining_ = false;
  std::shared_ptr<bool> alive_;  // false once destroyed (guards late completions)
};

}  // namespace zagent
