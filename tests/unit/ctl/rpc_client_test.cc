// SocketClient over a real Unix socket in a temp dir, served by a scripted thread: framing,
// ids, faults, notifications, pipelining, login, timeouts and the interrupt pipe.
#include "ctl/rpc_client.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace zagent::ctl {
namespace {

using namespace std::chrono_literals;

TEST(ServerUrl, Parse) {
  auto u = parse_server_url("unix:///run/z.sock");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->unix_socket);
  EXPECT_EQ(u->path, "/run/z.sock");
  EXPECT_EQ(parse_server_url("unix://rel/y.sock")->path, "rel/y.sock");
  auto h = parse_server_url("http://127.0.0.1:9001/RPC2");
  ASSERT_TRUE(h.has_value());
  EXPECT_FALSE(h->unix_socket);
  EXPECT_EQ(h->host, "127.0.0.1");
  EXPECT_EQ(h->port, "9001");
  EXPECT_EQ(parse_server_url("http://localhost")->port, "80");
  EXPECT_EQ(parse_server_url("http://[::1]:7")->host, "::1");
  EXPECT_EQ(parse_server_url("http://[::1]:7")->port, "7");
  EXPECT_EQ(parse_server_url("http://u:p@h:5")->host, "h");
  EXPECT_FALSE(parse_server_url("ftp://x").has_value());
}

/// A temp dir with a listening socket; serve() runs `handler` on each accepted connection in
/// a thread, one connection after the other.
class SocketServer {
 public:
  SocketServer() {
    char tmpl[] = "/tmp/zctl-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/s.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path_.data(), path_.size());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
  }
  ~SocketServer() {
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(listen_fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  std::string url() const { return "unix://" + path_; }
  const std::string& dir() const { return dir_; }

  /// Accepts `connections` connections in turn and runs `handler` on each.
  void serve(int connections, std::function<void(int fd, int index)> handler) {
    thread_ = std::thread([this, connections, handler = std::move(handler)] {
      for (int i = 0; i < connections; ++i) {
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) {
          return;
        }
        handler(fd, i);
        ::close(fd);
      }
    });
  }

  /// Reads one line (blocking); empty at EOF.
  static std::string read_line(int fd) {
    std::string line;
    char ch = 0;
    while (::read(fd, &ch, 1) == 1) {
      if (ch == '\n') {
        return line;
      }
      line.push_back(ch);
    }
    return line;
  }
  static Json read_request(int fd) {
    const std::string line = read_line(fd);
    return line.empty() ? Json() : Json::parse(line);
  }
  static void write_text(int fd, const std::string& text) {
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  static void reply(int fd, const Json& id, const Json& result) {
    write_text(fd, rpc::encode_line(rpc::make_response(id, result)));
  }

 private:
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

TEST(SocketClient, MissingSocketIsEnoent) {
  SocketClient client({"unix:///nonexistent-dir-zctl/x.sock", "", "", -1});
  auto r = client.call("supervisor.getVersion", Json::array());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CallError::Kind::Transport);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
}

TEST(SocketClient, StaleSocketOrPlainFileIsRefused) {
  SocketServer server;
  const std::string file = server.dir() + "/plain";
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  SocketClient client({"unix://" + file, "", "", -1});
  auto r = client.call("supervisor.getVersion", Json::array());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CallError::Kind::Transport);
  EXPECT_EQ(r.error().sys_errno, ECONNREFUSED);
  auto results = client.call_all({{"a", Json::array()}, {"b", Json::array()}});
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[1].error().sys_errno, ECONNREFUSED);
}

