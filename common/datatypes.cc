#include "common/datatypes.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>

#include "common/pystr.h"

namespace zagent {
namespace {

// ---------------------------------------------------------------------------------------------
// Python int() literals

/// An integer literal as Python's int(s, base) reads it, reduced to what its repr() shows.
struct IntLiteral {
  bool negative = false;
  std::string digits;  ///< no leading zeros; "0" for zero
};

/// CPython's int(s, base) syntax for base 8 or 10: surrounding whitespace, one sign, for base 8
/// an optional `0o` prefix that may be followed by one '_', then digits with single '_' between
/// them. Unlike py_int() this ignores magnitude, so callers can tell "not an integer" from "an
/// integer Python would accept but int64 cannot hold".
std::optional<IntLiteral> scan_int_literal(std::string_view s, int base) {
  s = py_strip(s);
  IntLiteral out;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    out.negative = s.front() == '-';
    s.remove_prefix(1);
  }
  bool underscore_allowed = false;
  if (base == 8 && s.size() >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    s.remove_prefix(2);
    underscore_allowed = true;  // int('0o_7', 8) == 7
  }
  bool any_digit = false;
  bool ends_with_underscore = false;
  for (const char ch : s) {
    if (ch == '_') {
      if (!underscore_allowed) {
        return std::nullopt;
      }
      underscore_allowed = false;
      ends_with_underscore = true;
      continue;
    }
    if (ch < '0' || ch >= '0' + base) {
      return std::nullopt;
    }
    any_digit = true;
    underscore_allowed = true;
    ends_with_underscore = false;
    if (!out.digits.empty() || ch != '0') {
      out.digits.push_back(ch);
    }
  }
  if (!any_digit || ends_with_underscore) {
    return std::nullopt;
  }
  if (out.digits.empty()) {
    out.digits = "0";
    out.negative = false;
  }
  return out;
}

/// The literal's value, or nullopt when it does not fit in int64.
std::optional<std::int64_t> literal_value(const IntLiteral& literal, int base) {
  // Accumulate as a negative number so that INT64_MIN fits.
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  std::int64_t value = 0;
  for (const char ch : literal.digits) {
    const int digit = ch - '0';
    if (value < (kMin + digit) / base) {
      return std::nullopt;
    }
    value = value * base - digit;
  }
  if (!literal.negative) {
    if (value == kMin) {
      return std::nullopt;
    }
    value = -value;
  }
  return value;
}

/// Cuts `s` after `limit` code points (UTF-8 continuation bytes do not count).
std::string truncate_code_points(std::string s, std::size_t limit) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == limit) {
        s.resize(i);
        break;
      }
      ++count;
    }
  }
  return s;
}

/// The ValueError text of int(value).
std::string int_literal_error(std::string_view value) {
  // supervisord compat: CPython formats the argument with "%.200R", so a long value's repr is
  // cut after 200 characters and loses its closing quote.
  return "invalid literal for int() with base 10: " + truncate_code_points(py_repr(value), 200);
}

// ---------------------------------------------------------------------------------------------
// Case and whitespace

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'a' && ch <= 'z') {
      ch = static_cast<char>(ch - 'a' + 'A');
    }
  }
  return out;
}

