#include "agent/process/process_fsm.h"

#include "agent/process/fsm_machine.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <utility>

namespace zagent {

namespace {

using namespace fsm_rules;  // NOLINT(google-build-using-namespace): the machine's own rules
using fsm_detail::Machine;
using std::chrono::seconds;


// STOPPED, EXITED and FATAL: no child; `start` spawns, `stop`/`signal` say NOT_RUNNING.
FsmResult<Step> step_without_child(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  const ProcessState state = m.record().state;
  const EventKind kind = event_kind(event);
  switch (kind) {
    case EventKind::StartRequested:
      if (m.record().shutting_down) {
        return shutting_down(config);
      }
      // supervisord compat: startProcess -> spawn() from STOPPED, EXITED or FATAL. A pending
      // delayed restart is overtaken: the process starts at once.
      m.forget_restart_history();
      m.spawn();
      return std::move(m).finish();
    case EventKind::StopRequested:
      if (m.cancel_pending_restart()) {
        // zagent extension: the process is as good as started (like BACKOFF), so a stop is
        // accepted, cancels the restart and leaves it STOPPED, never to be autorestarted.
        m.record().administrative_stop = true;
        m.log(LogLevel::Debug, fmt::format("cancelled the delayed restart of {}", config.name));
        m.change_state(ProcessState::Stopped);
        return std::move(m).finish();
      }
      // supervisord compat: stopProcess, state not in RUNNING_STATES -> NOT_RUNNING.
      return not_running(config);
    case EventKind::SignalRequested:
      // supervisord compat: signalProcess, state not in SIGNALLABLE_STATES -> NOT_RUNNING.
    case EventKind::RestartRequested:  // guardians act only in RUNNING
      return not_running(config);
    case EventKind::DeadlineReached: {
      // supervisord restarts EXITED at the exit itself; only a restart_delay is timed here.
      const ProcessRecord& rec = m.record();
      if (state == ProcessState::Exited && !rec.shutting_down && rec.deadline &&
          m.now().steady >= *rec.deadline) {
        m.spawn();
      }
      return std::move(m).finish();
    }
    case EventKind::ShutdownBegun:
      // supervisord compat: nothing is respawned during shutdown; a delayed restart is dropped.
      m.record().shutting_down = true;
      m.cancel_pending_restart();
      return std::move(m).finish();
    case EventKind::SpawnSucceeded:
    case EventKind::SpawnFailed:
    case EventKind::ChildExited:
    case EventKind::SignalFailed:
    case EventKind::SpawnHeld:  // a gate holds STARTING only
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, state, kind);
  }
  return not_expected(config, state, kind);
}

FsmResult<Step> step_starting(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  ProcessRecord& rec = m.record();
  const EventKind kind = event_kind(event);
  const bool has_child = rec.pid != 0;
  switch (kind) {
    case EventKind::StartRequested:
      // supervisord compat: STARTING is in RUNNING_STATES -> ALREADY_STARTED.
      return already_started(config);
    case EventKind::StopRequested:
      if (!has_child && !rec.waiting.empty()) {
        // zagent: a stop cancels a held spawn; there is no child to signal.
        m.cancel_hold();
        return std::move(m).finish();
      }
      if (!has_child) {
        return kill_without_pid(config);
      }
      if (rec.health_start_failed) {
        // The failed start's stop signal is out: the stop only keeps it from starting again.
        m.failed_start_to_stop(std::get<StopRequested>(event).report_progress);
        return std::move(m).finish();
      }
      // supervisord compat: stop_all()/stopProcess, STARTING -> STOPPING.
      m.stop(std::get<StopRequested>(event).report_progress);
      return std::move(m).finish();
    case EventKind::SpawnSucceeded:
      if (has_child) {
        return not_expected(config, rec.state, kind);
      }
      m.spawned(std::get<SpawnSucceeded>(event).pid);
      return std::move(m).finish();
    case EventKind::SpawnFailed:
      if (has_child) {
        return not_expected(config, rec.state, kind);
      }
      // supervisord compat: record_spawnerr() logs `spawnerr:`, then STARTING -> BACKOFF.
      rec.spawn_error = std::get<SpawnFailed>(event).message;
      rec.waiting.clear();
      m.log(LogLevel::Info, "spawnerr: " + rec.spawn_error);
      m.record_spawn_failure(rec.spawn_error);
      m.enter_backoff();
      return std::move(m).finish();
    case EventKind::ChildExited:
      if (!has_child) {
        return not_expected(config, rec.state, kind);
      }
      if (rec.health_start_failed) {
        m.finish_failed_health_start(std::get<ChildExited>(event));
        return std::move(m).finish();
      }
      m.finish_starting(std::get<ChildExited>(event));
      return std::move(m).finish();
    case EventKind::DeadlineReached:
      if (has_child && rec.health_start_failed) {
        if (rec.deadline && m.now().steady >= *rec.deadline) {
          m.failed_start_deadline_passed();
        }
      } else if (has_child && rec.deadline && m.now().steady >= *rec.deadline) {
        m.starting_progress();
      }
      return std::move(m).finish();
    case EventKind::ShutdownBegun:
      // The child is stopped by StopRequested when its group's turn comes; a held spawn never
      // happens.
      rec.shutting_down = true;
      if (!has_child && !rec.waiting.empty()) {
        m.cancel_hold();
      }
      return std::move(m).finish();
    case EventKind::SignalRequested:
      if (!has_child) {
        return signal_without_pid(config, std::get<SignalRequested>(event).signo);
      }
      m.send_signal(std::get<SignalRequested>(event).signo);
      return std::move(m).finish();
    case EventKind::SpawnHeld:
      if (has_child) {
        return not_expected(config, rec.state, kind);
      }
      m.hold(std::get<SpawnHeld>(event).waiting);
      return std::move(m).finish();
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, rec.state, kind);
    case EventKind::RestartRequested:  // guardians act only in RUNNING (startsecs passed)
      return not_running(config);
    case EventKind::SignalFailed:
      if (!has_child) {
        return not_expected(config, rec.state, kind);
      }
      m.signal_failed(std::get<SignalFailed>(event));
      return std::move(m).finish();
  }
  return not_expected(config, rec.state, kind);
}

