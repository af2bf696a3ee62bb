// Process and agent ("supervisor") states with supervisord 4.2.5's numbers and names
// (states.py, spec/states.md §1). Pure values and name tables; no dependencies beyond std.
#pragma once

#include <optional>
#include <string_view>

namespace zagent {

/// One process's state; the value is the wire `state` code.
enum class ProcessState : int {
  Stopped = 0,
  Starting = 10,
  Running = 20,
  Backoff = 30,
  Stopping = 40,
  Exited = 100,
  Fatal = 200,
  Unknown = 1000,
};

/// All eight states in code order, for tables and exhaustive tests.
inline constexpr ProcessState kAllProcessStates[] = {
    ProcessState::Stopped,  ProcessState::Starting, ProcessState::Running, ProcessState::Backoff,
    ProcessState::Stopping, ProcessState::Exited,   ProcessState::Fatal,   ProcessState::Unknown,
};

/// The wire name: "STOPPED", "STARTING", ...
std::string_view state_name(ProcessState state);
/// The state for a wire code; nullopt for a code supervisord does not define.
std::optional<ProcessState> process_state_from_code(int code);

/// supervisord's STOPPED_STATES: STOPPED, EXITED, FATAL, UNKNOWN.
bool is_stopped_state(ProcessState state);
/// supervisord's RUNNING_STATES: STARTING, RUNNING, BACKOFF (`start` -> ALREADY_STARTED,
/// `stop` allowed).
bool is_running_state(ProcessState state);
/// supervisord's SIGNALLABLE_STATES: STARTING, RUNNING, STOPPING (`signal` allowed).
bool is_signallable_state(ProcessState state);

/// The agent's state as reported by `getState`; the value is the wire `statecode`.
enum class SupervisorState : int {
  Fatal = 2,
  Running = 1,
  Restarting = 0,
  Shutdown = -1,
};

/// The wire name: "FATAL", "RUNNING", "RESTARTING", "SHUTDOWN".
std::string_view state_name(SupervisorState state);
/// The state for a wire code; nullopt for a code supervisord does not define.
std::optional<SupervisorState> supervisor_state_from_code(int code);

}  // namespace zagent
