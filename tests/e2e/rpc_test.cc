// End-to-end: the real zagent's control socket, spoken to in raw JSON lines from the test.
// Every wait is a condition with a deadline; every test stops the agent and leaves no process
// behind (agent_fixture.h).
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/agent_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using namespace std::chrono_literals;

/// A blocking JSON-lines client on the agent's Unix socket; every read has a deadline.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error_ = std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  /// Writes every byte (blocking).
  bool send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Sends one request (id = next id) without reading; returns the id.
  int send_request(std::string_view method, const Json& params = Json::array()) {
    const int id = next_id_++;
    send_raw(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() +
             "\n");
    return id;
  }

  /// The next line, or nullopt at EOF or when the deadline passes.
  std::optional<std::string> read_line(std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (eof_ || fd_ < 0) {
        return std::nullopt;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready <= 0) {
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        eof_ = true;
        continue;
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// The next message as JSON (null at EOF/deadline or for a line that is not JSON).
  Json read_json(std::chrono::milliseconds deadline = 10s) {
    auto line = read_line(deadline);
    if (!line) {
      return nullptr;
    }
    return Json::parse(*line, nullptr, false);
  }

  /// The response to `id`; notifications seen on the way are kept for next_notification().
  Json response(int id, std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      Json j = read_json(std::max(left, 0ms));
      if (j.is_null()) {
        return nullptr;
      }
      if (j.is_object() && !j.contains("id")) {
        notifications_.push_back(std::move(j));
        continue;
      }
      if (j.is_object() && j["id"] == id) {
        return j;
      }
      ADD_FAILURE() << "unexpected message " << j;
    }
  }

  /// One call: the whole response object (null when none came).
  Json call(std::string_view method, const Json& params = Json::array(),
            std::chrono::milliseconds deadline = 10s) {
    return response(send_request(method, params), deadline);
  }
  /// One call's `result`; fails the test on an error.
  Json result(std::string_view method, const Json& params = Json::array()) {
    const Json r = call(method, params);
    EXPECT_TRUE(r.is_object() && r.contains("result")) << method << " " << params << " -> " << r;
    return r.is_object() && r.contains("result") ? r["result"] : Json();
  }

  /// The next notification (queued or read), or null.
  Json next_notification(std::chrono::milliseconds deadline = 10s) {
    if (!notifications_.empty()) {
      Json j = std::move(notifications_.front());
      notifications_.pop_front();
      return j;
    }
    Json j = read_json(deadline);
    EXPECT_TRUE(j.is_null() || !j.contains("id"))
        << "a response where a notification was due: " << j;
    return j;
  }

  /// Bytes waiting in the socket's receive queue (sent by the agent, not yet read).
  int pending_bytes() const {
    int n = 0;
    ::ioctl(fd_, FIONREAD, &n);
    return n;
  }

 private:
  int fd_ = -1;
  std::string error_;
  std::string buffer_;
  bool eof_ = false;
  int next_id_ = 1;
  std::deque<Json> notifications_;
};

Json error_response(const Json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

/// The shared fixture with a JSON-lines client on the agent's socket; the agent logs at debug
/// level (more to read when a test fails).
class RpcFixture : public AgentFixture {
 protected:
  RpcFixture() { loglevel_ = "debug"; }

  /// A new connection to the agent's socket (a test failure if it cannot connect).
  std::unique_ptr<Client> connect() {
    auto c = std::make_unique<Client>(sock());
    EXPECT_TRUE(c->connected()) << c->error();
    return c;
  }

  /// The agent is alive, answers on a new connection, and has printed nothing alarming.
  void expect_healthy() {
    ASSERT_TRUE(process_alive(agent_->pid())) << read_file(dir_.file("agent.err"));
    auto c = connect();
    EXPECT_EQ(c->result("supervisor.getState"), Json({{"statecode", 1}, {"statename", "RUNNING"}}));
    const std::string err = read_file(dir_.file("agent.err"));
    EXPECT_THAT(err, Not(HasSubstr("terminate called")));
    EXPECT_THAT(err, Not(HasSubstr("runtime error")));
    EXPECT_THAT(err, Not(HasSubstr("Sanitizer")));
    EXPECT_THAT(main_log(), Not(HasSubstr("internal:")));
  }
};

// ---- the protocol -----------------------------------------------------------------------------

TEST_F(RpcFixture, NormalCall) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  c->send_raw(R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getState","params":[]})"
              "\n");
  EXPECT_EQ(c->read_json(), Json::parse(R"({"jsonrpc":"2.0","id":1,"result":)"
                                        R"({"statecode":1,"statename":"RUNNING"}})"));
  // Named parameters, a string id, no params member.
  c->send_raw(R"({"jsonrpc":"2.0","id":"x","method":"supervisor.getPID"})"
              "\n");
  EXPECT_EQ(c->read_json(), Json({{"jsonrpc", "2.0"}, {"id", "x"}, {"result", agent_->pid()}}));
  c->send_raw(R"({"jsonrpc":"2.0","id":null,"method":"system.methodSignature",)"
              R"("params":{"name":"supervisor.getProcessInfo"}})"
              "\r\n");
  EXPECT_EQ(c->read_json(),
            Json({{"jsonrpc", "2.0"}, {"id", nullptr}, {"result", {"struct", "string"}}}));
  stop_agent();
}

