// The pure per-process state machine of supervisord 4.2.5 (process.py spawn/finish/kill/
// transition; spec/states.md). No I/O, no system calls, no clock reads, no logging: time comes
// in as `Now`, effects go out as `Action`s. Depends only on common/, agent/clock.h and
// agent/config.h.
#pragma once

#include <sys/types.h>

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/config/config.h"
#include "agent/process/clock.h"
#include "agent/process/exit_cause.h"
#include "agent/process/exit_info.h"
#include "common/datatypes.h"
#include "common/faults.h"
#include "common/process_state.h"

namespace zagent {

/// The moment an event is handled; the caller reads its clock once and passes both.
struct Now {
  SteadyTime steady;
  WallTime wall;
};

/// A guardian's restart in progress: why, in the guardian's words (crash record evidence).
struct GuardianStop {
  CauseKind cause = CauseKind::MemoryLimit;
  Evidence evidence;
  friend bool operator==(const GuardianStop&, const GuardianStop&) = default;
};

/// Everything the machine remembers about one process. Plain data, owned by the supervisor;
/// `step` never changes it in place but returns the next version.
struct ProcessRecord {
  ProcessState state = ProcessState::Stopped;
  pid_t pid = 0;    ///< 0 when no child exists (also in STARTING until SpawnSucceeded)
  int backoff = 0;  ///< consecutive failed starts (supervisord's `backoff`)
  std::optional<SteadyTime> last_start;     ///< last spawn attempt; nullopt = never in this life
  std::optional<WallTime> last_start_wall;  ///< the same moment, for display (`start`)
  std::optional<WallTime> last_stop_wall;   ///< last reaped exit, for display (`stop`)
  /// The next instant at which DeadlineReached changes something for this state: the
  /// startsecs check (STARTING), the retry (BACKOFF), SIGKILL (STOPPING), the delayed
  /// autorestart (EXITED with `restart_delay`). See next_wakeup().
  std::optional<SteadyTime> deadline;
  std::string spawn_error;  ///< supervisord's `spawnerr`; empty = none
  /// supervisord's `exitstatus`: nullopt after a spawn or a too-quick exit, -1 after a signal.
  std::optional<int> exit_status;
  std::optional<ExitInfo> last_exit;  ///< how the last child ended
  bool administrative_stop = false;   ///< a stop was requested (never undone by autorestart)
  bool killing = false;               ///< the stop signal was sent and the exit is not yet reaped
  bool sigkill_sent = false;          ///< stopwaitsecs ran out and SIGKILL was sent at least once
  /// When the next `waiting for NAME to stop` line is due; nullopt = nobody is waiting.
  std::optional<SteadyTime> next_stop_report;
  bool shutting_down = false;  ///< ShutdownBegun was seen: never spawn again in this life
  /// zagent extension (`restart_delay`): autorestarts since the delay sequence last started
  /// over; the next delay is restart_delay_for(config, this). Stays 0 without restart_delay.
  int consecutive_restarts = 0;
  /// zagent extension (`crashloop_max_restarts`): when the autorestarts inside the window were
  /// decided, oldest first; at most crashloop_max_restarts entries. Empty when the limit is off.
  std::vector<SteadyTime> recent_restarts;
  /// Why the last child ended (or the last spawn failed); nullopt = nothing ended yet.
  std::optional<ExitCause> last_cause;
  /// The signal a `signal` request sent last in this run (the death it causes is no crash of
  /// unknown origin); nullopt = none.
  std::optional<int> operator_signal;
  /// snapshot_command ran (or runs) before this stop's SIGKILL; the SIGKILL waits for it.
  bool snapshot_taken = false;
  /// snapshot_command runs now and a signal waits for it (SnapshotCommandDone releases it,
  /// once; a late one after the deadline changes nothing).
  bool snapshot_pending = false;
  /// A guardian asked for a restart (RestartRequested) and the child has not ended yet; the
  /// exit then restarts the process whatever `autorestart` says.
  std::optional<GuardianStop> guardian_stop;
  /// STARTING without a child: a spawn gate (the GPU's free memory, the old tree's GPU
  /// memory) holds the spawn; the text is the description (`waiting for 12.0 GiB free on
  /// GPU 0 (3.1 GiB free)`). Empty = not held.
  std::string waiting;
  /// healthcheck: a check of this run passed while STARTING (RUNNING needs it and startsecs).
  bool health_passed = false;
  /// healthcheck: the last failed check's message in this run (the spawnerr of a start that
  /// timed out); empty = none failed.
  std::string health_error;
  /// healthcheck_start_timeout ran out: the child is being stopped (still STARTING) and its
  /// exit is a failed start (BACKOFF, startretries).
  bool health_start_failed = false;

