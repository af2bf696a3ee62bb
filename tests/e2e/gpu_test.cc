// The GPU guardian end to end (docs/gpu.md): the real agent reading fake GPUs, either through
// the fake libnvidia-ml.so.1 the tests build (gpu_library=) or through a fake nvidia-smi on
// PATH; the test rewrites the devices and their processes mid-run. The watermark restarts its
// program and only it; the start gate holds a spawn until memory frees, or fails it into
// BACKOFF; attribution follows a program's children; a hung probe leaves the control socket
// answering.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/e2e/agent_fixture.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr const char* kUuid0 = "GPU-11111111-2222-3333-4444-555555555555";
constexpr const char* kUuid1 = "GPU-66666666-7777-8888-9999-000000000000";

/// What the fake devices show: two GPUs of 81920 MiB; `free` in MiB per device, `apps` the
/// compute processes (device index, pid, MiB).
struct FakeGpus {
  std::uint64_t free0 = 40000;
  std::uint64_t free1 = 40000;
  struct App {
    int device;
    pid_t pid;
    std::uint64_t mib;
  };
  std::vector<App> apps;
};

enum class Backend { Smi, Nvml };

/// Restores an environment variable when the test ends.
class EnvVar {
 public:
  EnvVar(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
    }
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class GpuTest : public AgentFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.file("smi"));
    std::filesystem::create_directories(dir_.file("bin"));
    if (GetParam() == Backend::Smi) {
      std::filesystem::create_symlink(ZAGENT_FAKE_NVIDIA_SMI, dir_.file("bin/nvidia-smi"));
    }
    const char* path = std::getenv("PATH");
    path_ = std::make_unique<EnvVar>("PATH", dir_.file("bin") + ":" + (path ? path : "/usr/bin"));
    smi_ = std::make_unique<EnvVar>("ZAGENT_FAKE_SMI", dir_.file("smi"));
    nvml_ = std::make_unique<EnvVar>("ZAGENT_FAKE_NVML", dir_.file("nvml.txt"));
  }

  /// [supervisord] lines: the backend under test, read every 0.2 s.
  ConfigExtras gpu_extras(const std::string& more = "") const {
    std::string lines = "gpu_sample_interval=0.2\n";
    if (GetParam() == Backend::Nvml) {
      lines += std::string("gpu=nvml\ngpu_library=") + ZAGENT_FAKE_NVML_LIB + "\n";
    } else {
      lines += "gpu=nvidia-smi\n";
    }
    return {"", lines + more, ""};
  }

  static void write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, path);
  }

  /// Shows `gpus` through the backend under test, plus `extra` lines of the fake NVML file.
  void set_gpus(const FakeGpus& gpus, const std::string& extra = "") const {
    const std::uint64_t total = 81920;
    if (GetParam() == Backend::Smi) {
      std::ostringstream g;
      g << "0, " << kUuid0 << ", Fake H200, " << total << ", " << total - gpus.free0 << ", "
        << gpus.free0 << ", 40, 550.54.15\n";
      g << "1, " << kUuid1 << ", Fake H200, " << total << ", " << total - gpus.free1 << ", "
        << gpus.free1 << ", [N/A], 550.54.15\n";
      std::ostringstream a;
      for (const auto& app : gpus.apps) {
        a << (app.device == 0 ? kUuid0 : kUuid1) << ", " << app.pid << ", " << app.mib << "\n";
      }
      write_atomically(dir_.file("smi/gpus.csv"), g.str());
      write_atomically(dir_.file("smi/apps.csv"), a.str());
      return;
    }
    std::ostringstream n;
    n << "driver 550.54.15\n" << extra;
    n << "device 0 " << kUuid0 << " \"Fake H200\" total=" << total * kMiB
      << " used=" << (total - gpus.free0) * kMiB << " free=" << gpus.free0 * kMiB << " util=40\n";
    n << "device 1 " << kUuid1 << " \"Fake H200\" total=" << total * kMiB
      << " used=" << (total - gpus.free1) * kMiB << " free=" << gpus.free1 * kMiB << " util=0\n";
    for (const auto& app : gpus.apps) {
      n << "process " << app.device << " " << app.pid << " " << app.mib * kMiB << "\n";
    }
    write_atomically(dir_.file("nvml.txt"), n.str());
  }

  Json gpu_status() const {
    return Json::parse(ctl("--json gpu").out, nullptr, false);
  }
  Json top_row(const std::string& name) const {
    const Json j = Json::parse(ctl("--json top " + name).out, nullptr, false);
    if (j.is_object() && j.contains("processes") && !j["processes"].empty()) {
      return j["processes"][0];
    }
    return nullptr;
  }
  Json first_record(const std::string& name) const {
    Json found = nullptr;
    wait_until([&] {
      const Json all = Json::parse(ctl("--json crashes " + name).out, nullptr, false);
      if (all.is_array() && !all.empty()) {
        found = all[0];
        return true;
      }
      return false;
    });
    return found;
  }

  std::unique_ptr<EnvVar> path_, smi_, nvml_;
};

