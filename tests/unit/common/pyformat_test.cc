// Expected texts come from Python 3.11's `fmt % mapping` with the same names, and from
// supervisord 4.2.5's options.expand() (spec/config.md §3).
#include "common/pyformat.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {
namespace {

const FormatNames& sample_names() {
  static const FormatNames names = {
      {"a", std::int64_t{3}},
      {"z", std::int64_t{0}},
      {"n", std::int64_t{-31}},
      {"big", INT64_MAX},
      {"neg", INT64_MIN},
      {"cp", std::int64_t{0xe9}},
      {"s", std::string("h\xc3\xa9")},
      {"q", std::string("it's")},
      {"c", std::string("\xc3\xa9")},
      {"x", std::string("A")},
      {"e", std::string()},
      {"path", std::string("/etc/sv")},
      {"(p)", std::string("paren")},
  };
  return names;
}

/// "ok:<text>", or "<kind>:<detail>" for an error, so that a mismatch shows both.
std::string outcome(std::string_view format) {
  const auto result = py_format(format, sample_names());
  if (result.has_value()) {
    return "ok:" + *result;
  }
  const FormatError& error = result.error();
  return std::string(error.kind == FormatError::Kind::MissingName ? "missing:" : "bad:") +
         error.detail;
}

std::string expand_error(const Result<std::string>& result) {
  if (result.has_value()) {
    return "<no error>: " + *result;
  }
  return result.error().message;
}

struct FormatCase {
  std::string_view format;
  std::string_view expected;
};

struct ErrorCase {
  std::string_view format;
  FormatError::Kind kind;
  std::string_view detail;
};

TEST(PyFormat, FormatsLikePython) {
  const std::vector<FormatCase> cases = {
      {"plain text", "plain text"},
      {"", ""},
      {"100%%", "100%"},
      {"%% %(a)s %%", "% 3 %"},
      {"%(s)s", "h\xc3\xa9"},
      {"%(a)s", "3"},
      {"%(neg)s", "-9223372036854775808"},
      {"%(path)s/log", "/etc/sv/log"},
      {"%(s)r", "'h\xc3\xa9'"},
      {"%(q)r", "\"it's\""},
      {"%(a)r", "3"},
      {"%(s)a", "'h\\xe9'"},
      {"%(a)a", "3"},
      {"%(s)5s|", "   h\xc3\xa9|"},
      {"%(s)-5s|", "h\xc3\xa9   |"},
      {"%(s)05s|", "   h\xc3\xa9|"},
      {"%(s).1s", "h"},
      {"%(s).0s|", "|"},
      {"%(s)5.1s|", "    h|"},
      {"%(q).3r", "\"it"},
      {"%(a)+s", "3"},
      {"%(a)d", "3"},
      {"%(a)i", "3"},
      {"%(a)u", "3"},
      {"%(n)d", "-31"},
      {"%(big)d", "9223372036854775807"},
      {"%(neg)d", "-9223372036854775808"},
      {"%(a)05d", "00003"},
      {"%(n)05d", "-0031"},
      {"%(a)-5d|", "3    |"},
      {"%(a)0-5d|", "3    |"},
      {"%(a)+d", "+3"},
      {"%(a) d", " 3"},
      {"%(a)+ d", "+3"},
      {"%(z)+d", "+0"},
      {"%(a).3d", "003"},
      {"%(z).0d", "0"},
      {"%(n)05.3d", "-0031"},
      {"%(n)-8.3d|", "-031    |"},
      {"%(a)#d", "3"},
      {"%(a)ld", "3"},
      {"%(a)hd", "3"},
      {"%(a)Li", "3"},
      {"%(n)o", "-37"},
      {"%(n)#o", "-0o37"},
      {"%(z)#o", "0o0"},
      {"%(a)#.3o", "0o003"},
      {"%(n)x", "-1f"},
      {"%(n)X", "-1F"},
      {"%(n)#x", "-0x1f"},
      {"%(n)#X", "-0X1F"},
      {"%(n)#010x", "-0x000001f"},
      {"%(a)0#8o|", "0o000003|"},
      {"%(a)-#8o|", "0o3     |"},
      {"%(neg)x", "-8000000000000000"},
      {"%(big)#x", "0x7fffffffffffffff"},
      {"%(a)e", "3.000000e+00"},
      {"%(a)E", "3.000000E+00"},
      {"%(n)f", "-31.000000"},
      {"%(a)F", "3.000000"},
      {"%(a)g", "3"},
      {"%(a)G", "3"},
      {"%(big)e", "9.223372e+18"},
      {"%(big)f", "9223372036854775808.000000"},
      {"%(big)g", "9.22337e+18"},
      {"%(big).17e", "9.22337203685477581e+18"},
      {"%(a).0f", "3"},
      {"%(a)#.0f", "3."},
      {"%(a)#.0e", "3.e+00"},
      {"%(a)#g", "3.00000"},
      {"%(a)+.2e", "+3.00e+00"},
      {"%(n)08.2f", "-0031.00"},
      {"%(a) 08.1f", " 00003.0"},
      {"%(a)-10.2f|", "3.00      |"},
      {"%(a).30f", "3.000000000000000000000000000000"},
      {"%(cp)c", "\xc3\xa9"},
      {"%(c)c", "\xc3\xa9"},
      {"%(x)5c|", "    A|"},
      {"%(x)-3c|", "A  |"},
      {"%(a)05c|", "    \x03|"},
      {"%((p))s", "paren"},
      {"%(a)s-%(s)s-%(a)03d", "3-h\xc3\xa9-003"},
      {"\xc3\xa9=%(a)d", "\xc3\xa9=3"},
  };
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.format);
    EXPECT_EQ(outcome(c.format), "ok:" + std::string(c.expected));
  }
}