TEST_F(RpcFixture, MalformedJsonThenTheConnectionKeepsWorking) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  c->send_raw("{not json\n");
  EXPECT_EQ(c->read_json(), error_response(nullptr, -32700, "Parse error"));
  c->send_raw("\xff\xfe\n");
  EXPECT_EQ(c->read_json(), error_response(nullptr, -32700, "Parse error"));
  c->send_raw("\n   \n");  // blank lines are ignored
  EXPECT_EQ(c->result("supervisor.getAPIVersion"), "3.0");
  stop_agent();
}

TEST_F(RpcFixture, InvalidRequestObjects) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  const std::vector<std::pair<std::string, Json>> cases = {
      {R"(42)", error_response(nullptr, -32600, "Invalid Request: not an object")},
      {R"({"jsonrpc":"1.0","id":5,"method":"supervisor.getState"})",
       error_response(5, -32600, R"(Invalid Request: jsonrpc must be "2.0")")},
      {R"({"id":6,"method":"supervisor.getState"})",
       error_response(6, -32600, R"(Invalid Request: jsonrpc must be "2.0")")},
      {R"({"jsonrpc":"2.0","id":7})",
       error_response(7, -32600, "Invalid Request: method must be a string")},
      {R"({"jsonrpc":"2.0","id":8,"method":3})",
       error_response(8, -32600, "Invalid Request: method must be a string")},
      {R"({"jsonrpc":"2.0","id":9,"method":"supervisor.getState","params":3})",
       error_response(9, -32600, "Invalid Request: params must be an array or an object")},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"supervisor.getState"})",
       error_response(nullptr, -32600, "Invalid Request: id must be a string, an integer or null")},
      {R"({"jsonrpc":"2.0","id":[1],"method":"supervisor.getState"})",
       error_response(nullptr, -32600, "Invalid Request: id must be a string, an integer or null")},
      {R"([])", error_response(nullptr, -32600, "Invalid Request: empty batch")},
  };
  for (const auto& [line, expected] : cases) {
    c->send_raw(line + "\n");
    EXPECT_EQ(c->read_json(), expected) << line;
  }
  EXPECT_EQ(c->result("supervisor.getAPIVersion"), "3.0");
  stop_agent();
}

TEST_F(RpcFixture, BatchAnswersEveryCallButNotifications) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  c->send_raw(R"([{"jsonrpc":"2.0","id":1,"method":"supervisor.getAPIVersion"},)"
              R"({"jsonrpc":"2.0","method":"supervisor.getPID"},)"
              R"(7,)"
              R"({"jsonrpc":"2.0","id":3,"method":"supervisor.nosuch"},)"
              R"({"jsonrpc":"2.0","method":"supervisor.nosuch"},)"
              R"({"jsonrpc":"2.0","id":"s","method":"supervisor.getProcessInfo","params":["x"]}])"
              "\n");
  EXPECT_EQ(c->read_json(),
            Json::parse(R"([{"jsonrpc":"2.0","id":1,"result":"3.0"},)"
                        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,)"
                        R"("message":"Invalid Request: not an object"}},)"
                        R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,)"
                        R"("message":"Method not found: supervisor.nosuch",)"
                        R"("data":{"faultCode":1,"faultString":"UNKNOWN_METHOD"}}},)"
                        R"({"jsonrpc":"2.0","id":"s","error":{"code":10,)"
                        R"("message":"BAD_NAME: x"}}])"));
  // Only notifications: nothing at all comes back; the next reply is the next call's.
  c->send_raw(R"([{"jsonrpc":"2.0","method":"supervisor.getPID"},)"
              R"({"jsonrpc":"2.0","method":"supervisor.getState"}])"
              "\n");
  c->send_raw(R"({"jsonrpc":"2.0","method":"supervisor.getPID"})"
              "\n");
  c->send_raw(R"({"jsonrpc":"2.0","id":99,"method":"supervisor.getAPIVersion"})"
              "\n");
  EXPECT_EQ(c->read_json(), Json({{"jsonrpc", "2.0"}, {"id", 99}, {"result", "3.0"}}));
  stop_agent();
}

