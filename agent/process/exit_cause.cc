#include "agent/process/exit_cause.h"

#include <fmt/format.h>

#include <array>
#include <csignal>
#include <utility>

#include "common/datatypes.h"

namespace zagent {
namespace {

constexpr std::array<std::pair<CauseKind, std::string_view>, 13> kCauseNames{{
    {CauseKind::Exited, "exited"},
    {CauseKind::Signaled, "signaled"},
    {CauseKind::OomKilled, "oom_killed"},
    {CauseKind::SpawnFailed, "spawn_failed"},
    {CauseKind::Stopped, "stopped"},
    {CauseKind::StopTimeout, "stop_timeout"},
    {CauseKind::MemoryLimit, "memory_limit"},
    {CauseKind::MemoryGrowth, "memory_growth"},
    {CauseKind::CpuLimit, "cpu_limit"},
    {CauseKind::OutputPattern, "output_pattern"},
    {CauseKind::GpuWatermark, "gpu_watermark"},
    {CauseKind::GpuMemoryLimit, "gpu_memory_limit"},
    {CauseKind::HealthFailed, "health_failed"},
}};

constexpr int kShellSignalBase = 128;

Evidence wait_status_evidence(const ExitInfo& exit) { return {"wait_status", describe_exit(exit)}; }

// The kernel log or the program's cgroup names the kill: the strongest OOM evidence.
std::vector<Evidence> certain_oom_evidence(const OomFacts& oom) {
  std::vector<Evidence> out;
  if (oom.cgroup_oom_kills && *oom.cgroup_oom_kills > 0) {
    out.push_back({"cgroup", fmt::format("memory.events oom_kill rose by {} in {}",
                                         *oom.cgroup_oom_kills, oom.cgroup_path)});
  }
  for (const KernelKill& kill : oom.kernel_kills) {
    out.push_back({"kmsg", kill.text});
  }
  return out;
}

std::optional<Evidence> vmstat_evidence(const OomFacts& oom) {
  if (!oom.vmstat_oom_kills || *oom.vmstat_oom_kills <= 0) {
    return std::nullopt;
  }
  return Evidence{"vmstat", fmt::format("/proc/vmstat oom_kill rose by {} during the run (a "
                                        "machine-wide counter: some process was OOM-killed, "
                                        "not necessarily this one)",
                                        *oom.vmstat_oom_kills)};
}

ExitCause ended_by_agent(const ExitFacts& f) {
  ExitCause c;
  c.expected = f.expected;
  switch (f.ended_by) {
    case EndedBy::StopTimeout:
      c.kind = CauseKind::StopTimeout;
      c.evidence.push_back({"agent", fmt::format("SIGKILL sent after stopwaitsecs ({} s) ran out",
                                                 f.stopwaitsecs)});
      break;
    case EndedBy::Guardian:
      // Never an expected exit: the program was unwell, whatever code it ended with.
      c.kind = f.guardian.value_or(CauseKind::Stopped);
      c.expected = false;
      c.evidence.push_back(f.guardian_evidence);
      break;
    case EndedBy::Stop:
    case EndedBy::Itself:
      c.kind = CauseKind::Stopped;
      c.evidence.push_back(
          {"agent", fmt::format("stopped by the agent with {}", signal_name(f.stopsignal))});
      break;
  }
  c.evidence.push_back(wait_status_evidence(f.exit));
  return c;
}

}  // namespace

std::string_view cause_name(CauseKind cause) {
  for (const auto& [kind, name] : kCauseNames) {
    if (kind == cause) {
      return name;
    }
  }
  return "exited";
}

std::optional<CauseKind> cause_from_name(std::string_view name) {
  for (const auto& [kind, n] : kCauseNames) {
    if (n == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string_view confidence_name(Confidence confidence) {
  return confidence == Confidence::Certain ? "certain" : "probable";
}

std::optional<Confidence> confidence_from_name(std::string_view name) {
  if (name == "certain") {
    return Confidence::Certain;
  }
  if (name == "probable") {
    return Confidence::Probable;
  }
  return std::nullopt;
}

std::optional<int> shell_status(const ExitInfo& exit) {
  if (exit.signal) {
    return kShellSignalBase + *exit.signal;
  }
  if (exit.exit_code >= 0) {
    return exit.exit_code;
  }
  return std::nullopt;
}

bool needs_oom_evidence(const ExitInfo& exit, EndedBy ended_by,
                        std::optional<int> operator_signal) {
  if (ended_by != EndedBy::Itself || (exit.signal && exit.signal == operator_signal)) {
    return false;
  }
  return exit.signal == SIGKILL || (!exit.signal && exit.exit_code == kShellSignalBase + SIGKILL);
}

ExitCause attribute_exit(const ExitFacts& f) {
  if (f.ended_by != EndedBy::Itself) {
    return ended_by_agent(f);
  }
  ExitCause c;
  c.expected = f.expected;
  const ExitInfo& exit = f.exit;
  std::vector<Evidence> certain = certain_oom_evidence(f.oom);
  const std::optional<Evidence> vmstat = vmstat_evidence(f.oom);
  if (exit.signal && exit.signal == f.operator_signal) {
    c.kind = CauseKind::Signaled;
    c.evidence.push_back(
        {"agent", fmt::format("{} was sent by a signal request", signal_name(*exit.signal))});
    c.evidence.push_back(wait_status_evidence(exit));
    return c;
  }
  if (exit.signal) {
    c.kind = CauseKind::Signaled;
    if (*exit.signal == SIGKILL && !certain.empty()) {
      c.kind = CauseKind::OomKilled;
      c.evidence = std::move(certain);
    } else if (*exit.signal == SIGKILL && vmstat) {
      c.kind = CauseKind::OomKilled;
      c.confidence = Confidence::Probable;
      c.evidence.push_back(*vmstat);
      c.evidence.push_back({"agent", "the agent sent no SIGKILL"});
    }
    c.evidence.push_back(wait_status_evidence(exit));
    return c;
  }
  c.kind = CauseKind::Exited;
  c.evidence.push_back(wait_status_evidence(exit));
  if (exit.exit_code > kShellSignalBase && exit.exit_code < kShellSignalBase + 65) {
    const int signo = exit.exit_code - kShellSignalBase;
    if (signo == SIGKILL || signo == SIGSEGV) {
      // A shell reports its child's signal death as 128 + the signal.
      c.note = fmt::format("exit status {} = 128 + {}: a wrapper shell's child was killed by {}",
                           exit.exit_code, signo, signal_name(signo));
      for (Evidence& e : certain) {
        c.evidence.push_back(std::move(e));
      }
      if (certain.empty() && vmstat && signo == SIGKILL) {
        c.evidence.push_back(*vmstat);
      }
    }
  }
  return c;
}

ExitCause spawn_failure_cause(const std::string& spawn_error) {
  ExitCause c;
  c.kind = CauseKind::SpawnFailed;
  c.evidence.push_back({"agent", spawn_error});
  return c;
}

}  // namespace zagent
