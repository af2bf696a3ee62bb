// The exit statuses zctl uses: supervisorctl 4.2.5's LSB codes (spec/ctl.md §1.2).
// Header-only, no dependencies.
#pragma once

namespace zagent::ctl::exit_code {

inline constexpr int kSuccess = 0;
/// Most errors.
inline constexpr int kGeneric = 1;
/// `start` without a name, `start` of an unknown group, option and config usage errors.
inline constexpr int kInvalidArgs = 2;
/// The server does not know the `supervisor.*` methods.
inline constexpr int kUnimplementedFeature = 3;
/// Connection refused.
inline constexpr int kInsufficientPrivileges = 4;
/// The server's API version is not 3.0.
inline constexpr int kNotInstalled = 5;
/// Socket file missing; SPAWN_ERROR / ABNORMAL_TERMINATION / NOT_RUNNING results.
inline constexpr int kNotRunning = 7;

/// `status` only: a printed process is STOPPED, EXITED, FATAL or UNKNOWN.
inline constexpr int kStatusNotRunning = 3;
/// `status` only: an unknown name, or the server is unreachable or unusable.
inline constexpr int kStatusUnknown = 4;

}  // namespace zagent::ctl::exit_code
