// Python string behaviours that supervisord's messages and config rules depend on:
// repr() quoting, str.strip()/lower(), and int() parsing. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zagent {

/// Python's repr() of a str: 'text' (or "text" when it holds ' but no "), with \\, \n, \r,
/// \t and other control characters escaped as Python does. Bytes >= 0x80 pass through.
std::string py_repr(std::string_view s);

/// Python's repr() of a bytes object: b'...' (or b"..." when it holds ' but no "), with
/// \\, \n, \r, \t escaped, other bytes outside 0x20..0x7e as \xNN.
std::string py_bytes_repr(std::string_view bytes);

/// True if `s` is valid UTF-8 (what Python's bytes.decode('utf-8') accepts).
bool is_utf8(std::string_view s);

/// Python's str.strip() with no argument (ASCII whitespace: space, \t, \n, \r, \v, \f).
std::string_view py_strip(std::string_view s);

/// ASCII lower-casing, as Python's str.lower() does for ASCII text.
std::string ascii_lower(std::string_view s);

/// Python int(s) in base 10: surrounding whitespace, an optional sign, digits with single
/// '_' between digits. nullopt when Python would raise or the value does not fit int64.
std::optional<std::int64_t> py_int(std::string_view s);

}  // namespace zagent
