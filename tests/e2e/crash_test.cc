// Crash attribution end to end (docs/crashes.md): the real agent, real children, the records
// through zctl, the snapshot files, the kernel's OOM killer where the machine allows it.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/e2e/agent_fixture.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

class CrashTest : public AgentFixture {
 protected:
  /// `zctl crashes NAME --json`, parsed (an empty array when it fails).
  Json records(const std::string& name) const {
    const RunResult r = ctl("--json crashes " + name);
    const Json j = Json::parse(r.out, nullptr, false);
    return j.is_array() ? j : Json::array();
  }
  /// Until NAME has at least `n` records; returns the newest.
  Json wait_record(const std::string& name, std::size_t n = 1) const {
    Json last = Json::object();
    wait_until([&] {
      const Json all = records(name);
      if (all.size() >= n) {
        last = all[0];
        return true;
      }
      return false;
    });
    return last;
  }
  Json status_json(const std::string& name) const {
    const Json j = Json::parse(ctl("--json status " + name).out, nullptr, false);
    return j.is_object() && j.contains("processes") && !j["processes"].empty() ? j["processes"][0]
                                                                               : Json::object();
  }
  std::vector<std::string> snapshots(const std::string& dir, const std::string& prefix) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix + "-", 0) == 0 && name.ends_with(".json")) {
        out.push_back(e.path().string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

const std::string kNoRestart = "autorestart=false\nstartsecs=0\n";

TEST_F(CrashTest, ExitCodeIsRecordedWithSnapshotAndCrashLine) {
  ASSERT_TRUE(start_agent(program(
      "web", "/bin/sh -c \"echo loading; echo Traceback >&2; echo ValueError: boom >&2; exit 3\"",
      kNoRestart)));
  const Json r = wait_record("web");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "exited");
  EXPECT_EQ(r["confidence"], "certain");
  EXPECT_EQ(r["exit_code"], 3);
  EXPECT_TRUE(r["signal"].is_null());
  EXPECT_EQ(r["shell_status"], 3);
  EXPECT_EQ(r["expected"], false);
  EXPECT_EQ(r["pid"], last_pid("web"));
  EXPECT_EQ(r["last_output"]["stdout"], Json({"loading"}));
  EXPECT_EQ(r["last_output"]["stderr"], Json({"Traceback", "ValueError: boom"}));
  EXPECT_GE(r["ended"].get<std::int64_t>(), r["started"].get<std::int64_t>());
  ASSERT_TRUE(r["snapshot"].is_string());
  EXPECT_TRUE(wait_until([&] { return fs::exists(r["snapshot"].get<std::string>()); }));
  const Json snap = Json::parse(read_file(r["snapshot"].get<std::string>()), nullptr, false);
  ASSERT_TRUE(snap.is_object());
  EXPECT_EQ(snap["record"]["cause"], "exited");
  EXPECT_TRUE(snap["memory"].is_object());
  EXPECT_TRUE(snap["environment"].is_array());
  EXPECT_TRUE(wait_log("WARN crash: web exited with status 3 (certain: wait_status \"exit "
                       "status 3\"); snapshot " +
                       r["snapshot"].get<std::string>()));
  const std::string log = main_log();
  EXPECT_LT(log.find("exited: web (exit status 3; not expected)"), log.find("WARN crash: web"));
  EXPECT_EQ(status_json("web")["last_cause"], "exited");
  const RunResult why = ctl("why web");
  EXPECT_EQ(why.exit_code, 0);
  EXPECT_NE(why.out.find("web: exited"), std::string::npos) << why.out;
}

TEST_F(CrashTest, SegfaultWithAndWithoutCore) {
  struct rlimit core {};
  getrlimit(RLIMIT_CORE, &core);
  ASSERT_TRUE(start_agent(
      program("plain", helper("exit_with") + " 0 --signal SEGV", kNoRestart) +
      program("cored", helper("exit_with") + " 0 --signal SEGV --core",
              kNoRestart + "directory=" + dir_.path().string() + "\n")));
  const Json plain = wait_record("plain");
  ASSERT_FALSE(plain.empty()) << main_log();
  EXPECT_EQ(plain["cause"], "signaled");
  EXPECT_EQ(plain["signal"], "SIGSEGV");
  EXPECT_TRUE(plain["exit_code"].is_null());
  EXPECT_EQ(plain["shell_status"], 139);
  const Json cored = wait_record("cored");
  ASSERT_FALSE(cored.empty());
  EXPECT_EQ(cored["cause"], "signaled");
  if (core.rlim_max == 0) {
    GTEST_SKIP() << "the hard RLIMIT_CORE is 0 here: no core can be dumped";
  }
  EXPECT_EQ(cored["core_dumped"], true);
  if (core.rlim_cur == 0) {
    EXPECT_EQ(plain["core_dumped"], false);
  }
}

TEST_F(CrashTest, OutsideSigkillWithoutEvidenceIsSignaled) {
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), kNoRestart)));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  const pid_t pid = last_pid("web");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const Json r = wait_record("web");
  ASSERT_FALSE(r.empty()) << main_log();
  // Another OOM kill on the machine meanwhile would make this `oom_killed` (probable).
  if (r["cause"] == "oom_killed") {
    EXPECT_EQ(r["confidence"], "probable");
    GTEST_SKIP() << "the machine's OOM counter rose during the test";
  }
  EXPECT_EQ(r["cause"], "signaled");
  EXPECT_EQ(r["signal"], "SIGKILL");
  EXPECT_EQ(r["shell_status"], 137);
}

