// End-to-end tests of the HTTP front's transport (docs/http.md): HTTP and JSON-RPC on one unix
// socket, [inet_http_server] over TCP, Basic auth, the limits and timeouts, log streaming, and
// many clients at once. The client is a plain socket with Beast's response parser; every read
// has a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/agent_fixture.h"
#include "tests/helpers/test_output.h"

namespace zagent::test::e2e {
namespace {

namespace bhttp = boost::beast::http;
using Json = nlohmann::json;
using std::chrono::steady_clock;

/// An XML-RPC call with no parameters, as xmlrpc.client writes it.
std::string xml_call(const std::string& method) {
  return "<?xml version='1.0'?>\n<methodCall>\n<methodName>" + method +
         "</methodName>\n<params>\n</params>\n</methodCall>\n";
}

/// A POST /RPC2 request for `body`, with `extra` header lines ("Name: value\r\n").
std::string post_rpc2(const std::string& body, const std::string& extra = "") {
  return "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

/// `Authorization: Basic ...` for user:pass.
std::string basic(const std::string& user_pass) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < user_pass.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(user_pass[i]) << 16) |
                       (static_cast<unsigned char>(user_pass[i + 1]) << 8) |
                       static_cast<unsigned char>(user_pass[i + 2]);
    out += {kDigits[(v >> 18) & 63], kDigits[(v >> 12) & 63], kDigits[(v >> 6) & 63],
            kDigits[v & 63]};
  }
  if (const std::size_t rest = user_pass.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(user_pass[i]) << 16;
    if (rest == 2) {
      v |= static_cast<unsigned char>(user_pass[i + 1]) << 8;
    }
    out += {kDigits[(v >> 18) & 63], kDigits[(v >> 12) & 63],
            rest == 2 ? kDigits[(v >> 6) & 63] : '=', '='};
  }
  return "Authorization: Basic " + out + "\r\n";
}

struct Reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

/// One connection to the agent, unix or TCP.
class Conn {
 public:
  static std::unique_ptr<Conn> unix_socket(const std::string& path) {
    auto c = std::make_unique<Conn>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
    }
    return c;
  }
  static std::unique_ptr<Conn> tcp(int port) {
    auto c = std::make_unique<Conn>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "connect port " << port << ": " << std::strerror(errno);
    }
    return c;
  }

  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() { ::close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads more bytes into raw(); false at the end of the stream or the deadline.
  bool read_some(steady_clock::time_point until) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  /// The next response (nullopt, with a failure, if none came in time).
  std::optional<Reply> response(milliseconds deadline = kDeadline) {
    const auto until = steady_clock::now() + deadline;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.eager(true);
    for (;;) {
      boost::beast::error_code ec;
      if (!raw_.empty()) {
        const std::size_t n = parser.put(boost::asio::buffer(raw_), ec);
        raw_.erase(0, n);
        if (!ec && parser.is_done()) {
          break;
        }
        if (ec && ec != bhttp::error::need_more) {
          ADD_FAILURE() << "bad response: " << ec.message();
          return std::nullopt;
        }
      }
      if (!read_some(until)) {
        ADD_FAILURE() << "no whole response; got: " << raw_;
        return std::nullopt;
      }
    }
    Reply r;
    r.status = parser.get().result_int();
    for (const auto& f : parser.get()) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      r.headers[name] = std::string(f.value());
    }
    r.body = parser.get().body();
    return r;
  }

  /// Until raw() holds `needle`.
  bool read_until(const std::string& needle, milliseconds deadline = kDeadline) {
    const auto until = steady_clock::now() + deadline;
    while (raw_.find(needle) == std::string::npos) {
      if (!read_some(until)) {
        return false;
      }
    }
    return true;
  }

  /// Until the agent closes the connection.
  bool closed_by_agent(milliseconds deadline = kDeadline) {
    const auto until = steady_clock::now() + deadline;
    while (!eof_ && steady_clock::now() < until) {
      read_some(until);
    }
    return eof_;
  }

  const std::string& raw() const { return raw_; }

 private:
  int fd_;
  std::string raw_;  // read and not yet parsed
  bool eof_ = false;
};


/// The agent's resident memory in KiB (VmRSS), 0 if unreadable.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

class HttpFixture : public AgentFixture {
 protected:
  /// `[inet_http_server]` on a free port of 127.0.0.1, with `extra` lines.
  std::string inet_section(const std::string& extra = "") {
    port_ = free_port();
    return "[inet_http_server]\nport=127.0.0.1:" + std::to_string(port_) + "\n" + extra;
  }

  /// getState over HTTP on `c`: the status, and whether the body says RUNNING.
  void expect_get_state(Conn& c, const std::string& auth = "") {
    ASSERT_TRUE(c.send(post_rpc2(xml_call("supervisor.getState"), auth)));
    auto r = c.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u) << r->body;
    EXPECT_EQ(r->headers["content-type"], "text/xml");
    EXPECT_THAT(r->body, ::testing::HasSubstr("<string>RUNNING</string>"));
  }

  int port_ = 0;
};

