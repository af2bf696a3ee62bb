// The method table through RpcMethods::call with fakes only (STYLE.md §7): a FakeAgentControl
// (state, files, posted work), the FakeSpawner behind a wrapper that can fail signals, the
// FakeClock and the FakeLogSink. Exact results and exact fault codes and strings, as
// spec/rpc.md gives them.
#include "agent/rpc/methods.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <csignal>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_config_host.h"
#include "tests/support/fake_log_sink.h"
#include "tests/support/fake_spawner.h"

namespace zagent {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using namespace std::chrono_literals;

// Raw wait statuses as waitpid reports them.
int exited_with(int code) { return (code & 0xff) << 8; }
int killed_by(int signo) { return signo & 0x7f; }

/// Every command exists and is executable unless listed.
class FakeFileProbe final : public FileProbe {
 public:
  FileStatus stat(const std::string& path) const override {
    if (missing.count(path) != 0) {
      return {};
    }
    return FileStatus{true, false, not_executable.count(path) == 0};
  }
  bool can_execute(const std::string&) const override { return true; }

  std::set<std::string> missing;
  std::set<std::string> not_executable;
};

class FakeAgentControl final : public AgentControl {
 public:
  SupervisorState state() const override { return agent_state; }
  void request_shutdown() override { ++shutdowns; }
  void request_restart() override { ++restarts; }
  ConfigLoad reread_config() override { return next_load; }
  LogPaths create_auto_logs(const GroupConfig& group) override {
    LogPaths paths;
    for (const auto& p : group.processes) {
      for (const auto& [channel, log] :
           {std::pair<std::string, const LogChannelConfig*>{"stdout", &p.stdout_log},
            {"stderr", &p.stderr_log}}) {
        if (log->logfile.kind == LogTargetKind::Auto) {
          const std::string path = "/auto/" + p.name + "-" + channel + ".log";
          paths[{group.name, p.name, channel}] = path;
          files[path] = "";
        }
      }
    }
    auto_log_groups.push_back(group.name);
    return paths;
  }
  std::string main_log_path() const override { return main_log; }
  Result<void> clear_main_log() override {
    if (clear_main_log_fails) {
      return fail("unlink: Permission denied");
    }
    files[main_log] = "";
    ++main_log_clears;
    return {};
  }
  const FileProbe& file_probe() const override { return probe; }
  std::optional<std::string> agent_path() const override { return std::string("/usr/bin:/bin"); }
  pid_t agent_pid() const override { return 4242; }
  void post(std::function<void()> work) override { posted.push_back(std::move(work)); }
  void changed() override { ++changes; }

  Result<std::int64_t> file_size(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) {
      return fail("stat " + path + ": No such file or directory", ErrorCode::NotFound);
    }
    return static_cast<std::int64_t>(it->second.size());
  }
  Result<std::string> read_file(const std::string& path, std::int64_t offset,
                                std::int64_t length) override {
    if (throw_on_read) {
      throw std::runtime_error("disk on fire");
    }
    auto it = files.find(path);
    if (it == files.end() || unreadable.count(path) != 0) {
      return fail("read " + path + ": Input/output error");
    }
    const std::string& content = it->second;
    if (offset >= static_cast<std::int64_t>(content.size())) {
      return std::string();
    }
    const auto start = static_cast<std::size_t>(offset);
    return length < 0 ? content.substr(start)
                      : content.substr(start, static_cast<std::size_t>(length));
  }
  Result<void> clear_log(const std::string& path) override {
    if (untruncatable.count(path) != 0) {
      return fail("unlink " + path + ": Read-only file system");
    }
    files[path] = "";
    return {};
  }
  std::optional<std::string> log_error(const std::string& path) const override {
    auto it = log_errors.find(path);
    return it == log_errors.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

  /// Runs posted work until none is left (work may post more).
  void run_posted() {
    while (!posted.empty()) {
      auto work = std::move(posted.front());
      posted.pop_front();
      work();
    }
  }

  SupervisorState agent_state = SupervisorState::Running;
  int shutdowns = 0;
  int restarts = 0;
  int changes = 0;
  int main_log_clears = 0;
  bool clear_main_log_fails = false;
  bool throw_on_read = false;
  ConfigLoad next_load;
  std::string main_log = "/var/log/z.log";
  std::map<std::string, std::string> files;  // path -> content
  std::set<std::string> unreadable;
  std::set<std::string> untruncatable;
  std::map<std::string, std::string> log_errors;  // log_error() answers
  std::vector<std::string> auto_log_groups;  // create_auto_logs calls, by group
  std::deque<std::function<void()>> posted;
  FakeFileProbe probe;
};

/// The FakeSpawner, plus failing kill() on request (FakeSpawner's signals always succeed).
class TestSpawner final : public Spawner {
 public:
  Result<pid_t> spawn(const SpawnSpec& spec) override { return fake.spawn(spec); }
  Result<void> send_signal(pid_t pid, int signo, bool to_group) override {
    if (signal_error) {
      return fail(*signal_error);
    }
    return fake.send_signal(pid, signo, to_group);
  }
  std::vector<ProcessId> descendants(pid_t root) override { return fake.descendants(root); }
  bool signal_if_alive(const ProcessId& process, int signo) override {
    return fake.signal_if_alive(process, signo);
  }

