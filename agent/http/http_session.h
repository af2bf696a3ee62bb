// One HTTP/1.1 connection of the HTTP front (docs/http.md): reads requests with Beast's
// parser under size limits and timeouts, checks the peer (unix socket) and the login (HTTP
// Basic), routes each request (POST /RPC2 to the XML-RPC codec, the pages, the log tails) and
// writes the answers in order on a keep-alive connection; a log tail becomes a chunked stream
// fed by the FollowRegistry. An adapter (Asio sockets, log files); must not depend on the
// listeners. Runs on the agent's one io_context; a slow or stuck client holds only its own
// session.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "agent/rpc/session.h"

namespace zagent::http {

/// The limits every HTTP connection is held to (docs/http.md "Limits").
/// A request's header block (request line and fields): 431 beyond.
inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
/// A request's body: 413 beyond.
inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
/// How long a connection may wait with no request begun (keep-alive): closed after.
inline constexpr std::chrono::seconds kIdleTimeout{60};
/// How long the bytes of one request may take, from its first byte: 408 and closed after.
inline constexpr std::chrono::seconds kRequestTimeout{10};
/// How much of a log stream may wait for a client that reads slowly; beyond, the stream
/// skips ahead to the newest data (http_rules.h StreamQueue).
inline constexpr std::size_t kStreamQueueBytes = 256 * 1024;

/// A live connection as its listener sees it, for the drain at the end of a life.
class Connection {
 public:
  virtual ~Connection() = default;
  /// Stops reading and ends its log stream; closes once what is being written is out (a
  /// stream ends with its last chunk). Safe to call more than once.
  virtual void drain() = 0;
  /// True once the socket is closed.
  virtual bool closed() const = 0;
};

/// Starts an HTTP session on a connection of the unix socket: the peer-credential rule of
/// `context.policy` applies to every request (403 for a refused peer), and its login when it
/// has one. `context` must outlive every call into the session (as for RpcSession).
std::shared_ptr<Connection> start_http_session(const SessionContext& context,
                                               boost::asio::local::stream_protocol::socket socket);
/// The same on a TCP connection of `[inet_http_server]`: only the login applies.
std::shared_ptr<Connection> start_http_session(const SessionContext& context,
                                               boost::asio::ip::tcp::socket socket);

}  // namespace zagent::http
