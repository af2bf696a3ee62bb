#include "agent/health/probes.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "common/datatypes.h"

namespace zagent {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// The answer's status line and headers; its body is never read.
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string timed_out_message(std::chrono::milliseconds timeout) {
  return fmt::format("timed out after {} s", static_cast<double>(timeout.count()) / 1000.0);
}

// Asio's texts are strerror()'s and getaddrinfo()'s ("Connection reset by peer"); a status
// line reads them in lower case. An acronym ("EOF") keeps its capitals.
std::string lower_first(std::string text) {
  if (text.size() >= 2 && std::isupper(static_cast<unsigned char>(text[0])) &&
      !std::isupper(static_cast<unsigned char>(text[1]))) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// A socket error of a check, in the words of CheckResult::message.
std::string describe(const error_code& ec) {
  if (ec == asio::error::connection_refused) {
    return "connection refused";
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof) {
    return "connection closed without an answer";
  }
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
    return "invalid answer: " + lower_first(ec.message());
  }
  return lower_first(ec.message());
}

// `host` or `host:port` as the Host header wants it (RFC 9110 7.2): an IPv6 address in
// brackets, the port left out when it is the default.
std::string host_header(const HealthCheckSpec& spec) {
  std::string host = spec.host.find(':') != std::string::npos ? "[" + spec.host + "]" : spec.host;
  if (spec.port != 80) {
    host += ":" + std::to_string(spec.port);
  }
  return host;
}

// The last line of `output` with something on it, without its line end and trailing blanks.
std::string_view last_line(std::string_view output) {
  while (!output.empty()) {
    const std::size_t end = output.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos) {
      return {};
    }
    output = output.substr(0, end + 1);
    const std::size_t begin = output.find_last_of('\n');
    const std::string_view line =
        begin == std::string_view::npos ? output : output.substr(begin + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      return line;
    }
    output = output.substr(0, begin == std::string_view::npos ? 0 : begin);
  }
  return {};
}

// The verdict on a command check's end.
std::pair<bool, std::string> command_verdict(const ChildWatch::Outcome& outcome,
                                             std::chrono::milliseconds timeout) {
  // The timeout counts only if the command itself had not ended: reaped in time, with the
  // pipe held open by a descendant until the kill, its own exit status answers.
  if (outcome.timed_out && !outcome.exited_in_time) {
    return {false, timed_out_message(timeout)};
  }
  const int status = outcome.status;
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    std::string message = fmt::format("exit status {}", code);
    if (code == 0) {
      return {true, std::move(message)};
    }
    if (const std::string_view line = last_line(outcome.output); !line.empty()) {
      message += fmt::format(": {}", line);
    }
    return {false, std::move(message)};
  }
  if (WIFSIGNALED(status)) {
    return {false, "killed by " + signal_name(WTERMSIG(status))};
  }
  return {false, fmt::format("unknown termination cause {:#06x}", status)};
}

}  // namespace

struct AsioHealthProber::Check {
  explicit Check(asio::io_context& io) : timer(io), resolver(io), socket(io) {}

  std::uint64_t id = 0;
  HealthCheckSpec spec;
  std::chrono::milliseconds timeout{0};
  std::chrono::steady_clock::time_point started;      // for the result's duration
  std::function<void(CheckResult)> done;              // called once, posted
  asio::steady_timer timer;                           // the timeout (a command's: plus the grace)
  tcp::resolver resolver;                             // http, tcp
  tcp::resolver::results_type endpoints;              // http, tcp: the host's addresses
  tcp::socket socket;                                 // http, tcp
  http::request<http::empty_body> request;            // http: kept alive for the write
  boost::beast::flat_buffer buffer{kMaxHeaderBytes};  // http: the answer as read
  std::optional<http::response_parser<http::empty_body>> parser;  // http: its header
  bool finished = false;  // handed to done, or abandoned by the destructor
};

AsioHealthProber::AsioHealthProber(asio::io_context& io)
    : io_(io),
      spawner_(
          [this](const SpawnSpec&, pid_t, const PosixSpawner::Pipes& pipes) { handed_ = pipes; }),
      children_(io) {}

AsioHealthProber::~AsioHealthProber() {
  *alive_ = false;
  for (auto& [id, check] : checks_) {
    check->finished = true;
    check->timer.cancel();
    check->resolver.cancel();
    error_code ignored;
    check->socket.close(ignored);
  }
  // children_, destroyed next, kills the command checks' groups.
}

void AsioHealthProber::check(const CheckRequest& request, std::function<void(CheckResult)> done) {
  auto check = std::make_shared<Check>(io_);
  check->id = next_id_++;
  check->spec = request.spec;
  check->timeout = request.timeout;
  check->started = std::chrono::steady_clock::now();
  check->done = std::move(done);
  checks_[check->id] = check;
  switch (request.spec.kind) {
    case CheckKind::Http:
    case CheckKind::Tcp:
      arm_timeout(check, request.timeout);
      start_http(check);
      return;
    case CheckKind::Command:
      // The watch kills the group at the timeout and the check ends with the reap; the
      // grace bounds a reap that does not come.
      arm_timeout(check, request.timeout + kReapGrace);
      start_command(check, request);
      return;
  }
  finish(check, false, "unknown check kind");
}

void AsioHealthProber::arm_timeout(const std::shared_ptr<Check>& check,
                                   std::chrono::milliseconds after) {
  check->timer.expires_after(after);
  check->timer.async_wait([this, check](const error_code& ec) {
    if (check->finished || ec) {
      return;  // done already, or the prober is gone
    }
    finish(check, false, timed_out_message(check->timeout));
  });
}