  test::FakeSpawner fake;
  std::optional<std::string> signal_error;
};

/// An outcome as one JSON value, so that results and faults compare (and print) exactly:
/// {"result": R} or {"error": {"code": C, "message": M[, "data": D]}}.
Json as_json(const RpcOutcome& o) {
  if (o) {
    return Json{{"result", *o}};
  }
  Json e = {{"code", o.error().code}, {"message", o.error().message}};
  if (!o.error().data.is_null()) {
    e["data"] = o.error().data;
  }
  return Json{{"error", std::move(e)}};
}
Json R(Json value) { return Json{{"result", std::move(value)}}; }
Json F(int code, const std::string& message) {
  return Json{{"error", {{"code", code}, {"message", message}}}};
}
/// -32602 with its INCORRECT_PARAMETERS data.
Json InvalidParams(const std::string& detail) {
  return Json{{"error",
               {{"code", -32602},
                {"message", "Invalid params: " + detail},
                {"data", {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: " + detail}}}}}};
}
/// A result struct of the group/all methods.
Json RS(const std::string& group, const std::string& name, int status = 80,
        const std::string& description = "OK") {
  return Json{{"name", name}, {"group", group}, {"status", status}, {"description", description}};
}

std::int64_t epoch(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class RpcMethodsTest : public ::testing::Test {
 protected:
  /// Loads `[supervisord]` + `programs` as /srv/z.conf and builds supervisor and methods.
  void make(const std::string& programs) {
    const AgentConfig config = load(programs);
    LogPaths paths;
    for (const auto& g : config.groups) {
      const LogPaths p = control_.create_auto_logs(g);
      paths.insert(p.begin(), p.end());
    }
    control_.auto_log_groups.clear();
    methods_.reset();  // it unregisters from the old supervisor: first
    supervisor_ = std::make_unique<Supervisor>(config, paths, EnvironmentList{{"PATH", "/bin"}},
                                               spawner_, clock_, log_);
    methods_ = std::make_unique<RpcMethods>(*supervisor_, control_, clock_, config);
  }

  AgentConfig load(const std::string& programs) {
    host_.add_file("/srv/z.conf", "[supervisord]\nlogfile=/var/log/z.log\n" + programs);
    auto l = load_config("/srv/z.conf", {}, host_);
    EXPECT_TRUE(l.config.has_value()) << (l.errors.empty() ? "" : l.errors[0].render());
    return l.config ? *l.config : AgentConfig{};
  }

  /// Rewrites the config file; the next reloadConfig reads it.
  void rewrite(const std::string& programs) {
    host_.add_file("/srv/z.conf", "[supervisord]\nlogfile=/var/log/z.log\n" + programs);
    control_.next_load = load_config("/srv/z.conf", {}, host_);
  }

  /// Starts a call; the slot is filled when it replies (at once or later).
  std::shared_ptr<std::optional<Json>> call_async(std::string_view method,
                                                  const Json& params = Json::array()) {
    auto slot = std::make_shared<std::optional<Json>>();
    auto replies = std::make_shared<int>(0);
    methods_->call(method, params, [slot, replies](RpcOutcome o) {
      EXPECT_EQ(++*replies, 1) << "replied twice";
      *slot = as_json(o);
    });
    return slot;
  }

  /// A call that must reply at once.
  Json call(std::string_view method, const Json& params = Json::array()) {
    auto slot = call_async(method, params);
    if (!slot->has_value()) {
      ADD_FAILURE() << method << " " << params << " did not reply at once";
      return Json("no reply");
    }
    return **slot;
  }

  ProcessState state(const std::string& group, const std::string& name) const {
    const ProcessEntry* e = supervisor_->find(group, name);
    return e == nullptr ? ProcessState::Unknown : e->record.state;
  }
  ProcessState state(const std::string& name) const { return state(name, name); }
  pid_t pid(const std::string& name) const { return spawner_.fake.pid_of.at(name); }
  pid_t live_pid(const std::string& group, const std::string& name) const {
    const ProcessEntry* e = supervisor_->find(group, name);
    return e == nullptr ? -1 : e->record.pid;
  }

  /// Lets `d` pass, ticks the supervisor and runs what was posted (waiters).
  void advance(std::chrono::milliseconds d) {
    clock_.advance(d);
    supervisor_->tick();
    control_.run_posted();
  }
  /// A child of ours exits; then the posted waiters run.
  void child_exit(const std::string& name, int status) {
    ASSERT_TRUE(supervisor_->on_child_exit(pid(name), status)) << name;
    control_.run_posted();
  }
  /// Starts `name` (startsecs given in its config) without waiting and lets it reach RUNNING.
  void start_running(const std::string& namespec) {
    ASSERT_EQ(call("supervisor.startProcess", {namespec, false}), R(true)) << namespec;
    advance(1100ms);
  }

  test::FakeConfigHost host_;
  TestSpawner spawner_;
  test::FakeClock clock_;
  test::FakeLogSink log_;
  FakeAgentControl control_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<RpcMethods> methods_;
};

const std::string kWeb =
    "[program:web]\ncommand=/bin/web\nautostart=false\nstdout_logfile=/var/log/web.out\n"
    "stderr_logfile=/var/log/web.err\n";

// ---- agent methods ----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, VersionsIdentificationStateAndPid) {
  make("identifier=zed\n" + kWeb);
  EXPECT_EQ(call("supervisor.getAPIVersion"), R("3.0"));
  EXPECT_EQ(call("supervisor.getVersion"), R("3.0"));
  EXPECT_EQ(call("supervisor.getSupervisorVersion"), R("4.2.5"));
  EXPECT_EQ(call("supervisor.getIdentification"), R("zed"));
  EXPECT_EQ(call("supervisor.getState"), R({{"statecode", 1}, {"statename", "RUNNING"}}));
  EXPECT_EQ(call("supervisor.getPID"), R(4242));
}

TEST_F(RpcMethodsTest, IdentificationDefaultsToSupervisor) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.getIdentification"), R("supervisor"));
}

TEST_F(RpcMethodsTest, ShutdownAndRestartReplyTrueThenAsk) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.shutdown"), R(true));
  EXPECT_EQ(control_.shutdowns, 1);
  EXPECT_EQ(call("supervisor.restart"), R(true));
  EXPECT_EQ(control_.restarts, 1);
}

TEST_F(RpcMethodsTest, EveryCallReportsAChange) {
  make(kWeb);
  const int before = control_.changes;
  call("supervisor.getState");
  call("supervisor.startProcess", {"web", false});
  EXPECT_EQ(control_.changes, before + 2);
}

TEST_F(RpcMethodsTest, StateDuringShutdownAndRestart) {
  make(kWeb);
  control_.agent_state = SupervisorState::Shutdown;
  EXPECT_EQ(call("supervisor.getState"), F(6, "SHUTDOWN_STATE"));
  control_.agent_state = SupervisorState::Restarting;
  EXPECT_EQ(call("supervisor.getState"), F(6, "SHUTDOWN_STATE"));
}

/// A valid argument of each XML-RPC type, for calls where only the state check matters.
Json sample_arg(const std::string& type) {
  if (type == "string") {
    return "web";
  }
  if (type == "int") {
    return 0;
  }
  if (type == "boolean") {
    return false;
  }
  if (type == "array") {
    return Json::array();
  }
  return Json::object();
}

TEST_F(RpcMethodsTest, EverySupervisorMethodButSendRemoteCommEventFailsDuringShutdown) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "log";
  for (const SupervisorState s : {SupervisorState::Shutdown, SupervisorState::Restarting}) {
    control_.agent_state = s;
    int checked = 0;
    for (const std::string& name : methods_->method_names()) {
      if (name.starts_with("system.")) {
        continue;
      }
      control_.agent_state = SupervisorState::Running;
      const Json sig = call("system.methodSignature", {name})["result"];
      control_.agent_state = s;
      Json params = Json::array();
      for (std::size_t i = 1; i < sig.size(); ++i) {
        params.push_back(sample_arg(sig[i].get<std::string>()));
      }
      if (name == "supervisor.sendRemoteCommEvent") {
        EXPECT_EQ(call(name, params), R(true));
      } else {
        EXPECT_EQ(call(name, params), F(6, "SHUTDOWN_STATE")) << name;
      }
      ++checked;
    }
    EXPECT_EQ(checked, 38);  // 37 supervisor.* + zagent.updateProcessGroup
    EXPECT_EQ(control_.shutdowns + control_.restarts, 0);
    EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
    // system.* still work.
    EXPECT_EQ(call("system.methodHelp", {"supervisor.getPID"}), R("The agent's process id."));
  }
}

// ---- main log ---------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, ReadLogOffsetRules) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "0123456789";
  // offset < 0, length 0: the last -offset bytes, or the whole file.
  EXPECT_EQ(call("supervisor.readLog", {-4, 0}), R("6789"));
  EXPECT_EQ(call("supervisor.readLog", {-100, 0}), R("0123456789"));
  // offset < 0, length != 0.
  EXPECT_EQ(call("supervisor.readLog", {-4, 2}), F(3, "BAD_ARGUMENTS"));
  // offset >= 0, length < 0.
  EXPECT_EQ(call("supervisor.readLog", {0, -1}), F(3, "BAD_ARGUMENTS"));
  // offset >= 0, length 0: to the end.
  EXPECT_EQ(call("supervisor.readLog", {3, 0}), R("3456789"));
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), R("0123456789"));
  // otherwise up to length bytes from offset.
  EXPECT_EQ(call("supervisor.readLog", {2, 3}), R("234"));
  EXPECT_EQ(call("supervisor.readLog", {8, 5}), R("89"));
  EXPECT_EQ(call("supervisor.readLog", {20, 5}), R(""));
  // The alias.
  EXPECT_EQ(call("supervisor.readMainLog", {2, 3}), R("234"));
  // A read error.
  control_.unreadable.insert("/var/log/z.log");
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(30, "FAILED"));
  EXPECT_EQ(call("supervisor.readLog", {-3, 0}), F(30, "FAILED"));
}

TEST_F(RpcMethodsTest, ReadLogWithoutFile) {
  make(kWeb);
  // NO_FILE comes before the argument check, as supervisord's readLog.
  EXPECT_EQ(call("supervisor.readLog", {0, -1}), F(20, "NO_FILE: /var/log/z.log"));
  control_.main_log = "";  // syslog
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(20, "NO_FILE: None"));
}

TEST_F(RpcMethodsTest, ClearLog) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.clearLog"), F(20, "NO_FILE"));
  control_.files["/var/log/z.log"] = "old lines\n";
  EXPECT_EQ(call("supervisor.clearLog"), R(true));
  EXPECT_EQ(control_.main_log_clears, 1);
  EXPECT_EQ(control_.files["/var/log/z.log"], "");
  control_.clear_main_log_fails = true;
  EXPECT_EQ(call("supervisor.clearLog"), F(30, "FAILED"));
  control_.main_log = "";
  EXPECT_EQ(call("supervisor.clearLog"), F(20, "NO_FILE"));
}

// ---- process logs -----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, ReadProcessLogs) {
  make(kWeb +
       "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n"
       "redirect_stderr=true\n");
  control_.files["/var/log/web.out"] = "out0123456789";
  control_.files["/var/log/web.err"] = "err";
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", -4, 0}), R("6789"));
  EXPECT_EQ(call("supervisor.readProcessLog", {"web:web", 0, 3}), R("out"));
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"web", 0, 0}), R("err"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", -4, 1}), F(3, "BAD_ARGUMENTS"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 1, -1}), F(3, "BAD_ARGUMENTS"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 3, 0}), R("0123456789"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"nosuch", 0, 0}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web:*", 0, 0}), F(10, "BAD_NAME: web:*"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"quiet", 0, 0}), F(20, "NO_FILE: None"));
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"quiet", 0, 0}), F(20, "NO_FILE: None"));
  control_.files.erase("/var/log/web.err");
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"web", 0, 0}),
            F(20, "NO_FILE: /var/log/web.err"));
  control_.unreadable.insert("/var/log/web.out");
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 0, 0}), F(30, "FAILED"));
}

