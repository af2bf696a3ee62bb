// AsioHealthProber against real sockets on 127.0.0.1 and real commands: small servers on the
// test's own loop (or the health_server helper) answer the checks. The test plays the agent's
// reaper (waitpid(-1) forwarded to on_child_exit) while it runs the loop, and waits on `done`
// with a deadline. The test process is a child subreaper meanwhile and kills and reaps
// whatever is left at the end.
#include "agent/health/probes.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const std::string kHelpers = ZAGENT_HELPERS_DIR;

// Accepts on 127.0.0.1 on the test's loop. Each connection's request header is kept; then
// `answer` (a raw HTTP response) is written and the connection closed, or, with no answer,
// the connection is held open unanswered.
class TestServer {
 public:
  TestServer(asio::io_context& io, std::optional<std::string> answer)
      : io_(io),
        acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        answer_(std::move(answer)) {
    accept();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  /// The request headers seen, one entry per connection.
  const std::vector<std::string>& requests() const { return requests_; }
  int accepted() const { return accepted_; }

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    asio::streambuf in;
  };

  void accept() {
    auto connection = std::make_shared<Connection>(io_);
    acceptor_.async_accept(connection->socket, [this, connection](boost::system::error_code ec) {
      if (ec) {
        return;
      }
      ++accepted_;
      held_.push_back(connection);
      asio::async_read_until(
          connection->socket, connection->in, "\r\n\r\n",
          [this, connection](boost::system::error_code read_ec, std::size_t n) {
            if (read_ec) {
              return;
            }
            requests_.emplace_back(
                asio::buffers_begin(connection->in.data()),
                asio::buffers_begin(connection->in.data()) + static_cast<std::ptrdiff_t>(n));
            if (!answer_) {
              return;  // held open, never answered
            }
            asio::async_write(connection->socket, asio::buffer(*answer_),
                              [connection](boost::system::error_code, std::size_t) {
                                boost::system::error_code ignored;
                                connection->socket.shutdown(tcp::socket::shutdown_both, ignored);
                                connection->socket.close(ignored);
                              });
          });
      accept();
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::optional<std::string> answer_;              // nullopt: never answer
  std::vector<std::shared_ptr<Connection>> held_;  // every connection, kept open
  std::vector<std::string> requests_;
  int accepted_ = 0;
};

std::string answer(int status, std::string_view reason) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
}

// A port nobody listens on: bound, then closed again.
std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

/// The verdict and the message of a result that came before the deadline.
void expect_result(const std::optional<CheckResult>& result, bool passed,
                   std::string_view message) {
  ASSERT_TRUE(result) << "no result before the deadline";
  EXPECT_EQ(result->passed, passed) << result->message;
  EXPECT_EQ(result->message, message);
}

CheckRequest http_request(std::uint16_t port, std::string target = "/") {
  CheckRequest request;
  request.spec.kind = CheckKind::Http;
  request.spec.host = "127.0.0.1";
  request.spec.port = port;
  request.spec.target = std::move(target);
  request.timeout = 10s;
  return request;
}

CheckRequest tcp_request(std::uint16_t port) {
  CheckRequest request = http_request(port);
  request.spec.kind = CheckKind::Tcp;
  return request;
}

CheckRequest command_request(std::string command) {
  CheckRequest request;
  request.spec.kind = CheckKind::Command;
  request.spec.command = std::move(command);
  request.timeout = 10s;
  return request;
}

class HealthProbeTest : public ::testing::Test {
 protected:
  HealthProbeTest() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~HealthProbeTest() override {
    prober_.reset();  // SIGKILLs what is still running
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until && ::waitpid(-1, nullptr, WNOHANG) >= 0) {
      pump();
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  void pump() {
    io_.restart();
    io_.run_for(2ms);
  }

  /// Hands every reaped child to the prober, as the agent's SIGCHLD handler does.
  void reap() {
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) {
        return;
      }
      if (prober_ && prober_->on_child_exit(pid, status)) {
        claimed_.push_back(pid);
      }
    }
  }

  /// Starts the check; `done` must not have been called by the time check() returns.
  void start(const CheckRequest& request) {
    prober_->check(request, [this](CheckResult result) {
      ++calls_;
      result_ = std::move(result);
    });
    EXPECT_EQ(calls_, 0) << "done called from inside check()";
  }

  /// Runs the loop and the reaper until `done` was called or the deadline passed.
  std::optional<CheckResult> wait_done(std::chrono::milliseconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!result_) {
      if (std::chrono::steady_clock::now() > until) {
        return std::nullopt;
      }
      reap();
      pump();
    }
    return result_;
  }

  std::optional<CheckResult> run_check(const CheckRequest& request) {
    start(request);
    return wait_done();
  }

  /// Runs `request` with a timeout of 300 ms: it fails at the timeout, soon after it.
  void expect_timeout_at_300ms(CheckRequest request) {
    request.timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    const auto result = run_check(request);
    expect_result(result, false, "timed out after 0.3 s");
    ASSERT_TRUE(result);
    EXPECT_GE(result->duration, 300ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }

  /// True once no process of the group `pgid` is left (reaping meanwhile), by the deadline.
  bool group_gone(pid_t pgid, std::chrono::milliseconds deadline = 5s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (::kill(-pgid, 0) != 0 && errno == ESRCH) {
        return true;
      }
      reap();
      pump();
    }
    return false;
  }

