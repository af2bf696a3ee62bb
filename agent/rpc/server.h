// The control socket's server (DESIGN.md "The control socket", "JSON-RPC 2.0 on the socket"):
// accepts on the listening Unix socket, checks the peer with SO_PEERCRED, reads
// newline-delimited JSON-RPC frames with a size limit, dispatches them to RpcMethods, and
// pushes followed log data as notifications. An adapter: it owns sockets and reads files.
// Runs on the agent's one io_context; a slow or stuck client only ever holds its own session.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/rpc/access.h"
#include "agent/rpc/methods.h"

namespace zagent {

/// Up to `length` bytes of the file from `offset` (`length` < 0: to the end); fewer at the
/// end of the file. Errors: the failed open or read.
Result<std::string> read_file_range(const std::string& path, std::int64_t offset,
                                    std::int64_t length);

class RpcServer {
 public:
  /// Takes over `listen_fd` (a bound, listening Unix stream socket). `main_log_path` gives
  /// the current main log file for zagent.followMainLog ("" = none).
  RpcServer(boost::asio::io_context& io, int listen_fd, RpcMethods& methods, AccessPolicy policy,
            std::function<std::string()> main_log_path);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  /// Starts accepting.
  void start();
  /// Stops accepting and closes every session once what is queued for it has been written
  /// (at most `grace` later); then calls `done`.
  void drain(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t session_count() const;

  /// `data` was just written to the log file at `path` (a child log or the main log): push it
  /// to whoever follows that file (zagent.logData). Cheap when nobody follows.
  void publish(const std::string& path, std::string_view data);
  /// The file at `path` was emptied: followers get a `truncated` notification.
  void publish_reset(const std::string& path);

  class Session;  // one connection (rpc_server.cc)

 private:
  void accept();
  void check_drained();

  boost::asio::io_context& io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  RpcMethods& methods_;
  AccessPolicy policy_;
  std::function<std::string()> main_log_path_;
  std::vector<std::weak_ptr<Session>> sessions_;  // live sessions (pruned as they end)
  std::size_t follow_count_ = 0;                  // follows over all sessions
  boost::asio::steady_timer accept_timer_;        // retries accept() after EMFILE
  bool draining_ = false;
  boost::asio::steady_timer drain_timer_;            // drain(): waits for sessions to close
  std::chrono::steady_clock::time_point drain_deadline_;
  std::function<void()> drain_done_;
  std::shared_ptr<bool> alive_;  // false once destroyed (guards late completions)

  friend class Session;
};

}  // namespace zagent
