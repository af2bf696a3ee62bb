// The pages over a real method table with fakes (agent/http/pages.h): routing, the page's
// actions (POST forms and supervisord's GET links), /metrics, /livez, /readyz, the tail page.
#include <memory>
#include <optional>
#include <string>

#include "agent/http/pages.h"
#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

using http::Request;
using http::Response;

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

const std::string kPrograms =
    "[program:web]\ncommand=/bin/web\nstdout_logfile=/var/log/web.out\n"
    "[program:api]\ncommand=/bin/api\nautostart=false\n"
    "[program:worker]\ncommand=/bin/worker\nautostart=false\nstdout_logfile=NONE\n"
    "[group:g]\nprograms=api,worker\n";

class PagesTest : public RpcMethodsTest {
 protected:
  /// Serves one request; the slot fills when it is answered (at once or later).
  std::shared_ptr<std::optional<Response>> serve_async(const std::string& method,
                                                       const std::string& target,
                                                       const std::string& body = "",
                                                       const std::string& type = "") {
    auto slot = std::make_shared<std::optional<Response>>();
    auto answers = std::make_shared<int>(0);
    Request request{method, target, type, body};
    http::serve_page(*methods_, request, [slot, answers](Response r) {
      EXPECT_EQ(++*answers, 1) << "answered twice";
      *slot = std::move(r);
    });
    return slot;
  }
  /// A request that must be answered at once.
  Response serve(const std::string& method, const std::string& target,
                 const std::string& body = "",
                 const std::string& type = "application/x-www-form-urlencoded") {
    auto slot = serve_async(method, target, body, type);
    if (!slot->has_value()) {
      ADD_FAILURE() << method << " " << target << " was not answered at once";
      return Response{};
    }
    return **slot;
  }
  /// Starts the autostart programs and lets them reach RUNNING.
  void start_all() {
    supervisor_->start();
    advance(1100ms);
  }
};

TEST_F(PagesTest, IsPage) {
  for (const char* p : {"/", "/index.html", "/tail.html", "/metrics", "/livez", "/readyz"}) {
    EXPECT_TRUE(http::is_page(p)) << p;
  }
  for (const char* p : {"/RPC2", "/logtail/web", "/metrics/", "/index.htm", ""}) {
    EXPECT_FALSE(http::is_page(p)) << p;
  }
}

