#include "ctl/rpc_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <utility>

namespace zagent::ctl {
namespace {

using Clock = std::chrono::steady_clock;

CallError transport_error(int err, std::string message) {
  CallError e;
  e.kind = CallError::Kind::Transport;
  e.sys_errno = err;
  e.message = std::move(message);
  return e;
}

CallError kind_error(CallError::Kind kind, std::string message = {}) {
  CallError e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

/// Milliseconds left until `deadline` for poll(2): -1 without a deadline, 0 once passed.
int poll_timeout(std::optional<Clock::time_point> deadline) {
  if (!deadline) {
    return -1;
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  if (left <= 0) {
    return 0;
  }
  return left > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                                : static_cast<int>(left);
}

bool readable(const pollfd& p) { return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0; }

/// Empties the (non-blocking) interrupt pipe once its Ctrl-C has been reported, so that the
/// next wait (the shell's prompt after `tail -f`) is not interrupted again.
CallError interrupted(int interrupt_fd) {
  char buffer[64];
  while (::read(interrupt_fd, buffer, sizeof(buffer)) > 0) {
  }
  CallError e;
  e.kind = CallError::Kind::Interrupted;
  return e;
}

/// One address to connect to: family and the socket address.
struct Endpoint {
  int family = AF_UNSPEC;
  sockaddr_storage address{};
  socklen_t length = 0;
};

/// The endpoints of host:port when no name service is needed: a numeric port with a numeric
/// IPv4 or IPv6 address, or with `localhost` (::1, then 127.0.0.1: where neither answers,
/// the error is 127.0.0.1's, as from a hosts file that lists only it). nullopt: anything else,
/// for getaddrinfo(), which reads nsswitch.conf, host.conf, resolv.conf and the hosts file to
/// look up `localhost`, and which in the static zctl knows only the `files` and `dns` sources
/// (docs/zctl.md).
std::optional<std::vector<Endpoint>> endpoints_without_resolver(const std::string& host,
                                                                const std::string& port) {
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long number = std::stoul(port);
  if (number > 65535) {
    return std::nullopt;
  }
  const auto endpoint = [](int family, const auto& sa) {
    Endpoint e;
    e.family = family;
    std::memcpy(&e.address, &sa, sizeof(sa));
    e.length = sizeof(sa);
    return e;
  };
  const std::uint16_t port_n = htons(static_cast<std::uint16_t>(number));
  const auto v4 = [&](const in_addr& a) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = port_n;
    sa.sin_addr = a;
    return endpoint(AF_INET, sa);
  };
  const auto v6 = [&](const in6_addr& a) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = port_n;
    sa.sin6_addr = a;
    return endpoint(AF_INET6, sa);
  };
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    return std::vector<Endpoint>{v4(a4)};
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    return std::vector<Endpoint>{v6(a6)};
  }
  if (host == "localhost") {
    a4.s_addr = htonl(INADDR_LOOPBACK);
    return std::vector<Endpoint>{v6(in6addr_loopback), v4(a4)};
  }
  return std::nullopt;
}

/// Every endpoint of host:port: without a resolver where none is needed, else from
/// getaddrinfo(); the error is zctl's text for a failed lookup.
Result<std::vector<Endpoint>> resolve(const std::string& host, const std::string& port) {
  if (auto direct = endpoints_without_resolver(host, port)) {
    return std::move(*direct);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(fmt::format("[Errno {}] {}", rc, ::gai_strerror(rc)));
  }
  std::vector<Endpoint> out;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_socktype != SOCK_STREAM || ai->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    Endpoint e;
    e.family = ai->ai_family;
    std::memcpy(&e.address, ai->ai_addr, ai->ai_addrlen);
    e.length = ai->ai_addrlen;
    out.push_back(e);
  }
  ::freeaddrinfo(found);
  return out;
}

// Lines from the agent can be large (a big readProcessStdoutLog); memory is bounded by what the
// agent chooses to send, so the client takes any length.
constexpr std::size_t kClientLineLimit = std::numeric_limits<std::size_t>::max() / 2;

// The largest batch call_all() sends as one line.
constexpr std::size_t kBatchBytes = 64 * 1024;

}  // namespace

std::optional<Fault> CallError::fault() const {
  if (kind != Kind::Rpc) {
    return std::nullopt;
  }
  return rpc.fault();
}