TEST_F(RpcMethodsTest, TailProcessLogRules) {
  make(kWeb);
  control_.files["/var/log/web.out"] = "abcdefghij";  // size 10
  // Grown beyond offset + length: overflow, the last `length` bytes.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, 5}), R({"fghij", 10, true}));
  // Everything fits.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, 100}), R({"abcdefghij", 10, false}));
  // Nothing appended since the offset.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 10, 5}), R({"", 10, false}));
  // Bytes before the requested offset come back: at most the last `length` bytes.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 8, 5}), R({"fghij", 10, false}));
  // An offset past the end.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 20, 5}), R({"", 10, false}));
  // Negative values are clamped.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, -5}), R({"", 10, true}));
  EXPECT_EQ(call("supervisor.tailProcessLog", {"web", 0, 3}), R({"hij", 10, true}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"nosuch", 0, 5}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web:*", 0, 5}), F(10, "BAD_NAME: web:*"));
  // A missing file: no fault.
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"web", 0, 5}), R({"", 0, false}));
  control_.files["/var/log/web.err"] = "e1\ne2\n";
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"web", 0, 3}), R({"e2\n", 6, true}));
}

// Bug: 64-bit offsets and lengths overflowed the sums of the tail rules (undefined behaviour;
// an abort under UBSan) and gave the last byte with overflow=true.
TEST_F(RpcMethodsTest, HugeLogArgumentsDoNotOverflow) {
  make(kWeb);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  control_.files["/var/log/web.out"] = "abcdefghij";
  control_.files["/var/log/z.log"] = "0123456789";
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", max, max}), R({"", 10, false}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, max}), R({"abcdefghij", 10, false}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", min, 3}), R({"hij", 10, true}));
  EXPECT_EQ(call("supervisor.readLog", {min, 0}), R("0123456789"));
  EXPECT_EQ(call("supervisor.readLog", {max, 0}), R(""));
  EXPECT_EQ(call("supervisor.readLog", {0, max}), R("0123456789"));
}

TEST_F(RpcMethodsTest, TailWithoutConfiguredLog) {
  make(
      "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n"
      "redirect_stderr=true\n");
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"quiet", 0, 5}), R({"", 0, false}));
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"quiet", 0, 5}), R({"", 0, false}));
}

TEST_F(RpcMethodsTest, AutoLogsAreTheResolvedPaths) {
  make("[program:auto]\ncommand=/bin/auto\nautostart=false\n");
  control_.files["/auto/auto-stdout.log"] = "hello";
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"auto", 0, 0}), R("hello"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"auto"})["result"]["stdout_logfile"],
            "/auto/auto-stdout.log");
  EXPECT_EQ(call("supervisor.getProcessInfo", {"auto"})["result"]["stderr_logfile"],
            "/auto/auto-stderr.log");
}

TEST_F(RpcMethodsTest, ClearProcessLogs) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\npriority=1\n"
       "stdout_logfile=/var/log/db.out\n");
  control_.files["/var/log/web.out"] = "out";
  control_.files["/var/log/web.err"] = "err";
  control_.files["/var/log/db.out"] = "db";
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web"}), R(true));
  EXPECT_EQ(control_.files["/var/log/web.out"], "");
  EXPECT_EQ(control_.files["/var/log/web.err"], "");
  EXPECT_EQ(control_.files["/var/log/db.out"], "db");
  EXPECT_EQ(call("supervisor.clearProcessLog", {"db"}), R(true));
  EXPECT_EQ(control_.files["/var/log/db.out"], "");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web:*"}), F(10, "BAD_NAME: web:*"));
  // A missing file is not an error.
  control_.files.erase("/var/log/web.err");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web"}), R(true));
  control_.untruncatable.insert("/var/log/web.out");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web:web"}), F(30, "FAILED: web:web"));
  // All: priority order (db first), FAILED for web.
  EXPECT_EQ(call("supervisor.clearAllProcessLogs"),
            R({RS("db", "db"), RS("web", "web", 30, "FAILED: web")}));
}

// ---- process info -----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, GetProcessInfoStruct) {
  make(kWeb + "autorestart=false\n");
  const std::int64_t t0 = epoch(clock_.wall_now());
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"}), R({{"name", "web"},
                                                           {"group", "web"},
                                                           {"start", 0},
                                                           {"stop", 0},
                                                           {"now", t0},
                                                           {"state", 0},
                                                           {"statename", "STOPPED"},
                                                           {"spawnerr", ""},
                                                           {"exitstatus", 0},
                                                           {"logfile", "/var/log/web.out"},
                                                           {"stdout_logfile", "/var/log/web.out"},
                                                           {"stderr_logfile", "/var/log/web.err"},
                                                           {"pid", 0},
                                                           {"stdout_log_error", ""},
                                                           {"stderr_log_error", ""},
                                                           {"description", "Not started"}}));
  start_running("web");
  clock_.advance(3s);
  const Json info = call("supervisor.getProcessInfo", {"web:web"})["result"];
  EXPECT_EQ(info["start"], t0);
  EXPECT_EQ(info["now"], t0 + 4);
  EXPECT_EQ(info["state"], 20);
  EXPECT_EQ(info["statename"], "RUNNING");
  EXPECT_EQ(info["pid"], pid("web"));
  EXPECT_EQ(info["description"], "pid " + std::to_string(pid("web")) + ", uptime 0:00:04");
  child_exit("web", exited_with(3));
  const Json exited = call("supervisor.getProcessInfo", {"web"})["result"];
  EXPECT_EQ(exited["stop"], t0 + 4);
  EXPECT_EQ(exited["exitstatus"], 3);
  EXPECT_EQ(exited["spawnerr"], "Bad exit code 3");
}

TEST_F(RpcMethodsTest, LogErrorsShowInTheProcessInfoAndDescription) {
  make(kWeb);
  start_running("web");
  control_.log_errors["/var/log/web.err"] = "write /var/log/web.err: No space left on device";
  const Json info = call("supervisor.getProcessInfo", {"web"})["result"];
  EXPECT_EQ(info["stdout_log_error"], "");
  EXPECT_EQ(info["stderr_log_error"], "write /var/log/web.err: No space left on device");
  EXPECT_EQ(info["description"], "pid " + std::to_string(pid("web")) +
                                     ", uptime 0:00:01, stderr log: write /var/log/web.err: "
                                     "No space left on device");
  control_.log_errors.clear();
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["description"],
            "pid " + std::to_string(pid("web")) + ", uptime 0:00:01");
}

TEST_F(RpcMethodsTest, GetProcessInfoBadNames) {
  make(kWeb + "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n");
  EXPECT_EQ(call("supervisor.getProcessInfo", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:*"}), F(10, "BAD_NAME: g:*"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:"}), F(10, "BAD_NAME: g:"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:nosuch"}), F(10, "BAD_NAME: g:nosuch"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"p"}), F(10, "BAD_NAME: p"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:p"})["result"]["group"], "g");
}

TEST_F(RpcMethodsTest, GetAllProcessInfoIsLexical) {
  make(
      "[program:zz]\ncommand=/bin/zz\nautostart=false\npriority=1\n"
      "[group:b]\nprograms=y,x\n[program:y]\ncommand=/bin/y\nautostart=false\n"
      "[program:x]\ncommand=/bin/x\nautostart=false\npriority=2\n"
      "[program:aa]\ncommand=/bin/aa\nautostart=false\npriority=999\n");
  const Json all = call("supervisor.getAllProcessInfo")["result"];
  std::vector<std::string> names;
  for (const auto& info : all) {
    names.push_back(info["group"].get<std::string>() + ":" + info["name"].get<std::string>());
  }
  EXPECT_THAT(names, ElementsAre("aa:aa", "b:x", "b:y", "zz:zz"));
}

