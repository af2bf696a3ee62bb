// The first byte of a new connection, on either listener (docs/http.md "Listeners"): waits
// for it without reading it, so that the session chosen by http_rules.h's
// protocol_of_first_byte reads the whole stream as its own. An adapter (an Asio socket);
// header-only because it is a template over the unix and the TCP socket.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/http/http_session.h"

namespace zagent::http {

/// A new connection whose first byte has not come yet: waits for it without reading it (the
/// session that takes the connection reads it as its own), then hands the connection on.
/// Closed by drain() or when nothing comes within the HTTP idle timeout.
template <class Socket>
class Sniffer final : public std::enable_shared_from_this<Sniffer<Socket>> {
 public:
  using HandOff = std::function<void(Socket, unsigned char)>;

  Sniffer(Socket socket, HandOff hand_off)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), hand_off_(std::move(hand_off)) {}

  void start() {
    timer_.expires_after(kIdleTimeout);
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        self->drain();  // it never said anything
      }
    });
    // A client that wrote at once (zctl) has its bytes here already: looked at before any
    // wait, which would cost one more turn of the loop.
    on_readable({});
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
    socket_.async_wait(Socket::wait_read,
                       [self = this->shared_from_this()](const boost::system::error_code& ec) {
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
    // MSG_DONTWAIT: Asio's own receive would wait for a byte on a socket in blocking mode,
    // and start() looks before anything said the socket was readable.
    unsigned char first = 0;
    ssize_t n = -1;
    do {
      n = ::recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait();
      return;
    }
    if (n <= 0) {
      drain();  // gone before a word (n == 0: end of stream)
      return;
    }
    done_ = true;
    timer_.cancel();
    hand_off_(std::move(socket_), first);
  }

  Socket socket_;                   // the new connection
  boost::asio::steady_timer timer_;  // the first byte's deadline
  HandOff hand_off_;                // starts the session (the server's, guarded)
  bool done_ = false;               // handed on or closed
};

}  // namespace zagent::http
