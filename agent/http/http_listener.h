// The listeners of the HTTP front (docs/http.md "Listeners"): ConnectionSet, the live
// connections of one listener and their drain at the end of a life (the unix socket's
// RpcServer keeps its JSON-RPC and HTTP sessions in one too); HttpListener, the TCP listener of
// `[inet_http_server]`, one HTTP session per connection; open_inet_socket, which binds that
// socket as supervisord does. Adapters (sockets); run on the agent's one io_context.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/config/config.h"
#include "agent/logs/follow_registry.h"
#include "agent/rpc/access.h"
#include "agent/rpc/methods.h"
#include "agent/rpc/session.h"
#include "common/error.h"

namespace zagent::http {

/// The connections of one listener. A connection is anything with `drain()` and `closed()`
/// held by a shared_ptr that its own handlers keep alive; the set holds weak references.
class ConnectionSet {
 public:
  explicit ConnectionSet(boost::asio::io_context& io);
  /// Drains what is left (their follows end; they close as their handlers finish).
  ~ConnectionSet();
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  /// Tracks `connection` from now on (closed ones are forgotten as new ones come).
  template <class T>
  void add(const std::shared_ptr<T>& connection) {
    prune();
    std::weak_ptr<T> weak = connection;
    entries_.push_back(Entry{[weak]() {
                               if (auto c = weak.lock()) {
                                 c->drain();
                               }
                             },
                             [weak]() {
                               auto c = weak.lock();
                               return !c || c->closed();
                             }});
  }

  /// Connections not closed yet.
  std::size_t size() const;
  /// Drains every connection, then calls `done` once all have closed or `grace` has passed.
  void drain(std::chrono::milliseconds grace, std::function<void()> done);

 private:
  struct Entry {
    std::function<void()> drain;   // drains the connection if it is still there
    std::function<bool()> closed;  // true once it is closed or gone
  };

  void prune();
  void check_drained();

  std::vector<Entry> entries_;          // the tracked connections
  boost::asio::steady_timer timer_;     // drain(): polls for the last ones to close
  std::chrono::steady_clock::time_point deadline_;  // drain(): the end of the grace period
  std::function<void()> done_;          // drain()'s callback, until called
  std::shared_ptr<bool> alive_;         // false once destroyed (guards late completions)
};

/// The TCP listener of `[inet_http_server]`: a connection speaks HTTP or, told by its first
/// byte as on the unix socket, JSON-RPC (zctl -s http://...), behind the section's login
/// (no peer-credential rule: TCP has none).
class HttpListener {
 public:
  /// Takes over `listen_fd` (from open_inet_socket); the daemon keeps owning it (closes it).
  /// `policy` carries the section's username and password. The rest as for RpcServer.
  HttpListener(boost::asio::io_context& io, int listen_fd, RpcMethods& methods,
               AccessPolicy policy, FollowRegistry& follows,
               std::function<std::string()> main_log_path);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  /// Starts accepting.
  void start();
  /// Stops accepting and drains every session (ConnectionSet::drain).
  void drain(std::chrono::milliseconds grace, std::function<void()> done);
  std::size_t session_count() const { return connections_.size(); }

 private:
  void accept();
  /// Starts the session the first byte asks for.
  void hand_off(boost::asio::ip::tcp::socket socket, unsigned char first);

  boost::asio::ip::tcp::acceptor acceptor_;  // the listening socket (not owned)
  SessionContext context_;                   // what the sessions share
  ConnectionSet connections_;                // live sessions
  boost::asio::steady_timer accept_timer_;   // retries accept() after EMFILE
  bool draining_ = false;
  std::shared_ptr<bool> alive_;  // false once destroyed (guards late completions)
};

/// Binds and listens on `[inet_http_server] port=` (an empty host: every IPv4 interface, as
/// supervisord; a name: its first IPv4 address, else its first address), with SO_REUSEADDR
/// so that a reload can bind again at once. The listening fd; errors carry supervisord's
/// texts ("Another program is already listening on a port ...", "Cannot open an HTTP server:
/// socket.error reported errno.EADDRNOTAVAIL (99)") followed by the section and its value.
Result<int> open_inet_socket(const InetHttpServerConfig& server);

/// Too many descriptors or too little memory for accept(): worth a retry a little later.
bool accept_should_wait(const boost::system::error_code& ec);

}  // namespace zagent::http
