// The resource and output guards end to end (docs/monitoring.md): the real agent sampling real
// process trees from /proc, helper programs that leak memory at a set rate, spin a core, fork
// a tree, and print a CUDA out-of-memory traceback while staying alive; each guard restarts
// its program with the cause on record, and a program without guards is never touched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/e2e/agent_fixture.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

const ConfigExtras kFastSampling{"", "sample_interval=0.25\n", ""};

class GuardTest : public AgentFixture {
 protected:
  Json records(const std::string& name) const {
    const Json j = Json::parse(ctl("--json crashes " + name).out, nullptr, false);
    return j.is_array() ? j : Json::array();
  }
  Json wait_record(const std::string& name) const {
    Json last = Json::object();
    wait_until([&] {
      const Json all = records(name);
      if (!all.empty()) {
        last = all[0];
        return true;
      }
      return false;
    });
    return last;
  }
  /// The rows of `zctl --json top NAMES`, or an empty array.
  Json top(const std::string& names = "") const {
    const Json j = Json::parse(ctl("--json top " + names).out, nullptr, false);
    return j.is_object() && j.contains("processes") ? j["processes"] : Json::array();
  }
  /// Until NAME has a sample that `ok` accepts; returns it (null on timeout).
  Json wait_resources(const std::string& name, const std::function<bool(const Json&)>& ok) const {
    Json found = nullptr;
    wait_until([&] {
      for (const Json& row : top(name)) {
        if (row.value("namespec", "") == name && row["resources"].is_object() &&
            ok(row["resources"])) {
          found = row["resources"];
          return true;
        }
      }
      return false;
    });
    return found;
  }
};

TEST_F(GuardTest, MemoryLimitRestartsALeakingProgramWithItsCause) {
  ASSERT_TRUE(start_agent(program("leak", helper("leak_memory") + " --rate 64 --start 8",
                                  "memory_limit=48MB\nstartsecs=1\n"),
                          kFastSampling));
  ASSERT_TRUE(wait_log("guard memory_limit tripped for leak: RSS ")) << main_log();
  const Json r = wait_record("leak");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "memory_limit");
  EXPECT_EQ(r["expected"], false);
  ASSERT_FALSE(r["evidence"].empty());
  EXPECT_EQ(r["evidence"][0]["source"], "sampler");
  EXPECT_NE(r["evidence"][0]["text"].get<std::string>().find("> memory_limit 48.0MB"),
            std::string::npos);
  EXPECT_EQ(r["signal"], "SIGTERM");
  ASSERT_TRUE(r["resources"].is_object());
  EXPECT_GT(r["resources"]["rss_bytes"].get<double>(), 48.0 * 1024 * 1024);
  EXPECT_EQ(r["resources"]["memory_limit_bytes"], 48 * 1024 * 1024);
  // Restarted by the one engine: a new pid, RUNNING again once startsecs passed.
  ASSERT_TRUE(wait_log("stopped: leak (terminated by SIGTERM) for a restart by memory_limit"));
  EXPECT_TRUE(wait_until([&] { return spawned_pids("leak").size() >= 2; })) << main_log();
  ASSERT_TRUE(r["snapshot"].is_string());
  const std::string snapshot = r["snapshot"].get<std::string>();
  ASSERT_TRUE(wait_until([&] { return !read_file(snapshot).empty(); }));
  const Json snap = Json::parse(read_file(snapshot), nullptr, false);
  ASSERT_TRUE(snap.is_object());
  ASSERT_TRUE(snap["resources"].is_object()) << snap.dump();
  EXPECT_FALSE(snap["resources"]["samples"].empty());
}