/// An http:// URL with a numeric host or `localhost` connects over TCP without a resolver
/// (the static zctl); each host form reaches the same listener on 127.0.0.1.
TEST(SocketClient, NumericHostsAndLocalhostConnectOverTcp) {
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listen_fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(listen_fd, 4), 0);
  socklen_t len = sizeof(sa);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  ASSERT_EQ(::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const std::string port = std::to_string(ntohs(sa.sin_port));
  const std::vector<std::string> urls = {"http://127.0.0.1:" + port, "http://localhost:" + port,
                                         "http://user:pw@localhost:" + port + "/RPC2"};
  std::thread server([&] {
    for (std::size_t i = 0; i < urls.size(); ++i) {
      const int fd = ::accept(listen_fd, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      const Json req = SocketServer::read_request(fd);
      SocketServer::reply(fd, req["id"], "tcp " + std::to_string(i));
      ::close(fd);
    }
  });
  for (std::size_t i = 0; i < urls.size(); ++i) {
    SocketClient client({urls[i], "", "", -1});
    auto r = client.call("supervisor.getVersion", Json::array());
    ASSERT_TRUE(r.has_value()) << urls[i] << ": " << r.error().message;
    EXPECT_EQ(*r, "tcp " + std::to_string(i)) << urls[i];
  }
  server.join();
  ::close(listen_fd);
  // Nobody listens any more: refused, reported with 127.0.0.1's errno for localhost too.
  for (const std::string& url : {"http://127.0.0.1:" + port, "http://localhost:" + port}) {
    SocketClient client({url, "", "", -1});
    auto r = client.call("supervisor.getVersion", Json::array());
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_EQ(r.error().kind, CallError::Kind::Transport) << url;
    EXPECT_EQ(r.error().sys_errno, ECONNREFUSED) << url;
  }
}

TEST(SocketClient, CallsFaultsAndNotificationsOnOneConnection) {
  SocketServer server;
  server.serve(1, [](int fd, int) {
    Json req = SocketServer::read_request(fd);
    EXPECT_EQ(req["method"], "supervisor.getVersion");
    EXPECT_EQ(req["params"], Json::array());
    EXPECT_EQ(req["jsonrpc"], "2.0");
    SocketServer::reply(fd, req["id"], "3.0");
    req = SocketServer::read_request(fd);
    EXPECT_EQ(req["params"], Json::array({"nosuch", true}));
    // A notification before the answer is kept for wait_event(); a stray reply is skipped.
    SocketServer::write_text(
        fd, rpc::encode_line(rpc::make_notification("zagent.logData", {{"id", 9}, {"data", "x"}})));
    SocketServer::reply(fd, 12345, "stale");
    SocketServer::write_text(fd, rpc::encode_line(rpc::make_error(
                                     req["id"], rpc::fault_error(Fault::BadName, "nosuch"))));
    req = SocketServer::read_request(fd);
    SocketServer::write_text(
        fd, rpc::encode_line(rpc::make_error(
                req["id"], rpc::standard_error(rpc::StdError::MethodNotFound, "zagent.x"))));
  });
  SocketClient client({server.url(), "", "", -1});
  auto version = client.call("supervisor.getVersion", Json::array());
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, "3.0");
  auto bad = client.call("supervisor.startProcess", Json::array({"nosuch", true}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, CallError::Kind::Rpc);
  EXPECT_EQ(bad.error().fault(), Fault::BadName);
  EXPECT_EQ(bad.error().fault_string(), "BAD_NAME: nosuch");
  auto unknown = client.call("zagent.x", Json::array());
  EXPECT_EQ(unknown.error().fault(), Fault::UnknownMethod);
  EXPECT_EQ(unknown.error().fault_string(), "UNKNOWN_METHOD: zagent.x");
  auto event = client.wait_event(-1, 0ms);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Event::Kind::Notification);
  EXPECT_EQ(event->method, "zagent.logData");
  EXPECT_EQ(event->params["data"], "x");
  // The server closes after its script.
  event = client.wait_event(-1, 5000ms);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Event::Kind::Closed);
}

TEST(SocketClient, SeveralCallsGoAsOneBatchAndRepliesMatchById) {
  SocketServer server;
  server.serve(2, [](int fd, int index) {
    // One line: the batch of three requests.
    const Json batch = SocketServer::read_request(fd);
    ASSERT_TRUE(batch.is_array());
    ASSERT_EQ(batch.size(), 3U);
    if (index == 0) {
      // Answered with one array, out of order.
      Json out = Json::array();
      for (int i : {2, 0, 1}) {
        const Json& req = batch[static_cast<std::size_t>(i)];
        out.push_back(rpc::make_response(req["id"], req["params"][0]));
      }
      SocketServer::write_text(fd, rpc::encode_line(out));
    } else {
      // Answered one line each: accepted too.
      for (int i : {1, 2, 0}) {
        const Json& req = batch[static_cast<std::size_t>(i)];
        SocketServer::reply(fd, req["id"], req["params"][0]);
      }
    }
  });
  for (int round = 0; round < 2; ++round) {
    SocketClient client({server.url(), "", "", -1});
    auto results = client.call_all({{"supervisor.getProcessInfo", Json::array({"a"})},
                                    {"supervisor.getProcessInfo", Json::array({"b"})},
                                    {"supervisor.getProcessInfo", Json::array({"c"})}});
    ASSERT_EQ(results.size(), 3U);
    EXPECT_EQ(*results[0], "a") << round;
    EXPECT_EQ(*results[1], "b") << round;
    EXPECT_EQ(*results[2], "c") << round;
  }
}