  asio::io_context io_;
  std::optional<AsioHealthProber> prober_{std::in_place, io_};
  std::optional<CheckResult> result_;
  int calls_ = 0;               // times done was called
  std::vector<pid_t> claimed_;  // reaped pids the prober claimed
};

TEST_F(HealthProbeTest, Http200Passes) {
  TestServer server(io_, answer(200, "OK"));
  const auto result = run_check(http_request(server.port(), "/healthz?deep=1"));
  expect_result(result, true, "HTTP 200");
  ASSERT_TRUE(result);
  EXPECT_LT(result->duration, 10s);
  ASSERT_EQ(server.requests().size(), 1U);
  const std::string& request = server.requests()[0];
  EXPECT_EQ(request.substr(0, request.find("\r\n")), "GET /healthz?deep=1 HTTP/1.1");
  EXPECT_NE(request.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nUser-Agent: zagent-healthcheck\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos) << request;
  // Exactly once.
  io_.restart();
  io_.run_for(20ms);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(prober_->running(), 0U);
}

TEST_F(HealthProbeTest, Http302Passes) {
  TestServer server(io_, "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
  expect_result(run_check(http_request(server.port())), true, "HTTP 302");
}

TEST_F(HealthProbeTest, Http503Fails) {
  TestServer server(io_, answer(503, "Service Unavailable"));
  expect_result(run_check(http_request(server.port())), false, "HTTP 503");
}

TEST_F(HealthProbeTest, HttpConnectionRefused) {
  expect_result(run_check(http_request(closed_port())), false, "connection refused");
}

TEST_F(HealthProbeTest, HttpClosedWithoutAnAnswer) {
  TestServer server(io_, "");
  expect_result(run_check(http_request(server.port())), false,
                "connection closed without an answer");
}

TEST_F(HealthProbeTest, HttpGarbageAnswerFails) {
  TestServer server(io_, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  const auto result = run_check(http_request(server.port()));
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->passed);
  EXPECT_EQ(result->message.rfind("invalid answer: ", 0), 0U) << result->message;
}

TEST_F(HealthProbeTest, HttpServerThatNeverAnswersTimesOut) {
  TestServer server(io_, std::nullopt);
  expect_timeout_at_300ms(http_request(server.port()));
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(HealthProbeTest, UnresolvableHostFails) {
  // A label longer than DNS allows (63 bytes): no name service can answer it, and none is
  // asked over the network.
  CheckRequest request = http_request(80);
  request.spec.host = std::string(70, 'x') + ".invalid";
  const auto result = run_check(request);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->passed);
  EXPECT_EQ(result->message.rfind("cannot resolve '" + request.spec.host + "': ", 0), 0U)
      << result->message;
}

TEST_F(HealthProbeTest, LocalhostResolves) {
  TestServer server(io_, answer(200, "OK"));
  CheckRequest request = http_request(server.port());
  request.spec.host = "localhost";
  expect_result(run_check(request), true, "HTTP 200");
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_NE(server.requests()[0].find("\r\nHost: localhost:"), std::string::npos);
}

TEST_F(HealthProbeTest, TcpConnectPasses) {
  TestServer server(io_, std::nullopt);
  expect_result(run_check(tcp_request(server.port())), true, "connected");
}

TEST_F(HealthProbeTest, TcpConnectRefused) {
  expect_result(run_check(tcp_request(closed_port())), false, "connection refused");
}

TEST_F(HealthProbeTest, CommandExitZeroPasses) {
  const auto result = run_check(command_request(kHelpers + "/exit_with 0"));
  expect_result(result, true, "exit status 0");
  EXPECT_EQ(claimed_.size(), 1U);
  EXPECT_EQ(prober_->running(), 0U);
  EXPECT_FALSE(prober_->on_child_exit(1, 0));  // not one of its own
}

TEST_F(HealthProbeTest, CommandExitStatusWithLastOutputLine) {
  const auto result =
      run_check(command_request("sh -c 'echo first; echo \"db: down\" >&2; echo; exit 3'"));
  expect_result(result, false, "exit status 3: db: down");
}

TEST_F(HealthProbeTest, LongOutputKeepsItsLastLine) {
  // About 20 KiB: far more than the 4 KiB kept, which are the end.
  expect_result(run_check(command_request("sh -c 'i=0; while [ $i -lt 2000 ]; do "
                                          "echo \"line $i of the noise\"; i=$((i+1)); done; "
                                          "echo \"last words\"; exit 2'")),
                false, "exit status 2: last words");
}

TEST_F(HealthProbeTest, CommandExitStatusWithoutOutput) {
  expect_result(run_check(command_request(kHelpers + "/exit_with 4")), false, "exit status 4");
}

TEST_F(HealthProbeTest, CommandKilledBySignal) {
  expect_result(run_check(command_request(kHelpers + "/exit_with 0 --signal TERM")), false,
                "killed by SIGTERM");
}

TEST_F(HealthProbeTest, CommandSeesTheEnvironmentAndDirectory) {
  test::TempDir dir;
  CheckRequest request = command_request("sh -c 'echo \"$HC_VALUE in $(pwd)\"; exit 1'");
  request.environment = {"HC_VALUE=seen", "PATH=/usr/bin:/bin"};
  request.directory = dir.path().string();
  const auto result = run_check(request);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->message, "exit status 1: seen in " + dir.path().string());
}

