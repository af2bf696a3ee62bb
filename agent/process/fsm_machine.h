// The machinery of one step of the process state machine: the next record and the actions,
// built up by helpers that mirror supervisord's Subprocess methods. Internal to the machine's
// files (process_fsm.cc, fsm_health.cc); a header of its own so that each stays readable.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <utility>
#include <vector>

#include "agent/process/fsm_rules.h"
#include "agent/process/process_fsm.h"

namespace zagent::fsm_detail {

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
    next_.health_passed = false;
    next_.health_error.clear();
    next_.health_start_failed = false;
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
    if (config_.startsecs == 0 && !health_gated()) {
      // supervisord compat: with startsecs=0 the process is RUNNING on the first loop pass
      // after the spawn; we do not wait for a pass.
      enter_running();
      return;
    }
    next_.deadline = starting_deadline();
  }

  // zagent (healthcheck): RUNNING still waits for a passing check of this run.
  bool health_gated() const { return config_.healthcheck.has_value() && !next_.health_passed; }

  // STARTING with a child: startsecs has passed (supervisord's strict `>`; at once with 0).
  bool startsecs_passed() const {
    return config_.startsecs == 0 ||
           stayed_up_long_enough(config_, *next_.last_start, now_.steady);
  }

  // The next instant DeadlineReached matters in STARTING with a child: the end of startsecs,
  // then (while a check has not passed) healthcheck_start_timeout from the spawn.
  std::optional<SteadyTime> starting_deadline() const {
    if (!startsecs_passed()) {
      return just_after(*next_.last_start + seconds(config_.startsecs));
    }
    if (health_gated()) {
      return *next_.last_start + config_.healthcheck_start_timeout;
    }
    return std::nullopt;
  }

  // zagent (healthcheck): STARTING with a child, at a deadline or a check's result: RUNNING
  // once both startsecs and a check have passed; a failed start once the start timeout is
  // over without a pass.
  void starting_progress() {
    if (!startsecs_passed()) {
      next_.deadline = starting_deadline();
      return;
    }
    if (!health_gated()) {
      enter_running();
      return;
    }
    if (now_.steady >= *next_.last_start + config_.healthcheck_start_timeout) {
      health_start_timed_out();
      return;
    }
    next_.deadline = starting_deadline();
  }

  // zagent (healthcheck): no check passed within healthcheck_start_timeout. The child is
  // stopped as for a stop (stopsignal, SIGKILL after stopwaitsecs) while the state stays
  // STARTING; its exit is a failed start (finish_failed_health_start()).
  void health_start_timed_out() {
    const auto limit = std::chrono::duration<double>(config_.healthcheck_start_timeout).count();
    next_.spawn_error = fmt::format(
        "health check did not pass within {} s: {}", limit,
        next_.health_error.empty() ? std::string("no check finished") : next_.health_error);
    next_.health_start_failed = true;
    next_.guardian_stop =
        GuardianStop{CauseKind::HealthFailed, Evidence{"health", next_.spawn_error}};
    log(LogLevel::Warn, fmt::format("health: {} {}", config_.name, next_.spawn_error));
    signal_failed_start(config_.stopsignal, config_.stopasgroup);
  }

  // The stop of a failed start: the signal without leaving STARTING.
  void signal_failed_start(int signo, bool to_group) {
    log(LogLevel::Debug,
        fmt::format("killing {} (pid {}) {}with signal {}", config_.name, next_.pid,
                    to_group ? "process group " : "", signal_name(signo)));
    next_.killing = true;
    next_.deadline = now_.steady + seconds(config_.stopwaitsecs);
    actions_.emplace_back(SendSignal{next_.pid, signo, to_group});
  }

  // The SIGKILL of a failed start's stop, repeated every stopwaitsecs as for a stop.
  void failed_start_deadline_passed() {
    log(LogLevel::Warn, fmt::format("killing '{}' ({}) with SIGKILL", config_.name, next_.pid));
    next_.sigkill_sent = true;
    signal_failed_start(SIGKILL, config_.killasgroup);
  }

  // The exit ending a failed start (health): BACKOFF or FATAL by startretries, the health
  // message as spawnerr, a crash record with cause health_failed.
  void finish_failed_health_start(const ChildExited& event) {
    RecordCrash crash = record_exit(event);
    crash.cause.expected = false;
    next_.last_cause = crash.cause;
    next_.guardian_stop.reset();
    next_.health_start_failed = false;
    next_.killing = false;
    next_.sigkill_sent = false;
    next_.exit_status.reset();
    log(LogLevel::Warn, fmt::format("exited: {} ({}; not expected)", config_.name,
                                    describe_exit(event.exit)));
    record_crash(std::move(crash));
    enter_backoff();
  }

  // A stop while a failed start is being stopped: a plain stop from here on (STOPPING, then
  // STOPPED; no retry).
  void failed_start_to_stop(bool report_progress) {
    next_.health_start_failed = false;
    next_.guardian_stop.reset();
    next_.administrative_stop = true;
    change_state(ProcessState::Stopping);
    if (report_progress) {
      stop_report();
    }
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
    const bool too_quick = exited_too_quickly(config_, *next_.last_start, now_.steady);
    if (too_quick || health_gated()) {
      // supervisord compat: exited before startsecs -> BACKOFF, whatever the exit status;
      // exitstatus is cleared and the line always says "not expected". zagent: so is an exit
      // before a health check passed (the start never succeeded).
      RecordCrash crash = record_exit(event);
      crash.cause.expected = false;
      next_.last_cause = crash.cause;
      next_.exit_status.reset();
      next_.spawn_error = too_quick ? "Exited too quickly (process log may have details)"
                                    : "Exited before its health check passed";
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

}  // namespace zagent::fsm_detail