TEST_F(CrashTest, StopIsNoCrashButTheCauseIsShown) {
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), kNoRestart)));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  EXPECT_EQ(ctl("stop web").exit_code, 0);
  EXPECT_EQ(status_json("web")["last_cause"], "stopped");
  EXPECT_TRUE(records("web").empty());
  EXPECT_EQ(ctl("why web").out, "web: no crash on record\n");
}

TEST_F(CrashTest, StopTimeoutRunsSnapshotCommandAndIsRecorded) {
  ASSERT_TRUE(start_agent(program(
      "stubborn", helper("ignore_sigterm"),
      kNoRestart + "stopwaitsecs=1\nsnapshot_command=/bin/echo dumping %(pid)s\n")));
  ASSERT_TRUE(wait_state("stubborn", "RUNNING"));
  const pid_t pid = last_pid("stubborn");
  EXPECT_EQ(ctl("stop stubborn").exit_code, 0);
  const Json r = wait_record("stubborn");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "stop_timeout");
  EXPECT_EQ(r["signal"], "SIGKILL");
  ASSERT_TRUE(r["snapshot"].is_string());
  const std::string path = r["snapshot"].get<std::string>();
  ASSERT_TRUE(wait_until([&] { return fs::exists(path); }));
  const Json snap = Json::parse(read_file(path), nullptr, false);
  EXPECT_EQ(snap["snapshot_command"]["output"], "dumping " + std::to_string(pid) + "\n");
}

TEST_F(CrashTest, SpawnFailureIsRecorded) {
  ASSERT_TRUE(start_agent(program("ghost", "/nonexistent/ghost", "startretries=0\n")));
  const Json r = wait_record("ghost");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "spawn_failed");
  EXPECT_TRUE(r["pid"].is_null());
  EXPECT_TRUE(r["snapshot"].is_null());
  EXPECT_NE(r["evidence"][0]["text"].get<std::string>().find("/nonexistent/ghost"),
            std::string::npos);
}

TEST_F(CrashTest, WrapperShell137IsAnExitWithANote) {
  ASSERT_TRUE(start_agent(program("wrapped", "/bin/sh -c \"exit 137\"", kNoRestart)));
  const Json r = wait_record("wrapped");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "exited");
  EXPECT_EQ(r["exit_code"], 137);
  EXPECT_NE(r["note"].get<std::string>().find("killed by SIGKILL"), std::string::npos);
}

TEST_F(CrashTest, RecordsSurviveAnAgentRestartAndRetentionHolds) {
  const std::string crashes = dir_.file("crashes");
  const ConfigExtras extras{.supervisord = "crash_keep=2\n"};
  const std::string conf =
      program("flaky", helper("exit_with") + " 1", "startsecs=0\nautorestart=true\n"
                                                   "crashloop_max_restarts=3\n");
  ASSERT_TRUE(start_agent(conf, extras));
  ASSERT_TRUE(wait_state("flaky", "FATAL")) << main_log();
  const std::size_t kept = records("flaky").size();
  EXPECT_EQ(kept, 4u);  // the first run and three restarts
  ASSERT_TRUE(wait_until([&] { return snapshots(crashes, "flaky").size() == 2; }))
      << snapshots(crashes, "flaky").size();
  stop_agent();
  ASSERT_TRUE(start_agent(program("flaky", helper("sleep_forever"), "autostart=false\n"),
                          extras));
  const Json again = records("flaky");
  EXPECT_EQ(again.size(), kept);
  const RunResult table = ctl("crashes flaky");
  EXPECT_NE(table.out.find("flaky"), std::string::npos) << table.out;
}

TEST_F(CrashTest, UnwritableSnapshotDirIsReportedAndTheRestartHappens) {
  std::ofstream(dir_.file("afile")) << "not a directory\n";
  ASSERT_TRUE(start_agent(program("web", helper("exit_with") + " 1 300", "startsecs=0\n"),
                          {.supervisord = "crash_dir=%(here)s/afile/crashes\n"}));
  ASSERT_TRUE(wait_log("crash: cannot write")) << main_log();
  // The restarts go on.
  EXPECT_TRUE(wait_until([&] { return spawned_pids("web").size() >= 3; })) << main_log();
  const Json r = records("web");
  ASSERT_FALSE(r.empty());
}

