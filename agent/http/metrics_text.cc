// The Prometheus text format of /metrics (docs/http.md, "Metrics"). Pure.
#include "agent/http/metrics_text.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <iterator>
#include <utility>

namespace zagent::http {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// HELP text escapes only `\` and newline (the format's rule).
std::string escape_help(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// One family: its HELP and TYPE lines are written before its first sample only, so a family
/// without samples leaves no trace.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(name), type_(type), help_(help) {}

  void sample(const Labels& labels, std::string_view value) {
    if (!started_) {
      fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name_,
                     escape_help(help_), name_, type_);
      started_ = true;
    }
    out_ += name_;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, value_text] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(value_text);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(const Labels& labels, std::int64_t value) { sample(labels, fmt::format("{}", value)); }
  void sample_double(const Labels& labels, double value) {
    // fmt's shortest round-trip form; infinities as the format spells them.
    if (std::isinf(value)) {
      sample(labels, value > 0 ? "+Inf" : "-Inf");
    } else if (!std::isnan(value)) {
      sample(labels, fmt::format("{}", value));
    }
  }

 private:
  std::string& out_;
  std::string_view name_;
  std::string_view type_;
  std::string_view help_;
  bool started_ = false;
};

Labels program_labels(const ProgramFigures& p) { return {{"name", p.name}, {"group", p.group}}; }

/// One family over every program, its sample given by `emit` (which may add none).
void per_program(std::string& out, const MetricsFigures& f, std::string_view name,
                 std::string_view type, std::string_view help,
                 const std::function<void(Family&, const ProgramFigures&)>& emit) {
  Family family(out, name, type, help);
  for (const ProgramFigures& p : f.programs) {
    emit(family, p);
  }
}

constexpr int kRunning = 20;  // supervisord's RUNNING

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_metrics(const MetricsFigures& f) {
  std::string out;
  out.reserve(256 + f.programs.size() * 900);
  {
    Family family(out, "zagent_ready", "gauge",
                  "1 when /readyz answers 200: the agent runs and every autostart program is "
                  "RUNNING with its health check passing.");
    family.sample({}, f.ready ? 1 : 0);
  }
  {
    Family family(out, "zagent_state", "gauge",
                  "The agent's supervisord state code: 2 FATAL, 1 RUNNING, 0 RESTARTING, "
                  "-1 SHUTDOWN.");
    family.sample({}, f.agent_state);
  }
  per_program(out, f, "zagent_program_up", "gauge", "1 while the program is RUNNING, else 0.",
              [](Family& fam, const ProgramFigures& p) {
                fam.sample(program_labels(p), p.state == kRunning ? 1 : 0);
              });
  per_program(out, f, "zagent_program_state", "gauge",
              "The program's supervisord state code: 0 STOPPED, 10 STARTING, 20 RUNNING, "
              "30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN.",
              [](Family& fam, const ProgramFigures& p) { fam.sample(program_labels(p), p.state); });
  per_program(out, f, "zagent_program_restarts_total", "counter",
              "Ends of the program that the operator did not ask for, by cause, counted over "
              "the crash records the agent keeps (the last 50 per program, kept across agent "
              "restarts).",
              [](Family& fam, const ProgramFigures& p) {
                for (const auto& [cause, count] : p.restarts_by_cause) {
                  fam.sample({{"name", p.name}, {"group", p.group}, {"cause", cause}}, count);
                }
              });
  per_program(out, f, "zagent_program_respawns_total", "counter",
              "Spawns of the program after its first in this agent life (reset when the agent "
              "restarts).",
              [](Family& fam, const ProgramFigures& p) {
                fam.sample(program_labels(p), p.respawns);
              });
  per_program(out, f, "zagent_program_cpu_seconds_total", "counter",
              "User and system CPU time of the program's process tree, seconds, at the newest "
              "sample.",
              [](Family& fam, const ProgramFigures& p) {
                if (p.cpu_seconds) {
                  fam.sample_double(program_labels(p), *p.cpu_seconds);
                }
              });
  per_program(out, f, "zagent_program_resident_memory_bytes", "gauge",
              "Resident memory (RSS) of the program's process tree, bytes, at the newest sample.",
              [](Family& fam, const ProgramFigures& p) {
                if (p.rss_bytes) {
                  fam.sample(program_labels(p), *p.rss_bytes);
                }
              });
  per_program(out, f, "zagent_program_gpu_memory_bytes", "gauge",
              "GPU memory held by the program's process tree on all devices, bytes.",
              [](Family& fam, const ProgramFigures& p) {
                if (p.gpu_bytes) {
                  fam.sample(program_labels(p), *p.gpu_bytes);
                }
              });
  per_program(out, f, "zagent_program_last_exit_code", "gauge",
              "Exit code of the program's last exit (-1 after death by a signal); absent "
              "before its first exit.",
              [](Family& fam, const ProgramFigures& p) {
                if (p.last_exit_code) {
                  fam.sample(program_labels(p), *p.last_exit_code);
                }
              });
  per_program(out, f, "zagent_program_health", "gauge",
              "The program's health check status, one sample per status (passing, failing, "
              "unknown), 1 on the current one; absent for a program without a check.",
              [](Family& fam, const ProgramFigures& p) {
                if (!p.health) {
                  return;
                }
                for (const std::string_view status : {"passing", "failing", "unknown"}) {
                  fam.sample({{"name", p.name}, {"group", p.group}, {"status", status}},
                             *p.health == status ? 1 : 0);
                }
              });
  const auto per_gpu = [&](std::string_view name, std::string_view help,
                           std::optional<std::int64_t> GpuFigures::*field) {
    Family family(out, name, "gauge", help);
    for (const GpuFigures& g : f.gpus) {
      if (g.*field) {
        const std::string index = fmt::format("{}", g.index);
        family.sample({{"gpu", index}, {"UUID", g.uuid}, {"modelName", g.model}}, *(g.*field));
      }
    }
  };
  per_gpu("zagent_gpu_memory_free_bytes", "Free memory of the GPU, bytes.",
          &GpuFigures::free_bytes);
  per_gpu("zagent_gpu_memory_used_bytes", "Used memory of the GPU, bytes.",
          &GpuFigures::used_bytes);
  per_gpu("zagent_gpu_memory_total_bytes", "Total memory of the GPU, bytes.",
          &GpuFigures::total_bytes);
  return out;
}

}  // namespace zagent::http