FsmResult<Step> step_running(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  ProcessRecord& rec = m.record();
  const EventKind kind = event_kind(event);
  switch (kind) {
    case EventKind::StartRequested:
      return already_started(config);
    case EventKind::StopRequested:
      // supervisord compat: stopProcess, RUNNING -> STOPPING.
      m.stop(std::get<StopRequested>(event).report_progress);
      return std::move(m).finish();
    case EventKind::ChildExited:
      m.finish_running(std::get<ChildExited>(event));
      return std::move(m).finish();
    case EventKind::DeadlineReached:
      return std::move(m).finish();
    case EventKind::ShutdownBegun:
      rec.shutting_down = true;
      return std::move(m).finish();
    case EventKind::SignalRequested:
      m.send_signal(std::get<SignalRequested>(event).signo);
      return std::move(m).finish();
    case EventKind::SignalFailed:
      m.signal_failed(std::get<SignalFailed>(event));
      return std::move(m).finish();
    case EventKind::RestartRequested:
      m.guardian_restart(std::get<RestartRequested>(event));
      return std::move(m).finish();
    case EventKind::SpawnSucceeded:
    case EventKind::SpawnFailed:
    case EventKind::SpawnHeld:  // a gate holds STARTING only
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, rec.state, kind);
  }
  return not_expected(config, rec.state, kind);
}