TEST_F(RpcFixture, UnknownMethodAndWrongParams) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  Json unknown = error_response(1, -32601, "Method not found: supervisor.nosuch");
  unknown["error"]["data"] = {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}};
  EXPECT_EQ(c->call("supervisor.nosuch"), unknown);
  Json wrong = error_response(
      2, -32602, "Invalid params: supervisor.getProcessInfo: parameter 'name' must be a string");
  wrong["error"]["data"] = {
      {"faultCode", 2},
      {"faultString",
       "INCORRECT_PARAMETERS: supervisor.getProcessInfo: parameter 'name' must be a string"}};
  EXPECT_EQ(c->call("supervisor.getProcessInfo", {42}), wrong);
  Json count =
      error_response(3, -32602, "Invalid params: supervisor.getState takes 0 arguments, got 1");
  count["error"]["data"] = {
      {"faultCode", 2},
      {"faultString", "INCORRECT_PARAMETERS: supervisor.getState takes 0 arguments, got 1"}};
  EXPECT_EQ(c->call("supervisor.getState", {1}), count);
  Json follow = error_response(4, -32602,
                               "Invalid params: zagent.followProcessLog: name and channel must "
                               "be strings");
  follow["error"]["data"] = {
      {"faultCode", 2},
      {"faultString",
       "INCORRECT_PARAMETERS: zagent.followProcessLog: name and channel must be strings"}};
  EXPECT_EQ(c->call("zagent.followProcessLog", {1}), follow);
  EXPECT_EQ(c->call("supervisor.getProcessInfo", {"nosuch"}),
            error_response(5, 10, "BAD_NAME: nosuch"));
  stop_agent();
}

TEST_F(RpcFixture, OversizedFrameIsRefusedAndTheNextRequestWorks) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  // Exactly at the limit (1 MiB, newline excluded) is accepted.
  std::string at_limit = R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getAPIVersion")";
  at_limit += std::string(1024 * 1024 - at_limit.size() - 1, ' ') + "}";
  ASSERT_EQ(at_limit.size(), 1024u * 1024u);
  ASSERT_TRUE(c->send_raw(at_limit + "\n"));
  EXPECT_EQ(c->read_json(), Json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", "3.0"}}));
  // One byte more is not.
  std::string over = R"({"jsonrpc":"2.0","id":2,"method":"supervisor.getAPIVersion")";
  over += std::string(1024 * 1024 - over.size(), ' ') + "}";
  ASSERT_TRUE(c->send_raw(over + "\n"));
  EXPECT_EQ(c->read_json(),
            error_response(nullptr, -32002,
                           "Frame too large: a request line may hold at most 1048576 bytes"));
  EXPECT_EQ(c->result("supervisor.getAPIVersion"), "3.0");
  // A much larger one, sent in pieces, then a request in the same write as its end.
  ASSERT_TRUE(c->send_raw(std::string(3 * 1024 * 1024, 'x')));
  ASSERT_TRUE(c->send_raw(std::string(1024, 'y') +
                          "\n"
                          R"({"jsonrpc":"2.0","id":77,"method":"supervisor.getAPIVersion"})"
                          "\n"));
  EXPECT_EQ(c->read_json(),
            error_response(nullptr, -32002,
                           "Frame too large: a request line may hold at most 1048576 bytes"));
  EXPECT_EQ(c->read_json(), Json({{"jsonrpc", "2.0"}, {"id", 77}, {"result", "3.0"}}));
  stop_agent();
}