TEST_F(RpcMethodsTest, GetAllConfigInfo) {
  make(
      "[program:web]\ncommand=/bin/web --port 80\nautostart=false\npriority=5\n"
      "stdout_logfile=/var/log/web.out\nstderr_logfile=NONE\nexitcodes=0,2\n"
      "stopsignal=INT\ndirectory=/srv\nuser=op\nserverurl=unix:///tmp/s.sock\n"
      "[program:auto]\ncommand=/bin/auto\n");
  const Json all = call("supervisor.getAllConfigInfo")["result"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["name"], "auto");                             // sorted by name
  EXPECT_EQ(all[0]["stdout_logfile"], "/auto/auto-stdout.log");  // active: the real file
  EXPECT_EQ(all[0]["stderr_logfile"], "/auto/auto-stderr.log");
  EXPECT_EQ(all[0]["directory"], "none");
  EXPECT_EQ(all[0]["uid"], "none");
  EXPECT_EQ(all[0]["serverurl"], "none");
  EXPECT_EQ(all[1], Json({{"autostart", false},
                          {"directory", "/srv"},
                          {"uid", 1000},
                          {"command", "/bin/web --port 80"},
                          {"exitcodes", {0, 2}},
                          {"group", "web"},
                          {"group_prio", 5},
                          {"inuse", true},
                          {"killasgroup", false},
                          {"name", "web"},
                          {"process_prio", 5},
                          {"redirect_stderr", false},
                          {"startretries", 3},
                          {"startsecs", 1},
                          {"stdout_capture_maxbytes", 0},
                          {"stdout_events_enabled", false},
                          {"stdout_logfile", "/var/log/web.out"},
                          {"stdout_logfile_backups", 10},
                          {"stdout_logfile_maxbytes", 10 * 1024 * 1024},
                          {"stdout_syslog", false},
                          {"stopsignal", SIGINT},
                          {"stopwaitsecs", 10},
                          {"stderr_capture_maxbytes", 0},
                          {"stderr_events_enabled", false},
                          {"stderr_logfile", "none"},
                          {"stderr_logfile_backups", 10},
                          {"stderr_logfile_maxbytes", 10 * 1024 * 1024},
                          {"stderr_syslog", false},
                          {"serverurl", "unix:///tmp/s.sock"}}));
  // A group of the last-read config that is not active: inuse false, AUTO shows 'auto'.
  rewrite("[program:auto]\ncommand=/bin/auto\n[program:later]\ncommand=/bin/later\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"later"}, Json::array(), {"web"}}}));
  const Json next = call("supervisor.getAllConfigInfo")["result"];
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[1]["name"], "later");
  EXPECT_EQ(next[1]["inuse"], false);
  EXPECT_EQ(next[1]["stdout_logfile"], "auto");
  EXPECT_EQ(next[0]["inuse"], true);
}

// ---- start ------------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, StartWithWaitIsHeldUntilRunning) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web"});  // wait defaults to true
  EXPECT_FALSE(reply->has_value());
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(methods_->waiting_calls(), 1u);
  advance(500ms);
  EXPECT_FALSE(reply->has_value());
  advance(600ms);  // past startsecs=1
  ASSERT_EQ(state("web"), ProcessState::Running);
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(methods_->waiting_calls(), 0u);
}

TEST_F(RpcMethodsTest, StartWithoutWaitRepliesAtOnce) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(methods_->waiting_calls(), 0u);
}

TEST_F(RpcMethodsTest, StartWithStartsecsZeroRepliesAtOnce) {
  make("[program:fast]\ncommand=/bin/fast\nautostart=false\nstartsecs=0\n");
  EXPECT_EQ(call("supervisor.startProcess", {"fast", true}), R(true));
  EXPECT_EQ(state("fast"), ProcessState::Running);
}

TEST_F(RpcMethodsTest, StartFaultsInOrder) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.startProcess", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.startProcess", {"web:nosuch"}), F(10, "BAD_NAME: web:nosuch"));
  EXPECT_EQ(call("supervisor.startProcess", {"nosuch:*"}), F(10, "BAD_NAME: nosuch:*"));
  control_.probe.missing.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(20, "NO_FILE: can't find command '/bin/web'"));
  control_.probe.missing.clear();
  control_.probe.not_executable.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(21, "NOT_EXECUTABLE: command at '/bin/web' is not executable"));
  control_.probe.not_executable.clear();
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
  start_running("web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(60, "ALREADY_STARTED: web"));
  EXPECT_EQ(call("supervisor.startProcess", {"web:web"}), F(60, "ALREADY_STARTED: web:web"));
  // The command is checked first, even for a running process.
  control_.probe.missing.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(20, "NO_FILE: can't find command '/bin/web'"));
  control_.probe.missing.clear();
  control_.probe.not_executable.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(21, "NOT_EXECUTABLE: command at '/bin/web' is not executable"));
}

TEST_F(RpcMethodsTest, StartCommandIsSearchedOnPath) {
  make("[program:rel]\ncommand=relcmd --flag\nautostart=false\n");
  control_.probe.missing = {"/usr/bin/relcmd", "/bin/relcmd"};
  EXPECT_EQ(call("supervisor.startProcess", {"rel"}),
            F(20, "NO_FILE: can't find command 'relcmd'"));
  control_.probe.missing = {"/usr/bin/relcmd"};
  EXPECT_EQ(call("supervisor.startProcess", {"rel", false}), R(true));
}

TEST_F(RpcMethodsTest, StartSpawnFailureIsSpawnError) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "can't find command '/bin/web'";
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(50, "SPAWN_ERROR: web"));
  EXPECT_EQ(state("web"), ProcessState::Backoff);
  advance(1100ms);  // the retry spawns
  ASSERT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(60, "ALREADY_STARTED: web"));
}

TEST_F(RpcMethodsTest, StartSpawnFailureWithoutWaitIsSpawnError) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "boom";
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), F(50, "SPAWN_ERROR: web"));
}

TEST_F(RpcMethodsTest, StartExitBeforeStartsecsIsSpawnError) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web", true});
  ASSERT_FALSE(reply->has_value());
  clock_.advance(300ms);
  child_exit("web", exited_with(0));
  ASSERT_EQ(state("web"), ProcessState::Backoff);
  EXPECT_EQ(*reply, F(50, "SPAWN_ERROR: web"));
}

TEST_F(RpcMethodsTest, StartStoppedWhileStartingIsAbnormalTermination) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), R(true));
  control_.run_posted();
  ASSERT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_EQ(*reply, F(40, "ABNORMAL_TERMINATION: web"));
}

TEST_F(RpcMethodsTest, StartOfUnknownStateFails) {
  make(kWeb +
       "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n"
       "startsecs=0\n");
  ASSERT_EQ(call("supervisor.startProcess", {"g:p"}), R(true));
  spawner_.signal_error = "kill: Operation not permitted";
  EXPECT_EQ(call("supervisor.signalProcess", {"g:p", "HUP"}),
            F(30, "FAILED: kill: Operation not permitted"));
  ASSERT_EQ(state("g", "p"), ProcessState::Unknown);
  // supervisord compat: the name as the client passed it.
  EXPECT_EQ(call("supervisor.startProcess", {"g:p"}),
            F(30, "FAILED: g:p is in an unknown process state"));
  EXPECT_EQ(call("supervisor.stopProcess", {"g:p"}), F(70, "NOT_RUNNING: g:p"));
}

TEST_F(RpcMethodsTest, StartGroupStarAndGroupResultsInCompletionOrder) {
  make(
      "[group:g]\nprograms=slow,quick,broken,up\n"
      "[program:slow]\ncommand=/bin/slow\nautostart=false\nstartsecs=2\npriority=1\n"
      "[program:quick]\ncommand=/bin/quick\nautostart=false\nstartsecs=1\npriority=2\n"
      "[program:broken]\ncommand=/bin/broken\nautostart=false\npriority=3\n"
      "[program:up]\ncommand=/bin/up\nautostart=false\nstartsecs=0\npriority=4\n");
  control_.probe.missing.insert("/bin/broken");
  auto reply = call_async("supervisor.startProcess", {"g:*"});
  ASSERT_FALSE(reply->has_value());
  advance(1100ms);
  EXPECT_FALSE(reply->has_value());
  advance(1000ms);
  // Immediate outcomes first (broken, up), then quick, then slow.
  EXPECT_EQ(*reply, R({RS("g", "broken", 20, "NO_FILE: can't find command '/bin/broken'"),
                       RS("g", "up"), RS("g", "quick"), RS("g", "slow")}));
  // Running ones are left out; nothing left to start: empty array.
  control_.probe.missing.clear();
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g", false}), R({RS("g", "broken")}));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g"}), R(Json::array()));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g:*"}), F(10, "BAD_NAME: g:*"));
}