// ---- one socket, two protocols ------------------------------------------------------------

TEST_F(HttpFixture, UnixSocketServesHttpAndJsonRpc) {
  ASSERT_TRUE(start_agent(""));
  auto http = Conn::unix_socket(sock());
  expect_get_state(*http);
  // Keep-alive and pipelining: two requests in one write, answered in order.
  ASSERT_TRUE(http->send(post_rpc2(xml_call("supervisor.getPID")) +
                         post_rpc2(xml_call("supervisor.getAPIVersion"))));
  auto first = http->response();
  auto second = http->response();
  ASSERT_TRUE(first && second);
  EXPECT_THAT(first->body, ::testing::HasSubstr("<int>" + std::to_string(agent_->pid())));
  EXPECT_THAT(second->body, ::testing::HasSubstr("<string>3.0</string>"));
  // JSON-RPC on another connection of the same socket, as before.
  auto json = Conn::unix_socket(sock());
  ASSERT_TRUE(json->send(R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getState"})"
                         "\n"));
  ASSERT_TRUE(json->read_until("\n"));
  EXPECT_EQ(Json::parse(json->raw()),
            Json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"statecode":1,"statename":"RUNNING"}})"));
  EXPECT_EQ(ctl("pid").out, std::to_string(agent_->pid()) + "\n");
  stop_agent();
}

// The agent looks for a connection's first byte as soon as it accepts it; one that says
// nothing yet is waited for, while others are answered, and is served once it speaks.
TEST_F(HttpFixture, AConnectionThatSpeaksLateIsServed) {
  ASSERT_TRUE(start_agent(""));
  auto late_json = Conn::unix_socket(sock());
  auto late_http = Conn::unix_socket(sock());
  // Answered after both were accepted: the agent serves its connections in order.
  auto other = Conn::unix_socket(sock());
  expect_get_state(*other);
  ASSERT_TRUE(late_json->send(R"({"jsonrpc":"2.0","id":7,"method":"supervisor.getState"})"
                              "\n"));
  ASSERT_TRUE(late_json->read_until("\n"));
  EXPECT_EQ(Json::parse(late_json->raw())["id"], 7);
  expect_get_state(*late_http);
  stop_agent();
}

TEST_F(HttpFixture, UnknownPathsAndMethodsAsSupervisord) {
  ASSERT_TRUE(start_agent(program("hello", "/bin/echo hello", "startsecs=0\nautorestart=false\n")));
  auto c = Conn::unix_socket(sock());
  const auto status_of = [&](const std::string& request) {
    EXPECT_TRUE(c->send(request));
    auto r = c->response();
    return r ? r->status : 0u;
  };
  EXPECT_EQ(status_of(get("/nosuch")), 404u);
  EXPECT_EQ(status_of(get("/RPC2")), 400u);
  EXPECT_EQ(status_of("POST /nosuch HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 400u);
  EXPECT_EQ(status_of(get("/logtail/nosuch")), 404u);
  EXPECT_EQ(status_of(get("/logtail/hello/bogus")), 404u);
  EXPECT_EQ(status_of(get("/logtail")), 500u);
  // The connection survived all of that.
  expect_get_state(*c);
  stop_agent();
}

TEST_F(HttpFixture, BadXmlIs400AndTheConnectionGoesOn) {
  ASSERT_TRUE(start_agent(""));
  auto c = Conn::unix_socket(sock());
  ASSERT_TRUE(c->send(post_rpc2("<abc>")));
  auto r = c->response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);
  EXPECT_THAT(r->body, ::testing::HasSubstr("<p>Error code 400.\r\n<p>Message: Bad Request."));
  ASSERT_TRUE(c->send(post_rpc2("<methodCall><methodName>supervisor.getState</methodName>"
                                "<params><param><value><int>1</int></value></param>")));
  r = c->response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);
  expect_get_state(*c);
  stop_agent();
}

// ---- [inet_http_server] and auth ----------------------------------------------------------

TEST_F(HttpFixture, InetWithoutAuthServesEveryone) {
  ASSERT_TRUE(start_agent(inet_section()));
  EXPECT_TRUE(wait_log("CRIT Server 'inet_http_server' running without any HTTP authentication"));
  auto c = Conn::tcp(port_);
  expect_get_state(*c);
  stop_agent();
}