TEST_F(GuardTest, CpuLimitRestartsASpinningProgram) {
  ASSERT_TRUE(start_agent(
      program("spin", helper("spin_cpu"), "cpu_limit=40\ncpu_limit_for=1\nstartsecs=1\n"),
      kFastSampling));
  ASSERT_TRUE(wait_log("guard cpu_limit tripped for spin: CPU ")) << main_log();
  const Json r = wait_record("spin");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "cpu_limit");
  EXPECT_NE(r["evidence"][0]["text"].get<std::string>().find("> cpu_limit 40% for "),
            std::string::npos);
}

TEST_F(GuardTest, CudaOomLineRestartsAProgramThatStaysAlive) {
  ASSERT_TRUE(start_agent(program("sd", helper("print_cuda_oom") + " --delay-ms 1500",
                                  "restart_on_output=@cuda_oom\nstartsecs=1\n")));
  ASSERT_TRUE(
      wait_log("guard output_pattern tripped for sd: stderr line matched @cuda_oom: "
               "torch.cuda.OutOfMemoryError: CUDA out of memory."))
      << main_log();
  const Json r = wait_record("sd");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "output_pattern");
  EXPECT_EQ(r["evidence"][0]["source"], "output");
  EXPECT_NE(r["evidence"][0]["text"].get<std::string>().find("CUDA out of memory. Tried to "
                                                             "allocate 2.00 GiB"),
            std::string::npos);
  bool seen = false;
  for (const Json& line : r["last_output"]["stderr"]) {
    seen = seen || line.get<std::string>().find("OutOfMemoryError") != std::string::npos;
  }
  EXPECT_TRUE(seen) << r.dump();
}

TEST_F(GuardTest, AGpuFaultSetDoesNotFireOnACudaOomAndAPlainTracebackFiresNothing) {
  ASSERT_TRUE(start_agent(
      program("sd", helper("print_cuda_oom"), "restart_on_output=@gpu_fault\nstartsecs=0\n") +
      program("calm", helper("print_cuda_oom") + " --kind none",
              "restart_on_output=@cuda_oom,@gpu_fault\nstartsecs=0\n") +
      program("bad", helper("print_cuda_oom") + " --kind gpu_fault --delay-ms 500",
              "restart_on_output=@gpu_fault\nstartsecs=0\n")));
  ASSERT_TRUE(
      wait_log("guard output_pattern tripped for bad: stderr line matched @gpu_fault: "
               "RuntimeError: CUDA error: an illegal memory access was encountered"))
      << main_log();
  EXPECT_TRUE(records("sd").empty());
  EXPECT_TRUE(records("calm").empty());
  EXPECT_EQ(spawned_pids("sd").size(), 1u);
  EXPECT_EQ(spawned_pids("calm").size(), 1u);
}

TEST_F(GuardTest, GrowthWarnsWithoutTouchingTheProgram) {
  ASSERT_TRUE(start_agent(program("leak", helper("leak_memory") + " --rate 16 --start 4",
                                  "memory_growth_limit=10MB\nmemory_trend_window=2\n"
                                  "startsecs=1\n"),
                          kFastSampling));
  ASSERT_TRUE(wait_log("guard memory_growth tripped for leak: RSS growth ")) << main_log();
  EXPECT_NE(main_log().find("warning only"), std::string::npos);
  EXPECT_EQ(spawned_pids("leak").size(), 1u);
  EXPECT_TRUE(records("leak").empty());
  const Json res = wait_resources("leak", [](const Json& r) {
    return r["memory_trend_bytes_per_hour"].is_number() &&
           r["memory_trend_bytes_per_hour"].get<double>() > 10.0 * 1024 * 1024;
  });
  EXPECT_TRUE(res.is_object()) << top("leak").dump();
}

TEST_F(GuardTest, GrowthRestartsWithTheRestartAction) {
  ASSERT_TRUE(start_agent(program("leak", helper("leak_memory") + " --rate 16 --start 4",
                                  "memory_growth_limit=10MB\nmemory_growth_action=restart\n"
                                  "memory_trend_window=2\nstartsecs=1\n"),
                          kFastSampling));
  const Json r = wait_record("leak");
  ASSERT_FALSE(r.empty()) << main_log();
  EXPECT_EQ(r["cause"], "memory_growth");
}

