// The GPU guardian's keys (docs/gpu.md): defaults, parsing, their errors with the section and
// file, and --dump-config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/config.h"
#include "agent/config/config_json.h"
#include "agent/config/loader.h"
#include "tests/support/fake_config_host.h"

namespace zagent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kMain = "/srv/app/supervisord.conf";
constexpr std::int64_t kGB = 1024LL * 1024 * 1024;

class GpuKeysTest : public ::testing::Test {
 protected:
  ConfigLoad load(const std::string& text) {
    host_.add_file(kMain, text);
    return load_config(kMain, {}, host_);
  }
  AgentConfig ok(const std::string& text) {
    auto result = load(text);
    for (const auto& e : result.errors) {
      ADD_FAILURE() << e.render();
    }
    if (result.config) {
      for (const auto& n : result.config->notes) {
        ADD_FAILURE() << n.text;  // an unknown key would be a note
      }
    }
    return result.config.value_or(AgentConfig{});
  }
  std::string error(const std::string& text) {
    auto result = load(text);
    EXPECT_FALSE(result.config.has_value());
    return result.errors.empty() ? "" : result.errors.front().render();
  }
  test::FakeConfigHost host_;
};

TEST_F(GpuKeysTest, DefaultsReadAutoEveryFiveSecondsAndGuardNothing) {
  const AgentConfig c = ok("[supervisord]\n[program:a]\ncommand=x\n");
  EXPECT_EQ(c.supervisord.gpu, GpuMode::Auto);
  EXPECT_EQ(c.supervisord.gpu_library, "");
  EXPECT_EQ(c.supervisord.gpu_sample_interval, 5s);
  const ProcessConfig& p = c.groups[0].processes[0];
  EXPECT_TRUE(p.gpu_devices.empty());
  EXPECT_EQ(p.gpu_min_free, 0);
  EXPECT_EQ(p.gpu_min_free_for, 10s);
  EXPECT_EQ(p.gpu_start_min_free, 0);
  EXPECT_EQ(p.gpu_start_timeout, 300s);
  EXPECT_EQ(p.gpu_memory_limit, 0);
}

TEST_F(GpuKeysTest, EveryKeyIsReadAndKnown) {
  const AgentConfig c = ok(
      "[supervisord]\ngpu=nvidia-smi\ngpu_library=lib/libnvidia-ml.so.1\ngpu_sample_interval=0.5\n"
      "[program:a]\ncommand=x\ngpu_devices=0, GPU-8f3a\ngpu_min_free=4GB\ngpu_min_free_for=3\n"
      "gpu_start_min_free=12GB\ngpu_start_timeout=60\ngpu_memory_limit=20GB\n");
  EXPECT_EQ(c.supervisord.gpu, GpuMode::NvidiaSmi);
  // Relative: against the start directory, as logfile= (the fake host starts in /srv).
  EXPECT_EQ(c.supervisord.gpu_library, "/srv/lib/libnvidia-ml.so.1");
  EXPECT_EQ(c.supervisord.gpu_sample_interval, 500ms);
  const ProcessConfig& p = c.groups[0].processes[0];
  EXPECT_THAT(p.gpu_devices, ElementsAre("0", "GPU-8f3a"));
  EXPECT_EQ(p.gpu_min_free, 4 * kGB);
  EXPECT_EQ(p.gpu_min_free_for, 3s);
  EXPECT_EQ(p.gpu_start_min_free, 12 * kGB);
  EXPECT_EQ(p.gpu_start_timeout, 60s);
  EXPECT_EQ(p.gpu_memory_limit, 20 * kGB);
  for (const char* mode : {"auto", "nvml", "OFF"}) {
    EXPECT_NE(ok(std::string("[supervisord]\ngpu=") + mode + "\n").supervisord.gpu,
              GpuMode::NvidiaSmi);
  }
  EXPECT_TRUE(ok("[supervisord]\n[program:a]\ncommand=x\ngpu_devices=auto\n")
                  .groups[0]
                  .processes[0]
                  .gpu_devices.empty());
}

TEST_F(GpuKeysTest, BadValuesNameTheKeySectionAndFile) {
  const std::string head = "[supervisord]\n[program:a]\ncommand=x\n";
  EXPECT_THAT(error(head + "gpu_devices=first\n"),
              HasSubstr("invalid value for gpu_devices: 'first' (use auto, or device indices and "
                        "UUIDs (0,1 or GPU-...)) in section 'program:a' (file: "
                        "'/srv/app/supervisord.conf', line 4)"));
  EXPECT_THAT(error(head + "gpu_devices=0,,1\n"), HasSubstr("invalid value for gpu_devices"));
  EXPECT_THAT(error(head + "gpu_min_free=lots\n"), HasSubstr("section 'program:a'"));
  EXPECT_THAT(error(head + "gpu_min_free_for=soon\n"),
              HasSubstr("invalid value for gpu_min_free_for: 'soon' (seconds expected)"));
  EXPECT_THAT(error(head + "gpu_start_timeout=-1\n"),
              HasSubstr("invalid value for gpu_start_timeout: '-1'"));
  EXPECT_THAT(error("[supervisord]\ngpu=cuda\n"),
              HasSubstr("invalid value for gpu: 'cuda' (use auto, nvml, nvidia-smi or off) (file: "
                        "'/srv/app/supervisord.conf', line 2)"));
  EXPECT_THAT(error("[supervisord]\ngpu_sample_interval=-1\n"),
              HasSubstr("invalid value for gpu_sample_interval: '-1' (must not be negative)"));
}

TEST_F(GpuKeysTest, DumpConfigShowsThem) {
  const auto j = config_to_json(ok("[supervisord]\ngpu=off\n[program:a]\ncommand=x\n"
                                   "gpu_devices=1\ngpu_min_free=1GB\n"));
  EXPECT_EQ(j["supervisord"]["gpu"], "off");
  EXPECT_EQ(j["supervisord"]["gpu_library"], nullptr);
  EXPECT_EQ(j["supervisord"]["gpu_sample_interval"], 5);
  const auto& p = j["groups"][0]["processes"][0];
  EXPECT_EQ(p["gpu_devices"], nlohmann::json::array({"1"}));
  EXPECT_EQ(p["gpu_min_free"], kGB);
  EXPECT_EQ(p["gpu_min_free_for"], 10);
  EXPECT_EQ(p["gpu_start_min_free"], 0);
  EXPECT_EQ(p["gpu_start_timeout"], 300);
  EXPECT_EQ(p["gpu_memory_limit"], 0);
  const auto def = config_to_json(ok("[supervisord]\n[program:a]\ncommand=x\n"));
  EXPECT_EQ(def["groups"][0]["processes"][0]["gpu_devices"], "auto");
}

}  // namespace
}  // namespace zagent
