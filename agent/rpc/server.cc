#include "agent/rpc/server.h"

#include <utility>

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
      accept_timer_(io),
      drain_timer_(io),
      alive_(std::make_shared<bool>(true)) {}

RpcServer::~RpcServer() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.release(ignored);  // the daemon owns and closes the listening fd
  for (auto& w : sessions_) {
    if (auto s = w.lock()) {
      s->drain();
    }
  }
}

void RpcServer::start() { accept(); }

void RpcServer::accept() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec,
                                                stream_protocol::socket socket) {
    if (!*alive || draining_) {
      return;
    }
    if (!ec) {
      auto session = std::make_shared<RpcSession>(context_, std::move(socket));
      std::erase_if(sessions_, [](const std::weak_ptr<RpcSession>& w) {
        auto s = w.lock();
        return !s || s->closed();
      });
      sessions_.push_back(session);
      session->start();
    }
    if (ec == boost::system::errc::too_many_files_open ||
        ec == boost::system::errc::too_many_files_open_in_system ||
        ec == boost::system::errc::no_buffer_space ||
        ec == boost::system::errc::not_enough_memory) {
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

std::size_t RpcServer::session_count() const {
  std::size_t n = 0;
  for (const auto& w : sessions_) {
    if (auto s = w.lock(); s && !s->closed()) {
      ++n;
    }
  }
  return n;
}

void RpcServer::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.cancel(ignored);
  accept_timer_.cancel();
  for (auto& w : sessions_) {
    if (auto s = w.lock()) {
      s->drain();
    }
  }
  drain_deadline_ = std::chrono::steady_clock::now() + grace;
  drain_done_ = std::move(done);
  check_drained();
}

void RpcServer::check_drained() {
  // Poll the sessions until all are closed or the grace period is over.
  if (session_count() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (auto done = std::move(drain_done_)) {
      drain_done_ = nullptr;
      done();
    }
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(5));
  drain_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (*alive && !ec) {
      check_drained();
    }
  });
}

}  // namespace zagent
