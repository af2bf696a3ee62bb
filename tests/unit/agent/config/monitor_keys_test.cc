// The resource monitoring keys (docs/monitoring.md): defaults, parsing, their errors with the
// section and file, and --dump-config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/config.h"
#include "agent/config/config_json.h"
#include "agent/config/loader.h"
#include "tests/support/fake_config_host.h"

namespace zagent {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kMain = "/srv/app/supervisord.conf";

class MonitorKeysTest : public ::testing::Test {
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
    return result.config.value_or(AgentConfig{});
  }
  ProcessConfig program(const std::string& body) {
    const AgentConfig c = ok("[supervisord]\n[program:a]\ncommand=x\n" + body);
    EXPECT_TRUE(c.notes.empty()) << (c.notes.empty() ? "" : c.notes[0].text);
    return c.groups.empty() ? ProcessConfig{} : c.groups[0].processes[0];
  }
  /// The one error, as the main log and `--check` show it (with file and line).
  std::string error(const std::string& text) {
    auto result = load(text);
    EXPECT_FALSE(result.config.has_value());
    return result.errors.empty() ? "" : result.errors.front().render();
  }
  test::FakeConfigHost host_;
};

TEST_F(MonitorKeysTest, DefaultsSampleEveryTenSecondsAndGuardNothing) {
  const AgentConfig c = ok("[supervisord]\n[program:a]\ncommand=x\n");
  EXPECT_EQ(c.supervisord.sample_interval, 10s);
  EXPECT_EQ(c.supervisord.memory_trend_window, 30min);
  const ProcessConfig& p = c.groups[0].processes[0];
  EXPECT_EQ(p.memory_limit, 0);
  EXPECT_EQ(p.memory_limit_for, 0s);
  EXPECT_EQ(p.memory_growth_limit, 0);
  EXPECT_EQ(p.memory_growth_action, GrowthAction::Warn);
  EXPECT_EQ(p.cpu_limit, 0);
  EXPECT_EQ(p.cpu_limit_for, 60s);
  EXPECT_EQ(p.restart_on_output, "");
  EXPECT_FALSE(p.memory_trend_window.has_value());
}

TEST_F(MonitorKeysTest, EveryKeyIsReadAndKnown) {
  const AgentConfig c =
      ok("[supervisord]\nsample_interval=0.5\nmemory_trend_window=600\n"
         "[program:a]\ncommand=x\nmemory_limit=8GB\nmemory_limit_for=30\n"
         "memory_growth_limit=500MB\nmemory_growth_action=Restart\nmemory_trend_window=120\n"
         "cpu_limit=95%\ncpu_limit_for=2.5\nrestart_on_output= @cuda_oom, @gpu_fault \n");
  EXPECT_TRUE(c.notes.empty()) << (c.notes.empty() ? "" : c.notes[0].text);
  EXPECT_EQ(c.supervisord.sample_interval, 500ms);
  EXPECT_EQ(c.supervisord.memory_trend_window, 600s);
  const ProcessConfig& p = c.groups[0].processes[0];
  EXPECT_EQ(p.memory_limit, 8LL * 1024 * 1024 * 1024);
  EXPECT_EQ(p.memory_limit_for, 30s);
  EXPECT_EQ(p.memory_growth_limit, 500LL * 1024 * 1024);
  EXPECT_EQ(p.memory_growth_action, GrowthAction::Restart);
  EXPECT_EQ(p.memory_trend_window, std::optional<std::chrono::milliseconds>(120s));
  EXPECT_DOUBLE_EQ(p.cpu_limit, 95.0);
  EXPECT_EQ(p.cpu_limit_for, 2500ms);
  EXPECT_EQ(p.restart_on_output, "@cuda_oom, @gpu_fault");
}

TEST_F(MonitorKeysTest, APatternIsTakenAsWrittenWithoutExpansion) {
  EXPECT_EQ(program("restart_on_output=^100%(done|fail)\n").restart_on_output, "^100%(done|fail)");
  EXPECT_DOUBLE_EQ(program("cpu_limit=350\n").cpu_limit, 350.0);
}

TEST_F(MonitorKeysTest, BadValuesNameTheKeySectionAndFile) {
  const std::string head = "[supervisord]\n[program:a]\ncommand=x\n";
  EXPECT_THAT(error(head + "restart_on_output=CUDA (out of\n"),
              HasSubstr("invalid value for restart_on_output: 'CUDA (out of' (invalid pattern at "
                        "offset 12: missing closing parenthesis) in section 'program:a' (file: "
                        "'/srv/app/supervisord.conf', line 4)"));
  EXPECT_THAT(error(head + "restart_on_output=@cuda\n"),
              HasSubstr("unknown pattern set '@cuda' (known: @cuda_oom, @gpu_fault)"));
  EXPECT_THAT(error(head + "memory_growth_action=kill\n"),
              HasSubstr("invalid value for memory_growth_action: 'kill' (use warn or restart)"));
  EXPECT_THAT(error(head + "cpu_limit=lots\n"),
              HasSubstr("invalid value for cpu_limit: 'lots' (a percentage of one core, such as "
                        "95)"));
  EXPECT_THAT(error(head + "cpu_limit=-5\n"), HasSubstr("invalid value for cpu_limit: '-5'"));
  EXPECT_THAT(error(head + "memory_limit=eight\n"), HasSubstr("section 'program:a'"));
  EXPECT_THAT(error(head + "memory_limit_for=soon\n"),
              HasSubstr("invalid value for memory_limit_for: 'soon' (seconds expected)"));
  EXPECT_THAT(error(head + "memory_trend_window=0\n"),
              HasSubstr("invalid value for memory_trend_window: '0' (must be more than 0)"));
  EXPECT_THAT(error("[supervisord]\nsample_interval=-1\n"),
              HasSubstr("invalid value for sample_interval: '-1' (must not be negative)"));
  EXPECT_THAT(error("[supervisord]\nmemory_trend_window=0\n"),
              HasSubstr("invalid value for memory_trend_window: '0' (must be more than 0)"));
}

TEST_F(MonitorKeysTest, DumpConfigShowsThem) {
  const AgentConfig c =
      ok("[supervisord]\nsample_interval=0.5\n[program:a]\ncommand=x\nmemory_limit=1MB\n"
         "cpu_limit=90\nmemory_growth_action=restart\nrestart_on_output=@cuda_oom\n");
  const auto j = config_to_json(c);
  EXPECT_EQ(j["supervisord"]["sample_interval"], 0.5);
  EXPECT_EQ(j["supervisord"]["memory_trend_window"], 1800);
  const auto& p = j["groups"][0]["processes"][0];
  EXPECT_EQ(p["memory_limit"], 1024 * 1024);
  EXPECT_EQ(p["memory_limit_for"], 0);
  EXPECT_EQ(p["cpu_limit"], 90.0);
  EXPECT_EQ(p["cpu_limit_for"], 60);
  EXPECT_EQ(p["memory_growth_action"], "restart");
  EXPECT_EQ(p["memory_trend_window"], nullptr);
  EXPECT_EQ(p["restart_on_output"], "@cuda_oom");
}

}  // namespace
}  // namespace zagent