TEST_F(RpcMethodsTest, StartAllInPriorityOrderWithoutWait) {
  make(
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\n"
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\n"
      "[program:c]\ncommand=/bin/c\nautostart=false\npriority=3\n");
  spawner_.fake.fail_next["c"] = "boom";
  EXPECT_EQ(call("supervisor.startAllProcesses", {false}),
            R({RS("a", "a"), RS("b", "b"), RS("c", "c", 50, "SPAWN_ERROR: c")}));
  EXPECT_THAT(spawner_.fake.spawned.size(), 3u);
}

TEST_F(RpcMethodsTest, StartAllWithWaitInCompletionOrder) {
  make(
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\nstartsecs=3\n"
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\nstartsecs=1\n"
      "[program:c]\ncommand=/bin/c\nautostart=false\npriority=3\nstartsecs=2\n");
  auto reply = call_async("supervisor.startAllProcesses");
  advance(1100ms);
  clock_.advance(200ms);
  child_exit("c", exited_with(1));  // before its startsecs
  EXPECT_FALSE(reply->has_value());
  advance(2000ms);
  EXPECT_EQ(*reply, R({RS("b", "b"), RS("c", "c", 50, "SPAWN_ERROR: c"), RS("a", "a")}));
}

TEST_F(RpcMethodsTest, StartAllLeavesRunningOutAndStopAllSignalsAllAtOnceInPriorityOrder) {
  make(
      "[program:c]\ncommand=/bin/c\npriority=999\nautostart=false\n"
      "[program:a]\ncommand=/bin/a\npriority=1\nautostart=false\n"
      "[program:b]\ncommand=/bin/b\npriority=500\nautostart=false\n");
  start_running("b");
  // b is already running: left out.
  EXPECT_EQ(call("supervisor.startAllProcesses", {false}), R({RS("a", "a"), RS("c", "c")}));
  ASSERT_EQ(spawner_.fake.spawned.size(), 3u);
  EXPECT_EQ(spawner_.fake.spawned[1].name, "a");
  EXPECT_EQ(spawner_.fake.spawned[2].name, "c");

  spawner_.fake.signals.clear();
  auto stopped = call_async("supervisor.stopAllProcesses");
  ASSERT_FALSE(stopped->has_value());
  // supervisord compat: ascending priority (not reversed), all signalled at once.
  using Sig = test::FakeSpawner::Signal;
  EXPECT_THAT(spawner_.fake.signals,
              ElementsAre(Sig{pid("a"), SIGTERM, false}, Sig{pid("b"), SIGTERM, false},
                          Sig{pid("c"), SIGTERM, false}));
  child_exit("c", killed_by(SIGTERM));
  child_exit("a", killed_by(SIGTERM));
  child_exit("b", killed_by(SIGTERM));
  EXPECT_EQ(*stopped, R({RS("c", "c"), RS("a", "a"), RS("b", "b")}));
  EXPECT_EQ(call("supervisor.stopAllProcesses"), R(Json::array()));  // nothing left to stop
}

// ---- stop -------------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, StopWithWaitIsHeldUntilReaped) {
  make(kWeb);
  start_running("web");
  auto reply = call_async("supervisor.stopProcess", {"web"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_THAT(spawner_.fake.signals,
              Contains(test::FakeSpawner::Signal{pid("web"), SIGTERM, false}));
  control_.run_posted();
  EXPECT_FALSE(reply->has_value());
  child_exit("web", killed_by(SIGTERM));
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(RpcMethodsTest, StopWithoutWaitAndNotRunning) {
  make(kWeb + "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n");
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.stopProcess", {"g:p"}), F(70, "NOT_RUNNING: g:p"));
  EXPECT_EQ(call("supervisor.stopProcess", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.stopProcess", {"nosuch:*"}), F(10, "BAD_NAME: nosuch:*"));
  start_running("web");
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), F(70, "NOT_RUNNING: web"));
}

TEST_F(RpcMethodsTest, StopInBackoffStopsAtOnce) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "boom";
  call("supervisor.startProcess", {"web"});
  ASSERT_EQ(state("web"), ProcessState::Backoff);
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(RpcMethodsTest, StopGroupStarAndAllInCompletionOrder) {
  make(
      "[group:g]\nprograms=a,b,off\n"
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\n"
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\n"
      "[program:off]\ncommand=/bin/off\nautostart=false\npriority=3\n"
      "[program:solo]\ncommand=/bin/solo\nautostart=false\npriority=500\n");
  start_running("g:a");
  start_running("g:b");
  start_running("solo");
  auto reply = call_async("supervisor.stopProcess", {"g:*"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("g", "a"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "b"), ProcessState::Stopping);
  child_exit("b", killed_by(SIGTERM));
  EXPECT_FALSE(reply->has_value());
  child_exit("a", killed_by(SIGTERM));
  // Only the running ones, in completion order.
  EXPECT_EQ(*reply, R({RS("g", "b"), RS("g", "a")}));
  EXPECT_EQ(call("supervisor.stopProcessGroup", {"g"}), R(Json::array()));
  EXPECT_EQ(call("supervisor.stopProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));

  start_running("g:a");
  // Ascending group priority: solo (500) before g (999).
  EXPECT_EQ(call("supervisor.stopAllProcesses", {false}), R({RS("solo", "solo"), RS("g", "a")}));
  child_exit("a", killed_by(SIGTERM));
  child_exit("solo", killed_by(SIGTERM));
  start_running("g:b");
  auto all = call_async("supervisor.stopAllProcesses");
  ASSERT_FALSE(all->has_value());
  child_exit("b", killed_by(SIGTERM));
  EXPECT_EQ(*all, R({RS("g", "b")}));
}

// ---- signal -----------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, SignalProcess) {
  make(kWeb +
       "[group:g]\nprograms=p,q\n[program:p]\ncommand=/bin/p\nautostart=false\n"
       "[program:q]\ncommand=/bin/q\nautostart=false\n");
  // BAD_SIGNAL is checked before the state.
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "BOGUS"}), F(11, "BAD_SIGNAL: BOGUS"));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.signalProcess", {"nosuch", "HUP"}), F(10, "BAD_NAME: nosuch"));
  start_running("web");
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "SIGUSR1"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "10"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "usr2"}), R(true));
  const pid_t p = pid("web");
  EXPECT_THAT(spawner_.fake.signals, ElementsAre(test::FakeSpawner::Signal{p, SIGHUP, false},
                                                 test::FakeSpawner::Signal{p, SIGUSR1, false},
                                                 test::FakeSpawner::Signal{p, 10, false},
                                                 test::FakeSpawner::Signal{p, SIGUSR2, false}));
  // STOPPING is signallable, STOPPED is not.
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "KILL"}), R(true));
  // g:* routes to the group variant: only signallable processes, BAD_SIGNAL per process.
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "HUP"}), R(Json::array()));
  start_running("g:q");
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "HUP"}), R({RS("g", "q")}));
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "BOGUS"}),
            R({RS("g", "q", 11, "BAD_SIGNAL: BOGUS")}));
  EXPECT_EQ(call("supervisor.signalProcessGroup", {"g", "TERM"}), R({RS("g", "q")}));
  EXPECT_EQ(call("supervisor.signalProcessGroup", {"nosuch", "TERM"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.signalAllProcesses", {"USR1"}), R({RS("g", "q"), RS("web", "web")}));
}

TEST_F(RpcMethodsTest, SignalFailureIsFailed) {
  make(kWeb);
  start_running("web");
  spawner_.signal_error = "kill: Operation not permitted";
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}),
            F(30, "FAILED: kill: Operation not permitted"));
  EXPECT_EQ(state("web"), ProcessState::Unknown);
}

// ---- stdin, events ----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, SendProcessStdin) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"nosuch", "hi"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web:*", "hi"}), F(10, "BAD_NAME: web:*"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", 5}),
            InvalidParams("supervisor.sendProcessStdin: parameter 'chars' must be a string"));
  start_running("web");
  // Children read /dev/null: there is no stdin to write to.
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(20, "NO_FILE: web"));
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(70, "NOT_RUNNING: web"));
}

TEST_F(RpcMethodsTest, SendRemoteCommEvent) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.sendRemoteCommEvent", {"type", "data"}), R(true));
}

