// The state machine's small public helpers: queries on a record (wake-up, who ends the child,
// the restart delay, autostart) and the names of events and texts of actions (debug logs,
// test output).
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <type_traits>

#include "agent/process/process_fsm.h"

namespace zagent {

EndedBy ended_by(const ProcessRecord& record) {
  if (record.guardian_stop) {
    return EndedBy::Guardian;
  }
  if (!record.killing) {
    return EndedBy::Itself;
  }
  return record.sigkill_sent ? EndedBy::StopTimeout : EndedBy::Stop;
}

std::optional<SteadyTime> next_wakeup(const ProcessRecord& record) {
  if (record.deadline && record.next_stop_report) {
    return std::min(*record.deadline, *record.next_stop_report);
  }
  return record.deadline ? record.deadline : record.next_stop_report;
}

std::chrono::milliseconds restart_delay_for(const ProcessConfig& config, int n) {
  // Geometric growth up to a cap, as systemd's RestartSteps=/RestartMaxDelaySec= and pm2's
  // exp_backoff_restart_delay (x1.5) do; doubling is the plain choice.
  std::chrono::milliseconds delay = config.restart_delay;
  for (int i = 1; i < n && delay.count() > 0 && delay < config.restart_delay_max; ++i) {
    delay = std::min(delay * 2, config.restart_delay_max);
  }
  return delay;
}

bool wants_autostart(const ProcessConfig& config, const ProcessRecord& record) {
  // supervisord compat: transition(), STOPPED and never started (`not laststart`) with
  // autostart; a process the operator stopped is never auto-started again.
  return config.autostart && record.state == ProcessState::Stopped && !record.last_start &&
         !record.shutting_down;
}

EventKind event_kind(const Event& event) {
  static_assert(std::variant_size_v<Event> == 13, "keep EventKind in step with Event");
  static_assert(std::is_same_v<std::variant_alternative_t<12, Event>, HealthChecked>);
  return static_cast<EventKind>(event.index());
}

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::StartRequested:
      return "StartRequested";
    case EventKind::StopRequested:
      return "StopRequested";
    case EventKind::SpawnSucceeded:
      return "SpawnSucceeded";
    case EventKind::SpawnFailed:
      return "SpawnFailed";
    case EventKind::ChildExited:
      return "ChildExited";
    case EventKind::DeadlineReached:
      return "DeadlineReached";
    case EventKind::ShutdownBegun:
      return "ShutdownBegun";
    case EventKind::SignalRequested:
      return "SignalRequested";
    case EventKind::SignalFailed:
      return "SignalFailed";
    case EventKind::SnapshotCommandDone:
      return "SnapshotCommandDone";
    case EventKind::RestartRequested:
      return "RestartRequested";
    case EventKind::SpawnHeld:
      return "SpawnHeld";
    case EventKind::HealthChecked:
      return "HealthChecked";
  }
  return "?";
}

std::string describe_action(const Action& action) {
  struct Describe {
    std::string operator()(const SpawnChild&) const { return "spawn"; }
    std::string operator()(const SendSignal& s) const {
      return fmt::format("signal {} {} {}", s.to_group ? "group" : "pid", s.pid,
                         signal_name(s.signo));
    }
    std::string operator()(const LogLine& l) const {
      return fmt::format("log {} {}", log_level_tag(l.level), l.text);
    }
    std::string operator()(const RecordCrash& r) const {
      return fmt::format("crash {} pid {}", cause_name(r.cause.kind), r.pid);
    }
    std::string operator()(const RunSnapshotCommand& r) const {
      return fmt::format("snapshot_command pid {}", r.pid);
    }
    std::string operator()(const StateChanged& c) const {
      return fmt::format("state {} -> {}{}", state_name(c.from), state_name(c.to),
                         c.expected ? "" : " (not expected)");
    }
  };
  return std::visit(Describe{}, action);
}

}  // namespace zagent
