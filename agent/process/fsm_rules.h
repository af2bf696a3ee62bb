// The small pure rules of the process state machine (supervisord's comparisons, the restart
// policy of the zagent extensions) and its refusals. Internal to process_fsm.cc; a header of
// its own so the machine's file stays about the machine.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/process/process_fsm.h"

namespace zagent::fsm_rules {

using std::chrono::seconds;

// supervisord compares with strict `>` in several places (`now - laststart > startsecs`,
// `now > delay`, `now > laststopreport + 2`). A deadline is the first instant at which the
// rule holds, so strict thresholds are stored one clock tick late.
inline SteadyTime just_after(SteadyTime t) { return t + SteadyTime::duration(1); }

constexpr seconds kStopReportInterval{2};

// ---- rules, each a small pure decision ----

// supervisord compat: Subprocess.finish(), `now - laststart < startsecs` -> exited too quickly.
// Decided from the reap time, not from a loop pass (spec/states.md §3, "Race").
inline bool exited_too_quickly(const ProcessConfig& config, SteadyTime last_start, SteadyTime now) {
  return now - last_start < seconds(config.startsecs);
}

// supervisord compat: transition(), STARTING -> RUNNING once `now - laststart > startsecs`.
inline bool stayed_up_long_enough(const ProcessConfig& config, SteadyTime last_start,
                                  SteadyTime now) {
  return now - last_start > seconds(config.startsecs);
}

// supervisord compat: `es in exitcodes`; a signal death is es == -1, never in the list.
inline bool exit_was_expected(const ProcessConfig& config, int exit_code) {
  return std::find(config.exitcodes.begin(), config.exitcodes.end(), exit_code) !=
         config.exitcodes.end();
}

// supervisord compat: change_state(BACKOFF) sets `delay = now + backoff` after incrementing.
inline seconds next_backoff_delay(int backoff) { return seconds(backoff); }

// supervisord compat: transition(), BACKOFF -> FATAL once `backoff > startretries`.
inline bool retries_exhausted(const ProcessConfig& config, int backoff) {
  return backoff > config.startretries;
}

// supervisord compat: transition(), EXITED -> STARTING (autorestart matrix, states.md §2.2).
// It looks at `exitstatus`, which is -1 after a signal, so a signal death is "unexpected".
inline bool should_autorestart(const ProcessConfig& config, int exit_status) {
  switch (config.autorestart) {
    case AutoRestart::Never:
      return false;
    case AutoRestart::Always:
      return true;
    case AutoRestart::Unexpected:
      return !exit_was_expected(config, exit_status);
  }
  return false;
}

// zagent extension (restart_delay_max): a run at least this long starts the delay sequence
// over, so a service that crashes once a day is not punished for last week's crash loop.
inline bool run_outlived_backoff(const ProcessConfig& config, SteadyTime last_start,
                                 SteadyTime now) {
  return now - last_start >= config.restart_delay_max;
}

// zagent extension (crashloop_window_secs): the autorestarts still inside the window at `now`.
inline std::vector<SteadyTime> restarts_in_window(const ProcessConfig& config,
                                                  std::vector<SteadyTime> restarts,
                                                  SteadyTime now) {
  std::erase_if(restarts,
                [&](SteadyTime at) { return now - at >= seconds(config.crashloop_window_secs); });
  return restarts;
}

// zagent extension (crashloop_max_restarts): one more autorestart would exceed the limit.
inline bool crash_loop_reached(const ProcessConfig& config, std::size_t restarts_in_window) {
  return config.crashloop_max_restarts > 0 &&
         static_cast<std::int64_t>(restarts_in_window) >= config.crashloop_max_restarts;
}

inline std::string crash_loop_reason(const ProcessConfig& config) {
  return fmt::format("crash loop: {} restarts within {} seconds", config.crashloop_max_restarts,
                     config.crashloop_window_secs);
}

// Enough doublings to pass any cap (kMaxSeconds in config.cc is below 2^50 ms); keeps the
// counter from growing without end while the delay sits at its cap.
constexpr int kMaxConsecutiveRestarts = 64;

// supervisord compat: kill() uses stopasgroup for the first signal and killasgroup once the
// process is already STOPPING (the SIGKILL).
inline bool signal_to_group(const ProcessConfig& config, ProcessState state) {
  return state == ProcessState::Stopping ? config.killasgroup : config.stopasgroup;
}

inline FsmError refuse(Fault fault, std::string detail) {
  return FsmError{fault, std::move(detail), false};
}

inline FsmError not_expected(const ProcessConfig& config, ProcessState state, EventKind kind) {
  return FsmError{Fault::Failed,
                  fmt::format("internal: event {} is not expected for '{}' in state {}",
                              event_kind_name(kind), config.name, state_name(state)),
                  true};
}

inline FsmError kill_without_pid(const ProcessConfig& config) {
  // supervisord compat: kill() without a pid returns this message; the RPC says FAILED.
  return refuse(Fault::Failed, fmt::format("attempted to kill {} with sig {} but it wasn't running",
                                           config.name, signal_name(config.stopsignal)));
}

inline FsmError signal_without_pid(const ProcessConfig& config, int signo) {
  // supervisord compat: signal() without a pid returns this message; the RPC says FAILED.
  return refuse(Fault::Failed, fmt::format("attempted to send {} sig {} but it wasn't running",
                                           config.name, signal_name(signo)));
}

inline FsmError not_running(const ProcessConfig& config) { return refuse(Fault::NotRunning, config.name); }

inline FsmError already_started(const ProcessConfig& config) {
  return refuse(Fault::AlreadyStarted, config.name);
}

inline FsmError shutting_down(const ProcessConfig& config) {
  // supervisord compat: every supervisor.* RPC fails with SHUTDOWN_STATE during shutdown.
  return refuse(Fault::ShutdownState, config.name);
}

}  // namespace zagent::fsm_rules