// ---- config -----------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, ReloadConfigReportsAddedChangedRemoved) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\n"
       "[program:old]\ncommand=/bin/old\nautostart=false\n");
  rewrite(kWeb +
          "[program:db]\ncommand=/bin/db --new\nautostart=false\n"
          "[program:new2]\ncommand=/bin/n\nautostart=false\n"
          "[program:new1]\ncommand=/bin/n\nautostart=false\n");
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{{"new1", "new2"}, {"db"}, {"old"}}}));
  // Nothing was started or stopped.
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
  EXPECT_NE(supervisor_->find_group("old"), nullptr);
  // Nothing changed: three empty arrays.
  make(kWeb);
  rewrite(kWeb);
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, ReloadConfigCantReread) {
  make(kWeb);
  rewrite("[program:bad]\ncommand=/bin/bad\nautostart=maybe\n");
  ASSERT_FALSE(control_.next_load.config);
  Json expected = F(92,
                    "CANT_REREAD: not a valid boolean value: 'maybe' in section 'program:bad' "
                    "(file: '/srv/z.conf')");
  expected["error"]["data"] = {
      {"errors",
       {"not a valid boolean value: 'maybe' in section 'program:bad' (file: '/srv/z.conf', "
        "line 5)"}}};
  EXPECT_EQ(call("supervisor.reloadConfig"), expected);
  // The stored config is unchanged: bad is unknown to addProcessGroup.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"bad"}), F(10, "BAD_NAME: bad"));
}

TEST_F(RpcMethodsTest, AddProcessGroup) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"web"}), F(90, "ALREADY_ADDED: web"));
  rewrite(kWeb +
          "[program:new]\ncommand=/bin/new\n"
          "[program:idle]\ncommand=/bin/idle\nautostart=false\n");
  // Only the stored (last-read) config is used: before reloadConfig, new is unknown.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"idle", "new"}, Json::array(), Json::array()}}));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), R(true));
  // Autostart ran for the new group; its AUTO logs were created.
  EXPECT_EQ(state("new"), ProcessState::Starting);
  ASSERT_EQ(spawner_.fake.spawned.size(), 1u);
  EXPECT_EQ(spawner_.fake.spawned[0].name, "new");
  EXPECT_EQ(spawner_.fake.spawned[0].stdout_log.path, "/auto/new-stdout.log");
  EXPECT_THAT(control_.auto_log_groups, ElementsAre("new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(90, "ALREADY_ADDED: new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"idle"}), R(true));
  EXPECT_EQ(state("idle"), ProcessState::Stopped);
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, RemoveProcessGroup) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  start_running("web");
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(91, "STILL_RUNNING: web"));
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(91, "STILL_RUNNING: web"));
  child_exit("web", killed_by(SIGTERM));
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), R(true));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"}), F(10, "BAD_NAME: web"));
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(10, "BAD_NAME: web"));
  // Still in the stored config: it can be added again.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"web"}), R(true));
}

TEST_F(RpcMethodsTest, UpdateProcessGroupRestartsOnlyChangedPrograms) {
  const std::string head = "[group:g]\nprograms=same,changed,gone\n";
  make(head +
       "[program:same]\ncommand=/bin/same\nstartsecs=0\n"
       "[program:changed]\ncommand=/bin/changed\nstartsecs=0\n"
       "[program:gone]\ncommand=/bin/gone\nstartsecs=0\n");
  supervisor_->start();
  ASSERT_EQ(state("g", "same"), ProcessState::Running);
  const pid_t same = live_pid("g", "same");
  const pid_t changed = live_pid("g", "changed");
  rewrite(
      "[group:g]\nprograms=same,changed,fresh\n"
      "[program:same]\ncommand=/bin/same\nstartsecs=0\n"
      "[program:changed]\ncommand=/bin/changed --v2\nstartsecs=0\n"
      "[program:fresh]\ncommand=/bin/fresh\nstartsecs=0\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), {"g"}, Json::array()}}));
  EXPECT_EQ(call("zagent.updateProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  auto reply = call_async("zagent.updateProcessGroup", {"g"});
  EXPECT_FALSE(reply->has_value());
  EXPECT_EQ(state("g", "changed"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "gone"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "same"), ProcessState::Running);
  control_.run_posted();
  EXPECT_FALSE(reply->has_value());  // waits for both exits
  child_exit("changed", killed_by(SIGTERM));
  EXPECT_FALSE(reply->has_value());
  child_exit("gone", killed_by(SIGTERM));
  ASSERT_EQ(*reply, R(true));
  EXPECT_EQ(live_pid("g", "same"), same);
  EXPECT_EQ(state("g", "same"), ProcessState::Running);
  EXPECT_EQ(state("g", "changed"), ProcessState::Running);
  EXPECT_NE(live_pid("g", "changed"), changed);
  EXPECT_EQ(spawner_.fake.spawned.back().name, "fresh");
  EXPECT_EQ(state("g", "fresh"), ProcessState::Running);
  EXPECT_EQ(supervisor_->find("g", "gone"), nullptr);
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:gone"}), F(10, "BAD_NAME: g:gone"));
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, UpdateProcessGroupFaults) {
  make(kWeb + "[program:db]\ncommand=/bin/db\nstartsecs=0\n");
  supervisor_->start();
  rewrite("[program:db]\ncommand=/bin/db --v2\nstartsecs=0\n[program:new]\ncommand=/bin/new\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"new"}, {"db"}, {"web"}}}));
  // Active but no longer in the stored config, or stored but not active.
  EXPECT_EQ(call("zagent.updateProcessGroup", {"web"}), F(10, "BAD_NAME: web"));
  EXPECT_EQ(call("zagent.updateProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  // A shutdown that begins while the update waits for its stops.
  auto reply = call_async("zagent.updateProcessGroup", {"db"});
  ASSERT_EQ(state("db"), ProcessState::Stopping);
  control_.agent_state = SupervisorState::Shutdown;
  child_exit("db", killed_by(SIGTERM));
  EXPECT_EQ(*reply, F(6, "SHUTDOWN_STATE"));
  EXPECT_EQ(supervisor_->find("db", "db")->config.command, "/bin/db");
}

TEST_F(RpcMethodsTest, UpdateOfUnchangedGroupKeepsEverything) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  supervisor_->start();
  const pid_t before = live_pid("web", "web");
  rewrite("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  auto reply = call_async("zagent.updateProcessGroup", {"web"});
  control_.run_posted();
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(live_pid("web", "web"), before);
  EXPECT_EQ(spawner_.fake.spawned.size(), 1u);
}

// ---- system.* ---------------------------------------------------------------------------------

const std::vector<std::pair<std::string, Json>> kSignatures = {
    {"supervisor.addProcessGroup", {"boolean", "string"}},
    {"supervisor.clearAllProcessLogs", {"array"}},
    {"supervisor.clearLog", {"boolean"}},
    {"supervisor.clearProcessLog", {"boolean", "string"}},
    {"supervisor.clearProcessLogs", {"boolean", "string"}},
    {"supervisor.getAPIVersion", {"string"}},
    {"supervisor.getAllConfigInfo", {"array"}},
    {"supervisor.getAllProcessInfo", {"array"}},
    {"supervisor.getIdentification", {"string"}},
    {"supervisor.getPID", {"int"}},
    {"supervisor.getProcessInfo", {"struct", "string"}},
    {"supervisor.getState", {"struct"}},
    {"supervisor.getSupervisorVersion", {"string"}},
    {"supervisor.getVersion", {"string"}},
    {"supervisor.readLog", {"string", "int", "int"}},
    {"supervisor.readMainLog", {"string", "int", "int"}},
    {"supervisor.readProcessLog", {"string", "string", "int", "int"}},
    {"supervisor.readProcessStderrLog", {"string", "string", "int", "int"}},
    {"supervisor.readProcessStdoutLog", {"string", "string", "int", "int"}},
    {"supervisor.reloadConfig", {"array"}},
    {"supervisor.removeProcessGroup", {"boolean", "string"}},
    {"supervisor.restart", {"boolean"}},
    {"supervisor.sendProcessStdin", {"boolean", "string", "string"}},
    {"supervisor.sendRemoteCommEvent", {"boolean", "string", "string"}},
    {"supervisor.shutdown", {"boolean"}},
    {"supervisor.signalAllProcesses", {"array", "string"}},
    {"supervisor.signalProcess", {"boolean", "string", "string"}},
    {"supervisor.signalProcessGroup", {"array", "string", "string"}},
    {"supervisor.startAllProcesses", {"array", "boolean"}},
    {"supervisor.startProcess", {"boolean", "string", "boolean"}},
    {"supervisor.startProcessGroup", {"array", "string", "boolean"}},
    {"supervisor.stopAllProcesses", {"array", "boolean"}},
    {"supervisor.stopProcess", {"boolean", "string", "boolean"}},
    {"supervisor.stopProcessGroup", {"array", "string", "boolean"}},
    {"supervisor.tailProcessLog", {"array", "string", "int", "int"}},
    {"supervisor.tailProcessStderrLog", {"array", "string", "int", "int"}},
    {"supervisor.tailProcessStdoutLog", {"array", "string", "int", "int"}},
    {"system.listMethods", {"array"}},
    {"system.methodHelp", {"string", "string"}},
    {"system.methodSignature", {"array", "string"}},
    {"system.multicall", {"array", "array"}},
};

TEST_F(RpcMethodsTest, ListMethodsIsSortedAndHasSupervisordsList) {
  make(kWeb);
  const Json listed = call("system.listMethods")["result"];
  ASSERT_TRUE(listed.is_array());
  std::vector<std::string> names = listed.get<std::vector<std::string>>();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  std::vector<std::string> expected;
  for (const auto& [name, sig] : kSignatures) {
    expected.push_back(name);
  }
  ASSERT_EQ(expected.size(), 41u);
  EXPECT_THAT(names, IsSupersetOf(expected));
  // Anything beyond supervisord's list is a zagent.* extension.
  for (const auto& n : names) {
    if (std::find(expected.begin(), expected.end(), n) == expected.end()) {
      EXPECT_TRUE(n.starts_with("zagent.")) << n;
    }
  }
  EXPECT_EQ(names, methods_->method_names());
}

TEST_F(RpcMethodsTest, MethodSignatureOfEveryMethod) {
  make(kWeb);
  for (const auto& [name, sig] : kSignatures) {
    EXPECT_EQ(call("system.methodSignature", {name}), R(sig)) << name;
  }
  EXPECT_EQ(call("system.methodSignature", {"zagent.updateProcessGroup"}),
            R({"boolean", "string"}));
  EXPECT_EQ(call("system.methodSignature", {"supervisor.nosuch"}), F(4, "SIGNATURE_UNSUPPORTED"));
}

TEST_F(RpcMethodsTest, MethodHelp) {
  make(kWeb);
  for (const auto& [name, sig] : kSignatures) {
    const Json help = call("system.methodHelp", {name});
    ASSERT_TRUE(help.contains("result")) << name;
    EXPECT_FALSE(help["result"].get<std::string>().empty()) << name;
  }
  EXPECT_EQ(call("system.methodHelp", {"supervisor.getVersion"}),
            R("Alias of supervisor.getAPIVersion."));
  EXPECT_EQ(call("system.methodHelp", {"nosuch"}), F(4, "SIGNATURE_UNSUPPORTED"));
}

TEST_F(RpcMethodsTest, MulticallEntriesAreBareValuesOrFaultStructs) {
  make(kWeb);
  EXPECT_EQ(
      call("system.multicall",
           Json::array(
               {Json::array({{{"methodName", "supervisor.getAPIVersion"}},
                             {{"methodName", "supervisor.getProcessInfo"}, {"params", {"nosuch"}}},
                             {{"methodName", "system.multicall"}, {"params", {Json::array()}}},
                             {{"params", Json::array()}},
                             Json("not a struct"),
                             {{"methodName", "supervisor.nosuch"}},
                             {{"methodName", "supervisor.getState"}, {"params", {1}}},
                             {{"methodName", "supervisor.getPID"}, {"params", Json::array()}}})})),
      R({"3.0",
         {{"faultCode", 10}, {"faultString", "BAD_NAME: nosuch"}},
         {{"faultCode", 2},
          {"faultString",
           "INCORRECT_PARAMETERS: Recursive system.multicall "
           "forbidden"}},
         {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}},
         {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}},
         {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}},
         {{"faultCode", 2},
          {"faultString", "INCORRECT_PARAMETERS: supervisor.getState takes 0 arguments, got 1"}},
         4242}));
  EXPECT_EQ(call("system.multicall", Json::array({Json::array()})), R(Json::array()));
  EXPECT_EQ(call("system.multicall", {"x"}),
            InvalidParams("system.multicall: parameter 'calls' must be an array"));
}

TEST_F(RpcMethodsTest, MulticallWaitingCallHoldsTheFollowingOnes) {
  make(kWeb + "[program:db]\ncommand=/bin/db\nautostart=false\n");
  auto reply = call_async(
      "system.multicall",
      Json::array(
          {Json::array({{{"methodName", "supervisor.startProcess"}, {"params", {"web"}}},
                        {{"methodName", "supervisor.getProcessInfo"}, {"params", {"web"}}},
                        {{"methodName", "supervisor.startProcess"}, {"params", {"db", true}}},
                        {{"methodName", "supervisor.stopProcess"}, {"params", {"db", false}}}})}));
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("db"), ProcessState::Stopped);  // not started yet
  advance(1100ms);
  ASSERT_EQ(state("web"), ProcessState::Running);
  ASSERT_FALSE(reply->has_value());  // now waiting for db
  EXPECT_EQ(state("db"), ProcessState::Starting);
  advance(1100ms);
  ASSERT_TRUE(reply->has_value());
  const Json results = (**reply)["result"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0], true);
  EXPECT_EQ(results[1]["statename"], "RUNNING");  // ran after the start had finished
  EXPECT_EQ(results[2], true);
  EXPECT_EQ(results[3], true);
  EXPECT_EQ(state("db"), ProcessState::Stopping);
}

// ---- parameter binding ------------------------------------------------------------------------

TEST_F(RpcMethodsTest, PositionalNamedAndDefaultParameters) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\n"
       "[program:q]\ncommand=/bin/q\nautostart=false\n");
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), R(true));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"wait", false}, {"name", "db"}}), R(true));
  auto waiting = call_async("supervisor.startProcess", Json{{"name", "q"}});  // wait = true
  EXPECT_FALSE(waiting->has_value());
  EXPECT_EQ(call("supervisor.getState", Json::object()),
            R({{"statecode", 1}, {"statename", "RUNNING"}}));
  EXPECT_EQ(call("supervisor.getState", Json(nullptr)),
            R({{"statecode", 1}, {"statename", "RUNNING"}}));
  control_.files["/var/log/z.log"] = "abc";
  EXPECT_EQ(call("supervisor.readLog", Json{{"length", 2}, {"offset", 1}}), R("bc"));
}