TEST_F(HttpFixture, ZctlSpeaksJsonRpcOverTheInetPortBehindItsLogin) {
  ASSERT_TRUE(start_agent(inet_section("username=user\npassword=test\n") +
                          program("web", helper("sleep_forever"), "startsecs=0\n")));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  // zctl -s http://... : JSON-RPC on the port the stock supervisorctl uses for XML-RPC.
  const RunResult ok = zctl({"-s", url, "-u", "user", "-p", "test", "status", "web"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, ::testing::MatchesRegex("web +RUNNING +pid [0-9]+, uptime .*\n"));
  const RunResult pid = zctl({"-s", url, "-u", "user", "-p", "test", "pid"});
  EXPECT_EQ(pid.out, std::to_string(agent_->pid()) + "\n") << pid.err;
  // The section's login applies (TCP has no peer credentials to fall back on).
  const RunResult denied = zctl({"-s", url, "-u", "user", "-p", "wrong", "status"});
  EXPECT_NE(denied.exit_code, 0) << denied.out;
  EXPECT_THAT(denied.out + denied.err, ::testing::HasSubstr("Server requires authentication"));
  // HTTP on the same port goes on as before.
  auto c = Conn::tcp(port_);
  expect_get_state(*c, basic("user:test"));
  stop_agent();
}

TEST_F(HttpFixture, InetWithShaPasswordNeedsBasicAuth) {
  // {SHA} of "test".
  ASSERT_TRUE(start_agent(
      inet_section("username=user\npassword={SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\n")));
  EXPECT_EQ(count_log("Server 'inet_http_server' running without"), 0u);
  {
    auto c = Conn::tcp(port_);
    ASSERT_TRUE(c->send(post_rpc2(xml_call("supervisor.getState"))));
    auto r = c->response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401u);
    EXPECT_EQ(r->headers["www-authenticate"], R"(Basic realm="default")");
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(c->closed_by_agent());
  }
  {
    auto c = Conn::tcp(port_);
    ASSERT_TRUE(c->send(post_rpc2(xml_call("supervisor.getState"), basic("user:wrong"))));
    auto r = c->response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401u);
  }
  {
    auto c = Conn::tcp(port_);
    ASSERT_TRUE(c->send(get("/mainlogtail", "Authorization: Basic !!!\r\n")));
    auto r = c->response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400u);
  }
  auto c = Conn::tcp(port_);
  expect_get_state(*c, basic("user:test"));
  expect_get_state(*c, basic("user:test"));
  // The unix socket has no login here: it still serves without one.
  auto u = Conn::unix_socket(sock());
  expect_get_state(*u);
  stop_agent();
}

TEST_F(HttpFixture, UnixSocketLoginIsBasicAuthForHttp) {
  ConfigExtras extras;
  extras.server = "username=admin\npassword=secret\n";
  extras.ctl = "username=admin\npassword=secret\n";
  ASSERT_TRUE(start_agent("", extras));
  auto c = Conn::unix_socket(sock());
  ASSERT_TRUE(c->send(post_rpc2(xml_call("supervisor.getState"))));
  auto r = c->response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401u);
  auto ok = Conn::unix_socket(sock());
  expect_get_state(*ok, basic("admin:secret"));
  stop_agent();
}

TEST_F(HttpFixture, PortInUseIsAClearErrorNamingTheSection) {
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  write_config("[inet_http_server]\nport=127.0.0.1:" + std::to_string(port) + "\n");
  RunOptions options;
  options.cwd = dir_.path().string();
  const RunResult r = run({kZagent, "-c", conf_, "-n"}, options);
  ::close(holder);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr(
                         "Error: Another program is already listening on a port that one of our "
                         "HTTP servers is configured to use.  Shut this program down first before "
                         "starting supervisord. ([inet_http_server] port=127.0.0.1:" +
                         std::to_string(port) + ")\n"));
}

// ---- limits and timeouts ------------------------------------------------------------------

TEST_F(HttpFixture, OversizedHeaderAndBodyAreRefused) {
  ASSERT_TRUE(start_agent(inet_section()));
  {
    auto c = Conn::tcp(port_);
    ASSERT_TRUE(c->send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                        "\r\n\r\n"));
    auto r = c->response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431u);
    EXPECT_TRUE(c->closed_by_agent());
  }
  {
    auto c = Conn::unix_socket(sock());
    ASSERT_TRUE(c->send("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" +
                        std::string(100000, 'x')));
    auto r = c->response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413u);
    EXPECT_TRUE(c->closed_by_agent());
  }
  auto c = Conn::tcp(port_);
  expect_get_state(*c);
  stop_agent();
}