TEST_F(GuardTest, ATreeIsSampledWholeAndAProgramWithoutGuardsIsNeverTouched) {
  ASSERT_TRUE(start_agent(
      program("tree", helper("fork_tree") + " --children 2 --depth 2 --child-mib 8",
              "startsecs=0\nstopasgroup=true\n") +
          program("leak", helper("leak_memory") + " --rate 32 --start 4 --max 64", "startsecs=0\n"),
      kFastSampling));
  // Root + 2 children + 4 grandchildren, each holding 8 MiB.
  const Json tree = wait_resources("tree", [](const Json& r) {
    return r["processes"] == 7 && r["rss_bytes"].get<double>() >= 6 * 8.0 * 1024 * 1024;
  });
  ASSERT_TRUE(tree.is_object()) << top("tree").dump();
  EXPECT_GE(tree["threads"].get<int>(), 7);
  EXPECT_TRUE(tree["cpu_seconds"].is_number());
  const Json leak = wait_resources(
      "leak", [](const Json& r) { return r["rss_bytes"].get<double>() >= 60.0 * 1024 * 1024; });
  ASSERT_TRUE(leak.is_object()) << top("leak").dump();
  EXPECT_TRUE(leak["memory_limit_bytes"].is_null());
  EXPECT_EQ(count_log("guard "), 0u) << main_log();
  EXPECT_EQ(spawned_pids("tree").size(), 1u);
  EXPECT_EQ(spawned_pids("leak").size(), 1u);
  // `status --json` carries the same object.
  const Json st = Json::parse(ctl("--json status leak").out, nullptr, false);
  ASSERT_TRUE(st.is_object() && !st["processes"].empty()) << st.dump();
  ASSERT_TRUE(st["processes"][0]["resources"].is_object()) << st.dump();
  EXPECT_GT(st["processes"][0]["resources"]["rss_bytes"].get<double>(), 0);
  // The text table: a header and one row per program.
  const RunResult text = ctl("top");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("^NAME +STATE +PID +CPU% +RSS +PSS +"
                                                     "GPU +THREADS +TREND/H +UPTIME +RESTARTS\n")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\nleak +RUNNING +[0-9]+ "))) << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\ntree +RUNNING +[0-9]+ "))) << text.out;
}

TEST_F(GuardTest, SampleIntervalZeroSamplesOnRequestOnly) {
  ASSERT_TRUE(start_agent(program("idle", helper("sleep_forever"), "startsecs=0\n"),
                          ConfigExtras{"", "sample_interval=0\n", ""}));
  ASSERT_TRUE(wait_state("idle", "RUNNING"));
  const Json rows = top("idle");
  ASSERT_EQ(rows.size(), 1u) << ctl("--json top idle").out;
  ASSERT_TRUE(rows[0]["resources"].is_object()) << rows.dump();
  EXPECT_EQ(rows[0]["resources"]["processes"], 1);
  EXPECT_EQ(rows[0]["pid"], last_pid("idle"));
  EXPECT_EQ(rows[0]["restarts"], 0);
}

TEST_F(GuardTest, UnknownNameIsAnError) {
  ASSERT_TRUE(start_agent(program("idle", helper("sleep_forever"), "startsecs=0\n")));
  const RunResult r = ctl("top nosuch");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("nosuch: ERROR (no such process)"), std::string::npos) << r.out << r.err;
}

TEST_F(GuardTest, ABadPatternIsAConfigErrorWithItsLine) {
  write_config(program("sd", "/bin/true", "restart_on_output=CUDA (out of\n"));
  const RunResult r = run({kZagent, "-c", dir_.file("z.conf"), "-n"}, {});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("restart_on_output"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("z.conf"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace zagent::test::e2e