TEST_F(CrashTest, DelayedRestartSaysWhenAndWhy) {
  ASSERT_TRUE(start_agent(program("web", helper("exit_with") + " 1", "startsecs=0\n"
                                                                     "restart_delay=30\n")));
  ASSERT_TRUE(wait_until([&] {
    return ctl("status web").out.find("restart in") != std::string::npos;
  })) << ctl("status web").out;
  EXPECT_TRUE(std::regex_search(ctl("status web").out,
                                std::regex(R"(web +EXITED +restart in \d+s after exit status 1)")))
      << ctl("status web").out;
  EXPECT_EQ(ctl("stop web").exit_code, 0);
}

TEST_F(CrashTest, PythonFaulthandlerReachesTheChild) {
  ASSERT_TRUE(start_agent(program("py", helper("print_env"),
                                  kNoRestart + "python_faulthandler=true\n"
                                  "stdout_logfile=%(here)s/py.out\n") +
                          program("plain", helper("print_env"),
                                  kNoRestart + "stdout_logfile=%(here)s/plain.out\n")));
  ASSERT_TRUE(wait_state("py", "EXITED"));
  ASSERT_TRUE(wait_state("plain", "EXITED"));
  EXPECT_NE(read_file(dir_.file("py.out")).find("\nPYTHONFAULTHANDLER=1\n"), std::string::npos)
      << read_file(dir_.file("py.out"));
  EXPECT_EQ(read_file(dir_.file("plain.out")).find("PYTHONFAULTHANDLER"), std::string::npos);
}

// ---- the kernel's OOM killer ----

/// A memory cgroup with a small limit that a test child can join: cgroup v2 with the memory
/// controller, or v1's memory hierarchy. Removed at destruction.
class MemoryCgroup {
 public:
  static std::optional<MemoryCgroup> create(const std::string& name, std::int64_t bytes,
                                            std::string& why_not) {
    if (::geteuid() != 0) {
      why_not = "not root: no memory cgroup can be made";
      return std::nullopt;
    }
    for (const std::string base : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      if (read_file(base + "/cgroup.controllers").find("memory") == std::string::npos) {
        continue;
      }
      MemoryCgroup cg(base + "/" + name);
      if (cg.make() && cg.write("memory.max", std::to_string(bytes)) &&
          (cg.write("memory.swap.max", "0") || true)) {
        return cg;
      }
    }
    const std::string v1 = "/sys/fs/cgroup/memory";
    if (fs::exists(v1 + "/memory.limit_in_bytes")) {
      MemoryCgroup cg(v1 + "/" + name);
      if (cg.make() && cg.write("memory.limit_in_bytes", std::to_string(bytes))) {
        (void)cg.write("memory.memsw.limit_in_bytes", std::to_string(bytes));
        return cg;
      }
    }
    why_not = "no writable memory cgroup (v2 memory controller or v1 memory hierarchy)";
    return std::nullopt;
  }
  MemoryCgroup(MemoryCgroup&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  ~MemoryCgroup() {
    if (!path_.empty()) {
      ::rmdir(path_.c_str());
    }
  }
  std::string procs() const { return path_ + "/cgroup.procs"; }

 private:
  explicit MemoryCgroup(std::string path) : path_(std::move(path)) {}
  bool make() { return ::mkdir(path_.c_str(), 0755) == 0 || errno == EEXIST; }
  bool write(const std::string& file, const std::string& value) const {
    std::ofstream out(path_ + "/" + file);
    out << value;
    out.flush();
    return static_cast<bool>(out);
  }
  std::string path_;
};

TEST_F(CrashTest, KernelOomKillIsCertainFromTheKernelLog) {
  std::string why_not;
  auto cg = MemoryCgroup::create("zagent-e2e-" + std::to_string(::getpid()), 48 << 20, why_not);
  if (!cg) {
    GTEST_SKIP() << why_not;
  }
  if (::access("/dev/kmsg", R_OK) != 0) {
    GTEST_SKIP() << "/dev/kmsg is not readable: no kernel log evidence";
  }
  ASSERT_TRUE(start_agent(program(
      "hog", helper("join_cgroup") + " " + cg->procs() + " " + helper("memory_hog"), kNoRestart)));
  const Json r = wait_record("hog");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "oom_killed") << r.dump();
  EXPECT_EQ(r["confidence"], "certain");
  bool kmsg = false;
  for (const auto& e : r["evidence"]) {
    if (e["source"] == "kmsg" &&
        e["text"] == "Killed process " + std::to_string(last_pid("hog")) + " (memory_hog)") {
      kmsg = true;
    }
  }
  EXPECT_TRUE(kmsg) << r.dump();
  EXPECT_TRUE(wait_log("crash: hog was killed by the kernel OOM killer (certain: kmsg"));
}

}  // namespace
}  // namespace zagent::test::e2e
