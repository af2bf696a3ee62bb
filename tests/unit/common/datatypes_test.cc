// Expected values and messages come from calling supervisord 4.2.5's own converters
// (supervisor/datatypes.py, supervisor.options.signame, shlex) with the same inputs.
#include "common/datatypes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {
namespace {

/// The error message of a failed result, or a marker that makes the comparison fail clearly.
template <typename T>
std::string error_of(const Result<T>& result) {
  if (result.has_value()) {
    return "<no error>";
  }
  return result.error().message;
}

struct IntCase {
  std::string_view input;
  std::int64_t expected;
};

struct ErrorCase {
  std::string_view input;
  std::string_view message;
};

// ---------------------------------------------------------------------------------------------
// integer

TEST(DatatypesInteger, AcceptsPythonIntSyntax) {
  const std::vector<IntCase> cases = {
      {"0", 0},
      {"42", 42},
      {"-1", -1},
      {"+5", 5},
      {" 7 ", 7},
      {"\t3\n", 3},
      {"007", 7},
      {"1_000", 1000},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_integer(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesInteger, RejectsWithPythonMessage) {
  const std::vector<ErrorCase> cases = {
      {"abc", "invalid literal for int() with base 10: 'abc'"},
      {"", "invalid literal for int() with base 10: ''"},
      {"1.5", "invalid literal for int() with base 10: '1.5'"},
      {"0x10", "invalid literal for int() with base 10: '0x10'"},
      {"1__0", "invalid literal for int() with base 10: '1__0'"},
      {"_1", "invalid literal for int() with base 10: '_1'"},
      {"1_", "invalid literal for int() with base 10: '1_'"},
      {"- 1", "invalid literal for int() with base 10: '- 1'"},
      {" big ", "invalid literal for int() with base 10: ' big '"},
      {"it's", "invalid literal for int() with base 10: \"it's\""},
      {"a\nb", "invalid literal for int() with base 10: 'a\\nb'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_integer(c.input);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().message, c.message);
    EXPECT_EQ(result.error().code, ErrorCode::Invalid);
  }
}

TEST(DatatypesInteger, LongValueReprIsCutAfter200Characters) {
  // CPython formats the value with %.200R: 200 characters of the repr, no closing quote.
  const std::string value(300, 'x');
  EXPECT_EQ(error_of(parse_integer(value)),
            "invalid literal for int() with base 10: '" + std::string(199, 'x'));
}

TEST(DatatypesInteger, ReprCutCountsCharactersNotBytes) {
  std::string value;
  for (int i = 0; i < 250; ++i) {
    value += "\xc3\xa9";  // é
  }
  std::string expected = "invalid literal for int() with base 10: '";
  for (int i = 0; i < 199; ++i) {
    expected += "\xc3\xa9";
  }
  EXPECT_EQ(error_of(parse_integer(value)), expected);
}

TEST(DatatypesInteger, BeyondInt64IsRejected) {
  // Deliberate difference: Python has no limit; we cannot hold the value.
  EXPECT_EQ(error_of(parse_integer("9223372036854775808")),
            "invalid literal for int() with base 10: '9223372036854775808'");
}

// ---------------------------------------------------------------------------------------------
// boolean

TEST(DatatypesBoolean, AcceptsWordsInAnyCase) {
  const std::vector<std::pair<std::string_view, bool>> cases = {
      {"yes", true},  {"true", true},   {"on", true},  {"1", true},      {"YES", true},
      {"True", true}, {"oN", true},     {"no", false}, {"false", false}, {"off", false},
      {"0", false},   {"FALSE", false}, {"No", false}, {"OFF", false},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_boolean(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesBoolean, RejectsOtherWordsWithOriginalValue) {
  const std::vector<ErrorCase> cases = {
      {"maybe", "not a valid boolean value: 'maybe'"},
      {"Perhaps", "not a valid boolean value: 'Perhaps'"},
      {"y", "not a valid boolean value: 'y'"},
      {"", "not a valid boolean value: ''"},
      {" yes", "not a valid boolean value: ' yes'"},
      {"2", "not a valid boolean value: '2'"},
      {"it's", "not a valid boolean value: \"it's\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_boolean(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// byte size

TEST(DatatypesByteSize, AcceptsSuffixesAndPlainBytes) {
  const std::vector<IntCase> cases = {
      {"1024", 1024},
      {"0", 0},
      {"10KB", 10240},
      {"10kb", 10240},
      {"10Mb", 10485760},
      {"50MB", 52428800},
      {"1GB", 1073741824},
      {"10 mb", 10485760},
      {" 5 gb", 5368709120},
      {"1_0kb", 10240},
      {"+2kb", 2048},
      // supervisord compat: negative sizes are accepted.
      {"-1MB", -1048576},
      {"-5", -5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_byte_size(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesByteSize, ErrorsShowTheLowerCasedNumberPart) {
  const std::vector<ErrorCase> cases = {
      {"1.5MB", "invalid literal for int() with base 10: '1.5'"},
      {"10B", "invalid literal for int() with base 10: '10b'"},
      {"10XB", "invalid literal for int() with base 10: '10xb'"},
      {"BIG", "invalid literal for int() with base 10: 'big'"},
      {"KB", "invalid literal for int() with base 10: ''"},
      {"", "invalid literal for int() with base 10: ''"},
      {"10kB ", "invalid literal for int() with base 10: '10kb '"},
      {"10 k b", "invalid literal for int() with base 10: '10 k b'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_byte_size(c.input)), c.message);
  }
}

TEST(DatatypesByteSize, OverflowIsRejected) {
  // Deliberate difference: Python's result would not fit in int64.
  EXPECT_EQ(error_of(parse_byte_size("8589934592GB")),
            "invalid literal for int() with base 10: '8589934592'");
  const auto largest = parse_byte_size("8589934591GB");
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(*largest, INT64_C(8589934591) << 30);
}

// ---------------------------------------------------------------------------------------------
// signals

TEST(DatatypesSignal, AcceptsNamesWithOrWithoutSigInAnyCase) {
  const std::vector<IntCase> cases = {
      {"TERM", 15},   {"sigterm", 15}, {"SigTerm", 15}, {"SIGTERM", 15}, {" hup ", 1},
      {"term\n", 15}, {"\tterm", 15},  {"KILL", 9},     {"int", 2},      {"QUIT", 3},
      {"usr1", 10},   {"SIGUSR2", 12}, {"stkflt", 16},  {"pwr", 30},     {"sys", 31},
      {"winch", 28},  {"chld", 17},    {"abrt", 6},     {"io", 29},      {"\x1cterm", 15},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_signal(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesSignal, AcceptsAliases) {
  const std::vector<IntCase> cases = {
      {"IOT", 6},    {"sigiot", 6},    {"CLD", 17},   {"POLL", 29},
      {"RTMIN", 34}, {"SIGRTMIN", 34}, {"rtmax", 64}, {"SIGRTMAX", 64},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_signal(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesSignal, AcceptsSignalModuleConstantsAsSupervisordDoes) {
  // supervisord compat: getattr(signal, 'SIG' + name) also finds SIG_DFL and friends.
  const std::vector<IntCase> cases = {
      {"_DFL", 0}, {"SIG_IGN", 1}, {"_BLOCK", 0}, {"_unblock", 1}, {"SIG_SETMASK", 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_signal(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesSignal, AcceptsNumbersPythonKnows) {
  for (int n = 0; n <= 31; ++n) {
    SCOPED_TRACE(n);
    const auto result = parse_signal(std::to_string(n));
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, n);
  }
  const std::vector<IntCase> cases = {
      {"34", 34}, {"64", 64}, {" 15 ", 15}, {"+9", 9}, {"1_5", 15}, {"-0", 0}, {"009", 9},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_signal(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesSignal, RejectsNumbersPythonDoesNotName) {
  // supervisord compat: only numbers with a SIG* attribute count, so the real-time signals
  // between SIGRTMIN and SIGRTMAX are rejected.
  const std::vector<ErrorCase> cases = {
      {"99", "value '99' is not a valid signal number"},
      {"32", "value '32' is not a valid signal number"},
      {"33", "value '33' is not a valid signal number"},
      {"35", "value '35' is not a valid signal number"},
      {"63", "value '63' is not a valid signal number"},
      {"65", "value '65' is not a valid signal number"},
      {"-1", "value '-1' is not a valid signal number"},
      {" 99 ", "value ' 99 ' is not a valid signal number"},
      {"99999999999999999999", "value '99999999999999999999' is not a valid signal number"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_signal(c.input)), c.message);
  }
}

TEST(DatatypesSignal, RejectsUnknownNames) {
  const std::vector<ErrorCase> cases = {
      {"FOO", "value 'FOO' is not a valid signal name"},
      {"", "value '' is not a valid signal name"},
      {"SIG", "value 'SIG' is not a valid signal name"},
      {"sig", "value 'sig' is not a valid signal name"},
      {"SIGSIGTERM", "value 'SIGSIGTERM' is not a valid signal name"},
      {"TE RM", "value 'TE RM' is not a valid signal name"},
      {"RTMIN+1", "value 'RTMIN+1' is not a valid signal name"},
      {"9.0", "value '9.0' is not a valid signal name"},
      {"0x9", "value '0x9' is not a valid signal name"},
      {"DFL", "value 'DFL' is not a valid signal name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_signal(c.input)), c.message);
  }
}

TEST(DatatypesSignalName, NamesLikeSupervisordSigname) {
  const std::vector<std::pair<int, std::string_view>> cases = {
      {1, "SIGHUP"},
      {2, "SIGINT"},
      {3, "SIGQUIT"},
      {4, "SIGILL"},
      {5, "SIGTRAP"},
      {6, "SIGABRT"},
      {7, "SIGBUS"},
      {8, "SIGFPE"},
      {9, "SIGKILL"},
      {10, "SIGUSR1"},
      {11, "SIGSEGV"},
      {12, "SIGUSR2"},
      {13, "SIGPIPE"},
      {14, "SIGALRM"},
      {15, "SIGTERM"},
      {16, "SIGSTKFLT"},
      {17, "SIGCHLD"},
      {18, "SIGCONT"},
      {19, "SIGSTOP"},
      {20, "SIGTSTP"},
      {21, "SIGTTIN"},
      {22, "SIGTTOU"},
      {23, "SIGURG"},
      {24, "SIGXCPU"},
      {25, "SIGXFSZ"},
      {26, "SIGVTALRM"},
      {27, "SIGPROF"},
      {28, "SIGWINCH"},
      // supervisord compat: signame() prints the module's last name for 29.
      {29, "SIGPOLL"},
      {30, "SIGPWR"},
      {31, "SIGSYS"},
      {34, "SIGRTMIN"},
      {64, "SIGRTMAX"},
  };
  for (const auto& [number, name] : cases) {
    SCOPED_TRACE(number);
    EXPECT_EQ(signal_name(number), name);
  }
}

TEST(DatatypesSignalName, NumbersWithoutANameAreSpelledOut) {
  // SIG_DFL (0) is not a signal name to signame().
  EXPECT_EQ(signal_name(0), "signal 0");
  EXPECT_EQ(signal_name(32), "signal 32");
  EXPECT_EQ(signal_name(35), "signal 35");
  EXPECT_EQ(signal_name(63), "signal 63");
  EXPECT_EQ(signal_name(65), "signal 65");
  EXPECT_EQ(signal_name(-1), "signal -1");
}

TEST(DatatypesSignalName, EveryAcceptedNumberRoundTripsThroughItsName) {
  for (int n = 1; n <= 64; ++n) {
    const std::string name = signal_name(n);
    if (name.starts_with("signal ")) {
      continue;
    }
    SCOPED_TRACE(name);
    const auto result = parse_signal(name);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, n);
  }
}

// ---------------------------------------------------------------------------------------------
// exit codes

TEST(DatatypesExitCodes, AcceptsCommaLists) {
  const std::vector<std::pair<std::string_view, std::vector<int>>> cases = {
      {"", {}},          {"0", {0}},
      {"0,2", {0, 2}},   {"0, 2 ", {0, 2}},
      {" 1 ,2", {1, 2}}, {"255", {255}},
      {"+3", {3}},       {"1_0", {10}},
      {"2,2", {2, 2}},   {"0,2,3,4,5,255", {0, 2, 3, 4, 5, 255}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_exit_codes(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesExitCodes, SameMessageForRangeAndSyntaxErrors) {
  const std::vector<ErrorCase> cases = {
      {"0,256", "not a valid list of exit codes: '0,256'"},
      {"a,b", "not a valid list of exit codes: 'a,b'"},
      {"-1", "not a valid list of exit codes: '-1'"},
      {"0,", "not a valid list of exit codes: '0,'"},
      {"0,,1", "not a valid list of exit codes: '0,,1'"},
      {",", "not a valid list of exit codes: ','"},
      {" ", "not a valid list of exit codes: ' '"},
      {"0;2", "not a valid list of exit codes: '0;2'"},
      {"99999999999999999999999", "not a valid list of exit codes: '99999999999999999999999'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_exit_codes(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// octal

TEST(DatatypesOctal, AcceptsPythonBase8Literals) {
  const std::vector<IntCase> cases = {
      {"022", 18},
      {"0022", 18},
      {"0o22", 18},
      {"0O22", 18},
      {"777", 511},
      {"0", 0},
      {"00", 0},
      {"+7", 7},
      {" 07 ", 7},
      {"\t7\n", 7},
      {"0o_7", 7},
      {"0_7", 7},
      {"-0o7", -7},
      {"0O_1_2", 10},
      // supervisord compat: a sign is allowed, so -1 is an accepted umask.
      {"-1", -1},
      {"777777777777777777777", INT64_MAX},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const auto result = parse_octal(c.input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(DatatypesOctal, RejectsWithRawValueInMessage) {
  const std::vector<ErrorCase> cases = {
      {"089", "089 can not be converted to an octal type"},
      {"8", "8 can not be converted to an octal type"},
      {"", " can not be converted to an octal type"},
      {"0o", "0o can not be converted to an octal type"},
      {"_07", "_07 can not be converted to an octal type"},
      {"07_", "07_ can not be converted to an octal type"},
      {"0__7", "0__7 can not be converted to an octal type"},
      {"0x7", "0x7 can not be converted to an octal type"},
      {"0b1", "0b1 can not be converted to an octal type"},
      {"o7", "o7 can not be converted to an octal type"},
      {"- 7", "- 7 can not be converted to an octal type"},
      {"0o-7", "0o-7 can not be converted to an octal type"},
      {"1.0", "1.0 can not be converted to an octal type"},
      {"it's", "it's can not be converted to an octal type"},
      // Deliberate difference: beyond int64.
      {"1000000000000000000000", "1000000000000000000000 can not be converted to an octal type"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_octal(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// process and group names

TEST(DatatypesProcessName, StripsSurroundingWhitespace) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"foo", "foo"},         {" a ", "a"},     {"\tfoo\n", "foo"},
      {"\x1cweb\x1f", "web"}, {"", ""},         {"   ", ""},
      {"it's", "it's"},       {"a\tb", "a\tb"}, {"web_%(process_num)02d", "web_%(process_num)02d"},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_process_name(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesProcessName, RejectsSpaceColonAndSlash) {
  const std::vector<ErrorCase> cases = {
      {"a b", "Invalid name: 'a b' because of character: ' '"},
      {"a:b", "Invalid name: 'a:b' because of character: ':'"},
      {"a/b", "Invalid name: 'a/b' because of character: '/'"},
      // The unstripped value is quoted.
      {" a b ", "Invalid name: ' a b ' because of character: ' '"},
      // Checked in the order space, colon, slash.
      {"a:b c", "Invalid name: 'a:b c' because of character: ' '"},
      {"a/b:c", "Invalid name: 'a/b:c' because of character: ':'"},
      {"it's x", "Invalid name: \"it's x\" because of character: ' '"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_process_name(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// log levels

TEST(DatatypesLogLevel, AcceptsTheSevenWordsInAnyCase) {
  const std::vector<std::pair<std::string_view, LogLevel>> cases = {
      {"critical", LogLevel::Critical}, {"error", LogLevel::Error}, {"warn", LogLevel::Warn},
      {"info", LogLevel::Info},         {"debug", LogLevel::Debug}, {"trace", LogLevel::Trace},
      {"blather", LogLevel::Blather},   {"INFO", LogLevel::Info},   {"Warn", LogLevel::Warn},
      {"CRITICAL", LogLevel::Critical},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_log_level(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesLogLevel, RejectsOtherNamesWithOriginalValue) {
  const std::vector<ErrorCase> cases = {
      {"loud", "bad logging level name 'loud'"},
      // supervisord compat: "warning" is not a level name.
      {"warning", "bad logging level name 'warning'"},
      {"LOUD", "bad logging level name 'LOUD'"},
      {"", "bad logging level name ''"},
      {" info", "bad logging level name ' info'"},
      {"crit", "bad logging level name 'crit'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_log_level(c.input)), c.message);
  }
}

TEST(DatatypesLogLevel, WordsAndTags) {
  struct Row {
    LogLevel level;
    int number;
    std::string_view word;
    std::string_view tag;
  };
  const std::vector<Row> rows = {
      {LogLevel::Critical, 50, "critical", "CRIT"}, {LogLevel::Error, 40, "error", "ERRO"},
      {LogLevel::Warn, 30, "warn", "WARN"},         {LogLevel::Info, 20, "info", "INFO"},
      {LogLevel::Debug, 10, "debug", "DEBG"},       {LogLevel::Trace, 5, "trace", "TRAC"},
      {LogLevel::Blather, 3, "blather", "BLAT"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.word);
    EXPECT_EQ(static_cast<int>(row.level), row.number);
    EXPECT_EQ(log_level_word(row.level), row.word);
    EXPECT_EQ(log_level_tag(row.level), row.tag);
    const auto parsed = parse_log_level(log_level_word(row.level));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, row.level);
  }
}

// ---------------------------------------------------------------------------------------------
// autorestart

TEST(DatatypesAutoRestart, AcceptsUnexpectedAndBooleanWords) {
  const std::vector<std::pair<std::string_view, AutoRestart>> cases = {
      {"unexpected", AutoRestart::Unexpected},
      {"UNEXPECTED", AutoRestart::Unexpected},
      {"true", AutoRestart::Always},
      {"yes", AutoRestart::Always},
      {"on", AutoRestart::Always},
      {"1", AutoRestart::Always},
      {"TRUE", AutoRestart::Always},
      {"false", AutoRestart::Never},
      {"no", AutoRestart::Never},
      {"off", AutoRestart::Never},
      {"0", AutoRestart::Never},
      {"False", AutoRestart::Never},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_autorestart(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesAutoRestart, ErrorShowsLowerCasedValue) {
  const std::vector<ErrorCase> cases = {
      {"sometimes", "invalid 'autorestart' value 'sometimes'"},
      {"SomeTimes", "invalid 'autorestart' value 'sometimes'"},
      {"", "invalid 'autorestart' value ''"},
      {" true", "invalid 'autorestart' value ' true'"},
      {"It's", "invalid 'autorestart' value \"it's\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_autorestart(c.input)), c.message);
  }
}

TEST(DatatypesAutoRestart, Words) {
  EXPECT_EQ(autorestart_word(AutoRestart::Never), "false");
  EXPECT_EQ(autorestart_word(AutoRestart::Always), "true");
  EXPECT_EQ(autorestart_word(AutoRestart::Unexpected), "unexpected");
  for (const auto value : {AutoRestart::Never, AutoRestart::Always, AutoRestart::Unexpected}) {
    const auto parsed = parse_autorestart(autorestart_word(value));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, value);
  }
}

// ---------------------------------------------------------------------------------------------
// inet address

TEST(DatatypesInetAddress, AcceptsHostAndPort) {
  const std::vector<std::pair<std::string_view, InetAddress>> cases = {
      {"9001", {"", 9001}},
      {" 80 ", {"", 80}},
      {"65535", {"", 65535}},
      {"127.0.0.1:9001", {"127.0.0.1", 9001}},
      {"LocalHost:80", {"localhost", 80}},
      {"*:9001", {"", 9001}},
      {":9001", {"", 9001}},
      {"a:b:80", {"a:b", 80}},
      {"[::1]:80", {"[::1]", 80}},
      {"host: 80", {"host", 80}},
      {"host:1_0", {"host", 10}},
      {"HOST:00080", {"host", 80}},
      {"host:1", {"host", 1}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_inet_address(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesInetAddress, BarePortErrorsAreAllTheSameWithTrailingSpace) {
  const std::vector<ErrorCase> cases = {
      {"abc", "not a valid port number: 'abc' "},
      {"", "not a valid port number: '' "},
      {"0", "not a valid port number: '0' "},
      {"65536", "not a valid port number: '65536' "},
      {"99999", "not a valid port number: '99999' "},
      {"-5", "not a valid port number: '-5' "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_inet_address(c.input)), c.message);
  }
}

TEST(DatatypesInetAddress, HostPortErrorsComeFromTheConversion) {
  const std::vector<ErrorCase> cases = {
      {"host:", "no port number specified in ''"},
      {"*:", "no port number specified in ''"},
      {":", "no port number specified in ''"},
      {"host:abc", "invalid literal for int() with base 10: 'abc'"},
      {"host:0", "0 is below lower bound (1)"},
      {"host:-0", "0 is below lower bound (1)"},
      {"host:-5", "-5 is below lower bound (1)"},
      {"host:65536", "65536 is above upper bound (65535)"},
      {"host:99999", "99999 is above upper bound (65535)"},
      {"host:099999", "99999 is above upper bound (65535)"},
      // Python prints the int's repr even when it does not fit in 64 bits.
      {"host:99999999999999999999", "99999999999999999999 is above upper bound (65535)"},
      {"host:-0099999999999999999999", "-99999999999999999999 is below lower bound (1)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(parse_inet_address(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// environment

TEST(DatatypesEnvironment, ParsesPairs) {
  const std::vector<std::pair<std::string_view, EnvironmentList>> cases = {
      {"", {}},
      {"  ", {}},
      {"A=1,B=2", {{"A", "1"}, {"B", "2"}}},
      {"A = 1 , B = 2", {{"A", "1"}, {"B", "2"}}},
      {"A=\"x,y\"", {{"A", "x,y"}}},
      {"A='q'", {{"A", "q"}}},
      {"A=\"a b\",B=c", {{"A", "a b"}, {"B", "c"}}},
      {"A=\"it's\"", {{"A", "it's"}}},
      {"A=\"\"", {{"A", ""}}},
      {"A=\"'x'\"", {{"A", "x"}}},
      {"A=/usr/bin:/bin", {{"A", "/usr/bin:/bin"}}},
      {"A=(x)+-.", {{"A", "(x)+-."}}},
      {"1A=2,A.B=3", {{"1A", "2"}, {"A.B", "3"}}},
      // A trailing separator is just one more skipped token.
      {"A=1,B=2,", {{"A", "1"}, {"B", "2"}}},
      {"A=1 , ", {{"A", "1"}}},
      {"A=1\r,\tB=2\n", {{"A", "1"}, {"B", "2"}}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_environment(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesEnvironment, RepeatedKeyKeepsFirstPositionAndLastValue) {
  const auto result = parse_environment("A=1,A=2,B=3,A=4");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const EnvironmentList expected = {{"A", "4"}, {"B", "3"}};
  EXPECT_EQ(*result, expected);
}

TEST(DatatypesEnvironment, ShlexQuirks) {
  const std::vector<std::pair<std::string_view, EnvironmentList>> cases = {
      // Only the ends of a value lose their quotes.
      {"A=x\"y\"", {{"A", "x\"y"}}},
      {"A=a\"b\"c", {{"A", "a\"b\"c"}}},
      // '$' is a token of its own; HOME is swallowed as the separator.
      {"A=$HOME", {{"A", "$"}}},
      // '#' starts a comment.
      {"A=x#y", {{"A", "x"}}},
      {"A=1#", {{"A", "1"}}},
      {"A=1,#c", {{"A", "1"}}},
      {"#c", {}},
      {"A=x\n#c\n,B=2", {{"A", "x"}, {"B", "2"}}},
      // '%' (from %% in the config) is a token that gets swallowed.
      {"A=100%", {{"A", "100"}}},
      // The separator is never checked.
      {"A=1;B=2", {{"A", "1"}, {"B", "2"}}},
      {"A=1,B=2 3", {{"A", "1"}, {"B", "2"}}},
      {"A==1", {{"A", "="}}},
      // A quote inside a word does not group: the value ends at the space.
      {"A=x\"y z\"", {{"A", "x\"y"}}},
      {"A=\"x\"y\"", {{"A", "x"}}},
      // Backslashes are not escapes in non-POSIX mode.
      {"A=\"a\\\"b\"", {{"A", "a\\"}}},
      // A non-ASCII character is one punctuation token, as in Python.
      {"A=\xc3\xa9,B=2", {{"A", "\xc3\xa9"}, {"B", "2"}}},
      {"\xc3\xa9=1", {{"\xc3\xa9", "1"}}},
      {"A=\xe2\x82\xac,B=2", {{"A", "\xe2\x82\xac"}, {"B", "2"}}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_environment(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesEnvironment, RejectsMisalignedTokens) {
  const std::vector<std::string_view> cases = {
      "A=x y,B=2",
      "A=1,B",
      "A=",
      "A=a=b",
      "A=1,,B=2",
      "=",
      "A=1 B=2",
      "A=1,B=2,C",
      "A=a\\b",
      // The comment swallows the newline, so the word goes on: A, =, xB, =, 2.
      "A=x#y\nB=2",
  };
  for (const auto input : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(error_of(parse_environment(input)),
              "Unexpected end of key/value pairs in value '" + std::string(input) + "'");
  }
}

TEST(DatatypesEnvironment, MessageQuotesTheValueWithoutRepr) {
  EXPECT_EQ(error_of(parse_environment("A='x',B")),
            "Unexpected end of key/value pairs in value 'A='x',B'");
}

TEST(DatatypesEnvironment, UnclosedQuoteIsShlexError) {
  // supervisord compat: shlex's own ValueError reaches the user unchanged.
  EXPECT_EQ(error_of(parse_environment("A=\"x")), "No closing quotation");
  EXPECT_EQ(error_of(parse_environment("A='x")), "No closing quotation");
  EXPECT_EQ(error_of(parse_environment("A=''\"x\"'")), "No closing quotation");
}

// ---------------------------------------------------------------------------------------------
// split_command

TEST(DatatypesSplitCommand, SplitsLikePosixShlex) {
  const std::vector<std::pair<std::string_view, std::vector<std::string>>> cases = {
      {"", {}},
      {"   ", {}},
      {"a b", {"a", "b"}},
      {"  a   b  ", {"a", "b"}},
      {"a\tb\nc\rd", {"a", "b", "c", "d"}},
      // \v and \f are not shlex whitespace.
      {"a\vb\fc", {"a\vb\fc"}},
      {"/bin/echo \"a  b\" c\\ d", {"/bin/echo", "a  b", "c d"}},
      {"sh -c \"echo hi; exit 3\"", {"sh", "-c", "echo hi; exit 3"}},
      {"a'b'c", {"abc"}},
      {"a\"b c\"d", {"ab cd"}},
      {"'it'\\''s'", {"it's"}},
      // Empty quotes make an empty word, but not when joined to other text.
      {"\"\"", {""}},
      {"''", {""}},
      {"a \"\" b", {"a", "", "b"}},
      {"\"\" \"\"", {"", ""}},
      {"x\"\"", {"x"}},
      {"\"\"x", {"x"}},
      // '#' is not a comment.
      {"a#b", {"a#b"}},
      {"#x", {"#x"}},
      {"\xc3\xa9 \xc3\xbc", {"\xc3\xa9", "\xc3\xbc"}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = split_command(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesSplitCommand, Backslashes) {
  const std::vector<std::pair<std::string_view, std::vector<std::string>>> cases = {
      {"a\\ b", {"a b"}},
      {"\\\\", {"\\"}},
      {"\\\"", {"\""}},
      {"\"a\\\"b\"", {"a\"b"}},
      {"\"\\\\\"", {"\\"}},
      // Inside double quotes only \\ and \" are escapes.
      {"\"a\\b\"", {"a\\b"}},
      {"\"\\$x\"", {"\\$x"}},
      // Single quotes take backslashes literally.
      {"'a\\b'", {"a\\b"}},
      {"'a\\'", {"a\\"}},
      // An escaped newline is a newline character, unlike sh.
      {"a\\\nb", {"a\nb"}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = split_command(input);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, expected);
  }
}

TEST(DatatypesSplitCommand, Errors) {
  const std::vector<ErrorCase> cases = {
      {"sh -c \"unterminated", "No closing quotation"},
      {"'a", "No closing quotation"},
      {"\"a", "No closing quotation"},
      {"\"'\"'", "No closing quotation"},
      {"a\\", "No escaped character"},
      {"\\", "No escaped character"},
      {"\"a\\", "No escaped character"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of(split_command(c.input)), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// log targets

TEST(DatatypesLogTarget, ClassifiesSpecialWordsInAnyCase) {
  const std::vector<std::pair<std::string_view, LogTargetKind>> cases = {
      {"NONE", LogTargetKind::None},     {"none", LogTargetKind::None},
      {"Off", LogTargetKind::None},      {"OFF", LogTargetKind::None},
      {"AUTO", LogTargetKind::Auto},     {"auto", LogTargetKind::Auto},
      {"Auto", LogTargetKind::Auto},     {"syslog", LogTargetKind::Syslog},
      {"SYSLOG", LogTargetKind::Syslog},
  };
  for (const auto& [input, kind] : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(classify_log_target(input), (LogTarget{kind, ""}));
  }
}

TEST(DatatypesLogTarget, EverythingElseIsAPathKeptAsWritten) {
  for (const std::string_view path :
       {"/tmp/x.log", "x.log", "~/a.log", "Logs/NONE", " none", "None ", ""}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(classify_log_target(path), (LogTarget{LogTargetKind::Path, std::string(path)}));
  }
}

}  // namespace
namespace {

TEST(DatatypesLists, SplitCommaListStripsAndDropsEmptyItems) {
  EXPECT_EQ(split_comma_list(" a , b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_comma_list(""), std::vector<std::string>{});
  EXPECT_EQ(split_comma_list("solo"), std::vector<std::string>{"solo"});
}

TEST(DatatypesLists, SetEnvironmentValueReplacesInPlaceOrAppends) {
  EnvironmentList env = {{"A", "1"}, {"B", "2"}};
  set_environment_value(env, "A", "9");
  set_environment_value(env, "C", "3");
  EXPECT_EQ(env, (EnvironmentList{{"A", "9"}, {"B", "2"}, {"C", "3"}}));
}

}  // namespace
}  // namespace zagent