TEST_P(GpuTest, WatermarkRestartsItsProgramAndOnlyIt) {
  set_gpus({});
  ASSERT_TRUE(start_agent(
      program("web", helper("sleep_forever"), "startsecs=1\ngpu_min_free=4GB\ngpu_min_free_for=0.5\n") +
          program("other", helper("sleep_forever"), "startsecs=1\n"),
      gpu_extras()));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  ASSERT_TRUE(wait_state("other", "RUNNING"));
  const pid_t web = last_pid("web");
  const pid_t other = last_pid("other");
  // GPU 1 falls to 3000 MiB free (under 4 GiB): web uses every device (no CUDA_VISIBLE_DEVICES).
  set_gpus({40000, 3000, {}});
  ASSERT_TRUE(wait_log("guard gpu_watermark tripped for web: GPU 1 free 2.9 GiB < gpu_min_free "
                       "4.0 GiB for "))
      << main_log();
  const Json r = first_record("web");
  ASSERT_TRUE(r.is_object()) << main_log();
  EXPECT_EQ(r["cause"], "gpu_watermark");
  EXPECT_EQ(r["evidence"][0]["source"], "gpu");
  ASSERT_TRUE(r["gpu"].is_object()) << r.dump();
  EXPECT_EQ(r["gpu"]["devices"][1]["uuid"], kUuid1);
  EXPECT_EQ(r["gpu"]["devices"][1]["memory_free_bytes"], 3000 * kMiB);
  ASSERT_TRUE(wait_log("stopped: web (terminated by SIGTERM) for a restart by gpu_watermark"));
  set_gpus({});
  ASSERT_TRUE(wait_until([&] { return spawned_pids("web").size() >= 2; })) << main_log();
  EXPECT_NE(last_pid("web"), web);
  EXPECT_EQ(last_pid("other"), other);
  EXPECT_EQ(spawned_pids("other").size(), 1U);
  EXPECT_EQ(count_log("guard gpu_watermark tripped for other"), 0U);
  stop_agent();
}

TEST_P(GpuTest, StartGateHoldsUntilMemoryFreesThenStarts) {
  set_gpus({3000, 40000, {}});
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"),
                                  "startsecs=0\ngpu_start_min_free=12GB\ngpu_devices=0\n"),
                          gpu_extras()));
  ASSERT_TRUE(wait_until([&] {
    return ctl("status web").out.find("waiting for 12.0 GiB free on GPU 0 (2.9 GiB free)") !=
           std::string::npos;
  })) << ctl("status web").out;
  EXPECT_NE(ctl("status web").out.find("STARTING"), std::string::npos);
  EXPECT_TRUE(spawned_pids("web").empty());
  set_gpus({20000, 40000, {}});
  ASSERT_TRUE(wait_state("web", "RUNNING")) << main_log();
  EXPECT_EQ(spawned_pids("web").size(), 1U);
  EXPECT_TRUE(wait_log("waiting: web waiting for"));
  stop_agent();
}

TEST_P(GpuTest, StartGateTimeoutIsAFailedStart) {
  set_gpus({3000, 3000, {}});
  ASSERT_TRUE(start_agent(
      program("web", helper("sleep_forever"),
              "startsecs=0\ngpu_start_min_free=12GB\ngpu_start_timeout=0.5\nstartretries=1\n"),
      gpu_extras()));
  ASSERT_TRUE(wait_log("spawnerr: waiting for 12.0 GiB free on GPU ")) << main_log();
  ASSERT_TRUE(wait_state("web", "FATAL")) << main_log();
  EXPECT_NE(ctl("status web").out.find("waiting for 12.0 GiB free on GPU"), std::string::npos);
  EXPECT_TRUE(spawned_pids("web").empty());
  EXPECT_TRUE(wait_log("gave up: web entered FATAL state, too many start retries too quickly"));
  EXPECT_GE(count_log("spawnerr: waiting for 12.0 GiB free"), 2U);  // startretries=1: two tries
  stop_agent();
}

