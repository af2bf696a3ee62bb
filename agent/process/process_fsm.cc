#include "agent/process/process_fsm.h"

#include "agent/process/fsm_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <utility>

namespace zagent {

namespace {

using namespace fsm_rules;  // NOLINT(google-build-using-namespace): the machine's own rules
using std::chrono::seconds;

// The machinery of one step: the next record and the actions, built up by the helpers that
// mirror supervisord's Subprocess methods. Only used inside step().
class Machine {
 public:
  Machine(const ProcessConfig& config, const ProcessRecord& record, Now now)
      : config_(config), next_(record), now_(now) {}

  Step finish() && { return Step{std::move(next_), std::move(actions_)}; }

  ProcessRecord& record() { return next_; }
  const ProcessConfig& config() const { return config_; }
  Now now() const { return now_; }

  void log(LogLevel level, std::string text) {
    actions_.emplace_back(LogLine{level, std::move(text)});
  }

  // supervisord compat: change_state(); a change to the same state emits nothing.
  void change_state(ProcessState to, bool expected = true) {
    const ProcessState from = next_.state;
    if (from == to) {
      return;
    }
    next_.state = to;
    actions_.emplace_back(StateChanged{from, to, expected});
  }

  // supervisord compat: spawn(), from STOPPED/EXITED/FATAL/BACKOFF. Resets the per-run flags,
  // sets laststart and goes STARTING; the pid arrives with SpawnSucceeded.
  void spawn() {
    next_.killing = false;
    next_.sigkill_sent = false;
    next_.spawn_error.clear();
    next_.exit_status.reset();
    next_.administrative_stop = false;
    next_.operator_signal.reset();
    next_.snapshot_taken = false;
    next_.snapshot_pending = false;
    next_.guardian_stop.reset();
    next_.waiting.clear();
    next_.last_start = now_.steady;
    next_.last_start_wall = now_.wall;
    next_.deadline.reset();
    next_.next_stop_report.reset();
    next_.pid = 0;
    change_state(ProcessState::Starting);
    actions_.emplace_back(SpawnChild{});
  }

  // supervisord compat: _spawn_as_parent() logs `spawned:`; the startsecs deadline follows.
  void spawned(pid_t pid) {
    next_.pid = pid;
    next_.spawn_error.clear();
    if (!next_.waiting.empty()) {
      // A held spawn: startsecs and the uptime count from the real spawn.
      next_.waiting.clear();
      next_.last_start = now_.steady;
      next_.last_start_wall = now_.wall;
    }
    log(LogLevel::Info, fmt::format("spawned: '{}' with pid {}", config_.name, pid));
    if (config_.startsecs == 0) {
      // supervisord compat: with startsecs=0 the process is RUNNING on the first loop pass
      // after the spawn; we do not wait for a pass.
      enter_running();
      return;
    }
    next_.deadline = just_after(*next_.last_start + seconds(config_.startsecs));
  }

  // zagent: a spawn gate holds the spawn; the first hold is logged, later ones (a new figure)
  // only change the description.
  void hold(std::string waiting) {
    if (next_.waiting.empty()) {
      log(LogLevel::Info, fmt::format("waiting: {} {}", config_.name, waiting));
    }
    next_.waiting = std::move(waiting);
  }

  // zagent: a stop while the spawn is held: STOPPED, as a stop in BACKOFF.
  void cancel_hold() {
    next_.waiting.clear();
    next_.administrative_stop = true;
    next_.deadline.reset();
    change_state(ProcessState::Stopped);
    log(LogLevel::Info, fmt::format("stopped: {} (waiting cancelled)", config_.name));
  }

  // supervisord compat: transition(), STARTING -> RUNNING with the `success:` line.
  void enter_running() {
    next_.deadline.reset();
    next_.backoff = 0;
    change_state(ProcessState::Running);
    log(LogLevel::Info,
        fmt::format("success: {} entered RUNNING state, process has stayed up for > than {} "
                    "seconds (startsecs)",
                    config_.name, config_.startsecs));
  }

  // supervisord compat: change_state(BACKOFF) increments backoff and sets the retry delay;
  // the next transition() pass gives up when backoff > startretries (we do it at once).
  void enter_backoff() {
    next_.backoff += 1;
    next_.deadline = just_after(now_.steady + next_backoff_delay(next_.backoff));
    change_state(ProcessState::Backoff);
    if (retries_exhausted(config_, next_.backoff)) {
      give_up(/*log_line=*/true);
    } else if (next_.shutting_down) {
      // supervisord compat: during shutdown nothing is respawned and stop_all() moves a
      // BACKOFF process to FATAL without a log line when its group's turn comes; we do not
      // wait for the turn.
      give_up(/*log_line=*/false);
    }
  }

