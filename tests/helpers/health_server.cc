// health_server PORT [--bind-after-ms N] [--control FILE]: a tiny HTTP server on
// 127.0.0.1:PORT for health-check tests. It waits N ms (default 0) before it binds, then
// prints "listening at SECONDS" (the wall-clock time of the bind). Each request reads FILE
// (when given): `hang` accepts and never answers (the connection stays open); a number such
// as `500` answers with that status; absent or empty answers 200 with the body `ok`. One thread per connection. SIGTERM exits 0.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

void on_sigterm(int) { ::_exit(0); }

// The control file's content without surrounding blanks; empty when there is none.
std::string control(const std::string& path) {
  if (path.empty()) {
    return {};
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return {};
  }
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

void serve(tcp::socket socket, const std::string& control_path) {
  boost::system::error_code ec;
  boost::beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) {
      return;  // the client went away
    }
    const std::string what = control(control_path);
    if (what == "hang") {
      // Keep the connection open, unanswered, until the client closes it.
      char byte;
      while (!ec) {
        socket.read_some(asio::buffer(&byte, 1), ec);
      }
      return;
    }
    const int status = what.empty() ? 200 : std::atoi(what.c_str());
    http::response<http::string_body> response{static_cast<http::status>(status),
                                               request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = status == 200 ? "ok" : std::to_string(status);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    http::write(socket, response, ec);
    if (ec || !request.keep_alive()) {
      socket.shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: health_server PORT [--bind-after-ms N] [--control FILE]\n", stderr);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  long bind_after_ms = 0;
  std::string control_path;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bind-after-ms") == 0) {
      bind_after_ms = std::atol(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--control") == 0) {
      control_path = argv[i + 1];
    } else {
      std::fprintf(stderr, "health_server: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  ::signal(SIGTERM, on_sigterm);
  ::signal(SIGPIPE, SIG_IGN);
  if (bind_after_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(bind_after_ms));
  }
  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::fprintf(stderr, "health_server: cannot listen on 127.0.0.1:%u: %s\n",
                 static_cast<unsigned>(port), ec.message().c_str());
    return 1;
  }
  // The wall-clock time of the bind, for bench/health.py's bind-to-RUNNING latency.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::printf("listening at %lld.%06ld\n", static_cast<long long>(now.tv_sec), now.tv_nsec / 1000);
  std::fflush(stdout);
  while (true) {
    tcp::socket socket(io);
    acceptor.accept(socket, ec);
    if (ec) {
      continue;
    }
    std::thread(serve, std::move(socket), control_path).detach();
  }
}