// Bug: a deeply nested request (a line of `[[[[...`) overflowed the stack when the request
// was copied, and the agent died.
TEST_F(RpcFixture, DeeplyNestedRequestIsRefused) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  const std::string head = R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getState","params":)";
  for (const std::size_t depth : {std::size_t{257}, std::size_t{300'000}}) {
    ASSERT_TRUE(c->send_raw(head + std::string(depth, '[') + std::string(depth, ']') + "}\n"));
    EXPECT_EQ(c->read_json(),
              error_response(nullptr, -32600, "Invalid Request: nested deeper than 256 levels"))
        << depth;
  }
  // 256 levels in all are fine; brackets inside strings do not count.
  ASSERT_TRUE(c->send_raw(head + std::string(255, '[') + std::string(255, ']') + "}\n"));
  EXPECT_EQ(c->read_json()["error"]["code"], -32602);
  const std::string name = std::string(1000, '[') + "\\\"{";
  EXPECT_EQ(c->call("supervisor.getProcessInfo", {name}),
            error_response(1, 10, "BAD_NAME: " + name));
  expect_healthy();
  stop_agent();
}

// ---- misbehaving clients ----------------------------------------------------------------------

TEST_F(RpcFixture, HalfARequestThenGoneOrIdleBlocksNobody) {
  ASSERT_TRUE(start_agent(""));
  {
    auto gone = connect();
    gone->send_raw(R"({"jsonrpc":"2.0","id":1,"meth)");
  }
  auto idle = connect();
  idle->send_raw(R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getS)");
  auto other = connect();
  EXPECT_EQ(other->result("supervisor.getAPIVersion"), "3.0");
  // The idle one finishes its line later and is answered.
  idle->send_raw("tate\"}\n");
  EXPECT_EQ(idle->read_json(), Json({{"jsonrpc", "2.0"},
                                     {"id", 1},
                                     {"result", {{"statecode", 1}, {"statename", "RUNNING"}}}}));
  expect_healthy();
  stop_agent();
}

TEST_F(RpcFixture, ClientGoneWhileAWaitingStartIsPending) {
  ASSERT_TRUE(start_agent("[program:slow]\ncommand=" + helper("sleep_forever") +
                          "\nautostart=false\nstartsecs=2\n"));
  {
    auto gone = connect();
    gone->send_request("supervisor.startProcess", {"slow", true});
    // Gone at once, before the reply can come (startsecs=2).
  }
  auto c = connect();
  // Others are served while the start waits.
  ASSERT_TRUE(wait_until(
      [&] { return c->result("supervisor.getProcessInfo", {"slow"})["statename"] == "STARTING"; }));
  ASSERT_TRUE(wait_log("success: slow entered RUNNING state"));
  EXPECT_EQ(c->result("supervisor.getProcessInfo", {"slow"})["statename"], "RUNNING");
  // A waiting stop whose client leaves too.
  {
    auto gone = connect();
    gone->send_request("supervisor.stopProcess", {"slow", true});
  }
  ASSERT_TRUE(wait_log("stopped: slow"));
  expect_healthy();
  stop_agent();
}

// A client that half-closes after its requests (`socat`, `nc -N`) still gets every reply,
// however large or late, before the agent closes the connection.
TEST_F(RpcFixture, HalfClosedClientGetsItsReplies) {
  constexpr std::size_t kBytes = 2'000'000;
  ASSERT_TRUE(start_agent("[program:big]\ncommand=" + helper("spew") + " " +
                          std::to_string(kBytes) +
                          "\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/big.out\n"
                          "[program:slow]\ncommand=" +
                          helper("sleep_forever") + "\nautostart=false\nstartsecs=1\n"));
  ASSERT_TRUE(wait_log("exited: big (exit status 0; expected)"));
  auto c = connect();
  const int read = c->send_request("supervisor.readProcessStdoutLog", {"big", 0, 0});
  const int start = c->send_request("supervisor.startProcess", {"slow"});
  ASSERT_EQ(::shutdown(c->fd(), SHUT_WR), 0);
  const Json r = c->response(read);
  ASSERT_TRUE(r.contains("result")) << r;
  EXPECT_TRUE(r["result"] == spew_output(kBytes)) << "the log came back cut short";
  EXPECT_EQ(c->response(start), Json({{"jsonrpc", "2.0"}, {"id", start}, {"result", true}}));
  EXPECT_EQ(c->read_line(5s), std::nullopt);  // then the agent closes
  expect_healthy();
  stop_agent();
}

TEST_F(RpcFixture, WaitingStartHoldsOnlyItsOwnConnection) {
  ASSERT_TRUE(start_agent("[program:slow]\ncommand=" + helper("sleep_forever") +
                          "\nautostart=false\nstartsecs=1\n"));
  auto waiting = connect();
  const int id = waiting->send_request("supervisor.startProcess", {"slow"});
  auto other = connect();
  EXPECT_EQ(other->result("supervisor.getAPIVersion"), "3.0");
  EXPECT_EQ(waiting->read_line(0ms), std::nullopt);  // not yet
  EXPECT_EQ(waiting->response(id), Json({{"jsonrpc", "2.0"}, {"id", id}, {"result", true}}));
  EXPECT_THAT(main_log(), HasSubstr("success: slow entered RUNNING state"));
  stop_agent();
}

TEST_F(RpcFixture, HundredClientsAtOnce) {
  ASSERT_TRUE(start_agent(""));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(connect());
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  std::vector<int> ids;
  for (auto& c : clients) {
    ids.push_back(c->send_request("supervisor.getPID"));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(clients[i]->response(ids[i]),
              Json({{"jsonrpc", "2.0"}, {"id", ids[i]}, {"result", agent_->pid()}}))
        << "client " << i;
  }
  expect_healthy();
  stop_agent();
}

/// CPU time (user + system) the process has used, in clock ticks.
long long cpu_ticks(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) {
    return -1;
  }
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  long long utime = 0;
  long long stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) {
      utime = std::stoll(field);
    } else if (i == 15) {
      stime = std::stoll(field);
      break;
    }
  }
  return utime + stime;
}