FsmResult<Step> step_backoff(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  ProcessRecord& rec = m.record();
  const EventKind kind = event_kind(event);
  switch (kind) {
    case EventKind::StartRequested:
      // supervisord compat: BACKOFF is in RUNNING_STATES -> ALREADY_STARTED.
      return already_started(config);
    case EventKind::StopRequested:
      // supervisord compat: kill() in BACKOFF -> STOPPED at once, no signal. backoff is not
      // reset (supervisord keeps counting if the process is started again).
      rec.administrative_stop = true;
      rec.deadline.reset();
      m.log(LogLevel::Debug,
            fmt::format("Attempted to kill {}, which is in BACKOFF state.", config.name));
      m.change_state(ProcessState::Stopped);
      return std::move(m).finish();
    case EventKind::DeadlineReached:
      if (retries_exhausted(config, rec.backoff)) {
        // Not reachable through step() (BACKOFF gives up on entry); kept for records built
        // elsewhere.
        m.give_up(/*log_line=*/true);
      } else if (!rec.shutting_down && rec.deadline && m.now().steady >= *rec.deadline) {
        // supervisord compat: transition(), BACKOFF -> STARTING when `now > delay` and
        // backoff <= startretries.
        m.spawn();
      }
      return std::move(m).finish();
    case EventKind::ShutdownBegun:
      // supervisord compat: stop_all() -> give_up() without the `gave up:` line.
      rec.shutting_down = true;
      m.give_up(/*log_line=*/false);
      return std::move(m).finish();
    case EventKind::SignalRequested:
      // supervisord compat: BACKOFF is not signallable -> NOT_RUNNING.
    case EventKind::RestartRequested:
      return not_running(config);
    case EventKind::SpawnSucceeded:
    case EventKind::SpawnFailed:
    case EventKind::ChildExited:
    case EventKind::SignalFailed:
    case EventKind::SpawnHeld:  // a gate holds STARTING only
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, rec.state, kind);
  }
  return not_expected(config, rec.state, kind);
}

FsmResult<Step> step_stopping(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  ProcessRecord& rec = m.record();
  const EventKind kind = event_kind(event);
  switch (kind) {
    case EventKind::StartRequested:
      // supervisord compat: STOPPING is not in RUNNING_STATES, so startProcess calls spawn(),
      // which finds a pid, warns and does nothing (the RPC then reports
      // ABNORMAL_TERMINATION because the state is not STARTING/RUNNING).
      m.log(LogLevel::Warn, fmt::format("process '{}' already running", config.name));
      return std::move(m).finish();
    case EventKind::StopRequested:
      if (rec.guardian_stop) {
        // zagent extension: the operator's stop wins over a guardian's restart under way.
        m.guardian_restart_to_stop();
        return std::move(m).finish();
      }
      // supervisord compat: stopProcess, STOPPING is not in RUNNING_STATES -> NOT_RUNNING.
      return not_running(config);
    case EventKind::RestartRequested:  // one restart at a time
      return not_running(config);
    case EventKind::ChildExited:
      m.finish_stopping(std::get<ChildExited>(event));
      return std::move(m).finish();
    case EventKind::DeadlineReached: {
      const SteadyTime now = m.now().steady;
      if (rec.killing && rec.deadline && now >= *rec.deadline) {
        m.stop_deadline_passed();
      } else if (!rec.killing && rec.deadline && now >= *rec.deadline) {
        m.send_stop_signal_after_snapshot();  // snapshot_timeout ran out
      }
      if (rec.next_stop_report && now >= *rec.next_stop_report) {
        // supervisord compat: stop_report(), at most every 2 s while a stop RPC waits.
        m.stop_report();
      }
      return std::move(m).finish();
    }
    case EventKind::ShutdownBegun:
      rec.shutting_down = true;
      return std::move(m).finish();
    case EventKind::SignalRequested:
      // supervisord compat: STOPPING is signallable.
      m.send_signal(std::get<SignalRequested>(event).signo);
      return std::move(m).finish();
    case EventKind::SignalFailed:
      m.signal_failed(std::get<SignalFailed>(event));
      return std::move(m).finish();
    case EventKind::SpawnSucceeded:
    case EventKind::SpawnFailed:
    case EventKind::SpawnHeld:  // a gate holds STARTING only
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, rec.state, kind);
  }
  return not_expected(config, rec.state, kind);
}