TEST_F(HealthProbeTest, CommandRunsAsItsUserOnlyWhenTheAgentIsRoot) {
  CheckRequest request = command_request("sh -c 'id -u; exit 1'");
  std::string expected_uid;
  if (::getuid() == 0) {
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) {
      GTEST_SKIP() << "no user 'nobody'";
    }
    request.user = UserSpec{"nobody", nobody->pw_uid, nobody->pw_gid};
    expected_uid = std::to_string(nobody->pw_uid);
  } else {
    // Not root: the check runs as the agent's user, as it cannot switch.
    request.user = UserSpec{"root", 0, 0};
    expected_uid = std::to_string(::getuid());
  }
  expect_result(run_check(request), false, "exit status 1: " + expected_uid);
}

TEST_F(HealthProbeTest, CommandNotFoundFails) {
  const auto result = run_check(command_request("no-such-health-command"));
  expect_result(result, false, "can't find command 'no-such-health-command'");
  EXPECT_EQ(prober_->running(), 0U);
}

TEST_F(HealthProbeTest, HungCommandIsKilledAtTheTimeoutWithItsGroup) {
  // spawn_grandchildren: two more processes in the command's group, all sleeping.
  expect_timeout_at_300ms(command_request(kHelpers + "/spawn_grandchildren 2"));
  ASSERT_EQ(claimed_.size(), 1U);
  EXPECT_TRUE(group_gone(claimed_[0]));
}

TEST_F(HealthProbeTest, ChecksRunConcurrently) {
  TestServer hung(io_, std::nullopt);
  TestServer ok(io_, answer(204, "No Content"));
  std::vector<CheckResult> results;
  CheckRequest slow = command_request(kHelpers + "/sleep_forever");
  slow.timeout = 2s;
  CheckRequest hanging = http_request(hung.port());
  hanging.timeout = 2s;
  for (const CheckRequest& request : {slow, hanging, http_request(ok.port())}) {
    prober_->check(request, [&results](CheckResult result) { results.push_back(result); });
  }
  EXPECT_EQ(prober_->running(), 3U);
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (results.empty() && std::chrono::steady_clock::now() < until) {
    reap();
    pump();
  }
  // The quick one answered while the others were still waiting.
  ASSERT_EQ(results.size(), 1U);
  EXPECT_EQ(results[0].message, "HTTP 204");
  EXPECT_EQ(prober_->running(), 2U);
}

TEST_F(HealthProbeTest, DestructorWithChecksInFlightCallsNoDone) {
  TestServer server(io_, std::nullopt);
  start(http_request(server.port()));
  start(command_request(kHelpers + "/sleep_forever"));
  // Until the HTTP request is waiting and the command runs.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (server.requests().empty() && std::chrono::steady_clock::now() < until) {
    pump();
  }
  ASSERT_EQ(server.requests().size(), 1U);
  prober_.reset();
  // The command dies of the SIGKILL; nothing is reported.
  int status = 0;
  pid_t pid = 0;
  const auto reap_until = std::chrono::steady_clock::now() + 5s;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < reap_until) {
    pump();
  }
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  io_.restart();
  io_.run_for(50ms);
  EXPECT_EQ(calls_, 0);
}

TEST_F(HealthProbeTest, HealthServerHelperFollowsItsControlFile) {
  test::TempDir dir;
  const std::string control = dir.file("control");
  const std::uint16_t port = closed_port();
  test::BackgroundProcess server({kHelpers + "/health_server", std::to_string(port),
                                  "--bind-after-ms", "500", "--control", control},
                                 dir.path().string(), dir.file("out"), dir.file("err"));
  const auto check = [&](std::chrono::milliseconds timeout) {
    result_.reset();
    calls_ = 0;
    CheckRequest request = http_request(port);
    request.timeout = timeout;
    return run_check(request);
  };
  // Not yet bound.
  expect_result(check(10s), false, "connection refused");
  ASSERT_TRUE(test::wait_until(
      [&] { return test::read_file(dir.file("out")).starts_with("listening at "); }))
      << test::read_file(dir.file("err"));
  expect_result(check(10s), true, "HTTP 200");
  dir.write("control", "500\n");
  expect_result(check(10s), false, "HTTP 500");
  dir.write("control", "hang");
  expect_result(check(300ms), false, "timed out after 0.3 s");
  // The hung connection stays open and does not hold up the next one.
  dir.write("control", "");
  expect_result(check(10s), true, "HTTP 200");
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s), 0);
}

}  // namespace
}  // namespace zagent