/// Python's str.strip() for ASCII text. It differs from py_strip() (int()'s whitespace): str
/// also counts the information separators \x1c-\x1f as whitespace.
std::string_view str_strip(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

/// supervisord's TRUTHY_STRINGS / FALSY_STRINGS, for an already lower-cased word.
std::optional<bool> boolean_word(std::string_view lowered) {
  if (lowered == "yes" || lowered == "true" || lowered == "on" || lowered == "1") {
    return true;
  }
  if (lowered == "no" || lowered == "false" || lowered == "off" || lowered == "0") {
    return false;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Signals

struct SignalEntry {
  std::string_view name;  ///< without the "SIG" prefix, upper case
  int number;
  bool canonical;  ///< the name supervisord's signame() prints for this number
};

// Every `SIG*` attribute of Python 3.11's signal module on Linux: what supervisord's
// signal_number() finds with getattr(signal, 'SIG' + name), and the only numbers it accepts.
// supervisord compat: the numbers 35-63 have no attribute and are rejected, although Linux
// has those real-time signals.
// supervisord compat: signame() keeps the last name the module defines for a number, so
// 6 is SIGABRT, 17 SIGCHLD and 29 SIGPOLL (not SIGIO, which Signals(29).name gives).
// supervisord compat: SIG_DFL, SIG_IGN, SIG_BLOCK, SIG_UNBLOCK and SIG_SETMASK are constants
// of the same module, so `stopsignal=_IGN` means 1; they never name a signal in signame().
constexpr auto kSignals = std::to_array<SignalEntry>({
    {"HUP", 1, true},       {"INT", 2, true},    {"QUIT", 3, true},    {"ILL", 4, true},
    {"TRAP", 5, true},      {"ABRT", 6, true},   {"IOT", 6, false},    {"BUS", 7, true},
    {"FPE", 8, true},       {"KILL", 9, true},   {"USR1", 10, true},   {"SEGV", 11, true},
    {"USR2", 12, true},     {"PIPE", 13, true},  {"ALRM", 14, true},   {"TERM", 15, true},
    {"STKFLT", 16, true},   {"CHLD", 17, true},  {"CLD", 17, false},   {"CONT", 18, true},
    {"STOP", 19, true},     {"TSTP", 20, true},  {"TTIN", 21, true},   {"TTOU", 22, true},
    {"URG", 23, true},      {"XCPU", 24, true},  {"XFSZ", 25, true},   {"VTALRM", 26, true},
    {"PROF", 27, true},     {"WINCH", 28, true}, {"IO", 29, false},    {"POLL", 29, true},
    {"PWR", 30, true},      {"SYS", 31, true},   {"RTMIN", 34, true},  {"RTMAX", 64, true},
    {"_DFL", 0, false},     {"_IGN", 1, false},  {"_BLOCK", 0, false}, {"_UNBLOCK", 1, false},
    {"_SETMASK", 2, false},
});

bool is_known_signal_number(std::int64_t number) {
  for (const auto& entry : kSignals) {
    if (entry.number == number) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Ports

/// supervisord's port_number(): int() then the range 1..65535, with its messages.
Result<int> parse_port_number(std::string_view text) {
  constexpr int kMinPort = 1;
  constexpr int kMaxPort = 65535;
  const std::optional<std::int64_t> number = py_int(text);
  if (!number) {
    const std::optional<IntLiteral> literal = scan_int_literal(text, 10);
    if (!literal) {
      return fail(int_literal_error(text));
    }
    // Beyond int64 but still an int to Python, whose repr() is the bare digits.
    if (literal->negative) {
      return fail("-" + literal->digits + " is below lower bound (1)");
    }
    return fail(literal->digits + " is above upper bound (65535)");
  }
  if (*number < kMinPort) {
    return fail(std::to_string(*number) + " is below lower bound (1)");
  }
  if (*number > kMaxPort) {
    return fail(std::to_string(*number) + " is above upper bound (65535)");
  }
  return static_cast<int>(*number);
}

// ---------------------------------------------------------------------------------------------
// shlex

bool is_shlex_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

bool is_quote(char ch) { return ch == '\'' || ch == '"'; }

/// shlex's default word characters plus the ones dict_of_key_value_pairs adds.
bool is_environment_word_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || std::string_view("/.+-():").find(ch) != std::string_view::npos;
}

/// Length of the character starting at `pos`: a UTF-8 sequence is one character to Python,
/// so a non-ASCII character becomes one punctuation token, as in supervisord.
std::size_t char_length(std::string_view s, std::size_t pos) {
  std::size_t end = pos + 1;
  if (static_cast<unsigned char>(s[pos]) >= 0xC0) {
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
      ++end;
    }
  }
  return end - pos;
}

/// Python's non-POSIX shlex.shlex(value) with wordchars += '/.+-():', as a token list.
Result<std::vector<std::string>> environment_tokens(std::string_view value) {
  enum class State { Idle, Word, Quoted };
  std::vector<std::string> tokens;
  std::string token;
  State state = State::Idle;
  char quote = '\0';
  // '#' starts a comment: shlex reads the rest of the line and drops it.
  const auto skip_comment = [&value](std::size_t from) {
    const auto newline = value.find('\n', from);
    return newline == std::string_view::npos ? value.size() : newline + 1;
  };
  std::size_t pos = 0;
  while (pos < value.size()) {
    const std::string_view ch = value.substr(pos, char_length(value, pos));
    const char first = ch.front();
    pos += ch.size();
    switch (state) {
      case State::Idle:
        if (is_shlex_space(first)) {
          break;
        }
        if (first == '#') {
          pos = skip_comment(pos);
        } else if (ch.size() == 1 && is_environment_word_char(first)) {
          token.assign(ch);
          state = State::Word;
        } else if (is_quote(first)) {
          // Non-POSIX mode keeps the quotes in the token.
          token.assign(ch);
          quote = first;
          state = State::Quoted;
        } else {
          tokens.emplace_back(ch);
        }
        break;
      case State::Word:
        if (is_shlex_space(first)) {
          tokens.push_back(std::move(token));
          token.clear();
          state = State::Idle;
        } else if (first == '#') {
          // supervisord compat: in non-POSIX mode a comment does not end the word, so the next
          // line continues it ("A=x#y\nB=2" reads as A, =, xB, =, 2).
          pos = skip_comment(pos);
        } else if ((ch.size() == 1 && is_environment_word_char(first)) || is_quote(first)) {
          // A quote inside a word does not start a quoted part: x"y z" is x"y and z".
          token.append(ch);
        } else {
          // Any other character ends the word and is a token of its own ("$HOME" is $, HOME).
          tokens.push_back(std::move(token));
          token.clear();
          tokens.emplace_back(ch);
          state = State::Idle;
        }
        break;
      case State::Quoted:
        token.append(ch);
        if (first == quote) {
          tokens.push_back(std::move(token));
          token.clear();
          state = State::Idle;
        }
        break;
    }
  }
  if (state == State::Quoted) {
    // supervisord compat: shlex's ValueError escapes dict_of_key_value_pairs unchanged.
    return fail("No closing quotation");
  }
  if (state == State::Word) {
    tokens.push_back(std::move(token));
  }
  return tokens;
}

/// Python's value.strip('\'"').
std::string_view strip_quotes(std::string_view s) {
  constexpr std::string_view kQuotes = "'\"";
  const auto first = s.find_first_not_of(kQuotes);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(kQuotes);
  return s.substr(first, last - first + 1);
}

// ---------------------------------------------------------------------------------------------
// Log levels

struct LogLevelEntry {
  LogLevel level;
  std::string_view word;
  std::string_view tag;
};

constexpr auto kLogLevels = std::to_array<LogLevelEntry>({
    {LogLevel::Critical, "critical", "CRIT"},
    {LogLevel::Error, "error", "ERRO"},
    {LogLevel::Warn, "warn", "WARN"},
    {LogLevel::Info, "info", "INFO"},
    {LogLevel::Debug, "debug", "DEBG"},
    {LogLevel::Trace, "trace", "TRAC"},
    {LogLevel::Blather, "blather", "BLAT"},
});

const LogLevelEntry& log_level_entry(LogLevel level) {
  for (const auto& entry : kLogLevels) {
    if (entry.level == level) {
      return entry;
    }
  }
  // Only reachable through a cast of an out-of-range number; report it as the default level.
  return kLogLevels[3];
}

}  // namespace

Result<std::int64_t> parse_integer(std::string_view value) {
  // Values beyond int64 (which Python would accept) get the same message as non-numbers.
  if (const auto number = py_int(value)) {
    return *number;
  }
  return fail(int_literal_error(value));
}

Result<bool> parse_boolean(std::string_view value) {
  if (const auto result = boolean_word(ascii_lower(value))) {
    return *result;
  }
  return fail("not a valid boolean value: " + py_repr(value));
}

Result<std::int64_t> parse_byte_size(std::string_view value) {
  struct Suffix {
    std::string_view text;
    std::int64_t multiplier;
  };
  constexpr auto kSuffixes = std::to_array<Suffix>({
      {"kb", std::int64_t{1} << 10},
      {"mb", std::int64_t{1} << 20},
      {"gb", std::int64_t{1} << 30},
  });
  // supervisord compat: the whole value is lower-cased first, so errors show it lower-cased.
  const std::string lowered = ascii_lower(value);
  std::string_view number_text = lowered;
  std::int64_t multiplier = 1;
  for (const auto& suffix : kSuffixes) {
    if (number_text.ends_with(suffix.text)) {
      number_text.remove_suffix(suffix.text.size());
      multiplier = suffix.multiplier;
      break;
    }
  }
  // supervisord compat: the sign is not checked, so "-1MB" is -1048576.
  const std::optional<std::int64_t> number = py_int(number_text);
  if (!number || *number > std::numeric_limits<std::int64_t>::max() / multiplier ||
      *number < std::numeric_limits<std::int64_t>::min() / multiplier) {
    return fail(int_literal_error(number_text));
  }
  return *number * multiplier;
}

Result<int> parse_signal(std::string_view value) {
  const auto number_error = [value] {
    return fail("value " + py_repr(value) + " is not a valid signal number");
  };
  // int() is tried first, so " 15 ", "+9" and "1_5" are numbers.
  if (const auto number = py_int(value)) {
    if (!is_known_signal_number(*number)) {
      return number_error();
    }
    return static_cast<int>(*number);
  }
  if (scan_int_literal(value, 10)) {
    return number_error();  // an integer too large for int64
  }
  const std::string upper = ascii_upper(str_strip(value));
  std::string_view name = upper;
  if (name.starts_with("SIG")) {
    name.remove_prefix(3);
  }
  for (const auto& entry : kSignals) {
    if (entry.name == name) {
      return entry.number;
    }
  }
  return fail("value " + py_repr(value) + " is not a valid signal name");
}

std::string signal_name(int signo) {
  for (const auto& entry : kSignals) {
    if (entry.canonical && entry.number == signo) {
      return "SIG" + std::string(entry.name);
    }
  }
  return "signal " + std::to_string(signo);
}

Result<std::vector<int>> parse_exit_codes(std::string_view value) {
  constexpr std::int64_t kMaxExitCode = 255;
  std::vector<int> codes;
  // supervisord compat: only the empty string is an empty list; " " is an error.
  if (value.empty()) {
    return codes;
  }
  std::string_view rest = value;
  while (true) {
    const auto comma = rest.find(',');
    const std::optional<std::int64_t> code = py_int(rest.substr(0, comma));
    if (!code || *code < 0 || *code > kMaxExitCode) {
      return fail("not a valid list of exit codes: " + py_repr(value));
    }
    codes.push_back(static_cast<int>(*code));
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return codes;
}

Result<std::int64_t> parse_octal(std::string_view value) {
  constexpr int kBase = 8;
  // supervisord compat: int(v, 8) takes a sign, so "-1" is accepted as -1.
  if (const auto literal = scan_int_literal(value, kBase)) {
    if (const auto number = literal_value(*literal, kBase)) {
      return *number;
    }
  }
  return fail(std::string(value) + " can not be converted to an octal type");
}

Result<std::string> parse_process_name(std::string_view value) {
  const std::string_view name = str_strip(value);
  // Checked in this order, so "a:b c" reports the space. These characters would break the
  // event listener protocol and the web UI's URLs.
  for (const std::string_view bad : {" ", ":", "/"}) {
    if (name.find(bad) != std::string_view::npos) {
      // supervisord compat: the message quotes the value before stripping.
      return fail("Invalid name: " + py_repr(value) + " because of character: " + py_repr(bad));
    }
  }
  return std::string(name);
}

Result<LogLevel> parse_log_level(std::string_view value) {
  // supervisord compat: no stripping, and "warning" is not a level name.
  const std::string lowered = ascii_lower(value);
  for (const auto& entry : kLogLevels) {
    if (entry.word == lowered) {
      return entry.level;
    }
  }
  return fail("bad logging level name " + py_repr(value));
}

std::string_view log_level_word(LogLevel level) { return log_level_entry(level).word; }

std::string_view log_level_tag(LogLevel level) { return log_level_entry(level).tag; }

Result<AutoRestart> parse_autorestart(std::string_view value) {
  const std::string lowered = ascii_lower(value);
  if (lowered == "unexpected") {
    return AutoRestart::Unexpected;
  }
  if (const auto word = boolean_word(lowered)) {
    return *word ? AutoRestart::Always : AutoRestart::Never;
  }
  // supervisord compat: unlike the boolean error, this one shows the lower-cased value.
  return fail("invalid 'autorestart' value " + py_repr(lowered));
}

std::string_view autorestart_word(AutoRestart value) {
  switch (value) {
    case AutoRestart::Never:
      return "false";
    case AutoRestart::Always:
      return "true";
    case AutoRestart::Unexpected:
      return "unexpected";
  }
  return "unexpected";
}

Result<InetAddress> parse_inet_address(std::string_view value) {
  InetAddress address;
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos) {
    auto port = parse_port_number(value);
    if (!port) {
      // supervisord compat: the bare-port form replaces every error with this text, trailing
      // space included.
      return fail("not a valid port number: " + py_repr(value) + " ");
    }
    address.port = *port;
    return address;
  }
  const std::string_view port_text = value.substr(colon + 1);
  if (port_text.empty()) {
    // supervisord compat: the message quotes the (empty) port part, never the whole value.
    return fail("no port number specified in ''");
  }
  auto port = parse_port_number(port_text);
  if (!port) {
    return port.error();
  }
  address.port = *port;
  address.host = ascii_lower(value.substr(0, colon));
  if (address.host == "*") {
    address.host.clear();
  }
  return address;
}

Result<EnvironmentList> parse_environment(std::string_view value) {
  auto tokens = environment_tokens(value);
  if (!tokens) {
    return tokens.error();
  }
  EnvironmentList pairs;
  // supervisord compat: tokens are taken as KEY, '=', VALUE, then one more token that is
  // skipped unchecked as the separator, so any single token (';', '$', a stray word) works.
  for (std::size_t i = 0; i < tokens->size(); i += 4) {
    if (i + 3 > tokens->size() || (*tokens)[i + 1] != "=") {
      // supervisord compat: '%s' formatting, not a repr.
      return fail("Unexpected end of key/value pairs in value '" + std::string(value) + "'");
    }
    const std::string& key = (*tokens)[i];
    std::string entry_value(strip_quotes((*tokens)[i + 2]));
    // Like a Python dict: a repeated key keeps its first position and takes the last value.
    const auto existing = std::find_if(pairs.begin(), pairs.end(),
                                       [&key](const auto& pair) { return pair.first == key; });
    if (existing != pairs.end()) {
      existing->second = std::move(entry_value);
    } else {
      pairs.emplace_back(key, std::move(entry_value));
    }
  }
  return pairs;
}

Result<std::vector<std::string>> split_command(std::string_view command) {
  // POSIX shlex with whitespace_split and no comment characters (what shlex.split() uses).
  enum class State { Idle, Word, SingleQuoted, DoubleQuoted, Escaped };
  std::vector<std::string> words;
  std::string word;
  // A word that had quotes is kept even when empty: `a "" b` is three words.
  bool quoted = false;
  State state = State::Idle;
  State escaped_from = State::Word;
  for (const char ch : command) {
    switch (state) {
      case State::Idle:
      case State::Word:
        if (is_shlex_space(ch)) {
          if (state == State::Word) {
            words.push_back(std::move(word));
            word.clear();
            quoted = false;
          }
          state = State::Idle;
        } else if (ch == '\'') {
          quoted = true;
          state = State::SingleQuoted;
        } else if (ch == '"') {
          quoted = true;
          state = State::DoubleQuoted;
        } else if (ch == '\\') {
          escaped_from = State::Word;
          state = State::Escaped;
        } else {
          word.push_back(ch);
          state = State::Word;
        }
        break;
      case State::SingleQuoted:
        if (ch == '\'') {
          state = State::Word;
        } else {
          word.push_back(ch);
        }
        break;
      case State::DoubleQuoted:
        if (ch == '"') {
          state = State::Word;
        } else if (ch == '\\') {
          escaped_from = State::DoubleQuoted;
          state = State::Escaped;
        } else {
          word.push_back(ch);
        }
        break;
      case State::Escaped:
        // Inside double quotes only '\\' and '"' can be escaped; otherwise the backslash
        // stays. shlex knows no other escapes: "\$" keeps its backslash and "\<newline>"
        // is a newline character, unlike sh.
        if (escaped_from == State::DoubleQuoted && ch != '\\' && ch != '"') {
          word.push_back('\\');
        }
        word.push_back(ch);
        state = escaped_from;
        break;
    }
  }
  switch (state) {
    case State::Idle:
      break;
    case State::Word:
      if (!word.empty() || quoted) {
        words.push_back(std::move(word));
      }
      break;
    case State::SingleQuoted:
    case State::DoubleQuoted:
      return fail("No closing quotation");
    case State::Escaped:
      return fail("No escaped character");
  }
  return words;
}

LogTarget classify_log_target(std::string_view value) {
  const std::string lowered = ascii_lower(value);
  if (lowered == "none" || lowered == "off") {
    return LogTarget{LogTargetKind::None, {}};
  }
  if (lowered == "auto") {
    return LogTarget{LogTargetKind::Auto, {}};
  }
  if (lowered == "syslog") {
    return LogTarget{LogTargetKind::Syslog, {}};
  }
  return LogTarget{LogTargetKind::Path, std::string(value)};
}

void set_environment_value(EnvironmentList& env, const std::string& key, const std::string& value) {
  for (auto& [k, v] : env) {
    if (k == key) {
      v = value;
      return;
    }
  }
  env.emplace_back(key, value);
}

std::vector<std::string> split_comma_list(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = value.find(',');
    const auto item = py_strip(value.substr(0, comma));
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      return out;
    }
    value.remove_prefix(comma + 1);
  }
}

}  // namespace zagent