TEST_P(GpuTest, AttributionFollowsTheProgramsChildren) {
  set_gpus({});
  ASSERT_TRUE(start_agent(program("web", helper("spawn_grandchildren") + " 1",
                                  "startsecs=0\ngpu_devices=0\nstdout_logfile=%(here)s/web.out\n") +
                              program("idle", helper("sleep_forever"), "startsecs=0\n"),
                          gpu_extras()));
  ASSERT_TRUE(wait_until([&] { return read_file(dir_.file("web.out")).ends_with("\n"); }));
  const pid_t child = std::stoi(read_file(dir_.file("web.out")));
  // The child holds 2048 MiB on GPU 0; an unknown pid 1 holds 1024 MiB.
  set_gpus({38000, 40000, {{0, child, 2048}, {0, 1, 1024}}});
  Json row;
  ASSERT_TRUE(wait_until([&] {
    row = top_row("web");
    return row.is_object() && row["gpu"].is_object() && row["gpu"]["memory_bytes"] == 2048 * kMiB;
  })) << row.dump();
  EXPECT_EQ(row["gpu"]["estimated"], false);
  EXPECT_EQ(row["gpu"]["devices"][0]["uuid"], kUuid0);
  EXPECT_EQ(top_row("idle")["gpu"], nullptr);
  const Json status = gpu_status();
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["backend"], GetParam() == Backend::Nvml ? "nvml" : "nvidia-smi");
  EXPECT_EQ(status["attribution"], "pids");
  ASSERT_EQ(status["devices"].size(), 2U);
  const Json& d0 = status["devices"][0];
  EXPECT_EQ(d0["memory_total_bytes"], 81920 * kMiB);
  ASSERT_EQ(d0["programs"].size(), 1U);
  EXPECT_EQ(d0["programs"][0]["namespec"], "web");
  EXPECT_EQ(d0["programs"][0]["pids"], Json::array({child}));
  ASSERT_EQ(d0["other_processes"].size(), 1U);
  EXPECT_EQ(d0["other_processes"][0]["pid"], 1);
  // The text: the device, the program with its pid, the other process.
  const RunResult text = ctl("gpu");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(std::string("GPU 0  Fake H200  ") + kUuid0), std::string::npos) << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("web +2\\.0 GiB +pid " + std::to_string(child))))
      << text.out;
  stop_agent();
}

TEST_P(GpuTest, AHungProbeLeavesTheControlSocketAnswering) {
  set_gpus({}, "hang nvmlDeviceGetMemoryInfo_v2 20\nhang nvmlDeviceGetMemoryInfo 20\n");
  if (GetParam() == Backend::Smi) {
    write_atomically(dir_.file("smi/hang"), "");
  }
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), "startsecs=0\ngpu_min_free=1GB\n"),
                          gpu_extras()));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  // While the probe hangs, status, stop and start answer.
  for (int i = 0; i < 5; ++i) {
    const RunResult status = ctl("status web");
    EXPECT_EQ(status.exit_code, 0) << status.err;
  }
  EXPECT_EQ(ctl("stop web").exit_code, 0);
  EXPECT_EQ(ctl("start web").exit_code, 0);
  // A client asking for the GPUs gets an answer while the probe hangs (what there is).
  const Json status = gpu_status();
  EXPECT_EQ(status["ok"], false) << status.dump();
  EXPECT_EQ(ctl("status web").exit_code, 0);
  if (GetParam() == Backend::Nvml) {
    // NVML's call deadline (2 s) ends the reading with the call named.
    ASSERT_TRUE(wait_log("GPU reading failed (nvml): NVML call nvmlDeviceGetMemoryInfo"))
        << main_log();
  }
  stop_agent();
}

TEST_P(GpuTest, RespawnWaitsForTheOldTreesGpuMemoryAndKillsItsLeftovers) {
  set_gpus({});
  ASSERT_TRUE(start_agent(program("web", helper("spawn_grandchildren") + " 1",
                                  "startsecs=0\ngpu_devices=0\nstopwaitsecs=30\n"
                                  "stdout_logfile=%(here)s/web.out\n"),
                          gpu_extras()));
  ASSERT_TRUE(wait_until([&] { return read_file(dir_.file("web.out")).ends_with("\n"); }));
  const pid_t child = std::stoi(read_file(dir_.file("web.out")));
  const pid_t web = last_pid("web");
  set_gpus({30000, 40000, {{0, child, 8192}}});
  ASSERT_TRUE(wait_until([&] {
    const Json row = top_row("web");
    return row.is_object() && row["gpu"].is_object() && row["gpu"]["memory_bytes"] == 8192 * kMiB;
  }));
  // web dies; its child lives on (reparented to the agent) and holds the memory.
  ASSERT_EQ(::kill(web, SIGKILL), 0);
  ASSERT_TRUE(wait_log("killing leftover GPU processes of web with SIGKILL: " +
                       std::to_string(child)))
      << main_log();
  EXPECT_TRUE(wait_until([&] { return !process_alive(child); }));
  // The driver still lists it: the spawn waits.
  ASSERT_TRUE(wait_until([&] {
    return ctl("status web").out.find("waiting for the old process tree to release GPU memory "
                                      "(pids " + std::to_string(child) + ": 8.0 GiB)") !=
           std::string::npos;
  })) << ctl("status web").out;
  EXPECT_EQ(spawned_pids("web").size(), 1U);
  // The driver lets go of it: the new run starts.
  set_gpus({38000, 40000, {}});
  ASSERT_TRUE(wait_until([&] { return spawned_pids("web").size() == 2; })) << main_log();
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  stop_agent();
}

