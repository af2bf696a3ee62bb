// RPC fault codes with supervisord 4.2.5's numbers and names (xmlrpc.py `Faults`, spec/rpc.md §2).
// Header-only and dependency-free so that agent, ctl and the protocol code can all share it.
#pragma once

#include <optional>
#include <string_view>

namespace zagent {

/// A supervisord fault. The numeric value is the wire `faultCode`.
enum class Fault : int {
  UnknownMethod = 1,
  IncorrectParameters = 2,
  BadArguments = 3,
  SignatureUnsupported = 4,
  ShutdownState = 6,
  BadName = 10,
  BadSignal = 11,
  NoFile = 20,
  NotExecutable = 21,
  Failed = 30,
  AbnormalTermination = 40,
  SpawnError = 50,
  AlreadyStarted = 60,
  NotRunning = 70,
  Success = 80,  ///< never sent as a fault; the `status` of a successful result struct
  AlreadyAdded = 90,
  StillRunning = 91,
  CantReread = 92,
};

/// The wire number: 70 for NotRunning.
constexpr int fault_code(Fault fault) { return static_cast<int>(fault); }

/// The wire name, the first part of a `faultString`: "NOT_RUNNING".
constexpr std::string_view fault_name(Fault fault) {
  switch (fault) {
    case Fault::UnknownMethod:
      return "UNKNOWN_METHOD";
    case Fault::IncorrectParameters:
      return "INCORRECT_PARAMETERS";
    case Fault::BadArguments:
      return "BAD_ARGUMENTS";
    case Fault::SignatureUnsupported:
      return "SIGNATURE_UNSUPPORTED";
    case Fault::ShutdownState:
      return "SHUTDOWN_STATE";
    case Fault::BadName:
      return "BAD_NAME";
    case Fault::BadSignal:
      return "BAD_SIGNAL";
    case Fault::NoFile:
      return "NO_FILE";
    case Fault::NotExecutable:
      return "NOT_EXECUTABLE";
    case Fault::Failed:
      return "FAILED";
    case Fault::AbnormalTermination:
      return "ABNORMAL_TERMINATION";
    case Fault::SpawnError:
      return "SPAWN_ERROR";
    case Fault::AlreadyStarted:
      return "ALREADY_STARTED";
    case Fault::NotRunning:
      return "NOT_RUNNING";
    case Fault::Success:
      return "SUCCESS";
    case Fault::AlreadyAdded:
      return "ALREADY_ADDED";
    case Fault::StillRunning:
      return "STILL_RUNNING";
    case Fault::CantReread:
      return "CANT_REREAD";
  }
  return "UNKNOWN";
}

/// The Fault for a wire number; nullopt for a number supervisord does not define (e.g. 5).
constexpr std::optional<Fault> fault_from_code(int code) {
  switch (code) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:
    case 10:
    case 11:
    case 20:
    case 21:
    case 30:
    case 40:
    case 50:
    case 60:
    case 70:
    case 80:
    case 90:
    case 91:
    case 92:
      return static_cast<Fault>(code);
    default:
      return std::nullopt;
  }
}

}  // namespace zagent