  // zagent extension: an operator start (or autostart) begins a fresh restart history, so a
  // start from FATAL after a crash loop gets the whole budget again.
  void forget_restart_history() {
    next_.consecutive_restarts = 0;
    next_.recent_restarts.clear();
  }

  // EXITED -> STARTING for an autorestart. supervisord compat: at once (transition()); the
  // zagent extensions may instead give up (crash loop) or wait (restart_delay).
  void autorestart() {
    const SteadyTime now = now_.steady;
    if (config_.crashloop_max_restarts > 0) {
      next_.recent_restarts = restarts_in_window(config_, std::move(next_.recent_restarts), now);
      if (crash_loop_reached(config_, next_.recent_restarts.size())) {
        give_up_crash_loop();
        return;
      }
      next_.recent_restarts.push_back(now);
    }
    if (config_.restart_delay.count() == 0) {
      spawn();
      return;
    }
    if (run_outlived_backoff(config_, *next_.last_start, now)) {
      next_.consecutive_restarts = 0;
    }
    next_.consecutive_restarts = std::min(next_.consecutive_restarts + 1, kMaxConsecutiveRestarts);
    // The state stays EXITED (a stopped state) until DeadlineReached spawns.
    next_.deadline = now + restart_delay_for(config_, next_.consecutive_restarts);
  }

  // zagent extension: like give_up(), with the crash-loop reason as spawnerr (the FATAL
  // description) and in supervisord's `gave up:` line.
  void give_up_crash_loop() {
    const std::string reason = crash_loop_reason(config_);
    next_.deadline.reset();
    next_.backoff = 0;
    forget_restart_history();
    next_.spawn_error = reason;
    change_state(ProcessState::Fatal);
    log(LogLevel::Info, fmt::format("gave up: {} entered FATAL state, {}", config_.name, reason));
  }

  // zagent extension: a stop or shutdown drops a delayed restart that has not happened yet.
  bool cancel_pending_restart() {
    if (next_.state != ProcessState::Exited || !next_.deadline) {
      return false;
    }
    next_.deadline.reset();
    return true;
  }

  // supervisord compat: give_up() (delay and backoff reset) -> FATAL; transition() logs
  // `gave up:`, stop_all() during shutdown does not.
  void give_up(bool log_line) {
    next_.deadline.reset();
    next_.backoff = 0;
    change_state(ProcessState::Fatal);
    if (log_line) {
      log(LogLevel::Info,
          fmt::format("gave up: {} entered FATAL state, too many start retries too quickly",
                      config_.name));
    }
  }

  // supervisord compat: kill() for a process with a pid (STARTING/RUNNING/STOPPING).
  void kill(int signo) { kill_with(signo, signal_to_group(config_, next_.state)); }

  void kill_with(int signo, bool to_group) {
    log(LogLevel::Debug,
        fmt::format("killing {} (pid {}) {}with signal {}", config_.name, next_.pid,
                    to_group ? "process group " : "", signal_name(signo)));
    next_.killing = true;
    next_.deadline = now_.steady + seconds(config_.stopwaitsecs);
    change_state(ProcessState::Stopping);
    actions_.emplace_back(SendSignal{next_.pid, signo, to_group});
  }

  // zagent extension: a guardian's restart (RestartRequested) from RUNNING. A snapshot_command
  // runs first while the process still works (STOPPING, no signal yet, at most
  // snapshot_timeout), then the stop signal goes out as for a stop.
  void guardian_restart(const RestartRequested& request) {
    next_.guardian_stop = GuardianStop{request.cause, request.evidence};
    next_.next_stop_report.reset();
    if (!config_.snapshot_command.empty()) {
      next_.snapshot_taken = true;
      next_.snapshot_pending = true;
      next_.deadline = now_.steady + seconds(config_.snapshot_timeout);
      change_state(ProcessState::Stopping);
      log(LogLevel::Debug, fmt::format("running snapshot_command for {} (pid {}) before the "
                                       "restart",
                                       config_.name, next_.pid));
      actions_.emplace_back(RunSnapshotCommand{next_.pid});
      return;
    }
    kill(config_.stopsignal);
  }

