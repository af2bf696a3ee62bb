#include "agent/http/http_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "agent/http/http_rules.h"
#include "agent/http/http_session.h"
#include "agent/http/sniffer.h"

namespace zagent::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// How long to wait before accepting again when accept() ran out of descriptors.
constexpr std::chrono::milliseconds kAcceptRetry{100};
/// How often a drain looks for connections that have closed.
constexpr std::chrono::milliseconds kDrainPoll{5};
/// medusa listens with a backlog of 1024.
constexpr int kBacklog = 1024;

/// supervisord compat: ServerOptions.openhttpservers words socket errors so.
std::string socket_error_text(int err) {
  if (err == EADDRINUSE) {
    return "Another program is already listening on a port that one of our HTTP servers is "
           "configured to use.  Shut this program down first before starting supervisord.";
  }
  const char* name = ::strerrorname_np(err);
  if (name == nullptr) {
    return fmt::format("Cannot open an HTTP server: socket.error reported {}", err);
  }
  return fmt::format("Cannot open an HTTP server: socket.error reported errno.{} ({})", name, err);
}

std::string section_text(const InetHttpServerConfig& server) {
  return fmt::format(" ([inet_http_server] port={}:{})",
                     server.address.host.empty() ? "*" : server.address.host,
                     server.address.port);
}

}  // namespace

bool accept_should_wait(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == boost::system::errc::no_buffer_space ||
         ec == boost::system::errc::not_enough_memory;
}

// ---- ConnectionSet ---------------------------------------------------------------------------

ConnectionSet::ConnectionSet(asio::io_context& io)
    : timer_(io), alive_(std::make_shared<bool>(true)) {}

ConnectionSet::~ConnectionSet() {
  *alive_ = false;
  for (auto& e : entries_) {
    e.drain();
  }
}

void ConnectionSet::prune() {
  std::erase_if(entries_, [](const Entry& e) { return e.closed(); });
}

std::size_t ConnectionSet::size() const {
  std::size_t n = 0;
  for (const auto& e : entries_) {
    if (!e.closed()) {
      ++n;
    }
  }
  return n;
}

void ConnectionSet::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  // A copy: a drain may close a connection, which must not disturb the walk.
  const std::vector<Entry> entries = entries_;
  for (const auto& e : entries) {
    e.drain();
  }
  deadline_ = std::chrono::steady_clock::now() + grace;
  done_ = std::move(done);
  check_drained();
}

void ConnectionSet::check_drained() {
  if (size() == 0 || std::chrono::steady_clock::now() >= deadline_) {
    if (auto done = std::move(done_)) {
      done_ = nullptr;
      done();
    }
    return;
  }
  timer_.expires_after(kDrainPoll);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (*alive && !ec) {
      check_drained();
    }
  });
}

// ---- HttpListener ----------------------------------------------------------------------------

HttpListener::HttpListener(asio::io_context& io, int listen_fd, RpcMethods& methods,
                           AccessPolicy policy, FollowRegistry& follows,
                           std::function<std::string()> main_log_path)
    : acceptor_(io),
      context_{methods, std::move(policy), follows, std::move(main_log_path)},
      connections_(io),
      accept_timer_(io),
      alive_(std::make_shared<bool>(true)) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const bool v6 = ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                  addr.ss_family == AF_INET6;
  boost::system::error_code ignored;
  acceptor_.assign(v6 ? tcp::v6() : tcp::v4(), listen_fd, ignored);
}

HttpListener::~HttpListener() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.release(ignored);  // the daemon owns and closes the listening fd
}

void HttpListener::start() { accept(); }

void HttpListener::accept() {
  acceptor_.async_accept(
      [this, alive = alive_](const boost::system::error_code& ec, tcp::socket socket) {
        if (!*alive || draining_) {
          return;
        }
        if (!ec) {
          auto sniffer = std::make_shared<Sniffer<tcp::socket>>(
              std::move(socket), [this, alive](tcp::socket s, unsigned char first) {
                if (*alive && !draining_) {
                  hand_off(std::move(s), first);
                }
              });
          connections_.add(sniffer);
          sniffer->start();
        }
        if (accept_should_wait(ec)) {
          // Out of descriptors: the connection stays in the backlog; an accept at once would
          // fail at once, forever. Retry a little later.
          accept_timer_.expires_after(kAcceptRetry);
          accept_timer_.async_wait([this, alive](const boost::system::error_code& wait_ec) {
            if (*alive && !wait_ec && !draining_) {
              accept();
            }
          });
          return;
        }
        accept();
      });
}

void HttpListener::hand_off(tcp::socket socket, unsigned char first) {
  if (protocol_of_first_byte(first) == Protocol::Http) {
    connections_.add(start_http_session(context_, std::move(socket)));
    return;
  }
  // zctl -s http://HOST:PORT speaks JSON-RPC, as on the unix socket: the session reads and
  // writes a stream socket, whatever its family, so the connection moves over as one.
  boost::system::error_code ec;
  const int fd = socket.release(ec);
  if (ec) {
    return;  // closed with `socket`
  }
  asio::local::stream_protocol::socket stream(acceptor_.get_executor());
  stream.assign(asio::local::stream_protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  auto session = std::make_shared<RpcSession>(context_, std::move(stream),
                                              RpcSession::PeerRule::LoginOnly);
  connections_.add(session);
  session->start();
}

void HttpListener::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.cancel(ignored);
  accept_timer_.cancel();
  connections_.drain(grace, std::move(done));
}

// ---- the socket ------------------------------------------------------------------------------

Result<int> open_inet_socket(const InetHttpServerConfig& server) {
  const std::string where = section_text(server);
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (server.address.host.empty()) {
    // supervisord compat: an AF_INET socket bound to '' (INADDR_ANY).
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_ANY);
    v4->sin_port = htons(static_cast<std::uint16_t>(server.address.port));
    addr_len = sizeof(sockaddr_in);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(server.address.port);
    const int rc = ::getaddrinfo(server.address.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
      // supervisord compat: a gaierror is reported by its number (-2: not known).
      return fail(fmt::format("Cannot open an HTTP server: socket.error reported {}", rc) +
                  where);
    }
    const addrinfo* pick = found;
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    }
    std::memcpy(&addr, pick->ai_addr, pick->ai_addrlen);
    addr_len = pick->ai_addrlen;
    ::freeaddrinfo(found);
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return fail(socket_error_text(errno) + where);
  }
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0 ||
      ::listen(fd, kBacklog) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(socket_error_text(err) + where);
  }
  return fd;
}

}  // namespace zagent::http
