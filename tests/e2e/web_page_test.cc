// The web page, /metrics and the probes on a real zagent over [inet_http_server] and the unix
// socket, and the page driven in a real browser: Debian's headless chromium, steered over
// its DevTools pipe (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4), loads the
// page, checks the rows, clicks a process's Stop button and sees its state change on the
// page the redirect brings. Screenshots are kept in the build tree
// (build/tests/artifacts/web_page.png, web_page_before.png). Skipped, with a message, only
// when chromium is missing. Chromium runs in its own process group, killed at the end.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

#include "tests/e2e/agent_fixture.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kChromium = "/usr/bin/chromium";
const std::string kArtifacts = ZAGENT_ARTIFACTS_DIR;
const std::string kParseMetrics = ZAGENT_PARSE_METRICS;
const std::string kSystemPython = "/usr/bin/python3";


struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

/// One HTTP/1.1 request with `Connection: close` on a connected socket; reads to EOF.
std::optional<HttpReply> http_exchange(int fd, const std::string& request) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string all;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos || all.size() < 12) {
    return std::nullopt;
  }
  HttpReply r;
  r.status = std::atoi(all.c_str() + 9);
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

std::optional<HttpReply> http_get(int port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return std::nullopt;
  }
  return http_exchange(fd, get_request(target));
}

std::optional<HttpReply> unix_get(const std::string& path, const std::string& target) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return std::nullopt;
  }
  return http_exchange(fd, get_request(target));
}