std::string CallError::fault_string() const {
  if (rpc.data.is_object()) {
    const auto it = rpc.data.find("faultString");
    if (it != rpc.data.end() && it->is_string() && !fault_from_code(rpc.code)) {
      return it->get<std::string>();
    }
  }
  return rpc.message;
}

std::vector<CallResult<Json>> Client::call_all(const std::vector<Call>& calls) {
  std::vector<CallResult<Json>> out;
  out.reserve(calls.size());
  for (const Call& c : calls) {
    out.push_back(call(c.method, c.params));
  }
  return out;
}

Result<ServerAddress> parse_server_url(std::string_view url) {
  ServerAddress out;
  if (url.starts_with("unix://")) {
    out.unix_socket = true;
    out.path = std::string(url.substr(7));
    return out;
  }
  if (!url.starts_with("http://")) {
    return fail(fmt::format("unsupported server URL {}", url));
  }
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find('/'));
  // supervisord compat: user:password@ in the URL is not used for authentication.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  std::string_view host = rest;
  std::string_view port = "80";
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return fail(fmt::format("invalid server URL {}", url));
    }
    host = rest.substr(1, close - 1);
    if (rest.size() > close + 1 && rest[close + 1] == ':') {
      port = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    host = "localhost";
  }
  if (port.empty()) {
    port = "80";
  }
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

SocketClient::SocketClient(Options options)
    : options_(std::move(options)), decoder_(kClientLineLimit) {}

SocketClient::~SocketClient() { reset(); }

void SocketClient::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  decoder_ = rpc::LineDecoder(kClientLineLimit);
  notifications_.clear();
}

CallResult<void> SocketClient::open_socket() {
  auto address = parse_server_url(options_.serverurl);
  if (!address) {
    return transport_error(0, address.error().message);
  }
  if (address->unix_socket) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (address->path.size() >= sizeof(sa.sun_path)) {
      return transport_error(0, "AF_UNIX path too long");
    }
    std::memcpy(sa.sun_path, address->path.data(), address->path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return transport_error(errno, "socket");
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EINTR) {
        return kind_error(CallError::Kind::Interrupted);
      }
      return transport_error(err, "connect");
    }
    fd_ = fd;
    return {};
  }
  auto endpoints = resolve(address->host, address->port);
  if (!endpoints) {
    return transport_error(0, endpoints.error().message);
  }
  int last_errno = ECONNREFUSED;
  for (const Endpoint& e : *endpoints) {
    const int fd = ::socket(e.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.address), e.length) == 0) {
      fd_ = fd;
      break;
    }
    last_errno = errno;
    ::close(fd);
    if (last_errno == EINTR) {
      break;
    }
  }
  if (fd_ < 0) {
    if (last_errno == EINTR) {
      return kind_error(CallError::Kind::Interrupted);
    }
    return transport_error(last_errno, "connect");
  }
  return {};
}

CallResult<void> SocketClient::ensure_connected() {
  drop_if_closed();
  if (fd_ >= 0) {
    return {};
  }
  if (auto ok = open_socket(); !ok) {
    return ok.error();
  }
  if (options_.username.empty()) {
    return {};
  }
  // zagent's stand-in for HTTP Basic auth: the first call of the connection.
  const long long id = next_id_++;
  if (auto sent = send_all(rpc::encode_line(rpc::make_request(
          id, "zagent.login", Json::array({options_.username, options_.password}))));
      !sent) {
    reset();
    return sent.error();
  }
  auto results = await({id}, std::nullopt);
  if (!results.front()) {
    reset();
    return results.front().error();
  }
  return {};
}

void SocketClient::drop_if_closed() {
  if (fd_ < 0) {
    return;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) == 1 && readable(p)) {
    auto more = read_some();
    if (!more || !*more) {
      reset();
    }
  }
}

CallResult<bool> SocketClient::read_some() {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      decoder_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
      return true;
    }
    if (n == 0) {
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    }
    return transport_error(errno, "recv");
  }
}