TEST_F(PagesTest, Livez) {
  make(kPrograms);
  const Response r = serve("GET", "/livez");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(PagesTest, ReadyzWaitsForEveryAutostartProgram) {
  make(kPrograms);
  Response r = serve("GET", "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "not ready:\n  web is STOPPED\n");  // api, worker: not autostart
  start_all();
  r = serve("GET", "/readyz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ready\n");
  child_exit("web", exited_with(1));
  r = serve("GET", "/readyz?verbose");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "not ready:\n  web is STARTING\n");  // restarted after the exit
}

TEST_F(PagesTest, ReadyzDuringShutdownIsNotReady) {
  make(kPrograms);
  start_all();
  control_.agent_state = SupervisorState::Shutdown;
  const Response r = serve("GET", "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_TRUE(contains(r.body, "not ready:")) << r.body;
}

TEST_F(PagesTest, MetricsOfTheTable) {
  make(kPrograms);
  start_all();
  CrashRecord record;
  record.program = "web";
  record.cause.evidence = {{"wait_status", "exit status 1"}};
  record.ended = 100;
  control_.crashes.add(record);
  control_.crashes.add(record);
  const Response r = serve("GET", "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(contains(r.body, "zagent_ready 1\n")) << r.body;
  EXPECT_TRUE(contains(r.body, "zagent_state 1\n"));
  EXPECT_TRUE(contains(r.body, "zagent_program_up{name=\"web\",group=\"web\"} 1\n"));
  EXPECT_TRUE(contains(r.body, "zagent_program_up{name=\"api\",group=\"g\"} 0\n"));
  EXPECT_TRUE(contains(r.body, "zagent_program_state{name=\"worker\",group=\"g\"} 0\n"));
  EXPECT_TRUE(contains(
      r.body, "zagent_program_restarts_total{name=\"web\",group=\"web\",cause=\"exited\"} 2\n"));
  EXPECT_TRUE(contains(r.body, "zagent_program_respawns_total{name=\"web\",group=\"web\"} 0\n"));
  // Never exited, no resource monitor, no GPU: left out.
  EXPECT_FALSE(contains(r.body, "zagent_program_last_exit_code"));
  EXPECT_FALSE(contains(r.body, "zagent_program_cpu_seconds_total"));
  EXPECT_FALSE(contains(r.body, "zagent_gpu_"));
}

TEST_F(PagesTest, MetricsLastExitCode) {
  make(kPrograms + "[program:once]\ncommand=/bin/once\nautorestart=false\n");
  start_all();
  child_exit("once", exited_with(4));  // EXITED: the process info has the code
  child_exit("web", exited_with(3));   // restarted: the code comes from its crash record
  CrashRecord record;
  record.program = "web";
  record.cause.evidence = {{"wait_status", "exit status 3"}};
  record.exit_code = 3;
  control_.crashes.add(record);
  const Response r = serve("GET", "/metrics");
  EXPECT_TRUE(contains(r.body, "zagent_program_last_exit_code{name=\"once\",group=\"once\"} 4\n"))
      << r.body;
  EXPECT_TRUE(contains(r.body, "zagent_program_last_exit_code{name=\"web\",group=\"web\"} 3\n"));
  EXPECT_FALSE(contains(r.body, "zagent_program_last_exit_code{name=\"api\""));
  EXPECT_TRUE(contains(r.body, "zagent_ready 0\n"));
}

TEST_F(PagesTest, StatusPageRowsSortedWithNamespecs) {
  make(kPrograms);
  start_all();
  const Response r = serve("GET", "/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  const std::size_t api = r.body.find("data-process=\"g:api\"");
  const std::size_t worker = r.body.find("data-process=\"g:worker\"");
  const std::size_t web = r.body.find("data-process=\"web\" data-state=\"RUNNING\"");
  ASSERT_NE(api, std::string::npos) << r.body;
  ASSERT_NE(worker, std::string::npos);
  ASSERT_NE(web, std::string::npos);
  EXPECT_LT(api, worker);
  EXPECT_LT(worker, web);
  EXPECT_TRUE(contains(r.body, "<h1>supervisor status</h1>"));
  EXPECT_FALSE(contains(r.body, "status_msg\""));
  EXPECT_EQ(serve("GET", "/index.html").body, r.body);
}

TEST_F(PagesTest, StatusPageShowsTheMessage) {
  make(kPrograms);
  const Response r = serve("GET", "/?message=Process%20web%20stopped");
  EXPECT_TRUE(contains(r.body, "<div class=\"status_msg\" id=\"message\">Process web stopped</div>"));
}

TEST_F(PagesTest, PostStopRedirectsWithTheMessageOnceStopped) {
  make(kPrograms);
  start_all();
  auto slot = serve_async("POST", "/index.html", "processname=web&action=stop",
                          "application/x-www-form-urlencoded");
  EXPECT_FALSE(slot->has_value());  // stopProcess waits for the exit
  child_exit("web", killed_by(SIGTERM));
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ((*slot)->status, 303u);
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=Process%20web%20stopped");
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(PagesTest, SupervisordGetLinkStartsAGroupProcess) {
  make(kPrograms);
  auto slot = serve_async("GET", "/index.html?processname=g%3Aapi&action=start");
  EXPECT_FALSE(slot->has_value());  // startProcess waits for RUNNING
  advance(1100ms);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ((*slot)->status, 303u);
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=Process%20g%3Aapi%20started");
  EXPECT_EQ(state("g", "api"), ProcessState::Running);
}

TEST_F(PagesTest, FaultsBecomeTheMessage) {
  make(kPrograms);
  Response r = serve("POST", "/", "processname=web&action=stop");
  EXPECT_EQ(header(r, "Location"), "index.html?message=ERROR%3A%20Process%20web%3A%20NOT_RUNNING%3A%20web");
  r = serve("POST", "/", "processname=nosuch&action=start");
  EXPECT_EQ(header(r, "Location"), "index.html?message=No%20such%20process%20named%20nosuch");
  control_.probe.missing.insert("/bin/web");
  r = serve("POST", "/", "processname=web&action=start");
  EXPECT_EQ(header(r, "Location"), "index.html?message=ERROR%3A%20Process%20web%3A%20no%20such%20file");
}

TEST_F(PagesTest, ClearLogAndRefresh) {
  make(kPrograms);
  control_.files["/var/log/web.out"] = "old output\n";
  Response r = serve("POST", "/", "processname=web&action=clearlog");
  EXPECT_EQ(header(r, "Location"), "index.html?message=Log%20for%20web%20cleared");
  EXPECT_EQ(control_.files["/var/log/web.out"], "");
  r = serve("POST", "/", "action=refresh");
  EXPECT_EQ(header(r, "Location"), "index.html?message=Page%20refreshed");
}

TEST_F(PagesTest, StopAllAndRestartAll) {
  make(kPrograms);
  start_all();
  auto slot = serve_async("POST", "/", "action=stopall");
  child_exit("web", killed_by(SIGTERM));
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=All%20stopped");
  EXPECT_EQ(state("web"), ProcessState::Stopped);

  slot = serve_async("POST", "/", "action=restartall");
  advance(1100ms);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=All%20restarted");
  EXPECT_EQ(state("web"), ProcessState::Running);
  EXPECT_EQ(state("g", "api"), ProcessState::Running);
}

TEST_F(PagesTest, RestartOfAStoppedProcessStartsIt) {
  make(kPrograms);
  auto slot = serve_async("POST", "/", "processname=web&action=restart");
  advance(1100ms);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=Process%20web%20restarted");
  EXPECT_EQ(state("web"), ProcessState::Running);
}

TEST_F(PagesTest, HeadNeverActs) {
  make(kPrograms);
  const Response r = serve("HEAD", "/index.html?processname=web&action=start");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(PagesTest, BadRequests) {
  make(kPrograms);
  Response r = serve("POST", "/", "processname=web&action=explode");
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(contains(r.body, "index.html: unknown action 'explode'")) << r.body;
  r = serve("POST", "/", "action=stop");
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(contains(r.body, "needs a processname"));
  r = serve("POST", "/metrics");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD");
  r = serve("DELETE", "/");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, POST");
  // A broken escape is kept as it is, not a crash.
  r = serve("GET", "/tail.html?processname=%zz%4");
  EXPECT_TRUE(contains(r.body, "Tail of process %zz%4")) << r.body;
}

TEST_F(PagesTest, FormDecodingPlusAndPercent) {
  make(kPrograms);
  start_all();
  auto slot = serve_async("POST", "/index.html?action=refresh", "processname=web&action=stop",
                          "application/x-www-form-urlencoded; charset=UTF-8");
  child_exit("web", killed_by(SIGTERM));
  ASSERT_TRUE(slot->has_value());  // the body's action wins over the query's
  EXPECT_EQ(header(**slot, "Location"), "index.html?message=Process%20web%20stopped");
  const Response r = serve("GET", "/?message=All+stopped");
  EXPECT_TRUE(contains(r.body, ">All stopped</div>"));
}

TEST_F(PagesTest, TailPage) {
  make(kPrograms);
  control_.files["/var/log/web.out"] = "hello <world>\n";
  Response r = serve("GET", "/tail.html?processname=web");
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(contains(r.body, "<pre id=\"tail\">hello &lt;world&gt;\n</pre>")) << r.body;
  EXPECT_TRUE(contains(r.body, "limit=1024"));
  r = serve("GET", "/tail.html?processname=g:worker");
  EXPECT_TRUE(contains(r.body, "No file for g:worker")) << r.body;
  r = serve("GET", "/tail.html");
  EXPECT_TRUE(contains(r.body, "No process name found"));
  r = serve("GET", "/tail.html?processname=web&limit=5000");
  EXPECT_TRUE(contains(r.body, "limit=5000"));
  r = serve("GET", "/tail.html?processname=nosuch");
  EXPECT_TRUE(contains(r.body, "ERROR: unexpected rpc fault [10] BAD_NAME: nosuch")) << r.body;
}

TEST_F(PagesTest, UnknownPathIs404) {
  make(kPrograms);
  EXPECT_EQ(serve("GET", "/nope").status, 404u);
}

}  // namespace
}  // namespace zagent::rpc_test
