// Expected documents and messages come from running Python 3.11's
// configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False), the parser
// supervisord 4.2.5 uses, on the same text (spec/config.md §2).
#include "common/ini.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/pystr.h"

namespace zagent {
namespace {

/// One line per section (`[name]`) and one per option (`key=<repr(value)>`).
std::string dump(const IniDocument& doc) {
  std::string out;
  for (const IniSection& section : doc.sections) {
    out += (out.empty() ? "[" : "\n[") + section.name + "]";
    for (const IniOption& option : section.options) {
      out += "\n" + option.key + "=" + py_repr(option.value);
    }
  }
  return out;
}

/// The error message of a failed parse, or a marker that makes the comparison fail clearly.
std::string error_of(const Result<void>& result) {
  if (result.has_value()) {
    return "<no error>";
  }
  return result.error().message;
}

struct IniCase {
  std::string_view name;
  std::string_view text;
  std::string_view expected;  ///< dump() of the document, or the error message
};

TEST(IniParse, MatchesConfigParser) {
  const std::vector<IniCase> cases = {
      {"equals delimiter", "[a]\nx=1\n", "[a]\nx='1'"},
      {"colon delimiter", "[a]\nx : 1\n", "[a]\nx='1'"},
      {"first delimiter splits", "[a]\nx : 1 = 2\na=b:c\n", "[a]\nx='1 = 2'\na='b:c'"},
      {"whitespace around key and value stripped", "[a]\n  key  =  some value \t \n",
       "[a]\nkey='some value'"},
      {"option names lower-cased", "[a]\nCommand=echo\nAUTOSTART = true\n",
       "[a]\ncommand='echo'\nautostart='true'"},
      {"empty value", "[a]\ncommand=\nother =   \n", "[a]\ncommand=''\nother=''"},
      {"full-line comments", "# top\n; top\n[a]\n#x=1\n;y=2\n   ; indented\nz=3\n", "[a]\nz='3'"},
      {"inline comment after whitespace", "[a]\nx=echo a ;b\ny=echo a\t#b\nz=1 # one ; two\n",
       "[a]\nx='echo a'\ny='echo a'\nz='1'"},
      {"prefix not after whitespace is kept", "[a]\ncommand=echo a;b\nurl=http://h/#frag\n",
       "[a]\ncommand='echo a;b'\nurl='http://h/#frag'"},
      {"round quirk", "[a]\ncommand=sh -c 'echo \"a;b c ;d\" #e'\n",
       "[a]\ncommand='sh -c \\'echo \"a;b c ;d\"'"},
      {"quotes do not protect", "[a]\nx='a ;b'\n", "[a]\nx=\"'a\""},
      {"continuation lines", "[a]\nx=1\n  y\n\tz\ny=2\n", "[a]\nx='1\\ny\\nz'\ny='2'"},
      {"blank lines inside kept trailing dropped", "[a]\nx=\n\n  a\n\n  b\n\n\n",
       "[a]\nx='\\n\\na\\n\\nb'"},
      {"comment lines inside continuation skipped", "[a]\nx=1\n  ;c\n#c\n  y ;d\n",
       "[a]\nx='1\\ny'"},
      {"blank line before comment still kept", "[a]\nx=1\n\n;c\n  y\n", "[a]\nx='1\\n\\ny'"},
      {"continuation must be deeper than option line", "[a]\n  x=1\n   y\n  z=2\n",
       "[a]\nx='1\\ny'\nz='2'"},
      {"indented header is a continuation", "[a]\nx=1\n  [b]\n", "[a]\nx='1\\n[b]'"},
      {"indented line right after header is an option", "[a]\n  x=1\n", "[a]\nx='1'"},
      {"header text after bracket ignored", "[a] trailing\nx=1\n", "[a]\nx='1'"},
      {"header up to last bracket", "[a]b]\nx=1\n[]]\ny=2\n", "[a]b]\nx='1'\n[]]\ny='2'"},
      {"header keeps prefix not after whitespace", "[a;b]\nx=1\n[c] ;comment\ny=2\n",
       "[a;b]\nx='1'\n[c]\ny='2'"},
      {"section names case-sensitive", "[A]\nx=1\n[a]\nx=2\n", "[A]\nx='1'\n[a]\nx='2'"},
      {"repeated section merges", "[a]\nx=1\ny=2\n[b]\nz=3\n[a]\nx=4\nw=5\n",
       "[a]\nx='4'\ny='2'\nw='5'\n[b]\nz='3'"},
      {"repeated option last wins", "[a]\nX=1\nx=2\n", "[a]\nx='2'"},
      {"crlf line ends", "[a]\r\nx=1\r\n  y\r\n", "[a]\nx='1\\ny'"},
      {"cr line ends", "[a]\rx=1\r  y\r", "[a]\nx='1\\ny'"},
      {"last line without newline", "[a]\nx=1", "[a]\nx='1'"},
      {"unicode whitespace", "[a]\nx=1\xc2\xa0;c\ny=2\x1c#c\n\xc2\xa0z=3\n \xc2\xa0more\n",
       "[a]\nx='1'\ny='2\\nz=3\\nmore'"},
      {"comments and blanks before first section", "\n# c\n   \n; d\n[a]\n", "[a]"},
      {"empty file", "", ""},
      {"default section is ordinary", "[DEFAULT]\nk=v\n[a]\nx=1\n", "[DEFAULT]\nk='v'\n[a]\nx='1'"},
      {"percent kept literally", "[a]\nx=100%% %(here)s\n", "[a]\nx='100%% %(here)s'"},
  };
  for (const IniCase& c : cases) {
    SCOPED_TRACE(c.name);
    IniDocument doc;
    const auto result = parse_ini(c.text, "f.conf", doc);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(dump(doc), c.expected);
  }
}

TEST(IniParse, ErrorsUsePythonTexts) {
  const std::vector<IniCase> cases = {
      {"no section header", "garbage line\n",
       "File contains no section headers.\nfile: 'f.conf', line: 1\n'garbage line\\n'"},
      {"no section header after comments", "\n# c\n  \ngarbage",
       "File contains no section headers.\nfile: 'f.conf', line: 4\n'garbage'"},
      {"option before any section", "x=1\n[a]\n",
       "File contains no section headers.\nfile: 'f.conf', line: 1\n'x=1\\n'"},
      {"empty brackets are not a header", "[]\nx=1\n",
       "File contains no section headers.\nfile: 'f.conf', line: 1\n'[]\\n'"},
      {"comment inside brackets", "[a #c]\nx=1\n",
       "File contains no section headers.\nfile: 'f.conf', line: 1\n'[a #c]\\n'"},
      {"byte-order mark", "\xef\xbb\xbf[a]\nx=1\n",
       "File contains no section headers.\nfile: 'f.conf', line: 1\n'\\ufeff[a]\\n'"},
      {"line without delimiter", "[a]\nfoo\n",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: 'foo\\n'"},
      {"empty option name", "[a]\n=1\n  cont\nfoo\n",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: '=1\\n'\n"
       "\t[line  3]: '  cont\\n'\n\t[line  4]: 'foo\\n'"},
      {"crlf shown as newline", "[a]\r\nfoo\r\n",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: 'foo\\n'"},
      {"last line without newline", "[a]\nfoo",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: 'foo'"},
      {"indented line after header", "[a]\n  foo\n",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: '  foo\\n'"},
      {"several bad lines", "[a]\nfoo\n\tbar baz\nx=1\n\n\n\n\n\n\n\n[b]\nqux\n",
       "Source contains parsing errors: 'f.conf'\n\t[line  2]: 'foo\\n'\n"
       "\t[line  3]: '\\tbar baz\\n'\n\t[line 13]: 'qux\\n'"},
  };
  for (const IniCase& c : cases) {
    SCOPED_TRACE(c.name);
    IniDocument doc;
    const auto result = parse_ini(c.text, "f.conf", doc);
    EXPECT_EQ(error_of(result), c.expected);
    if (!result.has_value()) {
      EXPECT_EQ(result.error().code, ErrorCode::Config);
    }
  }
}

TEST(IniParse, ErrorShowsFileNameAsGivenAsRepr) {
  IniDocument doc;
  EXPECT_EQ(error_of(parse_ini("x=1", "dir/it's.conf", doc)),
            "File contains no section headers.\nfile: \"dir/it's.conf\", line: 1\n'x=1'");
  EXPECT_EQ(error_of(parse_ini("[a]\nfoo\n", "../rel/sup.conf", doc)),
            "Source contains parsing errors: '../rel/sup.conf'\n\t[line  2]: 'foo\\n'");
}

TEST(IniParse, ErrorLineNumbersWiderThanTwoColumns) {
  std::string text = "[a]\n";
  for (int i = 0; i < 98; ++i) {
    text += "x=1\n";
  }
  text += "bad\n";
  IniDocument doc;
  EXPECT_EQ(error_of(parse_ini(text, "f.conf", doc)),
            "Source contains parsing errors: 'f.conf'\n\t[line 100]: 'bad\\n'");
}

TEST(IniParse, BadLineKeepsRestOfFileAndDoesNotEndValue) {
  // supervisord compat: configparser reports bad lines only after reading the whole file,
  // and a deeper-indented line after a bad line still continues the value before it.
  IniDocument doc;
  const auto result = parse_ini("[a]\nx=1\n\nbad\n\n  cont\ny=2\n=3\n", "f.conf", doc);
  EXPECT_EQ(error_of(result),
            "Source contains parsing errors: 'f.conf'\n\t[line  4]: 'bad\\n'\n"
            "\t[line  8]: '=3\\n'");
  EXPECT_EQ(dump(doc), "[a]\nx='1\\n\\n\\ncont'\ny='2'\n='3'");
}

TEST(IniParse, RecordsFileAndLines) {
  IniDocument doc;
  const auto result =
      parse_ini("; comment\n[a]\nx=1\n  more\n\n[b]\ny=2\n[a]\nz=3\nx=4\n", "main.conf", doc);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_EQ(doc.sections.size(), 2U);
  const IniSection& a = doc.sections[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.file, "main.conf");
  EXPECT_EQ(a.line, 2);  // the first header, not the repeat on line 8
  ASSERT_EQ(a.options.size(), 2U);
  EXPECT_EQ(a.options[0].key, "x");
  EXPECT_EQ(a.options[0].value, "4");
  EXPECT_EQ(a.options[0].file, "main.conf");
  EXPECT_EQ(a.options[0].line, 10);  // the repeat wins but keeps the first position
  EXPECT_EQ(a.options[1].key, "z");
  EXPECT_EQ(a.options[1].line, 9);
  const IniSection& b = doc.sections[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.line, 6);
  ASSERT_EQ(b.options.size(), 1U);
  EXPECT_EQ(b.options[0].line, 7);
}

TEST(IniParse, MergesRepeatedSectionsAcrossFiles) {
  IniDocument doc;
  ASSERT_TRUE(
      parse_ini("[program:x]\ncommand=one\nautostart=true\n[supervisord]\n", "/etc/main.conf", doc)
          .has_value());
  ASSERT_TRUE(parse_ini("# included\n[program:x]\nCommand = two\n  --flag\npriority=5\n"
                        "[program:y]\ncommand=three\n",
                        "conf.d/x.ini", doc)
                  .has_value());
  EXPECT_EQ(dump(doc),
            "[program:x]\ncommand='two\\n--flag'\nautostart='true'\npriority='5'\n"
            "[supervisord]\n[program:y]\ncommand='three'");
  const IniSection* x = doc.find("program:x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->file, "/etc/main.conf");
  EXPECT_EQ(x->line, 1);
  const IniOption* command = x->find("command");
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->file, "conf.d/x.ini");
  EXPECT_EQ(command->line, 3);
  const IniOption* autostart = x->find("autostart");
  ASSERT_NE(autostart, nullptr);
  EXPECT_EQ(autostart->file, "/etc/main.conf");
  EXPECT_EQ(autostart->line, 3);
  const IniOption* priority = x->find("priority");
  ASSERT_NE(priority, nullptr);
  EXPECT_EQ(priority->file, "conf.d/x.ini");
  EXPECT_EQ(priority->line, 5);
  const IniSection* y = doc.find("program:y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->file, "conf.d/x.ini");
  EXPECT_EQ(y->line, 6);
}

TEST(IniParse, EachFileNeedsItsOwnSectionHeader) {
  // The section being read does not carry over into the next file, and neither does the
  // value being continued.
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=1\n", "one.conf", doc).has_value());
  EXPECT_EQ(error_of(parse_ini("y=2\n", "two.conf", doc)),
            "File contains no section headers.\nfile: 'two.conf', line: 1\n'y=2\\n'");
  EXPECT_EQ(error_of(parse_ini("  more\n", "three.conf", doc)),
            "File contains no section headers.\nfile: 'three.conf', line: 1\n'  more\\n'");
  EXPECT_EQ(dump(doc), "[a]\nx='1'");
}

TEST(IniParse, RoundQuirkDiffersFromFirstQualifyingPrefix) {
  // Round 1 sees the ';' of "a;b" (not after whitespace) and the '#' of " #e" (after
  // whitespace), so the comment starts at '#' even though " ;d" comes earlier.
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\ncommand=sh -c 'echo \"a;b c ;d\" #e'\n", "f.conf", doc).has_value());
  EXPECT_EQ(doc.sections[0].options[0].value, "sh -c 'echo \"a;b c ;d\"");
}

TEST(IniFind, FindsSectionsAndOptions) {
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=1\n[B]\ny=2\n", "f.conf", doc).has_value());
  const IniDocument& const_doc = doc;
  ASSERT_NE(const_doc.find("a"), nullptr);
  EXPECT_EQ(const_doc.find("a")->name, "a");
  EXPECT_EQ(const_doc.find("b"), nullptr);
  ASSERT_NE(doc.find("B"), nullptr);
  doc.find("B")->options.clear();
  EXPECT_TRUE(const_doc.find("B")->options.empty());
  const IniSection& a = *const_doc.find("a");
  ASSERT_NE(a.find("x"), nullptr);
  EXPECT_EQ(a.find("x")->value, "1");
  EXPECT_EQ(a.find("X"), nullptr);  // keys are stored lower-case; lookups are exact
  EXPECT_EQ(a.find("y"), nullptr);
}

TEST(IniReplaceHere, ReplacesOnlyTheLiteralSpelling) {
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=%(here)s/a:%(here)s/b\ny=%(here)r\nz=%(HERE)s %(here)\n"
                        "[b]\nw=cd %(here)s\n",
                        "f.conf", doc)
                  .has_value());
  doc.replace_here("/etc/sv");
  EXPECT_EQ(dump(doc),
            "[a]\nx='/etc/sv/a:/etc/sv/b'\ny='%(here)r'\nz='%(HERE)s %(here)'\n"
            "[b]\nw='cd /etc/sv'");
  EXPECT_EQ(doc.sections[1].options[0].line, 6);
}

TEST(IniReplaceHere, EachFileGetsItsOwnDirectory) {
  // supervisord compat: the replacement runs after each file over everything read so far,
  // so a value keeps the directory of the file it came from.
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=%(here)s/x\n", "/main/sv.conf", doc).has_value());
  doc.replace_here("/main");
  ASSERT_TRUE(parse_ini("[b]\ny=%(here)s/y\n", "/main/conf.d/b.ini", doc).has_value());
  doc.replace_here("/main/conf.d");
  EXPECT_EQ(dump(doc), "[a]\nx='/main/x'\n[b]\ny='/main/conf.d/y'");
}

TEST(IniReplaceHere, EscapedPercentIsReplacedToo) {
  // supervisord compat: a plain text replacement also hits "%%(here)s".
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=%%(here)s\n", "f.conf", doc).has_value());
  doc.replace_here("/d");
  EXPECT_EQ(doc.sections[0].options[0].value, "%/d");
}

TEST(IniReplaceHere, ReplacementContainingThePatternIsNotReplacedAgain) {
  IniDocument doc;
  ASSERT_TRUE(parse_ini("[a]\nx=%(here)s%(here)s\n", "f.conf", doc).has_value());
  doc.replace_here("/%(here)s");
  EXPECT_EQ(doc.sections[0].options[0].value, "/%(here)s/%(here)s");
}

}  // namespace
}  // namespace zagent