  // The snapshot before a guardian's stop signal is done (or out of time): the signal goes
  // out now, to the group with stopasgroup as the first signal of a stop.
  void send_stop_signal_after_snapshot() {
    next_.snapshot_pending = false;
    kill_with(config_.stopsignal, config_.stopasgroup);
  }

  // A stop request while a guardian's restart is under way: it becomes a plain stop (the
  // process will not start again). Its signal, if not yet sent, follows the snapshot.
  void guardian_restart_to_stop() {
    next_.guardian_stop.reset();
    next_.administrative_stop = true;
  }

  // supervisord compat: stop() = administrative stop + kill(stopsignal); the stop RPC's
  // waiter then calls stop_report() (first line at once, then every > 2 s).
  void stop(bool report_progress) {
    next_.administrative_stop = true;
    kill(config_.stopsignal);
    next_.next_stop_report.reset();
    if (report_progress) {
      stop_report();
    }
  }

  void stop_report() {
    log(LogLevel::Info, fmt::format("waiting for {} to stop", config_.name));
    next_.next_stop_report = just_after(now_.steady + kStopReportInterval);
  }

  // supervisord compat: signal(); always to the pid, never to the group.
  void send_signal(int signo) {
    log(LogLevel::Debug,
        fmt::format("sending {} (pid {}) sig {}", config_.name, next_.pid, signal_name(signo)));
    next_.operator_signal = signo;
    actions_.emplace_back(SendSignal{next_.pid, signo, false});
  }

  // supervisord compat: kill()/signal() with an error other than ESRCH -> UNKNOWN.
  void signal_failed(const SignalFailed& failure) {
    if (failure.during_stop) {
      log(LogLevel::Critical, fmt::format("unknown problem killing {} ({}):{}", config_.name,
                                          next_.pid, failure.reason));
      next_.killing = false;
      next_.deadline.reset();
      next_.next_stop_report.reset();
    } else {
      log(LogLevel::Critical, fmt::format("unknown problem sending sig {} ({}):{}", config_.name,
                                          next_.pid, failure.reason));
    }
    change_state(ProcessState::Unknown);
  }

  // Decides the cause (exit_cause.h) and notes the exit; returns the crash record to keep.
  RecordCrash record_exit(const ChildExited& event) {
    const ExitInfo& exit = event.exit;
    ExitFacts facts;
    facts.exit = exit;
    facts.expected = !exit.signal && exit_was_expected(config_, exit.exit_code);
    facts.ended_by = ended_by(next_);
    facts.stopsignal = config_.stopsignal;
    facts.stopwaitsecs = config_.stopwaitsecs;
    facts.operator_signal = next_.operator_signal;
    facts.oom = event.oom;
    if (next_.guardian_stop) {
      facts.guardian = next_.guardian_stop->cause;
      facts.guardian_evidence = next_.guardian_stop->evidence;
    }
    RecordCrash crash{attribute_exit(facts), exit, next_.pid, next_.last_start_wall};
    next_.last_cause = crash.cause;
    next_.last_stop_wall = now_.wall;
    next_.last_exit = exit;
    next_.pid = 0;
    return crash;
  }

  void record_crash(RecordCrash crash) { actions_.emplace_back(std::move(crash)); }

  // A spawn failure is kept as a crash too (cause spawn_failed).
  void record_spawn_failure(const std::string& message) {
    ExitCause cause = spawn_failure_cause(message);
    next_.last_cause = cause;
    record_crash(RecordCrash{std::move(cause), std::nullopt, 0, now_.wall});
  }

  // zagent extension (snapshot_command): the stop's SIGKILL is due. With a snapshot_command
  // it runs first, while the process is still alive, and the SIGKILL waits for it (at most
  // snapshot_timeout); otherwise, and once it is done, the SIGKILL goes out.
  void stop_deadline_passed() {
    if (!config_.snapshot_command.empty() && !next_.snapshot_taken) {
      next_.snapshot_taken = true;
      next_.snapshot_pending = true;
      next_.deadline = now_.steady + seconds(config_.snapshot_timeout);
      log(LogLevel::Debug, fmt::format("running snapshot_command for {} (pid {}) before SIGKILL",
                                       config_.name, next_.pid));
      actions_.emplace_back(RunSnapshotCommand{next_.pid});
      return;
    }
    // supervisord compat: transition(), STOPPING past stopwaitsecs -> SIGKILL (to the group
    // with killasgroup), with a new stopwaitsecs deadline; repeated forever.
    log(LogLevel::Warn, fmt::format("killing '{}' ({}) with SIGKILL", config_.name, next_.pid));
    next_.snapshot_pending = false;
    next_.sigkill_sent = true;
    kill(SIGKILL);
  }

