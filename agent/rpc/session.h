// One JSON-RPC connection on the control socket (DESIGN.md "JSON-RPC 2.0 on the socket"):
// checks its peer (agent/rpc/access.h), reads newline-delimited frames with a size limit,
// answers batches, dispatches calls to RpcMethods and writes the replies in order, and
// follows logs through the FollowRegistry (zagent.followProcessLog/followMainLog). An adapter
// (an Asio socket, log files); must not depend on the listener (agent/rpc/server.h).
// Runs on the agent's one io_context; a slow or stuck client only ever holds its own session.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>

#include "agent/logs/follow_registry.h"
#include "agent/rpc/access.h"
#include "agent/rpc/methods.h"
#include "common/framing.h"
#include "common/protocol.h"

namespace zagent {

/// What every session of one listener shares; owned by the listener, which outlives the
/// sessions' use of it (it drains them before it goes).
struct SessionContext {
  RpcMethods& methods;                         // the method table
  AccessPolicy policy;                         // who may call, the login
  FollowRegistry& follows;                     // log follows of all connections
  std::function<std::string()> main_log_path;  // the main log file ("" = none)
};

class RpcSession final : public std::enable_shared_from_this<RpcSession>, private LogFollower {
 public:
  /// Who may call on the connection: the unix socket's peer-credential rule (and the
  /// login), or, on a TCP connection of `[inet_http_server]` (handed over as a stream
  /// socket), the login alone: TCP has no peer credentials.
  enum class PeerRule { Credentials, LoginOnly };

  /// Reads the peer's credentials (SO_PEERCRED) and decides whether it may call.
  /// `context` must outlive every call into the session (the destructor touches it only while
  /// follows are left, which drain() and close end).
  RpcSession(const SessionContext& context, boost::asio::local::stream_protocol::socket socket,
             PeerRule rule = PeerRule::Credentials);
  ~RpcSession();
  RpcSession(const RpcSession&) = delete;
  RpcSession& operator=(const RpcSession&) = delete;

  /// Starts reading requests.
  void start();
  /// Stops reading and ends its follows; closes once what is queued has been written.
  void drain();
  bool closed() const { return closed_; }

 private:
  struct Follow {
    FollowId follow;  // in the registry
    Json id;          // the request id its notifications carry
  };
  using Done = std::function<void(std::optional<Json>)>;
  using Answer = std::function<void(RpcOutcome)>;

  // LogFollower: followed data becomes zagent.logData notifications.
  void log_appended(FollowId follow, std::string_view data) override;
  void log_truncated(FollowId follow) override;

  void read();
  void handle_frame(const rpc::Frame& frame);
  void handle_batch(std::vector<rpc::DecodedCall> calls);
  void dispatch(const rpc::DecodedCall& call, Done done);
  void login(const Json& params, const Answer& answer);
  void follow(const rpc::Request& req, const Answer& answer);
  void begin_follow(const Json& id, const std::string& path, std::int64_t initial);
  void drop_follows();
  void notify(const Json& id, std::string data, bool truncated);
  void send(const Json& message);
  void write_next();
  void on_written(const boost::system::error_code& ec);
  void close_when_answered();
  void close();

  const SessionContext& context_;                         // methods, policy, follows
  boost::asio::local::stream_protocol::socket socket_;    // the connection
  rpc::LineDecoder decoder_;                              // bytes -> request lines
  // One read's bytes. Not zeroed: a session is made for each zctl call, and clearing 64 KiB
  // (and the pages of so large an object) was a measurable part of answering one.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): filled by each read before use.
  std::array<char, 16 * 1024> buffer_;
  std::deque<std::string> queue_;  // encoded lines waiting to be written
  std::size_t queued_bytes_ = 0;   // their total size
  bool writing_ = false;           // an async_write is in flight
  bool read_paused_ = false;       // replies piled up: reading waits for on_written()
  bool draining_ = false;          // drain() ran
  bool close_after_write_ = false; // refused peer: close once the refusal is written
  bool closed_ = false;
  bool peer_gone_ = false;         // the client's end of the stream was read (EOF)
  std::size_t unanswered_ = 0;     // frames dispatched whose reply has not been queued yet
  std::optional<std::string> refusal_;  // set: the peer may not call (the text it gets)
  bool logged_in_ = false;         // zagent.login succeeded, or none is needed
  std::vector<Follow> follows_;    // this connection's live follows
};

}  // namespace zagent
