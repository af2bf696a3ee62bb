// Prints /metrics for a fixed table (every family, names that need escaping, two GPUs), for
// parse_metrics.py to read with the real Prometheus parser. Pure.
#include <iostream>

#include "agent/http/metrics_text.h"

int main() {
  using namespace zagent::http;
  MetricsFigures f;
  f.ready = false;
  f.agent_state = 1;
  ProgramFigures web;
  web.name = "web";
  web.group = "web";
  web.state = 20;
  web.cpu_seconds = 12.5;
  web.rss_bytes = 41943040;
  web.gpu_bytes = 2147483648;
  web.last_exit_code = 1;
  web.health = "passing";
  web.restarts_by_cause = {{"exited", 3}, {"oom_killed", 1}};
  web.respawns = 4;
  f.programs.push_back(web);
  ProgramFigures odd;
  odd.name = "we\"ird\\name";
  odd.group = "multi\nline";
  odd.state = 200;
  odd.last_exit_code = -1;
  odd.health = "failing";
  odd.restarts_by_cause = {{"spawn_failed", 2}};
  f.programs.push_back(odd);
  ProgramFigures idle;
  idle.name = "idle";
  idle.group = "g";
  idle.state = 0;
  f.programs.push_back(idle);
  for (int i = 0; i < 2; ++i) {
    GpuFigures g;
    g.index = i;
    g.uuid = "GPU-0000000" + std::to_string(i);
    g.model = "NVIDIA H100 80GB HBM3";
    g.total_bytes = 85899345920;
    g.used_bytes = 1073741824LL * (i + 1);
    g.free_bytes = *g.total_bytes - *g.used_bytes;
    f.gpus.push_back(g);
  }
  std::cout << render_metrics(f);
  return 0;
}
