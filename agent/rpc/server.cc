#include "agent/rpc/server.h"

#include <utility>

#include "agent/http/http_rules.h"
#include "agent/http/http_session.h"
#include "agent/http/sniffer.h"

namespace zagent {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

/// How long to wait before accepting again when accept() ran out of descriptors.
constexpr std::chrono::milliseconds kAcceptRetry{100};

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
      auto sniffer = std::make_shared<http::Sniffer<stream_protocol::socket>>(
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