TEST_P(GpuTest, AFailingReadingIsReportedAndRetried) {
  if (GetParam() == Backend::Nvml) {
    set_gpus({}, "init_error 18\n");
  } else {
    write_atomically(dir_.file("smi/fail"), "Failed to initialize NVML: Driver/library version mismatch\n");
  }
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), "startsecs=0\ngpu_min_free=1GB\n"),
                          gpu_extras()));
  ASSERT_TRUE(wait_log(GetParam() == Backend::Nvml ? "INFO GPU monitoring: NVML ("
                                                   : "INFO GPU monitoring: nvidia-smi ("));
  ASSERT_TRUE(wait_log("GPU reading failed (")) << main_log();
  EXPECT_TRUE(wait_log("ersion mismatch")) << main_log();
  Json status = gpu_status();
  EXPECT_EQ(status["ok"], false);
  EXPECT_NE(status["error"].get<std::string>().find("ersion mismatch"), std::string::npos)
      << status.dump();
  EXPECT_EQ(ctl("gpu").exit_code, 1);
  // The driver is back: the next reading works, and says so once.
  if (GetParam() == Backend::Smi) {
    std::filesystem::remove(dir_.file("smi/fail"));
  }
  set_gpus({});
  ASSERT_TRUE(wait_log("GPU readings work again (")) << main_log();
  EXPECT_EQ(count_log("GPU reading failed ("), 1U);
  ASSERT_TRUE(wait_until([&] { return gpu_status()["ok"] == true; }));
  EXPECT_EQ(ctl("gpu").exit_code, 0);
  EXPECT_TRUE(wait_log("INFO GPU: 2 devices: GPU 0 Fake H200 (" + std::string(kUuid0) + ")"));
  stop_agent();
}

INSTANTIATE_TEST_SUITE_P(Backends, GpuTest, ::testing::Values(Backend::Smi, Backend::Nvml),
                         [](const auto& param_info) {
                           return param_info.param == Backend::Nvml ? "nvml" : "nvidia_smi";
                         });

using GpuModeTest = AgentFixture;

TEST_F(GpuModeTest, OffReadsNothingAndSaysSo) {
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), "startsecs=0\ngpu_min_free=1GB\n"),
                          {"", "gpu=off\n", ""}));
  EXPECT_TRUE(wait_log("INFO GPU monitoring off (gpu=off)"));
  EXPECT_TRUE(wait_log("WARN web: the GPU keys do nothing while GPU monitoring is off (gpu=off)"));
  ASSERT_TRUE(wait_state("web", "RUNNING"));
  const RunResult gpu = ctl("gpu");
  EXPECT_EQ(gpu.exit_code, 1);
  EXPECT_NE((gpu.out + gpu.err).find("GPU monitoring is off"), std::string::npos) << gpu.out;
  const Json j = Json::parse(ctl("--json gpu").out, nullptr, false);
  EXPECT_EQ(j["backend"], "off");
  EXPECT_EQ(j["devices"], Json::array());
  stop_agent();
}

TEST_F(GpuModeTest, AutoLoadsTheGivenLibraryOrTurnsOffWithTheReason) {
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), "startsecs=0\n"),
                          {"", "gpu_library=" + dir_.file("missing.so") + "\n", ""}));
  EXPECT_TRUE(wait_log("WARN GPU monitoring off: cannot load " + dir_.file("missing.so")))
      << main_log();
  stop_agent();
  EnvVar file("ZAGENT_FAKE_NVML", dir_.file("nvml.txt"));
  {
    std::ofstream(dir_.file("nvml.txt")) << "device 0 GPU-1 \"Fake\" total=100 used=40 free=60\n";
  }
  ASSERT_TRUE(start_agent(program("web", helper("sleep_forever"), "startsecs=0\n"),
                          {"", std::string("gpu_library=") + ZAGENT_FAKE_NVML_LIB + "\n", ""}));
  EXPECT_TRUE(wait_log(std::string("INFO GPU monitoring: NVML (") + ZAGENT_FAKE_NVML_LIB + ")"));
  const Json j = Json::parse(ctl("--json gpu").out, nullptr, false);
  EXPECT_EQ(j["backend"], "nvml");
  EXPECT_EQ(j["devices"][0]["memory_free_bytes"], 60);
  stop_agent();
}

}  // namespace
}  // namespace zagent::test::e2e