FsmResult<Step> step_unknown(Machine& m, const Event& event) {
  const ProcessConfig& config = m.config();
  ProcessRecord& rec = m.record();
  const EventKind kind = event_kind(event);
  switch (kind) {
    case EventKind::StartRequested:
      // supervisord compat: startProcess refuses UNKNOWN with this FAILED message.
      return refuse(Fault::Failed, fmt::format("{} is in an unknown process state", config.name));
    case EventKind::StopRequested:
    case EventKind::SignalRequested:
    case EventKind::RestartRequested:
      // supervisord compat: UNKNOWN is neither running nor signallable -> NOT_RUNNING.
      return not_running(config);
    case EventKind::ChildExited: {
      if (rec.pid == 0) {
        return not_expected(config, rec.state, kind);
      }
      // supervisord asserts (and dies) here. We note the exit and stay UNKNOWN, which is
      // still a "stopped" state, so shutdown and remove are not blocked.
      const ExitInfo& exit = std::get<ChildExited>(event).exit;
      (void)m.record_exit(std::get<ChildExited>(event));
      rec.exit_status = exit.exit_code;
      m.log(LogLevel::Warn,
            fmt::format("exited: {} ({}; {})", config.name, describe_exit(exit),
                        exit_was_expected(config, exit.exit_code) ? "expected" : "not expected"));
      return std::move(m).finish();
    }
    case EventKind::DeadlineReached:
      return std::move(m).finish();
    case EventKind::ShutdownBegun:
      rec.shutting_down = true;
      return std::move(m).finish();
    case EventKind::SpawnSucceeded:
    case EventKind::SpawnFailed:
    case EventKind::SignalFailed:
    case EventKind::SpawnHeld:  // a gate holds STARTING only
    case EventKind::SnapshotCommandDone:  // handled in step()
    case EventKind::HealthChecked:        // handled in step()
      return not_expected(config, rec.state, kind);
  }
  return not_expected(config, rec.state, kind);
}

}  // namespace

void throw_exception_from_error(const FsmError& e, const boost::source_location& /*loc*/) {
  throw std::runtime_error(std::string(fault_name(e.fault)) + ": " + e.detail);
}

FsmResult<Step> step(const ProcessConfig& config, const ProcessRecord& record, const Event& event,
                     Now now) {
  Machine m(config, record, now);
  if (std::holds_alternative<SnapshotCommandDone>(event)) {
    // zagent extension (snapshot_command): the SIGKILL that waited for it goes out now; in
    // any other situation (the process exited meanwhile) nothing waits.
    const ProcessRecord& rec = m.record();
    if (rec.state == ProcessState::Stopping && rec.killing && rec.snapshot_pending &&
        !rec.sigkill_sent) {
      m.stop_deadline_passed();
    } else if (rec.state == ProcessState::Stopping && !rec.killing && rec.snapshot_pending) {
      m.send_stop_signal_after_snapshot();  // a guardian's restart waited for it
    }
    return std::move(m).finish();
  }
  if (const auto* checked = std::get_if<HealthChecked>(&event)) {
    // A check's result matters only to a start it gates (STARTING with a child); a late one
    // (the process stopped or moved on meanwhile) changes nothing.
    ProcessRecord& rec = m.record();
    if (rec.state == ProcessState::Starting && rec.pid != 0 && !rec.health_start_failed &&
        config.healthcheck) {
      if (checked->passed) {
        rec.health_passed = true;
        m.starting_progress();
      } else {
        rec.health_error = checked->message;
      }
    }
    return std::move(m).finish();
  }
  switch (record.state) {
    case ProcessState::Stopped:
    case ProcessState::Exited:
    case ProcessState::Fatal:
      return step_without_child(m, event);
    case ProcessState::Starting:
      return step_starting(m, event);
    case ProcessState::Running:
      return step_running(m, event);
    case ProcessState::Backoff:
      return step_backoff(m, event);
    case ProcessState::Stopping:
      return step_stopping(m, event);
    case ProcessState::Unknown:
      return step_unknown(m, event);
  }
  return not_expected(config, record.state, event_kind(event));
}

}  // namespace zagent