/// The RLIMIT_NOFILE that leaves the process exactly one free descriptor number.
rlim_t limit_for_one_more_fd(pid_t pid) {
  std::set<int> used;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    used.insert(std::stoi(e.path().filename().string()));
  }
  int limit = 0;
  for (int free = 0; free < 1; ++limit) {
    free += used.count(limit) == 0 ? 1 : 0;
  }
  return static_cast<rlim_t>(limit);
}

// Bug: when accept() failed with EMFILE the server retried at once, forever: the agent spun
// at 100% CPU for as long as it was out of descriptors.
TEST_F(RpcFixture, OutOfDescriptorsDoesNotSpinAndRecovers) {
  ASSERT_TRUE(start_agent(""));
  const pid_t pid = agent_->pid();
  auto first = connect();
  EXPECT_EQ(first->result("supervisor.getAPIVersion"), "3.0");
  // Room for exactly one more connection.
  rlimit lim{};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &lim), 0);
  const rlimit tight{limit_for_one_more_fd(pid), lim.rlim_max};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr), 0);
  auto second = connect();
  EXPECT_EQ(second->result("supervisor.getAPIVersion"), "3.0");
  // These wait in the listen backlog: accept() fails with EMFILE.
  std::vector<std::unique_ptr<Client>> queued;
  std::vector<int> ids;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(connect());
    ids.push_back(queued.back()->send_request("supervisor.getPID"));
  }
  EXPECT_EQ(queued[0]->read_line(300ms), std::nullopt);
  // Busy-retrying would burn about a second of CPU per second; allow a tenth of that.
  const long long t0 = cpu_ticks(pid);
  const long long hz = ::sysconf(_SC_CLK_TCK);
  EXPECT_FALSE(wait_until([&] { return cpu_ticks(pid) - t0 > hz / 2; }, 1500ms))
      << "the agent used " << cpu_ticks(pid) - t0 << " ticks while out of descriptors";
  // Connected clients are still served.
  EXPECT_EQ(first->result("supervisor.getAPIVersion"), "3.0");
  // Descriptors free up: the waiting connections are accepted and answered.
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &lim, nullptr), 0);
  first->close();
  second->close();
  for (std::size_t i = 0; i < queued.size(); ++i) {
    EXPECT_EQ(queued[i]->response(ids[i]),
              Json({{"jsonrpc", "2.0"}, {"id", ids[i]}, {"result", pid}}));
  }
  expect_healthy();
  stop_agent();
}