/// Standard base64, as Page.captureScreenshot sends its PNG.
std::string base64_decode(const std::string& in) {
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (const char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') {
      d = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      d = c - '0' + 52;
    } else if (c == '+') {
      d = 62;
    } else if (c == '/') {
      d = 63;
    } else {
      continue;  // '=' and line breaks
    }
    value = (value << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

/// Headless chromium steered over the DevTools pipe; its whole process group is killed in
/// the destructor.
class Browser {
 public:
  explicit Browser(const std::string& profile_dir) {
    int to_browser[2];
    int from_browser[2];
    if (::pipe2(to_browser, O_CLOEXEC) != 0 || ::pipe2(from_browser, O_CLOEXEC) != 0) {
      return;
    }
    std::vector<std::string> args = {kChromium,
                                     "--headless=new",
                                     "--disable-gpu",
                                     "--remote-debugging-pipe",
                                     "--user-data-dir=" + profile_dir,
                                     "--no-first-run",
                                     "--no-default-browser-check",
                                     "--disable-extensions",
                                     "--disable-background-networking",
                                     "--disable-sync",
                                     "--disable-dev-shm-usage",
                                     "--window-size=1400,900",
                                     "about:blank"};
    if (::geteuid() == 0) {
      args.insert(args.begin() + 1, "--no-sandbox");  // chromium refuses to run as root else
    }
    std::filesystem::create_directories(profile_dir);
    const std::string log = profile_dir + "/chromium.log";
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      // Moved above 10 first: a pipe end that already is fd 3 or 4 would keep its CLOEXEC
      // through a dup2 onto itself.
      const int in = ::fcntl(to_browser[0], F_DUPFD_CLOEXEC, 10);
      const int out_pipe = ::fcntl(from_browser[1], F_DUPFD_CLOEXEC, 10);
      ::dup2(in, 3);
      ::dup2(out_pipe, 4);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      ::execv(kChromium.c_str(), argv.data());
      ::_exit(127);
    }
    if (pid_ > 0) {
      ::setpgid(pid_, pid_);  // both sides set it: no race with the exec
    }
    ::close(to_browser[0]);
    ::close(from_browser[1]);
    write_fd_ = to_browser[1];
    read_fd_ = from_browser[0];
  }

  ~Browser() {
    if (pid_ > 0) {
      (void)send("Browser.close", Json::object(), "", std::chrono::milliseconds(3000));
      ::kill(-pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (write_fd_ >= 0) {
      ::close(write_fd_);
    }
    if (read_fd_ >= 0) {
      ::close(read_fd_);
    }
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  bool started() const { return pid_ > 0; }

  /// One command; its `result`, or nullopt (with the error in last_error) on an error or when
  /// no answer came within `deadline`.
  std::optional<Json> send(const std::string& method, const Json& params,
                           const std::string& session = "",
                           std::chrono::milliseconds deadline = std::chrono::milliseconds(15000)) {
    const int id = ++next_id_;
    Json msg = {{"id", id}, {"method", method}, {"params", params}};
    if (!session.empty()) {
      msg["sessionId"] = session;
    }
    std::string text = msg.dump();
    text += '\0';
    if (::write(write_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      last_error = "write to the DevTools pipe failed";
      return std::nullopt;
    }
    const auto until = Clock::now() + deadline;
    while (true) {
      for (size_t nul; (nul = buffer_.find('\0')) != std::string::npos;) {
        const Json reply = Json::parse(buffer_.substr(0, nul), nullptr, false);
        buffer_.erase(0, nul + 1);
        if (reply.is_object() && reply.value("id", -1) == id) {
          if (reply.contains("error")) {
            last_error = method + ": " + reply["error"].dump();
            return std::nullopt;
          }
          return reply.value("result", Json::object());
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) {
        last_error = method + ": no answer in time";
        return std::nullopt;
      }
      pollfd p{read_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n <= 0) {
        last_error = method + ": the browser closed its pipe";
        return std::nullopt;
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  std::string last_error;

 private:
  pid_t pid_ = -1;
  int write_fd_ = -1;
  int read_fd_ = -1;
  int next_id_ = 0;
  std::string buffer_;  // bytes read, not yet split into messages
};

/// A page of the browser (a target it attached to, flat session).
class Tab {
 public:
  explicit Tab(Browser& browser) : browser_(browser) {
    const auto target = browser_.send("Target.createTarget", {{"url", "about:blank"}});
    if (!target) {
      return;
    }
    const auto attached = browser_.send(
        "Target.attachToTarget", {{"targetId", (*target)["targetId"]}, {"flatten", true}});
    if (attached) {
      session_ = (*attached)["sessionId"].get<std::string>();
    }
  }
  bool ok() const { return !session_.empty(); }

  std::optional<Json> send(const std::string& method, const Json& params = Json::object()) {
    return browser_.send(method, params, session_);
  }
  /// The value of a JS expression (null when it threw or the page is between loads).
  Json eval(const std::string& expression) {
    const auto r = send("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
    if (!r || r->contains("exceptionDetails")) {
      return nullptr;
    }
    return (*r)["result"].value("value", Json(nullptr));
  }
  bool navigate(const std::string& url) {
    return send("Page.navigate", {{"url", url}}).has_value() &&
           wait_until([&] { return eval("document.readyState") == "complete" &&
                                   eval("location.href").get<std::string>().rfind(url, 0) == 0; });
  }
  /// A real mouse click in the middle of the element `selector`.
  bool click(const std::string& selector) {
    const Json rect = eval("(() => { const e = document.querySelector('" + selector +
                           "'); if (!e) return null; e.scrollIntoView({block:'center'});"
                           " const r = e.getBoundingClientRect();"
                           " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
    if (!rect.is_object()) {
      return false;
    }
    for (const char* type : {"mousePressed", "mouseReleased"}) {
      if (!send("Input.dispatchMouseEvent", {{"type", type},
                                             {"x", rect["x"]},
                                             {"y", rect["y"]},
                                             {"button", "left"},
                                             {"clickCount", 1}})) {
        return false;
      }
    }
    return true;
  }
  bool screenshot(const std::string& path) {
    const auto shot = send("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
    if (!shot) {
      return false;
    }
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << base64_decode((*shot)["data"].get<std::string>());
    return std::filesystem::file_size(path) > 100;
  }

 private:
  Browser& browser_;
  std::string session_;
};

class WebPageTest : public AgentFixture {
 protected:
  /// The agent with [inet_http_server] on a free loopback port; the page is up when true.
  bool start_with_http(const std::string& programs) {
    port_ = free_port();
    if (port_ == 0) {
      ADD_FAILURE() << "no free port";
      return false;
    }
    const std::string inet = "[inet_http_server]\nport=127.0.0.1:" + std::to_string(port_) + "\n";
    if (!start_agent(inet + programs)) {
      return false;
    }
    if (!wait_until([&] { return http_get(port_, "/livez").has_value(); })) {
      ADD_FAILURE() << "no HTTP on port " << port_ << "\n" << main_log();
      return false;
    }
    return true;
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(port_) + target;
  }

  int port_ = 0;
};

const std::string kPrograms =
    program("web", helper("sleep_forever"), "startsecs=0\n") +
    program("idle", helper("sleep_forever"), "autostart=false\n") +
    program("api", helper("sleep_forever"), "startsecs=0\n") +
    program("worker", helper("sleep_forever"), "startsecs=0\n") + "[group:g]\nprograms=api,worker\n";

TEST_F(WebPageTest, ProbesAndMetricsOnBothListeners) {
  ASSERT_TRUE(start_with_http(kPrograms));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  ASSERT_TRUE(wait_state("g:worker", "RUNNING"));
  const auto livez = http_get(port_, "/livez");
  ASSERT_TRUE(livez);
  EXPECT_EQ(livez->status, 200);
  std::optional<HttpReply> ready;
  EXPECT_TRUE(wait_until([&] {
    ready = http_get(port_, "/readyz");
    return ready && ready->status == 200;
  })) << (ready ? ready->body : "no answer");
  ASSERT_EQ(ctl("stop web").exit_code, 0);
  const auto unready = http_get(port_, "/readyz");
  ASSERT_TRUE(unready);
  EXPECT_EQ(unready->status, 503);
  EXPECT_NE(unready->body.find("web is STOPPED"), std::string::npos) << unready->body;

  for (const bool on_unix : {false, true}) {
    const auto metrics = on_unix ? unix_get(sock(), "/metrics") : http_get(port_, "/metrics");
    ASSERT_TRUE(metrics) << (on_unix ? "unix socket" : "inet");
    EXPECT_EQ(metrics->status, 200);
    EXPECT_NE(metrics->head.find("text/plain; version=0.0.4"), std::string::npos) << metrics->head;
    EXPECT_NE(metrics->body.find("zagent_program_up{name=\"web\",group=\"web\"} 0\n"),
              std::string::npos)
        << metrics->body;
    EXPECT_NE(metrics->body.find("zagent_program_up{name=\"api\",group=\"g\"} 1\n"),
              std::string::npos);
    if (!on_unix && std::filesystem::exists(kSystemPython)) {
      const std::string saved = dir_.write("metrics.txt", metrics->body);
      const RunResult parsed = run({kSystemPython, kParseMetrics, "--agent", saved});
      if (parsed.exit_code != 77) {
        EXPECT_EQ(parsed.exit_code, 0) << parsed.out << parsed.err;
      }
    }
  }
  const auto page = unix_get(sock(), "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("data-process=\"g:api\""), std::string::npos);
}

TEST_F(WebPageTest, CurlDrivesThePageWithoutJavaScript) {
  ASSERT_TRUE(start_with_http(kPrograms));
  ASSERT_TRUE(wait_state("g:api", "RUNNING"));
  // supervisord's GET link still acts, and redirects with the message.
  const auto stop = http_get(port_, "/index.html?processname=g%3Aapi&action=stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 303);
  EXPECT_NE(stop->head.find("Location: index.html?message=Process%20g%3Aapi%20stopped"),
            std::string::npos)
      << stop->head;
  EXPECT_TRUE(wait_state("g:api", "STOPPED"));
  const auto page = http_get(port_, "/index.html?message=Process%20g%3Aapi%20stopped");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("data-process=\"g:api\" data-state=\"STOPPED\""), std::string::npos);
  EXPECT_NE(page->body.find(">Process g:api stopped</div>"), std::string::npos);
}

TEST_F(WebPageTest, ChromiumClicksStop) {
  if (!std::filesystem::exists(kChromium)) {
    GTEST_SKIP() << kChromium << " is not installed (apt-get install chromium): no browser test";
  }
  ASSERT_TRUE(start_with_http(kPrograms));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  ASSERT_TRUE(wait_state("g:api", "RUNNING"));
  ASSERT_TRUE(wait_state("g:worker", "RUNNING"));

  Browser browser(dir_.file("chromium-profile"));
  ASSERT_TRUE(browser.started());
  Tab tab(browser);
  ASSERT_TRUE(tab.ok()) << browser.last_error << read_file(dir_.file("chromium-profile/chromium.log"));
  ASSERT_TRUE(tab.navigate(url("/"))) << browser.last_error;

  const Json rows = tab.eval(
      "Array.from(document.querySelectorAll('tbody tr[data-process]')).map(r => "
      "[r.dataset.process, r.querySelector('td.state').textContent])");
  EXPECT_EQ(rows, Json::parse(R"([["g:api","running"],["g:worker","running"],)"
                              R"(["idle","stopped"],["web","running"]])"));
  EXPECT_TRUE(tab.screenshot(kArtifacts + "/web_page_before.png"));

  ASSERT_TRUE(tab.click("tr[data-process=\"web\"] button[value=\"stop\"]")) << browser.last_error;
  Json seen;
  EXPECT_TRUE(wait_until([&] {
    seen = tab.eval(
        "[location.search, document.querySelector('tr[data-process=\"web\"] td.state')"
        ".textContent, (document.getElementById('message') || {}).textContent]");
    return seen.is_array() && seen[1] == "stopped";
  })) << seen;
  EXPECT_EQ(seen, Json::array({"?message=Process%20web%20stopped", "stopped", "Process web stopped"}));
  EXPECT_TRUE(tab.screenshot(kArtifacts + "/web_page.png"));
  EXPECT_TRUE(wait_state("web", "STOPPED"));
  EXPECT_TRUE(wait_state("g:api", "RUNNING"));
}

}  // namespace
}  // namespace zagent::test::e2e
