// Pure converters from config/CLI text to typed values, with supervisord 4.2.5's exact
// error texts (spec/config.md §4). No I/O: checks that need the file system or the user
// database live in agent/config.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace zagent {

/// Python int(): `invalid literal for int() with base 10: '<value>'`.
Result<std::int64_t> parse_integer(std::string_view value);

/// yes/true/on/1 and no/false/off/0, any case: `not a valid boolean value: '<value>'`.
Result<bool> parse_boolean(std::string_view value);

/// Lower-cases, then `<int>kb|mb|gb` (x1024^n) or a plain integer of bytes. Negative values
/// are accepted as supervisord does. Error shows the lower-cased value.
Result<std::int64_t> parse_byte_size(std::string_view value);

/// A signal number or name (with or without SIG, any case, aliases such as IOT, CLD, POLL,
/// RTMIN, RTMAX). Numbers are valid when supervisord 4.2.5 on Linux accepts them: 0-31, 34
/// (RTMIN) and 64 (RTMAX); 35-63 have no name in Python's signal module and are rejected.
/// `value 'FOO' is not a valid signal name` / `value '99' is not a valid signal number`.
Result<int> parse_signal(std::string_view value);

/// "SIGTERM" for 15; "signal N" for a number without a name (supervisord's signame()).
std::string signal_name(int signo);

/// Comma list of integers 0..255; empty value = empty list.
/// `not a valid list of exit codes: '<value>'`.
Result<std::vector<int>> parse_exit_codes(std::string_view value);

/// Python int(v, 8): `022`, `0o22`, `777`, `-1`. `<value> can not be converted to an octal type`.
Result<std::int64_t> parse_octal(std::string_view value);

/// Process or group name: stripped; must not contain ' ', ':' or '/'.
/// `Invalid name: 'a b' because of character: ' '`.
Result<std::string> parse_process_name(std::string_view value);

enum class LogLevel : int {
  Critical = 50,
  Error = 40,
  Warn = 30,
  Info = 20,
  Debug = 10,
  Trace = 5,
  Blather = 3,
};

/// critical error warn info debug trace blather (any case): `bad logging level name '<v>'`.
Result<LogLevel> parse_log_level(std::string_view value);
/// The config word: "info".
std::string_view log_level_word(LogLevel level);
/// The 4-letter tag written in the main log: "INFO", "DEBG".
std::string_view log_level_tag(LogLevel level);

enum class AutoRestart { Never, Always, Unexpected };

/// `unexpected` or a boolean word: `invalid 'autorestart' value '<lower-cased value>'`.
Result<AutoRestart> parse_autorestart(std::string_view value);
/// "false", "true" or "unexpected".
std::string_view autorestart_word(AutoRestart value);

struct InetAddress {
  std::string host;  ///< lower-cased; empty = all interfaces
  int port = 0;

  friend bool operator==(const InetAddress&, const InetAddress&) = default;
};

/// `[host:]port` for [inet_http_server] port=. Errors (note the trailing space in the first):
/// `not a valid port number: '<v>' `, `<n> is above upper bound (65535)`,
/// `<n> is below lower bound (1)`, `no port number specified in ''`.
Result<InetAddress> parse_inet_address(std::string_view value);

/// Ordered KEY=value pairs; a repeated key keeps its first position and takes the last value.
using EnvironmentList = std::vector<std::pair<std::string, std::string>>;

/// Sets `key` to `value`: replaced in place if present (keeping its position), else appended.
void set_environment_value(EnvironmentList& env, const std::string& key, const std::string& value);

/// A comma-separated list (`programs=`, `events=`): items stripped, empty items dropped.
std::vector<std::string> split_comma_list(std::string_view value);

/// supervisord's environment= syntax (spec/config.md §4.1: non-POSIX shlex tokens, quotes
/// stripped from the ends of values). `Unexpected end of key/value pairs in value '<value>'`.
Result<EnvironmentList> parse_environment(std::string_view value);

/// Splits a command line as POSIX shlex does (quotes, backslash escapes, '#' is not a
/// comment, newlines are whitespace). Error text: `No closing quotation` or `No escaped
/// character` (the caller adds "can't parse command ...").
Result<std::vector<std::string>> split_command(std::string_view command);

enum class LogTargetKind { Auto, None, Syslog, Path };

/// What a *_logfile value names. `path` is set only for Path (with '~' expanded by the caller).
struct LogTarget {
  LogTargetKind kind = LogTargetKind::Auto;
  std::string path;

  friend bool operator==(const LogTarget&, const LogTarget&) = default;
};

/// NONE/OFF (any case) -> None, AUTO -> Auto, syslog (any case) -> Syslog, else Path.
/// Never fails; the directory check is the caller's.
LogTarget classify_log_target(std::string_view value);

}  // namespace zagent