void AsioHealthProber::start_http(const std::shared_ptr<Check>& check) {
  // A numeric address is taken as it is: no resolver (Asio's runs getaddrinfo on a thread of
  // its own, a handoff each check would pay), no name service.
  error_code not_numeric;
  const auto address = asio::ip::make_address(check->spec.host, not_numeric);
  if (!not_numeric) {
    check->endpoints =
        tcp::resolver::results_type::create(tcp::endpoint(address, check->spec.port),
                                            check->spec.host, std::to_string(check->spec.port));
    connect(check);
    return;
  }
  const auto flags = tcp::resolver::numeric_service;
  // No address_configured (AI_ADDRCONFIG): on a host with loopback only, it would make
  // `localhost` unresolvable.
  check->resolver.async_resolve(
      check->spec.host, std::to_string(check->spec.port), flags,
      [this, check](const error_code& ec, tcp::resolver::results_type endpoints) {
        if (check->finished) {
          return;
        }
        if (ec) {
          finish(
              check, false,
              fmt::format("cannot resolve '{}': {}", check->spec.host, lower_first(ec.message())));
          return;
        }
        check->endpoints = std::move(endpoints);
        connect(check);
      });
}

void AsioHealthProber::connect(const std::shared_ptr<Check>& check) {
  // Every address in turn (`localhost` may be ::1 first and the server on 127.0.0.1 only).
  asio::async_connect(check->socket, check->endpoints,
                      [this, check](const error_code& ec, const tcp::endpoint&) {
                        if (check->finished) {
                          return;
                        }
                        if (ec) {
                          finish(check, false, describe(ec));
                        } else if (check->spec.kind == CheckKind::Tcp) {
                          finish(check, true, "connected");
                        } else {
                          send_request(check);
                        }
                      });
}

void AsioHealthProber::send_request(const std::shared_ptr<Check>& check) {
  auto& request = check->request;
  request.method(http::verb::get);
  request.target(check->spec.target);
  request.version(11);
  request.set(http::field::host, host_header(check->spec));
  request.set(http::field::user_agent, "zagent-healthcheck");
  request.set(http::field::connection, "close");
  http::async_write(check->socket, request, [this, check](const error_code& ec, std::size_t) {
    if (check->finished) {
      return;
    }
    if (ec) {
      finish(check, false, describe(ec));
      return;
    }
    read_header(check);
  });
}

void AsioHealthProber::read_header(const std::shared_ptr<Check>& check) {
  // The status line is all a check needs: the body is never read.
  check->parser.emplace();
  check->parser->header_limit(kMaxHeaderBytes);
  http::async_read_header(check->socket, check->buffer, *check->parser,
                          [this, check](const error_code& ec, std::size_t) {
                            if (check->finished) {
                              return;
                            }
                            if (ec) {
                              finish(check, false, describe(ec));
                              return;
                            }
                            const unsigned code = check->parser->get().result_int();
                            finish(check, code >= 200 && code <= 399, fmt::format("HTTP {}", code));
                          });
}

void AsioHealthProber::start_command(const std::shared_ptr<Check>& check,
                                     const CheckRequest& request) {
  SpawnSpec spec;
  spec.name = "healthcheck";
  spec.command = request.spec.command;
  spec.environment = request.environment;
  spec.directory = request.directory;
  // Only root can switch; a non-root agent runs the check as itself (its program runs so too:
  // a user= naming anyone else stops the program's own start).
  if (request.user && ::getuid() == 0) {
    spec.user = request.user;
  }
  spec.redirect_stderr = true;
  // A check must not outlive an agent killed without a stop.
  spec.parent_death_signal = SIGKILL;
  handed_ = {};
  const Result<pid_t> pid = spawner_.spawn(spec);
  const PosixSpawner::Pipes pipes = std::exchange(handed_, {});
  // The command's stdin: a pipe nobody writes to, so its reads get end of file at once.
  if (pipes.stdin_fd >= 0) {
    ::close(pipes.stdin_fd);
  }
  if (!pid) {
    if (pipes.stdout_fd >= 0) {
      ::close(pipes.stdout_fd);  // the failed child's `supervisor: ...` lines: in the message
    }
    finish(check, false, pid.error().message);
    return;
  }
  children_.watch(*pid, pipes.stdout_fd, {request.timeout, kMaxOutputBytes, ChildWatch::Keep::Tail},
                  [this, check](ChildWatch::Outcome outcome) {
                    if (check->finished) {
                      return;  // the grace ran out before the reap
                    }
                    auto [passed, message] = command_verdict(outcome, check->timeout);
                    finish(check, passed, std::move(message));
                  });
}

void AsioHealthProber::finish(const std::shared_ptr<Check>& check, bool passed,
                              std::string message) {
  if (check->finished) {
    return;
  }
  check->finished = true;
  check->timer.cancel();
  check->resolver.cancel();
  error_code ignored;
  check->socket.close(ignored);
  checks_.erase(check->id);
  CheckResult result;
  result.passed = passed;
  result.message = std::move(message);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - check->started);
  // Posted also when called from a completion: `done` may destroy the prober.
  asio::post(io_, [alive = alive_, done = std::move(check->done), result = std::move(result)] {
    if (*alive) {
      done(result);
    }
  });
}

}  // namespace zagent
