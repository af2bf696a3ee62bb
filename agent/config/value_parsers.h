// The value converters and path helpers that config loading adds to common/datatypes: the
// zagent extension keys' bounded numbers and seconds, and Python's path arithmetic. Pure; no
// system calls (the file system is reached through ConfigHost by the loader).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zagent {

// zagent extension limits. kMaxSeconds keeps `now + delay` inside steady_clock's 64-bit
// nanoseconds (about 31 years); kMaxCrashloopRestarts bounds the per-process restart history.
inline constexpr std::int64_t kMaxSeconds = 1'000'000'000;
inline constexpr std::int64_t kMaxCrashloopRestarts = 10'000;

/// `invalid value for <key>: '<value>' (<why>)`, the message of the zagent extension keys.
std::string invalid_value(std::string_view key, std::string_view value, std::string_view why);

/// Seconds written `5`, `0.5`, `.25` or `5.`, kept to the millisecond; 0..kMaxSeconds.
Result<std::chrono::milliseconds> parse_seconds(std::string_view key, std::string_view value);

/// An integer in [min, max]; not-a-number keeps supervisord's int() text.
Result<std::int64_t> parse_integer_in(std::string_view key, std::string_view value,
                                      std::int64_t min, std::int64_t max);

/// The part of a section name after the first ':' ("" without one).
std::string_view after_colon(std::string_view section);

/// Python's os.path.dirname.
std::string py_dirname(std::string_view path);

/// Python's os.path.normpath(os.path.join(cwd, path)), without a trailing '/'.
std::string absolute_normal(const std::string& cwd, const std::string& path);

}  // namespace zagent