CallResult<void> SocketClient::send_all(std::string_view bytes) {
  // The first send goes without a poll: a request fits the socket's buffer, so it is there
  // by the time the agent, woken by the connect, takes the connection (one wake-up of the
  // agent instead of one for the connection and one for the bytes). A send that would
  // block, or sends part, polls as below.
  const ssize_t first = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (first > 0) {
    bytes.remove_prefix(static_cast<std::size_t>(first));
  } else if (first < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
    const int err = errno;
    reset();
    return transport_error(err, "send");
  }
  while (!bytes.empty()) {
    pollfd fds[2] = {{fd_, POLLIN | POLLOUT, 0}, {options_.interrupt_fd, POLLIN, 0}};
    const nfds_t count = options_.interrupt_fd >= 0 ? 2 : 1;
    const int rc = ::poll(fds, count, -1);
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return transport_error(errno, "poll");
    }
    if (count == 2 && readable(fds[1])) {
      return interrupted(options_.interrupt_fd);
    }
    if ((fds[0].revents & POLLIN) != 0) {
      // Keep reading while writing so that a long pipeline cannot fill both directions.
      auto more = read_some();
      if (!more) {
        reset();
        return more.error();
      }
      if (!*more) {
        reset();
        return kind_error(CallError::Kind::Closed);
      }
    }
    if ((fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
          continue;
        }
        const int err = errno;
        reset();
        return transport_error(err, "send");
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  return {};
}

CallResult<std::optional<std::string>> SocketClient::next_line(Deadline deadline, int input_fd,
                                                               bool& timed_out) {
  timed_out = false;
  for (;;) {
    if (auto frame = decoder_.next()) {
      if (frame->too_large) {
        return kind_error(CallError::Kind::Protocol, "reply line too long");
      }
      return std::optional<std::string>(std::move(frame->text));
    }
    pollfd fds[3];
    nfds_t count = 0;
    fds[count++] = {fd_, POLLIN, 0};
    const nfds_t interrupt_at = count;
    if (options_.interrupt_fd >= 0) {
      fds[count++] = {options_.interrupt_fd, POLLIN, 0};
    }
    const nfds_t input_at = count;
    if (input_fd >= 0) {
      fds[count++] = {input_fd, POLLIN, 0};
    }
    const int rc = ::poll(fds, count, poll_timeout(deadline));
    if (rc < 0) {
      if (errno == EINTR) {
        continue;  // the Ctrl-C handler has written to the interrupt fd: seen next round
      }
      return transport_error(errno, "poll");
    }
    if (rc == 0) {
      timed_out = true;
      return std::optional<std::string>();
    }
    if (options_.interrupt_fd >= 0 && readable(fds[interrupt_at])) {
      return interrupted(options_.interrupt_fd);
    }
    if (readable(fds[0])) {
      auto more = read_some();
      if (!more) {
        return more.error();
      }
      if (!*more) {
        return kind_error(CallError::Kind::Closed);
      }
      continue;
    }
    if (input_fd >= 0 && readable(fds[input_at])) {
      return std::optional<std::string>();
    }
  }
}

std::vector<CallResult<Json>> SocketClient::await(const std::vector<long long>& ids,
                                                  Deadline deadline) {
  std::vector<std::optional<CallResult<Json>>> results(ids.size());
  std::map<long long, std::size_t> index;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    index[ids[i]] = i;
  }
  std::size_t pending = ids.size();
  const auto finish_all = [&](const CallError& error) {
    for (auto& r : results) {
      if (!r) {
        r.emplace(boost::system::in_place_error, error);
      }
    }
    pending = 0;
  };
  while (pending > 0) {
    bool timed_out = false;
    auto line = next_line(deadline, -1, timed_out);
    if (!line) {
      finish_all(line.error());
      if (line.error().kind != CallError::Kind::Interrupted) {
        reset();
      }
      break;
    }
    if (!*line) {
      finish_all(kind_error(CallError::Kind::Timeout));
      reset();
      break;
    }
    // One message, or the array that answers a batch (call_all).
    auto messages = rpc::decode_incoming_all(**line);
    if (!messages) {
      finish_all(kind_error(CallError::Kind::Protocol, messages.error().message));
      reset();
      break;
    }
    for (rpc::Incoming& incoming : *messages) {
      if (pending == 0) {
        break;
      }
      if (incoming.notification) {
        notifications_.push_back(std::move(incoming));
        continue;
      }
      if (incoming.id.is_null() && incoming.error) {
        // The agent could not tell which request this answers (parse error, frame too
        // large): it answers every call still waiting.
        CallError e;
        e.kind = CallError::Kind::Rpc;
        e.rpc = std::move(*incoming.error);
        finish_all(e);
        break;
      }
      if (!incoming.id.is_number_integer()) {
        continue;
      }
      const auto it = index.find(incoming.id.get<long long>());
      if (it == index.end() || results[it->second]) {
        continue;  // a reply to a call this client no longer waits for
      }
      if (incoming.error) {
        CallError e;
        e.kind = CallError::Kind::Rpc;
        e.rpc = std::move(*incoming.error);
        results[it->second].emplace(boost::system::in_place_error, std::move(e));
      } else {
        results[it->second].emplace(boost::system::in_place_value, std::move(*incoming.result));
      }
      --pending;
    }
  }
  std::vector<CallResult<Json>> out;
  out.reserve(results.size());
  for (auto& r : results) {
    out.push_back(std::move(*r));
  }
  return out;
}