TEST(PyFormat, FailsLikePython) {
  const std::vector<ErrorCase> cases = {
      {"%(foo)s", FormatError::Kind::MissingName, "foo"},
      {"%(foo)", FormatError::Kind::MissingName, "foo"},
      {"%(foo)b", FormatError::Kind::MissingName, "foo"},
      {"%()s", FormatError::Kind::MissingName, ""},
      {"%(a)s %(foo)s %(bar)s", FormatError::Kind::MissingName, "foo"},
      {"x %(a", FormatError::Kind::BadFormat, "incomplete format key"},
      {"%(a(b)s", FormatError::Kind::BadFormat, "incomplete format key"},
      {"%(a)", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)5", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)5.", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)-", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)l", FormatError::Kind::BadFormat, "incomplete format"},
      {"%", FormatError::Kind::BadFormat, "incomplete format"},
      {"abc%", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)s%", FormatError::Kind::BadFormat, "incomplete format"},
      {"%(a)b", FormatError::Kind::BadFormat, "unsupported format character 'b' (0x62) at index 4"},
      {"%(a)%", FormatError::Kind::BadFormat, "unsupported format character '%' (0x25) at index 4"},
      {"%(a)5%", FormatError::Kind::BadFormat,
       "unsupported format character '%' (0x25) at index 5"},
      {"%(a)lld", FormatError::Kind::BadFormat,
       "unsupported format character 'l' (0x6c) at index 5"},
      {"%(a)\x1f", FormatError::Kind::BadFormat,
       "unsupported format character '\x1f' (0x1f) at index 4"},
      {"%(a)\x01", FormatError::Kind::BadFormat,
       "unsupported format character '?' (0x1) at index 4"},
      {"%(a)\xc3\xa9", FormatError::Kind::BadFormat,
       "unsupported format character '?' (0xe9) at index 4"},
      {"\xc3\xa9%(a)z", FormatError::Kind::BadFormat,
       "unsupported format character 'z' (0x7a) at index 5"},
      {"%(a)'d", FormatError::Kind::BadFormat,
       "unsupported format character ''' (0x27) at index 4"},
      {"%(a)z%(foo)s", FormatError::Kind::BadFormat,
       "unsupported format character 'z' (0x7a) at index 4"},
      {"%(s)d", FormatError::Kind::BadFormat, "%d format: a real number is required, not str"},
      {"%(s)i", FormatError::Kind::BadFormat, "%i format: a real number is required, not str"},
      {"%(s)u", FormatError::Kind::BadFormat, "%u format: a real number is required, not str"},
      {"%(s)o", FormatError::Kind::BadFormat, "%o format: an integer is required, not str"},
      {"%(s)x", FormatError::Kind::BadFormat, "%x format: an integer is required, not str"},
      {"%(s)X", FormatError::Kind::BadFormat, "%X format: an integer is required, not str"},
      {"%(s)e", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)E", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)f", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)F", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)g", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)G", FormatError::Kind::BadFormat, "must be real number, not str"},
      {"%(s)c", FormatError::Kind::BadFormat, "%c requires int or char"},
      {"%(e)c", FormatError::Kind::BadFormat, "%c requires int or char"},
      {"%(neg)c", FormatError::Kind::BadFormat, "%c arg not in range(0x110000)"},
      {"%(big)c", FormatError::Kind::BadFormat, "%c arg not in range(0x110000)"},
      {"%(a)*d", FormatError::Kind::BadFormat, "not enough arguments for format string"},
      {"%(a).*d", FormatError::Kind::BadFormat, "not enough arguments for format string"},
      {"%(s)*d", FormatError::Kind::BadFormat, "* wants int"},
      {"%(big).*d", FormatError::Kind::BadFormat, "Python int too large to convert to C int"},
      {"%(a)999999999999999999999d", FormatError::Kind::BadFormat, "width too big"},
      {"%(a).99999999999d", FormatError::Kind::BadFormat, "precision too big"},
      {"%(s)d%(foo)s", FormatError::Kind::BadFormat,
       "%d format: a real number is required, not str"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.format);
    const std::string prefix = c.kind == FormatError::Kind::MissingName ? "missing:" : "bad:";
    EXPECT_EQ(outcome(c.format), prefix + std::string(c.detail));
  }
}

