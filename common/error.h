// Error values shared by every module: expected failures are returned, never thrown.
// Depends only on the standard library and Boost.System's header-only result type.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <utility>

namespace zagent {

/// Broad kind of an expected failure; the message carries the detail.
enum class ErrorCode {
  Invalid,   ///< a value that does not convert (config value, argument, request field)
  Config,    ///< a config file that cannot be used as a whole
  NotFound,  ///< a file, user, process or name that does not exist
  Io,        ///< a system call failed (the message names it and errno's text)
  Internal,  ///< a broken invariant that is reported instead of aborting
};

struct Error {
  ErrorCode code = ErrorCode::Invalid;
  std::string message;

  friend bool operator==(const Error&, const Error&) = default;
};

/// `Result<T>` holds a T or an Error. `Result<void>` holds nothing or an Error.
template <typename T>
using Result = boost::system::result<T, Error>;

/// Shorthand constructor: `return fail("not a valid boolean value: ...");`
inline Error fail(std::string message, ErrorCode code = ErrorCode::Invalid) {
  return Error{code, std::move(message)};
}

/// The value, or `fallback` when `r` holds an error.
template <typename T, typename U>
T value_or(const Result<T>& r, U&& fallback) {
  return r ? *r : static_cast<T>(std::forward<U>(fallback));
}

/// "what we tried: strerror(err)" for a failed system call; record errno right after the call.
Error errno_error(std::string what, int err);

/// Found by argument-dependent lookup when `Result<T>::value()` is called on an error:
/// throws std::runtime_error with the message. Only used at program edges.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace zagent