TEST(SocketClient, ABigBatchGoesAsOneLinePerCall) {
  SocketServer server;
  const std::string big(40 * 1024, 'x');  // two of them: over the 64 KiB batch line
  server.serve(1, [](int fd, int) {
    std::vector<Json> reqs;
    for (int i = 0; i < 2; ++i) {
      reqs.push_back(SocketServer::read_request(fd));
      EXPECT_TRUE(reqs.back().is_object());
    }
    for (int i : {1, 0}) {
      SocketServer::reply(fd, reqs[static_cast<std::size_t>(i)]["id"], i);
    }
  });
  SocketClient client({server.url(), "", "", -1});
  auto results = client.call_all({{"supervisor.sendProcessStdin", Json::array({"a", big})},
                                  {"supervisor.sendProcessStdin", Json::array({"b", big})}});
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(*results[0], 0);
  EXPECT_EQ(*results[1], 1);
}

TEST(SocketClient, AnErrorWithoutIdAnswersTheWaitingCall) {
  SocketServer server;
  server.serve(1, [](int fd, int) {
    SocketServer::read_request(fd);
    SocketServer::write_text(fd, rpc::encode_line(rpc::make_error(
                                     nullptr, rpc::standard_error(rpc::StdError::FrameTooLarge))));
  });
  SocketClient client({server.url(), "", "", -1});
  auto r = client.call("supervisor.sendProcessStdin", Json::array({"ok", "x"}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CallError::Kind::Rpc);
  EXPECT_EQ(r.error().rpc.code, -32002);
}

TEST(SocketClient, LoginComesFirstAndUnauthorizedIsReported) {
  SocketServer server;
  server.serve(1, [](int fd, int) {
    Json req = SocketServer::read_request(fd);
    EXPECT_EQ(req["method"], "zagent.login");
    EXPECT_EQ(req["params"], Json::array({"bob", "pw"}));
    SocketServer::write_text(fd, rpc::encode_line(rpc::make_error(
                                     req["id"], rpc::standard_error(rpc::StdError::Unauthorized))));
  });
  SocketClient client({server.url(), "bob", "pw", -1});
  auto r = client.call("supervisor.getVersion", Json::array());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CallError::Kind::Rpc);
  EXPECT_EQ(r.error().rpc.code, -32001);
}

TEST(SocketClient, TimeoutDropsTheConnectionAndTheNextCallReconnects) {
  SocketServer server;
  server.serve(2, [](int fd, int index) {
    Json req = SocketServer::read_request(fd);
    if (index == 0) {
      SocketServer::read_line(fd);  // never answers; returns when the client hangs up
      return;
    }
    SocketServer::reply(fd, req["id"], true);
  });
  SocketClient client({server.url(), "", "", -1});
  auto r = client.call_with_timeout("supervisor.startProcess", Json::array({"slow", true}), 20ms);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CallError::Kind::Timeout);
  auto again = client.call("supervisor.startProcess", Json::array({"ok", true}));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, true);
}

TEST(SocketClient, WaitEventSeesInputAndTheInterruptPipe) {
  SocketServer server;
  int input[2];
  int interrupt[2];
  ASSERT_EQ(::pipe2(input, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(interrupt, O_CLOEXEC | O_NONBLOCK), 0);
  server.serve(1, [](int fd, int) {
    Json req = SocketServer::read_request(fd);
    SocketServer::reply(fd, req["id"], Json::object());
    SocketServer::read_line(fd);  // until the client closes
  });
  SocketClient client({server.url(), "", "", interrupt[0]});
  ASSERT_TRUE(client.call("zagent.followMainLog", Json::array({1024})).has_value());
  auto event = client.wait_event(input[0], 10ms);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Event::Kind::Timeout);
  ASSERT_EQ(::write(input[1], "l\n", 2), 2);
  event = client.wait_event(input[0], std::nullopt);
  EXPECT_EQ(event->kind, Event::Kind::InputReady);
  ASSERT_EQ(::write(interrupt[1], "i", 1), 1);
  event = client.wait_event(-1, std::nullopt);
  EXPECT_EQ(event->kind, Event::Kind::Interrupted);
  // The pipe was drained: the next wait is not interrupted again.
  event = client.wait_event(-1, 0ms);
  EXPECT_EQ(event->kind, Event::Kind::Timeout);
  client.reset();
  for (int fd : {input[0], input[1], interrupt[0], interrupt[1]}) {
    ::close(fd);
  }
}

}  // namespace
}  // namespace zagent::ctl
