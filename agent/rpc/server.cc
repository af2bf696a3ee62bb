#include "agent/rpc/server.h"

#include <utility>

#include "agent/http/http_rules.h"
#include "agent/http/http_session.h"

namespace zagent {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

/// How long to wait before accepting again when accept() ran out of descriptors.
constexpr std::chrono::milliseconds kAcceptRetry{100};

/// A new connection whose first byte has not come yet: waits for it without reading it (the
/// session that takes the connection reads it as its own), then hands the connection on.
/// Closed by drain() or when nothing comes within the HTTP idle timeout.
class Sniffer final : public std::enable_shared_from_this<Sniffer> {
 public:
  using HandOff = std::function<void(stream_protocol::socket, unsigned char)>;

  Sniffer(stream_protocol::socket socket, HandOff hand_off)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), hand_off_(std::move(hand_off)) {}

  void start() {
    timer_.expires_after(http::kIdleTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        self->drain();  // it never said anything
      }
    });
    wait();
  }

  void drain() {
    if (done_) {
      return;
    }
    done_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  bool closed() const { return done_; }

 private:
  void wait() {
    socket_.async_wait(stream_protocol::socket::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         self->on_readable(ec);
                       });
  }

  void on_readable(const boost::system::error_code& ec) {
    if (done_) {
      return;
    }
    if (ec) {
      drain();
      return;
    }
    unsigned char first = 0;
    boost::system::error_code peek_ec;
    const std::size_t n = socket_.receive(asio::buffer(&first, 1),
                                          stream_protocol::socket::message_peek, peek_ec);
    if (peek_ec == asio::error::would_block || peek_ec == asio::error::try_again) {
      wait();
      return;
    }
    if (peek_ec || n == 0) {
      drain();  // gone before a word (n == 0: end of stream)
      return;
    }
    done_ = true;
    timer_.cancel();
    hand_off_(std::move(socket_), first);
  }

  stream_protocol::socket socket_;  // the new connection
  asio::steady_timer timer_;        // the first byte's deadline
  HandOff hand_off_;                // starts the session (the server's, guarded)
  bool done_ = false;               // handed on or closed
};

}  // namespace

RpcServer::RpcServer(asio::io_context& io, int listen_fd, RpcMethods& methods,
                     AccessPolicy policy, FollowRegistry& follows,
                     std::function<std::string()> main_log_path)
    : acceptor_(io, stream_protocol(), listen_fd),
      context_{methods, std::move(policy), follows, std::move(main_log_path)},
      connections_(io),
      accept_timer_(io),
      alive_(std::make_shared<bool>(true)) {}

RpcServer::~RpcServer() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.release(ignored);  // the daemon owns and closes the listening fd
  // connections_ drains what is left as it goes.
}

void RpcServer::start() { accept(); }

void RpcServer::accept() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec,
                                                stream_protocol::socket socket) {
    if (!*alive || draining_) {
      return;
    }
    if (!ec) {
      auto sniffer = std::make_shared<Sniffer>(
          std::move(socket), [this, alive](stream_protocol::socket s, unsigned char first) {
            if (*alive && !draining_) {
              hand_off(std::move(s), first);
            }
          });
      connections_.add(sniffer);
      sniffer->start();
    }
    if (http::accept_should_wait(ec)) {
      // Out of descriptors or memory: the connection stays in the listen backlog, so an
      // accept at once would fail at once, forever (a busy loop). Retry a little later.
      accept_timer_.expires_after(kAcceptRetry);
      accept_timer_.async_wait([this, alive = alive_](const boost::system::error_code& wait_ec) {
        if (*alive && !wait_ec && !draining_) {
          accept();
        }
      });
      return;
    }
    // Other errors (e.g. the client gave up before the accept): keep accepting.
    accept();
  });
}

void RpcServer::hand_off(stream_protocol::socket socket, unsigned char first) {
  if (http::protocol_of_first_byte(first) == http::Protocol::Http) {
    connections_.add(http::start_http_session(context_, std::move(socket)));
    return;
  }
  auto session = std::make_shared<RpcSession>(context_, std::move(socket));
  connections_.add(session);
  session->start();
}

std::size_t RpcServer::session_count() const { return connections_.size(); }

void RpcServer::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.cancel(ignored);
  accept_timer_.cancel();
  connections_.drain(grace, std::move(done));
}

}  // namespace zagent