TEST_F(RpcMethodsTest, WrongParametersAreInvalidParams) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.getState", {1}),
            InvalidParams("supervisor.getState takes 0 arguments, got 1"));
  EXPECT_EQ(call("supervisor.readLog", {0}),
            InvalidParams("supervisor.readLog takes 2 arguments, got 1"));
  EXPECT_EQ(call("supervisor.getProcessInfo", Json::array()),
            InvalidParams("supervisor.getProcessInfo takes 1 argument, got 0"));
  EXPECT_EQ(call("supervisor.startProcess", Json::array()),
            InvalidParams("supervisor.startProcess takes 1 to 2 arguments, got 0"));
  EXPECT_EQ(call("supervisor.startProcess", {"web", true, 3}),
            InvalidParams("supervisor.startProcess takes 1 to 2 arguments, got 3"));
  EXPECT_EQ(call("supervisor.startProcess", {1}),
            InvalidParams("supervisor.startProcess: parameter 'name' must be a string"));
  EXPECT_EQ(call("supervisor.startProcess", {"web", "yes"}),
            InvalidParams("supervisor.startProcess: parameter 'wait' must be a boolean"));
  EXPECT_EQ(call("supervisor.readLog", {"0", 0}),
            InvalidParams("supervisor.readLog: parameter 'offset' must be an int"));
  EXPECT_EQ(call("supervisor.readLog", {0, 1.5}),
            InvalidParams("supervisor.readLog: parameter 'length' must be an int"));
  EXPECT_EQ(call("system.multicall", Json{{"calls", Json::object()}}),
            InvalidParams("system.multicall: parameter 'calls' must be an array"));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"nme", "web"}}),
            InvalidParams("supervisor.startProcess has no parameter 'nme'"));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"wait", true}}),
            InvalidParams("supervisor.startProcess: missing parameter 'name'"));
  EXPECT_EQ(call("supervisor.getState", Json("x")),
            InvalidParams("params must be an array or object"));
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
}

TEST_F(RpcMethodsTest, UnknownMethod) {
  make(kWeb);
  const Json unknown = {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}};
  for (const std::string name : {"supervisor.nosuch", "nosuch", "supervisor._update", "a.b.c", "",
                                 "system.nosuch", "zagent.login"}) {
    Json expected = F(-32601, name.empty() ? "Method not found" : "Method not found: " + name);
    expected["error"]["data"] = unknown;
    EXPECT_EQ(call(name), expected) << name;
  }
}

