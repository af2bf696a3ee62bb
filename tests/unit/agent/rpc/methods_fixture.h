// The fixture of the method tests: RpcMethods::call with fakes only (STYLE.md §7): a
// FakeAgentControl (state, files, posted work), the FakeSpawner behind a wrapper that can fail
// signals, the FakeClock and the FakeLogSink. Exact results and exact fault codes and strings,
// as spec/rpc.md gives them.
#pragma once

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

#include "agent/crash/crash_record.h"
#include "agent/rpc/methods.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_config_host.h"
#include "tests/support/fake_log_sink.h"
#include "tests/support/fake_spawner.h"

namespace zagent::rpc_test {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using namespace std::chrono_literals;

// Raw wait statuses as waitpid reports them.
inline int exited_with(int code) { return (code & 0xff) << 8; }
inline int killed_by(int signo) { return signo & 0x7f; }

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
  Result<void> write_stdin(pid_t pid, std::string_view data) override {
    if (closed_stdin.count(pid) != 0) {
      return fail("stdin channel is closed", ErrorCode::NotFound);
    }
    stdin_written[pid] += data;
    return {};
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
  const CrashLog* crash_log() const override { return &crashes; }

  std::map<pid_t, std::string> stdin_written;     // write_stdin() calls, by pid
  CrashLog crashes;                               // what zagent.getCrashRecords reads
  std::set<pid_t> closed_stdin;                   // pids whose stdin write_stdin() refuses
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
inline Json as_json(const RpcOutcome& o) {
  if (o) {
    return Json{{"result", *o}};
  }
  Json e = {{"code", o.error().code}, {"message", o.error().message}};
  if (!o.error().data.is_null()) {
    e["data"] = o.error().data;
  }
  return Json{{"error", std::move(e)}};
}
inline Json R(Json value) { return Json{{"result", std::move(value)}}; }
inline Json F(int code, const std::string& message) {
  return Json{{"error", {{"code", code}, {"message", message}}}};
}
/// -32602 with its INCORRECT_PARAMETERS data.
inline Json InvalidParams(const std::string& detail) {
  return Json{{"error",
               {{"code", -32602},
                {"message", "Invalid params: " + detail},
                {"data", {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: " + detail}}}}}};
}
/// A result struct of the group/all methods.
inline Json RS(const std::string& group, const std::string& name, int status = 80,
        const std::string& description = "OK") {
  return Json{{"name", name}, {"group", group}, {"status", status}, {"description", description}};
}

inline std::int64_t epoch(WallTime t) {
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

inline const std::string kWeb =
    "[program:web]\ncommand=/bin/web\nautostart=false\nstdout_logfile=/var/log/web.out\n"
    "stderr_logfile=/var/log/web.err\n";

}  // namespace zagent::rpc_test
