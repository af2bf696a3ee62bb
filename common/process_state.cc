#include "common/process_state.h"

namespace zagent {

std::string_view state_name(ProcessState state) {
  switch (state) {
    case ProcessState::Stopped:
      return "STOPPED";
    case ProcessState::Starting:
      return "STARTING";
    case ProcessState::Running:
      return "RUNNING";
    case ProcessState::Backoff:
      return "BACKOFF";
    case ProcessState::Stopping:
      return "STOPPING";
    case ProcessState::Exited:
      return "EXITED";
    case ProcessState::Fatal:
      return "FATAL";
    case ProcessState::Unknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::optional<ProcessState> process_state_from_code(int code) {
  for (const ProcessState state : kAllProcessStates) {
    if (static_cast<int>(state) == code) {
      return state;
    }
  }
  return std::nullopt;
}

bool is_stopped_state(ProcessState state) {
  switch (state) {
    case ProcessState::Stopped:
    case ProcessState::Exited:
    case ProcessState::Fatal:
    case ProcessState::Unknown:
      return true;
    case ProcessState::Starting:
    case ProcessState::Running:
    case ProcessState::Backoff:
    case ProcessState::Stopping:
      return false;
  }
  return false;
}

bool is_running_state(ProcessState state) {
  switch (state) {
    case ProcessState::Starting:
    case ProcessState::Running:
    case ProcessState::Backoff:
      return true;
    case ProcessState::Stopped:
    case ProcessState::Stopping:
    case ProcessState::Exited:
    case ProcessState::Fatal:
    case ProcessState::Unknown:
      return false;
  }
  return false;
}

bool is_signallable_state(ProcessState state) {
  switch (state) {
    case ProcessState::Starting:
    case ProcessState::Running:
    case ProcessState::Stopping:
      return true;
    case ProcessState::Stopped:
    case ProcessState::Backoff:
    case ProcessState::Exited:
    case ProcessState::Fatal:
    case ProcessState::Unknown:
      return false;
  }
  return false;
}

std::string_view state_name(SupervisorState state) {
  switch (state) {
    case SupervisorState::Fatal:
      return "FATAL";
    case SupervisorState::Running:
      return "RUNNING";
    case SupervisorState::Restarting:
      return "RESTARTING";
    case SupervisorState::Shutdown:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}

std::optional<SupervisorState> supervisor_state_from_code(int code) {
  switch (code) {
    case 2:
    case 1:
    case 0:
    case -1:
      return static_cast<SupervisorState>(code);
    default:
      return std::nullopt;
  }
}

}  // namespace zagent