TEST_F(RpcMethodsTest, HasMethod) {
  make(kWeb);
  EXPECT_TRUE(methods_->has_method("supervisor.getState"));
  EXPECT_TRUE(methods_->has_method("zagent.updateProcessGroup"));
  EXPECT_FALSE(methods_->has_method("zagent.followProcessLog"));  // the server's own
  EXPECT_FALSE(methods_->has_method("nosuch"));
}

TEST_F(RpcMethodsTest, ProcessLogPath) {
  make(kWeb + "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n");
  const auto out = methods_->process_log_path("web", "stdout");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "/var/log/web.out");
  const auto err = methods_->process_log_path("web:web", "stderr");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "/var/log/web.err");
  EXPECT_EQ(methods_->process_log_path("web:*", "stdout").error(),
            rpc::fault_error(Fault::BadName, "web:*"));
  EXPECT_EQ(methods_->process_log_path("nosuch", "stdout").error(),
            rpc::fault_error(Fault::BadName, "nosuch"));
  EXPECT_EQ(methods_->process_log_path("quiet", "stdout").error(),
            rpc::fault_error(Fault::NoFile, "None"));
}

// Bug: a handler that threw lost its reply, and the client waited forever.
TEST_F(RpcMethodsTest, HandlerExceptionStillReplies) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "abc";
  control_.throw_on_read = true;
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(30, "FAILED: disk on fire"));
  EXPECT_EQ(
      call("system.multicall",
           Json::array({Json::array({{{"methodName", "supervisor.readLog"}, {"params", {0, 0}}},
                                     {{"methodName", "supervisor.getPID"}}})})),
      R({{{"faultCode", 30}, {"faultString", "FAILED: disk on fire"}}, 4242}));
}

// ---- pure helpers -----------------------------------------------------------------------------

class ProcessDescriptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz != nullptr ? std::optional<std::string>(tz) : std::nullopt;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  std::optional<std::string> saved_tz_;
};

TEST_F(ProcessDescriptionTest, Running) {
  const std::int64_t t = 1'800'000'000;
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 7, ""),
            "pid 42, uptime 0:00:07");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 3723, ""),
            "pid 42, uptime 1:02:03");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 86400 + 61, ""),
            "pid 42, uptime 1 day, 0:01:01");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 2 * 86400 + 36000, ""),
            "pid 42, uptime 2 days, 10:00:00");
  // The wall clock went back: 0:00:00.
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t - 5, ""),
            "pid 42, uptime 0:00:00");
}

TEST_F(ProcessDescriptionTest, BackoffAndFatal) {
  EXPECT_EQ(process_description(ProcessState::Backoff, "web", 0, 1, 2, 3,
                                "Exited too quickly (process log may have details)"),
            "Exited too quickly (process log may have details)");
  EXPECT_EQ(process_description(ProcessState::Fatal, "web", 0, 1, 2, 3, "can't find command 'x'"),
            "can't find command 'x'");
  EXPECT_EQ(process_description(ProcessState::Backoff, "web", 0, 1, 2, 3, ""),
            "unknown error (try \"tail web\")");
  EXPECT_EQ(process_description(ProcessState::Fatal, "g_web", 0, 1, 2, 3, ""),
            "unknown error (try \"tail g_web\")");
}

TEST_F(ProcessDescriptionTest, StoppedAndExitedShowTheStopTime) {
  // 2026-11-24 14:16:00 UTC
  const std::int64_t stop = 1795529760;
  for (const auto s : {ProcessState::Stopped, ProcessState::Exited}) {
    EXPECT_EQ(process_description(s, "web", 0, stop - 10, stop, stop + 99, ""), "Nov 24 02:16 PM");
    // 12 AM and 12 PM edges, day and hour zero-padded.
    EXPECT_EQ(process_description(s, "web", 0, 1, 0, 5, ""), "Jan 01 12:00 AM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 12 * 3600 + 5 * 60, 5, ""), "Jan 01 12:05 PM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 11 * 3600 + 59 * 60, 5, ""), "Jan 01 11:59 AM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 23 * 3600 + 59 * 60, 5, ""), "Jan 01 11:59 PM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 8 * 86400 + 3600, 5, ""), "Jan 09 01:00 AM");
    EXPECT_EQ(process_description(s, "web", 0, 0, 0, 5, ""), "Not started");
  }
}

TEST_F(ProcessDescriptionTest, OtherStatesAreEmpty) {
  for (const auto s : {ProcessState::Starting, ProcessState::Stopping, ProcessState::Unknown}) {
    EXPECT_EQ(process_description(s, "web", 42, 1, 2, 3, "err"), "");
  }
}

TEST_F(ProcessDescriptionTest, LocalTimeFollowsTz) {
  ::setenv("TZ", "EST5", 1);
  ::tzset();
  EXPECT_EQ(process_description(ProcessState::Stopped, "web", 0, 1, 1795529760, 5, ""),
            "Nov 24 09:16 AM");
}

TEST(TimedeltaText, PythonFormat) {
  EXPECT_EQ(timedelta_text(0), "0:00:00");
  EXPECT_EQ(timedelta_text(7), "0:00:07");
  EXPECT_EQ(timedelta_text(3661), "1:01:01");
  EXPECT_EQ(timedelta_text(86399), "23:59:59");
  EXPECT_EQ(timedelta_text(86400), "1 day, 0:00:00");
  EXPECT_EQ(timedelta_text(90061), "1 day, 1:01:01");
  EXPECT_EQ(timedelta_text(2 * 86400), "2 days, 0:00:00");
  EXPECT_EQ(timedelta_text(400 * 86400 + 5), "400 days, 0:00:05");
  EXPECT_EQ(timedelta_text(-5), "0:00:00");
}

TEST(SplitNamespec, SupervisordRules) {
  const auto check = [](std::string_view in, const std::string& group,
                        std::optional<std::string> process) {
    const NameSpec s = split_namespec(in);
    EXPECT_EQ(s.group, group) << in;
    EXPECT_EQ(s.process, process) << in;
  };
  check("web", "web", "web");
  check("g:p", "g", "p");
  check("g:*", "g", std::nullopt);
  check("g:", "g", std::nullopt);
  check("g:p:q", "g", "p:q");
  check(":p", "", "p");
  check("", "", "");
}

TEST(DiffGroups, AddedChangedRemovedSorted) {
  const auto group = [](const std::string& name, const std::string& command) {
    GroupConfig g;
    g.name = name;
    ProcessConfig p;
    p.name = name;
    p.group = name;
    p.command = command;
    g.processes.push_back(p);
    return g;
  };
  const std::vector<GroupConfig> active = {group("same", "a"), group("changed", "b"),
                                           group("zgone", "c"), group("agone", "d")};
  const std::vector<GroupConfig> next = {group("same", "a"), group("changed", "b2"),
                                         group("znew", "e"), group("anew", "f")};
  const ConfigDiff d = diff_groups(next, active);
  EXPECT_THAT(d.added, ElementsAre("anew", "znew"));
  EXPECT_THAT(d.changed, ElementsAre("changed"));
  EXPECT_THAT(d.removed, ElementsAre("agone", "zgone"));
  GroupConfig prio = group("same", "a");
  prio.priority = 5;
  EXPECT_THAT(diff_groups({prio}, {group("same", "a")}).changed, ElementsAre("same"));
  const ConfigDiff none = diff_groups(active, active);
  EXPECT_THAT(none.added, IsEmpty());
  EXPECT_THAT(none.changed, IsEmpty());
  EXPECT_THAT(none.removed, IsEmpty());
}

TEST_F(RpcMethodsTest, SignalAcceptsAnIntAsSupervisordDoes) {
  make(kWeb);
  start_running("web");
  EXPECT_EQ(call("supervisor.signalProcess", {"web", 1}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", 99}), F(11, "BAD_SIGNAL: 99"));
  EXPECT_EQ(call("system.methodSignature", {"supervisor.signalProcess"}),
            R({"boolean", "string", "string"}));
}

TEST_F(RpcMethodsTest, StopCancelsAPendingDelayedRestart) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\nrestart_delay=30\n");
  start_running("web");
  child_exit("web", 1 << 8);  // exit status 1 from RUNNING: EXITED, restart in 30 s
  ASSERT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["statename"], "EXITED");
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), R(true));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["statename"], "STOPPED");
  const auto spawns = spawner_.fake.spawned.size();
  advance(std::chrono::seconds(31));
  EXPECT_EQ(spawner_.fake.spawned.size(), spawns);  // the restart was cancelled
}

}  // namespace
}  // namespace zagent
