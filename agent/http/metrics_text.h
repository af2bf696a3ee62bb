// /metrics in the Prometheus text exposition format 0.0.4 (docs/http.md, "Metrics"): the
// figures of every program and GPU as plain data, and the text made from them. Pure: the
// figures are gathered from the method table by pages.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zagent::http {

/// The Content-Type of the exposition format.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// One program's figures; a figure the agent does not have is nullopt and its sample is left
/// out (no NaN).
struct ProgramFigures {
  std::string name;                          ///< process name (label `name`)
  std::string group;                         ///< group name (label `group`)
  int state = 0;                             ///< supervisord's state code (0 STOPPED ... 1000)
  std::optional<double> cpu_seconds;         ///< user+system CPU of the tree, newest sample
  std::optional<std::int64_t> rss_bytes;     ///< resident memory of the tree
  std::optional<std::int64_t> gpu_bytes;     ///< GPU memory of the tree, all devices
  std::optional<int> last_exit_code;         ///< exit code of the last exit (-1: a signal)
  std::optional<std::string> health;         ///< passing / failing / unknown; nullopt: no check
  /// cause name -> crash records kept with that cause (the last 50 per program)
  std::map<std::string, std::int64_t> restarts_by_cause;
  std::int64_t respawns = 0;                 ///< spawns after the first in this agent life
};

/// One GPU as the agent last read it.
struct GpuFigures {
  int index = 0;                               ///< label `gpu`
  std::string uuid;                            ///< label `UUID`
  std::string model;                           ///< label `modelName`
  std::optional<std::int64_t> free_bytes;
  std::optional<std::int64_t> used_bytes;
  std::optional<std::int64_t> total_bytes;
};

/// Everything one scrape shows.
struct MetricsFigures {
  std::vector<ProgramFigures> programs;  ///< in the process table's order
  std::vector<GpuFigures> gpus;
  bool ready = false;                    ///< what /readyz answers (true = 200)
  int agent_state = 1;                   ///< supervisord's agent state code (1 RUNNING)
};

/// The exposition text: each family with its HELP and TYPE lines, then its samples; families
/// without samples are left out. Label values are escaped (`\`, `"`, newline).
std::string render_metrics(const MetricsFigures& figures);

/// A label value as the text format writes it between its quotes.
std::string escape_label_value(std::string_view value);

}  // namespace zagent::http
