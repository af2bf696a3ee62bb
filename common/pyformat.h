// Python's `format % mapping` as supervisord uses it to expand %(name)s in config values
// (spec/config.md §3). Pure: the caller supplies the names.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "common/error.h"

namespace zagent {

/// A value a name expands to: text (here, program_name, ENV_X) or a number (process_num).
using FormatValue = std::variant<std::string, std::int64_t>;
/// std::map keeps the names sorted, as supervisord lists them in its error message.
using FormatNames = std::map<std::string, FormatValue, std::less<>>;

/// Why py_format failed.
struct FormatError {
  enum class Kind {
    MissingName,  ///< detail = the first unknown name, e.g. foo
    BadFormat,    ///< detail = Python's message, e.g. "incomplete format key"
  };
  Kind kind;
  std::string detail;
};

/// Applies `fmt % names` with Python's rules: `%%` -> `%`; `%(name)` followed by optional
/// flags (`#0- +`), width, `.precision`, and one conversion of `s r a d i u o x X e E f F g
/// G c %`. Text values used with a numeric conversion, and unkeyed conversions such as a
/// bare `%s`, are BadFormat. Python's messages: "incomplete format key", "incomplete
/// format", "unsupported format character 'b' (0x62) at index 10".
/// Returns the expanded text, or the FormatError in `error` and nullopt-like empty result.
boost::system::result<std::string, FormatError> py_format(std::string_view fmt,
                                                          const FormatNames& names);

/// supervisord's expand(): py_format with its error texts:
///   Format string <repr(fmt)> for <repr(option)> contains names (<repr(name)>) which cannot
///   be expanded. Available names: <sorted names joined by ", ">
///   Format string <repr(fmt)> for <repr(option)> is badly formatted: <detail>
Result<std::string> expand(std::string_view fmt, const FormatNames& names,
                           std::string_view option);

}  // namespace zagent