TEST(PyFormat, ConversionWithoutKeyNeedsMapping) {
  // Documented difference: Python would format the whole dict here ("%s" gives its repr).
  for (const std::string_view format : {"%s", "sleep %d", "%s %(a)s", "%5.2r", "%*s", "%.*s"}) {
    SCOPED_TRACE(format);
    EXPECT_EQ(outcome(format), "bad:format requires a mapping");
  }
  // Errors Python raises before it takes the mapping keep their texts; after a keyed
  // conversion the looked-up value is the only argument left.
  EXPECT_EQ(outcome("%(a)s %s"), "bad:not enough arguments for format string");
  EXPECT_EQ(outcome("%5"), "bad:incomplete format");
  EXPECT_EQ(outcome("%b"), "bad:unsupported format character 'b' (0x62) at index 1");
}

TEST(PyFormat, AsciiEscapesNonAsciiCharacters) {
  const FormatNames names = {
      {"v", std::string("\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\x8b\"'\n")},
      {"raw", std::string("a\xff")},
  };
  const auto value = py_format("%(v)a", names);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "'\\xe9\\U0001f600\\u200b\"\\'\\n'");
  // A byte that is not UTF-8 shows as Python's surrogateescape character.
  const auto raw = py_format("%(raw)a", names);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(*raw, "'a\\udcff'");
}

TEST(PyFormat, WidthsCountCharactersNotBytes) {
  const FormatNames names = {{"v", std::string("\xc3\xa9\xc3\xa9")}};
  const auto value = py_format("[%(v)4s][%(v)-3.1s]", names);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "[  \xc3\xa9\xc3\xa9][\xc3\xa9  ]");
}

TEST(PyFormat, RefusesHugePadding) {
  // Documented difference: Python would try to build a 100 MB string.
  EXPECT_EQ(outcome("%(a)100000000d"), "bad:width too big");
  EXPECT_EQ(outcome("%(a).100000000f"), "bad:precision too big");
  // Precision only shortens text, so it is not limited there.
  EXPECT_EQ(outcome("%(s).100000000s"), "ok:h\xc3\xa9");
}

TEST(PyFormatExpand, ReturnsExpandedText) {
  const FormatNames names = {{"ENV_HOME", std::string("/root")},
                             {"group_name", std::string("a")},
                             {"here", std::string("/etc")},
                             {"process_num", std::int64_t{7}}};
  const auto result = expand("%(ENV_HOME)s/%(group_name)s-%(process_num)02d %(here)r 100%%", names,
                             "program:a.command");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(*result, "/root/a-07 '/etc' 100%");
}

TEST(PyFormatExpand, UsesSupervisordMessages) {
  const FormatNames names = {{"here", std::string("/etc")},
                             {"group_name", std::string("a")},
                             {"ENV_HOME", std::string("/root")}};
  const std::vector<FormatCase> cases = {
      {"sleep %(foo)s",
       "Format string 'sleep %(foo)s' for 'program:a.command' contains names ('foo') which "
       "cannot be expanded. Available names: ENV_HOME, group_name, here"},
      {"sleep %(here",
       "Format string 'sleep %(here' for 'program:a.command' is badly formatted: incomplete "
       "format key"},
      {"echo 'hi' %(foo)s",
       "Format string \"echo 'hi' %(foo)s\" for 'program:a.command' contains names ('foo') "
       "which cannot be expanded. Available names: ENV_HOME, group_name, here"},
      {"x\t%(it's)s",
       "Format string \"x\\t%(it's)s\" for 'program:a.command' contains names (\"it's\") "
       "which cannot be expanded. Available names: ENV_HOME, group_name, here"},
      {"sleep %s",
       "Format string 'sleep %s' for 'program:a.command' is badly formatted: format requires "
       "a mapping"},
      {"sleep %(here)d",
       "Format string 'sleep %(here)d' for 'program:a.command' is badly formatted: %d format: "
       "a real number is required, not str"},
  };
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.format);
    const auto result = expand(c.format, names, "program:a.command");
    EXPECT_EQ(expand_error(result), c.expected);
  }
}

TEST(PyFormatExpand, QuotesTheOptionName) {
  // supervisord compat: log file names are expanded a second time under the bare option
  // name, so a single "%%" in them fails there.
  const auto result = expand("/dir/a%b.log", {}, "stdout_logfile");
  EXPECT_EQ(expand_error(result),
            "Format string '/dir/a%b.log' for 'stdout_logfile' is badly formatted: "
            "unsupported format character 'b' (0x62) at index 7");
  const auto no_names = expand("%(x)s", {}, "it's");
  EXPECT_EQ(expand_error(no_names),
            "Format string '%(x)s' for \"it's\" contains names ('x') which cannot be "
            "expanded. Available names: ");
}

}  // namespace
}  // namespace zagent