CallResult<Json> SocketClient::call(std::string_view method, Json params) {
  return call_all({Call{std::string(method), std::move(params)}}).front();
}

CallResult<Json> SocketClient::call_with_timeout(std::string_view method, Json params,
                                                 std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (auto ok = ensure_connected(); !ok) {
    return ok.error();
  }
  const long long id = next_id_++;
  if (auto sent = send_all(rpc::encode_line(rpc::make_request(id, method, std::move(params))));
      !sent) {
    return sent.error();
  }
  return std::move(await({id}, deadline).front());
}

std::vector<CallResult<Json>> SocketClient::call_all(const std::vector<Call>& calls) {
  if (calls.empty()) {
    return {};
  }
  std::vector<long long> ids;
  Json requests = Json::array();
  for (const Call& c : calls) {
    ids.push_back(next_id_++);
    requests.push_back(rpc::make_request(ids.back(), c.method, c.params));
  }
  // Several calls go as one JSON-RPC batch: the agent answers them with one array, one write
  // and one wake-up of zctl instead of one per call (`status NAME` is two calls). A batch
  // larger than kBatchBytes goes as one line per call, well inside the agent's frame limit.
  std::string bytes;
  if (calls.size() > 1) {
    bytes = rpc::encode_line(requests);
  }
  if (calls.size() == 1 || bytes.size() > kBatchBytes) {
    bytes.clear();
    for (const Json& request : requests) {
      bytes += rpc::encode_line(request);
    }
  }
  // Encoded before the connect, so that the bytes follow it at once (send_all).
  if (auto ok = ensure_connected(); !ok) {
    return std::vector<CallResult<Json>>(calls.size(), ok.error());
  }
  if (auto sent = send_all(bytes); !sent) {
    return std::vector<CallResult<Json>>(calls.size(), sent.error());
  }
  return await(ids, std::nullopt);
}

CallResult<Event> SocketClient::wait_event(int input_fd,
                                           std::optional<std::chrono::milliseconds> timeout) {
  Deadline deadline;
  if (timeout) {
    deadline = Clock::now() + *timeout;
  }
  for (;;) {
    Event event;
    if (!notifications_.empty()) {
      event.kind = Event::Kind::Notification;
      event.method = std::move(notifications_.front().method);
      event.params = std::move(notifications_.front().params);
      notifications_.pop_front();
      return event;
    }
    if (fd_ < 0) {
      event.kind = Event::Kind::Closed;
      return event;
    }
    bool timed_out = false;
    auto line = next_line(deadline, input_fd, timed_out);
    if (!line) {
      switch (line.error().kind) {
        case CallError::Kind::Interrupted:
          event.kind = Event::Kind::Interrupted;
          return event;
        case CallError::Kind::Closed:
          reset();
          event.kind = Event::Kind::Closed;
          return event;
        default:
          reset();
          return line.error();
      }
    }
    if (!*line) {
      event.kind = timed_out ? Event::Kind::Timeout : Event::Kind::InputReady;
      return event;
    }
    auto messages = rpc::decode_incoming_all(**line);
    if (!messages) {
      reset();
      return kind_error(CallError::Kind::Protocol, messages.error().message);
    }
    for (rpc::Incoming& incoming : *messages) {
      if (incoming.notification) {
        notifications_.push_back(std::move(incoming));
      }
    }
    // A stray response (to a call given up on, a batch's array) is dropped.
  }
}

}  // namespace zagent::ctl
