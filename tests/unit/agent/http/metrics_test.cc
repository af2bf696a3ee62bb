// The Prometheus text of /metrics (agent/http/metrics_text.h): HELP/TYPE lines, label
// escaping, missing figures left out. Exact text.
#include <gtest/gtest.h>

#include <string>

#include "agent/http/metrics_text.h"

namespace zagent::http {
namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

ProgramFigures program(const std::string& name, const std::string& group, int state) {
  ProgramFigures p;
  p.name = name;
  p.group = group;
  p.state = state;
  return p;
}

TEST(MetricsTextTest, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(MetricsTextTest, RunningProgramWithAllFigures) {
  MetricsFigures f;
  f.ready = true;
  ProgramFigures p = program("web", "web", 20);
  p.cpu_seconds = 1.25;
  p.rss_bytes = 41943040;
  p.gpu_bytes = 1073741824;
  p.last_exit_code = 1;
  p.health = "passing";
  p.restarts_by_cause = {{"exited", 2}, {"oom_killed", 1}};
  p.respawns = 3;
  f.programs.push_back(p);
  const std::string text = render_metrics(f);
  EXPECT_TRUE(contains(text, "# HELP zagent_ready "));
  EXPECT_TRUE(contains(text, "# TYPE zagent_ready gauge\nzagent_ready 1\n"));
  EXPECT_TRUE(contains(text, "# TYPE zagent_program_up gauge\n"
                             "zagent_program_up{name=\"web\",group=\"web\"} 1\n"));
  EXPECT_TRUE(contains(text, "zagent_program_state{name=\"web\",group=\"web\"} 20\n"));
  EXPECT_TRUE(contains(text, "# TYPE zagent_program_restarts_total counter\n"
                             "zagent_program_restarts_total{name=\"web\",group=\"web\",cause="
                             "\"exited\"} 2\n"
                             "zagent_program_restarts_total{name=\"web\",group=\"web\",cause="
                             "\"oom_killed\"} 1\n"));
  EXPECT_TRUE(contains(text, "zagent_program_respawns_total{name=\"web\",group=\"web\"} 3\n"));
  EXPECT_TRUE(contains(text, "# TYPE zagent_program_cpu_seconds_total counter\n"
                             "zagent_program_cpu_seconds_total{name=\"web\",group=\"web\"} 1.25\n"));
  EXPECT_TRUE(
      contains(text, "zagent_program_resident_memory_bytes{name=\"web\",group=\"web\"} 41943040\n"));
  EXPECT_TRUE(
      contains(text, "zagent_program_gpu_memory_bytes{name=\"web\",group=\"web\"} 1073741824\n"));
  EXPECT_TRUE(contains(text, "zagent_program_last_exit_code{name=\"web\",group=\"web\"} 1\n"));
  EXPECT_TRUE(contains(text,
                       "zagent_program_health{name=\"web\",group=\"web\",status=\"passing\"} 1\n"
                       "zagent_program_health{name=\"web\",group=\"web\",status=\"failing\"} 0\n"
                       "zagent_program_health{name=\"web\",group=\"web\",status=\"unknown\"} 0\n"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsTextTest, MissingFiguresAreLeftOutNotNaN) {
  MetricsFigures f;
  f.programs.push_back(program("api", "web", 0));
  const std::string text = render_metrics(f);
  EXPECT_TRUE(contains(text, "zagent_program_up{name=\"api\",group=\"web\"} 0\n"));
  EXPECT_TRUE(contains(text, "zagent_program_state{name=\"api\",group=\"web\"} 0\n"));
  EXPECT_TRUE(contains(text, "zagent_ready 0\n"));
  for (const char* family :
       {"zagent_program_cpu_seconds_total", "zagent_program_resident_memory_bytes",
        "zagent_program_gpu_memory_bytes", "zagent_program_last_exit_code",
        "zagent_program_health", "zagent_program_restarts_total", "zagent_gpu_memory"}) {
    EXPECT_FALSE(contains(text, family)) << family;
  }
  EXPECT_FALSE(contains(text, "NaN"));
}

TEST(MetricsTextTest, NamesWithQuotesAndNewlinesAreEscaped) {
  MetricsFigures f;
  f.programs.push_back(program("we\"b\\x", "g\nh", 20));
  const std::string text = render_metrics(f);
  EXPECT_TRUE(contains(text, "zagent_program_up{name=\"we\\\"b\\\\x\",group=\"g\\nh\"} 1\n"));
}

TEST(MetricsTextTest, GpusAreLabelledAsDcgmExporter) {
  MetricsFigures f;
  GpuFigures g;
  g.index = 1;
  g.uuid = "GPU-1234";
  g.model = "NVIDIA H100";
  g.free_bytes = 100;
  g.total_bytes = 300;
  f.gpus.push_back(g);
  const std::string text = render_metrics(f);
  EXPECT_TRUE(contains(text, "# TYPE zagent_gpu_memory_free_bytes gauge\n"
                             "zagent_gpu_memory_free_bytes{gpu=\"1\",UUID=\"GPU-1234\",modelName="
                             "\"NVIDIA H100\"} 100\n"));
  EXPECT_TRUE(contains(text, "zagent_gpu_memory_total_bytes{gpu=\"1\",UUID=\"GPU-1234\","
                             "modelName=\"NVIDIA H100\"} 300\n"));
  EXPECT_FALSE(contains(text, "zagent_gpu_memory_used_bytes"));  // unknown: left out
}

TEST(MetricsTextTest, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  MetricsFigures f;
  ProgramFigures p = program("web", "web", 20);
  p.cpu_seconds = 2;
  p.health = "failing";
  f.programs.push_back(p);
  f.programs.push_back(program("api", "api", 200));
  const std::string text = render_metrics(f);
  std::string last_type;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      last_type = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind("# ", 0) != 0) {
      EXPECT_EQ(line.rfind(last_type, 0), 0u) << line;
    }
  }
  EXPECT_TRUE(contains(text, "zagent_program_cpu_seconds_total{name=\"web\",group=\"web\"} 2\n"));
  EXPECT_TRUE(contains(text, "status=\"failing\"} 1\n"));
}

}  // namespace
}  // namespace zagent::http