  friend bool operator==(const ProcessRecord&, const ProcessRecord&) = default;
};

/// Who is ending the child now, as far as the record knows: a guardian's restart, the agent's
/// stop (with or without the SIGKILL after stopwaitsecs) or nobody it knows of.
EndedBy ended_by(const ProcessRecord& record);

/// The earliest of `deadline` and `next_stop_report`: when the caller must send
/// DeadlineReached. nullopt = nothing is timed.
std::optional<SteadyTime> next_wakeup(const ProcessRecord& record);

/// zagent extension: the wait before the `n`-th consecutive autorestart (n >= 1):
/// `restart_delay` doubled n-1 times, capped at `restart_delay_max` when that is larger.
std::chrono::milliseconds restart_delay_for(const ProcessConfig& config, int n);

/// supervisord's autostart rule (transition(): STOPPED and `laststart == 0`): whether the
/// supervisor should send StartRequested for this process on an agent start or reload pass.
bool wants_autostart(const ProcessConfig& config, const ProcessRecord& record);

// ---- Events ----

/// `start` RPC, or autostart (see wants_autostart()).
struct StartRequested {};
/// `stop` RPC or a stop during shutdown/reload/update/remove. `report_progress` asks for the
/// `waiting for NAME to stop` lines (supervisord logs them only while a stop RPC waits).
/// zagent extension: in EXITED with a delayed restart pending (`restart_delay`) it is accepted
/// and cancels the restart (-> STOPPED, like a stop in BACKOFF); without one it is NOT_RUNNING.
struct StopRequested {
  bool report_progress = true;
};
/// The SpawnChild action succeeded: the child exists.
struct SpawnSucceeded {
  pid_t pid = 0;
};
/// The SpawnChild action failed in the parent; `message` is the spawnerr text (states.md §7).
struct SpawnFailed {
  std::string message;
};
/// The child was reaped. `now` of the step is taken as the exit time. `oom`: what the OOM
/// evidence port found (asked only when needs_oom_evidence(); empty otherwise).
struct ChildExited {
  explicit ChildExited(ExitInfo e, OomFacts o = {}) : exit(std::move(e)), oom(std::move(o)) {}
  ExitInfo exit;
  OomFacts oom;
};
/// Time has passed. Safe to send at any time to any process: it only acts on what is due
/// (like supervisord's transition() pass), otherwise it returns the record unchanged.
struct DeadlineReached {};
/// The agent is shutting down or reloading: BACKOFF -> FATAL silently; a pending delayed
/// restart (EXITED) is cancelled; no spawn afterwards. Idempotent. Running children are
/// stopped separately with StopRequested{false}.
struct ShutdownBegun {};
/// `signal` RPC: send `signo` to the pid (never the group).
struct SignalRequested {
  int signo = 0;
};
/// Sending a signal (SendSignal) failed with an error other than ESRCH. `during_stop` tells a
/// stop/kill signal from a `signal` RPC one; `reason` is the error text.
struct SignalFailed {
  std::string reason;
  bool during_stop = true;
};

/// snapshot_command (RunSnapshotCommand) finished: a SIGKILL waiting for it goes out now.
/// Ignored when nothing waits (the process exited meanwhile).
struct SnapshotCommandDone {};

/// A guardian (resource, output, health) asks for a graceful restart: in RUNNING only
/// (NOT_RUNNING otherwise). snapshot_command runs first when configured, then stopsignal,
/// stopwaitsecs and SIGKILL as for a stop; the exit is recorded with the guardian's cause and
/// the process starts again through the autorestart path (restart_delay, crash-loop limit),
/// whatever `autorestart` says. A stop request meanwhile turns it into a plain stop.
struct RestartRequested {
  CauseKind cause = CauseKind::MemoryLimit;
  Evidence evidence;
};

/// A spawn gate holds the SpawnChild action (STARTING, no child yet): the process stays
/// STARTING with `waiting` as its description until the supervisor spawns (SpawnSucceeded,
/// SpawnFailed) or a stop cancels it (-> STOPPED). startsecs counts from the real spawn. The
/// first hold logs `waiting: NAME <text>`; a changed text only updates the description.
struct SpawnHeld {
  std::string waiting;
};

/// A health check of the current run finished (healthcheck). In STARTING with a child, a pass
/// lets the process enter RUNNING once startsecs has passed (at once if it has); a failure is
/// kept as the reason of a start that times out (healthcheck_start_timeout from the spawn).
/// Anywhere else it changes nothing: liveness in RUNNING is the health monitor's, which asks
/// for a restart (RestartRequested, health_failed).
struct HealthChecked {
  bool passed = false;
  std::string message;
};

using Event = std::variant<StartRequested, StopRequested, SpawnSucceeded, SpawnFailed, ChildExited,
                           DeadlineReached, ShutdownBegun, SignalRequested, SignalFailed,
                           SnapshotCommandDone, RestartRequested, SpawnHeld, HealthChecked>;

/// The event's alternative, for `switch`: same order as `Event`.
enum class EventKind {
  StartRequested,
  StopRequested,
  SpawnSucceeded,
  SpawnFailed,
  ChildExited,
  DeadlineReached,
  ShutdownBegun,
  SignalRequested,
  SignalFailed,
  SnapshotCommandDone,
  RestartRequested,
  SpawnHeld,
  HealthChecked,
};
EventKind event_kind(const Event& event);
/// "StartRequested", ...
std::string_view event_kind_name(EventKind kind);

// ---- Actions: carry them out in order ----

/// Spawn the child now, then feed back SpawnSucceeded or SpawnFailed.
struct SpawnChild {
  friend bool operator==(const SpawnChild&, const SpawnChild&) = default;
};
/// kill(pid, signo), or kill(-pid, signo) when `to_group`. Feed back SignalFailed on an
/// error other than ESRCH (ESRCH is ignored: the reap will follow).
struct SendSignal {
  pid_t pid = 0;
  int signo = 0;
  bool to_group = false;
  friend bool operator==(const SendSignal&, const SendSignal&) = default;
};
/// A main-log line: exact text after `<date> <LEVEL> `.
struct LogLine {
  LogLevel level = LogLevel::Info;
  std::string text;
  friend bool operator==(const LogLine&, const LogLine&) = default;
};
/// The state changed (for PROCESS_STATE events and waiters). `expected` is supervisord's
/// flag for EXITED (exit status in exitcodes); true otherwise.
struct StateChanged {
  ProcessState from = ProcessState::Stopped;
  ProcessState to = ProcessState::Stopped;
  bool expected = true;
  friend bool operator==(const StateChanged&, const StateChanged&) = default;
};

/// An exit the operator did not ask for (or a spawn failure): keep a crash record. Carries
/// what the record needs from this run, since a restart in the same step resets the record.
struct RecordCrash {
  ExitCause cause;
  std::optional<ExitInfo> exit;  ///< nullopt for a spawn failure
  pid_t pid = 0;                 ///< 0 for a spawn failure
  std::optional<WallTime> started;
  friend bool operator==(const RecordCrash&, const RecordCrash&) = default;
};
/// Run snapshot_command for `pid` (still alive) and feed back SnapshotCommandDone; the
/// deadline of the step bounds it (snapshot_timeout).
struct RunSnapshotCommand {
  pid_t pid = 0;
  friend bool operator==(const RunSnapshotCommand&, const RunSnapshotCommand&) = default;
};

using Action =
    std::variant<SpawnChild, SendSignal, LogLine, StateChanged, RecordCrash, RunSnapshotCommand>;

/// One line per action, for debug logs and test output: `log WARN exited: ...`.
std::string describe_action(const Action& action);

struct Step {
  ProcessRecord next;
  std::vector<Action> actions;
};

/// Why an event was refused. The record is unchanged and no action is due.
/// `fault` is what the RPC layer reports (ALREADY_STARTED, NOT_RUNNING, SHUTDOWN_STATE,
/// FAILED); the fault string is built there (`<NAME>: <name as the client passed it>`), except
/// for FAILED where supervisord sends `detail` (`FAILED: <detail>`). `internal` marks events
/// that the supervisor should never send in this state (a bug, e.g. ChildExited in STOPPED);
/// those use Fault::Failed.
struct FsmError {
  Fault fault = Fault::Failed;
  std::string detail;
  bool internal = false;

  friend bool operator==(const FsmError&, const FsmError&) = default;
};

/// Found by argument-dependent lookup when `FsmResult::value()` holds an error: throws
/// std::runtime_error. Only for program edges and tests.
[[noreturn]] void throw_exception_from_error(const FsmError& e, const boost::source_location& loc);

template <typename T>
using FsmResult = boost::system::result<T, FsmError>;

/// The transition function: handles one event for one process at `now`.
/// Every (state, event) pair is handled; a refused event returns FsmError (see there).
/// The restart policy (supervisord's, plus the opt-in `restart_delay`, `restart_delay_max`
/// and `crashloop_*` keys) is read from `config`.
FsmResult<Step> step(const ProcessConfig& config, const ProcessRecord& record, const Event& event,
                     Now now);

}  // namespace zagent