TEST_F(HttpFixture, SlowClientIsTimedOutAndBlocksNobody) {
  ASSERT_TRUE(start_agent(inet_section()));
  auto slow = Conn::tcp(port_);
  ASSERT_TRUE(slow->send("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Le"));
  auto silent = Conn::unix_socket(sock());  // says nothing at all
  const auto start = steady_clock::now();
  auto other = Conn::tcp(port_);
  expect_get_state(*other);
  auto r = slow->response(milliseconds(20000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_GE(steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_TRUE(slow->closed_by_agent());
  expect_get_state(*other);
  // The silent connection is closed when the agent stops; the stop is not held up by it.
  const auto stop_begun = steady_clock::now();
  stop_agent();
  EXPECT_LT(steady_clock::now() - stop_begun, std::chrono::seconds(5));
  EXPECT_TRUE(silent->closed_by_agent(milliseconds(1000)));
}

// ---- log streaming ------------------------------------------------------------------------

TEST_F(HttpFixture, LogTailStreamsTheEndThenWhatIsWritten) {
  ASSERT_TRUE(start_agent(inet_section() +
                          program("talk", helper("lines") + " 40 --then-wait --done-file " +
                                              dir_.file("done"),
                                  "startsecs=0\n")));
  ASSERT_TRUE(wait_file("done", "1\n"));
  const std::string first = test_output::numbered_lines(1, 40);
  auto c = Conn::tcp(port_);
  ASSERT_TRUE(c->send(get("/logtail/talk")));
  // The header, then the last 1024 bytes of the file in one chunk.
  ASSERT_TRUE(c->read_until("\r\n\r\n"));
  const std::string head = c->raw().substr(0, c->raw().find("\r\n\r\n") + 4);
  EXPECT_THAT(head, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head, ::testing::HasSubstr("Content-Type: text/plain;charset=utf-8\r\n"));
  EXPECT_THAT(head, ::testing::HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(head, ::testing::HasSubstr("X-Accel-Buffering: no\r\n"));
  const std::string tail = last_bytes(first, 1024);
  ASSERT_TRUE(c->read_until(tail + "\r\n"));
  EXPECT_THAT(c->raw(), ::testing::HasSubstr(fmt::format("{:x}\r\n", tail.size()) + tail));
  // New output comes as it is written.
  ::kill(last_pid("talk"), SIGUSR1);
  EXPECT_TRUE(c->read_until(test_output::numbered_line(41)));
  // Cleared: supervisord's notice.
  ASSERT_EQ(ctl("clear talk").exit_code, 0);
  EXPECT_TRUE(c->read_until("==> File truncated <==\n"));
  // The main log the same way.
  auto m = Conn::unix_socket(sock());
  ASSERT_TRUE(m->send(get("/mainlogtail")));
  ASSERT_TRUE(m->read_until("\r\n\r\n"));
  EXPECT_THAT(m->raw(), ::testing::Not(::testing::HasSubstr("X-Accel-Buffering")));
  ASSERT_EQ(ctl("stop talk").exit_code, 0);
  EXPECT_TRUE(m->read_until("stopped: talk"));
  // At the end of the agent the streams end with their last chunk.
  stop_agent();
  EXPECT_TRUE(c->closed_by_agent());
  EXPECT_THAT(c->raw(), ::testing::EndsWith("0\r\n\r\n"));
}

TEST_F(HttpFixture, AStreamNobodyReadsStaysBounded) {
  // 150 MB of output while one client follows it and never reads.
  ASSERT_TRUE(start_agent(inet_section() +
                          program("spew", helper("spew") + " 150000000",
                                  "autostart=false\nstartsecs=0\nautorestart=false\n"
                                  "stdout_logfile_maxbytes=20MB\nstdout_logfile_backups=1\n")));
  ASSERT_EQ(ctl("start spew").exit_code, 0);
  ASSERT_TRUE(wait_state("spew", "(RUNNING|EXITED)"));
  const long before = rss_kib(agent_->pid());
  auto reader = Conn::tcp(port_);
  ASSERT_TRUE(reader->send(get("/logtail/spew")));
  long peak = before;
  auto other = Conn::unix_socket(sock());
  ASSERT_TRUE(wait_until(
      [&] {
        peak = std::max(peak, rss_kib(agent_->pid()));
        return std::regex_search(ctl("status spew").out, std::regex("EXITED"));
      },
      milliseconds(60000)));
  expect_get_state(*other);  // others were served all along
  EXPECT_LT(peak - before, 48 * 1024) << "RSS grew from " << before << " KiB to " << peak;
  // Reading at last: what could not wait was skipped, and the stream says so.
  EXPECT_TRUE(reader->read_until("bytes skipped: this reader fell behind <==\n"));
  stop_agent();
}

TEST_F(HttpFixture, HundredConcurrentClients) {
  ASSERT_TRUE(start_agent(inet_section()));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      auto c = i % 2 == 0 ? Conn::tcp(port_) : Conn::unix_socket(sock());
      if (!c->send(post_rpc2(xml_call("supervisor.getState")))) {
        return;
      }
      auto r = c->response(milliseconds(30000));
      if (r && r->status == 200 && r->body.find("RUNNING") != std::string::npos) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 100);
  stop_agent();
}

}  // namespace
}  // namespace zagent::test::e2e