TEST_F(RpcFixture, ClientThatNeverReadsDoesNotBlockOthers) {
  constexpr std::size_t kBytes = 8'000'000;
  ASSERT_TRUE(start_agent("[program:big]\ncommand=" + helper("spew") + " " +
                          std::to_string(kBytes) +
                          "\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/big.out\n"));
  ASSERT_TRUE(wait_until([&] {
    std::error_code ec;
    return std::filesystem::file_size(dir_.file("big.out"), ec) == kBytes;
  }));
  auto lazy = connect();
  const int follow = lazy->send_request("zagent.followProcessLog", {"big", "stdout", kBytes});
  // The agent pushes until the lazy client's socket is full...
  ASSERT_TRUE(wait_until([&] { return lazy->pending_bytes() > 100'000; })) << lazy->pending_bytes();
  // ... and keeps serving everyone else meanwhile.
  auto other = connect();
  for (int i = 0; i < 20; ++i) {
    const Json r = other->call("supervisor.getAllProcessInfo", Json::array(), 3s);
    ASSERT_TRUE(r.contains("result")) << i << " " << r;
  }
  auto late = connect();
  EXPECT_EQ(late->result("supervisor.getAPIVersion"), "3.0");
  // Nothing was lost: the whole file arrives, in order.
  EXPECT_EQ(lazy->response(follow)["result"], Json({{"name", "big"}, {"channel", "stdout"}}));
  std::string data;
  while (data.size() < kBytes) {
    const Json n = lazy->next_notification();
    ASSERT_FALSE(n.is_null()) << "after " << data.size() << " bytes";
    ASSERT_EQ(n["method"], "zagent.logData");
    ASSERT_EQ(n["params"]["id"], follow);
    ASSERT_EQ(n["params"]["truncated"], false);
    data += n["params"]["data"].get<std::string>();
  }
  EXPECT_TRUE(data == spew_output(kBytes)) << "the followed data differs";
  stop_agent();
}

// ---- following logs ---------------------------------------------------------------------------

/// Reads zagent.logData notifications of follow `id` until `want` bytes came (or a truncation
/// mark when `want` is empty and `truncated` is set).
std::string collect(Client& c, int id, std::size_t want, bool* truncated_seen = nullptr) {
  std::string data;
  while (data.size() < want || (truncated_seen != nullptr && !*truncated_seen)) {
    const Json n = c.next_notification();
    if (n.is_null()) {
      ADD_FAILURE() << "no more notifications after " << data.size() << " bytes: " << data;
      break;
    }
    EXPECT_EQ(n["method"], "zagent.logData");
    EXPECT_EQ(n["params"]["id"], id);
    if (n["params"]["truncated"] == true) {
      EXPECT_EQ(n["params"]["data"], "");
      if (truncated_seen != nullptr) {
        *truncated_seen = true;
      }
      continue;
    }
    data += n["params"]["data"].get<std::string>();
  }
  return data;
}

TEST_F(RpcFixture, FollowProcessLogPushesNewOutputAndTruncation) {
  ASSERT_TRUE(start_agent("[program:talker]\ncommand=" + helper("spew") +
                          " 5000\nautostart=false\nstartsecs=0\nautorestart=false\n"));
  auto c = connect();
  const int id = c->send_request("zagent.followProcessLog", {"talker", "stdout", 0});
  EXPECT_EQ(c->response(id), Json({{"jsonrpc", "2.0"},
                                   {"id", id},
                                   {"result", {{"name", "talker"}, {"channel", "stdout"}}}}));
  EXPECT_EQ(c->result("supervisor.startProcess", {"talker"}), true);
  EXPECT_EQ(collect(*c, id, 5000), spew_output(5000));
  ASSERT_TRUE(wait_log("exited: talker (exit status 0; expected)"));
  // The file is emptied: a truncation mark, then the new output from its start.
  EXPECT_EQ(c->result("supervisor.clearProcessLogs", {"talker"}), true);
  bool truncated = false;
  EXPECT_EQ(collect(*c, id, 0, &truncated), "");
  EXPECT_TRUE(truncated);
  EXPECT_EQ(c->result("supervisor.startProcess", {"talker"}), true);
  EXPECT_EQ(collect(*c, id, 5000), spew_output(5000));
  stop_agent();
}

TEST_F(RpcFixture, FollowProcessLogInitialTailAndFaults) {
  ASSERT_TRUE(start_agent("[program:talker]\ncommand=" + helper("spew") +
                          " 3000\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/t.out\n"
                          "[program:mute]\ncommand=" +
                          helper("sleep_forever") +
                          "\nautostart=false\nstdout_logfile=NONE\n"
                          "[program:later]\ncommand=" +
                          helper("sleep_forever") +
                          "\nautostart=false\nstdout_logfile=%(here)s/later.out\n"));
  ASSERT_TRUE(wait_log("exited: talker (exit status 0; expected)"));
  auto c = connect();
  // Default: the last 1024 bytes at once.
  const int id = c->send_request("zagent.followProcessLog", {"talker"});
  EXPECT_EQ(c->response(id)["result"], Json({{"name", "talker"}, {"channel", "stdout"}}));
  EXPECT_EQ(collect(*c, id, 1024), spew_output(3000).substr(3000 - 1024));
  EXPECT_EQ(c->call("zagent.followProcessLog", {"nosuch"}),
            error_response(2, 10, "BAD_NAME: nosuch"));
  EXPECT_EQ(c->call("zagent.followProcessLog", {"talker:*"}),
            error_response(3, 10, "BAD_NAME: talker:*"));
  EXPECT_EQ(c->call("zagent.followProcessLog", {"mute"}), error_response(4, 20, "NO_FILE: None"));
  EXPECT_EQ(c->call("zagent.followProcessLog", {"later"}),
            error_response(5, 20, "NO_FILE: " + dir_.file("later.out")));
  EXPECT_EQ(c->call("zagent.followProcessLog", {"talker", "stdin"})["error"]["message"],
            "Invalid params: zagent.followProcessLog: channel must be stdout or stderr");
  // An AUTO stderr file exists from the start, empty.
  EXPECT_EQ(c->call("zagent.followProcessLog", {"talker", "STDERR", 5})["result"],
            Json({{"name", "talker"}, {"channel", "stderr"}}));
  stop_agent();
}

TEST_F(RpcFixture, FollowMainLog) {
  ASSERT_TRUE(
      start_agent("[program:talker]\ncommand=" + helper("sleep_forever") + "\nautostart=false\n"));
  auto c = connect();
  const int id = c->send_request("zagent.followMainLog", {0});
  EXPECT_EQ(c->response(id), Json({{"jsonrpc", "2.0"}, {"id", id}, {"result", Json::object()}}));
  EXPECT_EQ(c->result("supervisor.startProcess", {"talker", false}), true);
  std::string data;
  ASSERT_TRUE(wait_until([&] {
    const Json n = c->next_notification(100ms);
    if (!n.is_null()) {
      EXPECT_EQ(n["params"]["id"], id);
      data += n["params"]["data"].get<std::string>();
    }
    return data.find("spawned: 'talker' with pid") != std::string::npos;
  })) << data;
  // Only new lines: nothing from before the follow.
  EXPECT_THAT(data, Not(HasSubstr("supervisord started with pid")));
  stop_agent();
}

// ---- access control ---------------------------------------------------------------------------

TEST_F(RpcFixture, LoginRequiredWhenAUsernameIsSet) {
  ASSERT_TRUE(start_agent(
      "", {.server = "username=alice\npassword={SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\n"}));
  auto c = connect();
  EXPECT_EQ(c->call("supervisor.getState"),
            error_response(1, -32001, "Unauthorized: this agent requires zagent.login first"));
  EXPECT_EQ(c->call("system.listMethods"),
            error_response(2, -32001, "Unauthorized: this agent requires zagent.login first"));
  EXPECT_EQ(c->call("zagent.followMainLog"),
            error_response(3, -32001, "Unauthorized: this agent requires zagent.login first"));
  EXPECT_EQ(c->call("zagent.login", {"alice", "wrong"}),
            error_response(4, -32001, "Unauthorized: wrong username or password"));
  EXPECT_EQ(c->call("zagent.login", {"bob", "test"}),
            error_response(5, -32001, "Unauthorized: wrong username or password"));
  EXPECT_EQ(c->call("supervisor.getState"),
            error_response(6, -32001, "Unauthorized: this agent requires zagent.login first"));
  EXPECT_EQ(c->result("zagent.login", {"alice", "test"}), true);
  EXPECT_EQ(c->result("supervisor.getState"), Json({{"statecode", 1}, {"statename", "RUNNING"}}));
  // Per connection.
  auto fresh = connect();
  EXPECT_EQ(fresh->call("supervisor.getAPIVersion"),
            error_response(1, -32001, "Unauthorized: this agent requires zagent.login first"));
  EXPECT_EQ(fresh->result("zagent.login", Json{{"username", "alice"}, {"password", "test"}}), true);
  EXPECT_EQ(fresh->result("supervisor.getAPIVersion"), "3.0");
  stop_agent();
}

TEST_F(RpcFixture, LoginWithPlainPassword) {
  ASSERT_TRUE(start_agent("", {.server = "username=alice\npassword=s3cret\n"}));
  auto c = connect();
  EXPECT_EQ(c->call("zagent.login", {"alice", "S3cret"}),
            error_response(1, -32001, "Unauthorized: wrong username or password"));
  EXPECT_EQ(c->result("zagent.login", {"alice", "s3cret"}), true);
  EXPECT_EQ(c->result("supervisor.getAPIVersion"), "3.0");
  stop_agent();
}

TEST_F(RpcFixture, NoLoginNeededWithoutUsername) {
  ASSERT_TRUE(start_agent(""));
  auto c = connect();
  EXPECT_EQ(c->result("zagent.login", {"anyone", "anything"}), true);
  stop_agent();
}

/// Connects as `uid` from a forked child and returns the first line the agent sent ("EOF" if
/// the connection ended without one, "ERR ..." if the child could not connect).
std::string line_as_uid(const std::string& path, uid_t uid, gid_t gid) {
  int fds[2];
  if (::pipe(fds) != 0) {
    return "pipe failed";
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
      out = "ERR setuid";
    } else {
      Client c(path);
      if (!c.connected()) {
        out = "ERR " + c.error();
      } else {
        c.send_raw(R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getState"})"
                   "\n");
        auto line = c.read_line(10s);
        out = line ? *line : "EOF";
        if (line && c.read_line(10s)) {
          out += " (and the connection stayed open)";
        }
      }
    }
    const ssize_t n = ::write(fds[1], out.data(), out.size());
    ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return got;
}

TEST_F(RpcFixture, OtherUidsAreRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to connect as another uid";
  }
  // Let `nobody` reach the socket at all: the file mode is the other access control.
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
  ASSERT_TRUE(start_agent("", {.server = "chmod=0777\n"}));
  const std::string line = line_as_uid(sock(), 65534, 65534);
  EXPECT_EQ(Json::parse(line, nullptr, false),
            error_response(nullptr, -32001, "Unauthorized: uid 65534 may not control this agent"))
      << line;
  // Root (the agent's own uid) is served.
  auto c = connect();
  EXPECT_EQ(c->result("supervisor.getAPIVersion"), "3.0");
  stop_agent();
}

TEST_F(RpcFixture, SocketModeDefaultsTo0700) {
  ASSERT_TRUE(start_agent(""));
  struct stat st {};
  ASSERT_EQ(::stat(sock().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  stop_agent();
}

TEST_F(RpcFixture, SocketModeFollowsChmod) {
  ASSERT_TRUE(start_agent("", {.server = "chmod=0660\n"}));
  struct stat st {};
  ASSERT_EQ(::stat(sock().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  stop_agent();
}

// ---- agent lifetime ---------------------------------------------------------------------------

TEST_F(RpcFixture, ShutdownRepliesThenTheAgentExits) {
  ASSERT_TRUE(
      start_agent("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n"));
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  auto c = connect();
  EXPECT_EQ(c->call("supervisor.shutdown"),
            Json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", true}}));
  const auto code = agent_->wait(15s);
  ASSERT_TRUE(code.has_value()) << main_log();
  EXPECT_EQ(*code, 0) << read_file(dir_.file("agent.err"));
  EXPECT_EQ(c->read_line(5s), std::nullopt);  // then the connection ends
  EXPECT_THAT(main_log(), HasSubstr("stopped: sleeper"));
  EXPECT_FALSE(std::filesystem::exists(sock()));
}

TEST_F(RpcFixture, ShutdownStateAfterShutdownBegan) {
  ASSERT_TRUE(start_agent("[program:stubborn]\ncommand=" + helper("ignore_sigterm") +
                          "\nstartsecs=0\nstopwaitsecs=3\nstdout_logfile=%(here)s/stubborn.out\n"));
  ASSERT_TRUE(wait_log("success: stubborn entered RUNNING state"));
  // RUNNING comes at once with startsecs=0: SIGTERM is ignored only once it says so.
  ASSERT_TRUE(wait_file("stubborn.out", "ready\n"));
  auto c = connect();
  EXPECT_EQ(c->result("supervisor.shutdown"), true);
  // The stubborn program keeps the agent alive for stopwaitsecs: calls now get SHUTDOWN_STATE.
  ASSERT_TRUE(wait_until([&] {
    const Json r = c->call("supervisor.getState");
    return r.contains("error") && r["error"]["code"] == 6;
  }));
  EXPECT_EQ(c->call("supervisor.getPID")["error"],
            Json({{"code", 6}, {"message", "SHUTDOWN_STATE"}}));
  const auto code = agent_->wait(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(RpcFixture, RestartRepliesThenTheAgentServesAgain) {
  ASSERT_TRUE(
      start_agent("[program:sleeper]\ncommand=" + helper("sleep_forever") + "\nstartsecs=0\n"));
  ASSERT_TRUE(wait_log("success: sleeper entered RUNNING state"));
  auto c = connect();
  EXPECT_EQ(c->call("supervisor.restart"), Json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", true}}));
  EXPECT_EQ(c->read_line(10s), std::nullopt);  // this life's connections end
  ASSERT_TRUE(wait_until([&] { return spawned_pids().size() == 2; })) << main_log();
  // The same socket serves the next life.
  auto again = connect();
  ASSERT_TRUE(wait_until([&] {
    return again->result("supervisor.getProcessInfo", {"sleeper"})["statename"] == "RUNNING";
  }));
  EXPECT_EQ(again->result("supervisor.getPID"), agent_->pid());
  stop_agent();
}

TEST_F(RpcFixture, SecondAgentOnTheSameSocketIsRefused) {
  ASSERT_TRUE(start_agent(""));
  const auto second = run({kZagent, "-c", conf_, "-n"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_THAT(second.err, HasSubstr("Error: Another program is already listening on a port that "
                                    "one of our HTTP servers is configured to use."));
  auto c = connect();
  EXPECT_EQ(c->result("supervisor.getPID"), agent_->pid());
  stop_agent();
}

}  // namespace
}  // namespace zagent::test::e2e