  // zagent extension: the exit ending a guardian's restart: STOPPING -> EXITED (not expected,
  // the crash is recorded with the guardian's cause), then the autorestart path whatever
  // `autorestart` says (restart_delay, crash-loop limit), except during a shutdown.
  void finish_guardian_stop(const ChildExited& event) {
    const ExitInfo& exit = event.exit;
    RecordCrash crash = record_exit(event);
    next_.guardian_stop.reset();
    next_.killing = false;
    next_.deadline.reset();
    next_.next_stop_report.reset();
    next_.backoff = 0;
    next_.exit_status = exit.exit_code;
    log(LogLevel::Info, fmt::format("stopped: {} ({}) for a restart by {}", config_.name,
                                    describe_exit(exit), cause_name(crash.cause.kind)));
    change_state(ProcessState::Exited, /*expected=*/false);
    record_crash(std::move(crash));
    if (!next_.shutting_down) {
      autorestart();
    }
  }

  // supervisord compat: finish() with `killing` set: STOPPING -> STOPPED, any exit status.
  void finish_stopping(const ChildExited& event) {
    if (next_.guardian_stop) {
      finish_guardian_stop(event);
      return;
    }
    const ExitInfo& exit = event.exit;
    RecordCrash crash = record_exit(event);
    next_.killing = false;
    next_.deadline.reset();
    next_.next_stop_report.reset();
    next_.exit_status = exit.exit_code;
    change_state(ProcessState::Stopped);
    log(exit_was_expected(config_, exit.exit_code) ? LogLevel::Info : LogLevel::Warn,
        fmt::format("stopped: {} ({})", config_.name, describe_exit(exit)));
    if (crash.cause.kind == CauseKind::StopTimeout) {
      record_crash(std::move(crash));
    }
  }

  // supervisord compat: finish() for a STARTING process.
  void finish_starting(const ChildExited& event) {
    const ExitInfo& exit = event.exit;
    if (exited_too_quickly(config_, *next_.last_start, now_.steady)) {
      // supervisord compat: exited before startsecs -> BACKOFF, whatever the exit status;
      // exitstatus is cleared and the line always says "not expected".
      RecordCrash crash = record_exit(event);
      crash.cause.expected = false;
      next_.last_cause = crash.cause;
      next_.exit_status.reset();
      next_.spawn_error = "Exited too quickly (process log may have details)";
      log(LogLevel::Warn,
          fmt::format("exited: {} ({}; not expected)", config_.name, describe_exit(exit)));
      record_crash(std::move(crash));
      enter_backoff();
      return;
    }
    // The startsecs deadline has passed but DeadlineReached has not been handled yet.
    // supervisord compat: its loop runs transition() (the `success:` line) before reap(),
    // so the process is RUNNING first and then exits as a RUNNING process.
    enter_running();
    finish_running(event);
  }

  // supervisord compat: finish() for a RUNNING process: -> EXITED, then transition()'s
  // autorestart (no delay, no backoff unless configured) unless the agent is shutting down.
  void finish_running(const ChildExited& event) {
    const ExitInfo& exit = event.exit;
    RecordCrash crash = record_exit(event);
    next_.deadline.reset();
    next_.backoff = 0;
    next_.exit_status = exit.exit_code;
    const bool expected = exit_was_expected(config_, exit.exit_code);
    if (expected) {
      log(LogLevel::Info,
          fmt::format("exited: {} ({}; expected)", config_.name, describe_exit(exit)));
    } else {
      next_.spawn_error = fmt::format("Bad exit code {}", exit.exit_code);
      log(LogLevel::Warn,
          fmt::format("exited: {} ({}; not expected)", config_.name, describe_exit(exit)));
    }
    change_state(ProcessState::Exited, expected);
    record_crash(std::move(crash));
    if (!next_.shutting_down && should_autorestart(config_, exit.exit_code)) {
      autorestart();
    }
  }

 private:
  const ProcessConfig& config_;
  ProcessRecord next_;
  Now now_;
  std::vector<Action> actions_;
};

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
      m.finish_starting(std::get<ChildExited>(event));
      return std::move(m).finish();
    case EventKind::DeadlineReached:
      if (has_child && stayed_up_long_enough(config, *rec.last_start, m.now().steady)) {
        m.enter_running();
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
