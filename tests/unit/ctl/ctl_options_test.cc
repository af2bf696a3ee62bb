#include "ctl/ctl_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent::ctl {
namespace {

using ::testing::ElementsAre;

TEST(CtlArgs, OptionsThenCommand) {
  auto r = parse_ctl_args({"-c", "/etc/z.conf", "-s", "unix:///tmp/z.sock", "-u", "bob", "-p",
                           "pw", "--json", "status", "-x", "web"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config_path, "/etc/z.conf");
  EXPECT_EQ(r->serverurl, "unix:///tmp/z.sock");
  EXPECT_EQ(r->username, "bob");
  EXPECT_EQ(r->password, "pw");
  EXPECT_TRUE(r->json);
  EXPECT_THAT(r->command, ElementsAre("status", "-x", "web"));
}

TEST(CtlArgs, AttachedAndLongValues) {
  auto r = parse_ctl_args({"-c/a.conf", "--serverurl=unix:///x.sock", "-i"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->config_path, "/a.conf");
  EXPECT_EQ(r->serverurl, "unix:///x.sock");
  EXPECT_TRUE(r->interactive);
  EXPECT_TRUE(r->command.empty());
}

// supervisorctl -? prints the usage and exits 0, as -h does.
TEST(CtlArgs, QuestionMarkIsHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-?"}, {"-h"}, {"--help"}, {"-i", "-?"}, {"-?", "status"}, {"-i?"}}) {
    auto r = parse_ctl_args(args);
    ASSERT_TRUE(r.has_value()) << args.front() << ": " << r.error().message;
    EXPECT_TRUE(r->help) << args.front();
  }
  EXPECT_EQ(parse_ctl_args({"--?"}).error().message, "option --? not recognized");
}

// getopt takes `-?x` as -? then -x.
TEST(CtlArgs, FlagClusterIsTakenOneFlagAtATime) {
  EXPECT_EQ(parse_ctl_args({"-?x"}).error().message, "option -x not recognized");
  EXPECT_EQ(parse_ctl_args({"-hx"}).error().message, "option -x not recognized");
  auto r = parse_ctl_args({"-ih"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->interactive);
  EXPECT_TRUE(r->help);
  r = parse_ctl_args({"-ic/a.conf"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->interactive);
  EXPECT_EQ(r->config_path, "/a.conf");
}

TEST(CtlArgs, Errors) {
  EXPECT_EQ(parse_ctl_args({"-x"}).error().message, "option -x not recognized");
  EXPECT_EQ(parse_ctl_args({"-s", "bogus"}).error().message,
            "invalid value for -s 'bogus': value 'bogus' is not a URL");
  EXPECT_EQ(parse_ctl_args({"-c"}).error().message, "option -c requires argument");
}

const EnvironmentList kEnv = {{"HOME", "/root"}, {"RUN", "/run/z"}};

IniDocument doc_of(const std::string& text) {
  IniDocument doc;
  EXPECT_TRUE(parse_ini(text, "z.conf", doc).has_value());
  return doc;
}

TEST(CtlSettings, DefaultsWhenSectionIsEmpty) {
  auto s = settings_from_config(doc_of("[supervisorctl]\n"), "/etc", "/", kEnv);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->serverurl, std::nullopt);  // zctl then uses the default socket
  EXPECT_EQ(s->prompt, "supervisor");
}

TEST(CtlSettings, EffectiveServerUrlFallsBackToTheDefaultSocket) {
  CtlSettings s;
  EXPECT_EQ(effective_serverurl(s, 1000, "/run/user/1000"), "unix:///run/user/1000/zagent.sock");
  EXPECT_EQ(effective_serverurl(s, 1000, ""), "unix:///tmp/zagent-1000.sock");
  EXPECT_EQ(effective_serverurl(s, 0, "/run/user/0"), "unix:///run/zagent.sock");
  s.serverurl = "http://localhost:9001";
  EXPECT_EQ(effective_serverurl(s, 1000, "/run/user/1000"), "http://localhost:9001");
}

TEST(CtlSettings, ConfiguredServerUrlIsKept) {
  auto s = settings_from_config(doc_of("[supervisorctl]\nserverurl=http://127.0.0.1:9001\n"),
                                "/etc", "/", kEnv);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->serverurl, "http://127.0.0.1:9001");
}

TEST(CtlSettings, UnixUrlIsNormalisedAgainstCwd) {
  auto s = settings_from_config(doc_of("[supervisorctl]\nserverurl=unix://rel/x.sock\n"), "/etc",
                                "/", kEnv);
  EXPECT_EQ(s->serverurl, "unix:///rel/x.sock");
  auto here = settings_from_config(
      doc_of("[supervisorctl]\nserverurl=unix://%(here)s/../run/z.sock\nprompt=gpu\n"),
      "/srv/app", "/", kEnv);
  EXPECT_EQ(here->serverurl, "unix:///srv/run/z.sock");
  EXPECT_EQ(here->prompt, "gpu");
}

TEST(CtlSettings, EveryValueIsExpandedWithEnv) {
  auto s = settings_from_config(
      doc_of("[supervisorctl]\nserverurl=unix://%(ENV_RUN)s/z.sock\nprompt=%(ENV_HOME)s\n"
             "username=u%%\npassword=p\nhistory_file=~/.zctl_history\n"),
      "/etc", "/", kEnv);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->serverurl, "unix:///run/z/z.sock");
  EXPECT_EQ(s->prompt, "/root");
  EXPECT_EQ(s->username, "u%");
  EXPECT_EQ(s->password, "p");
  EXPECT_EQ(s->history_file, "/root/.zctl_history");
}

TEST(CtlSettings, MissingSection) {
  EXPECT_EQ(settings_from_config(doc_of("[supervisord]\n"), "/", "/", kEnv).error().message,
            ".ini file does not include supervisorctl section");
}

TEST(CtlSettings, ArgsWin) {
  CtlArgs args;
  args.serverurl = "unix://rel.sock";
  CtlSettings s;
  EXPECT_EQ(apply_args(s, args).serverurl, "unix://rel.sock");  // -s is used verbatim
}

}  // namespace
}  // namespace zagent::ctl

TEST(SupervisorctlSections, KeepsOnlyWhatZctlReadsAndTheLineNumbers) {
  const std::string text =
      "; top\n[program:a]\ncommand=x\n  more\n[supervisorctl]\nserverurl=unix:///s\n"
      "[DEFAULT]\nk=v\n[program:b]\ncommand=y";
  const auto chunks = zagent::ctl::supervisorctl_sections(text);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].first_line, 1);
  EXPECT_EQ(chunks[0].text, "; top\n");
  EXPECT_EQ(chunks[1].first_line, 5);
  EXPECT_EQ(chunks[1].text, "[supervisorctl]\nserverurl=unix:///s\n[DEFAULT]\nk=v\n");
}

TEST(SupervisorctlSections, ErrorsNameTheFilesLineAndAPieceEndsItsValue) {
  // Line 6 has no '=': reported as line 6 although lines 1-3 are not read. The blank line 4
  // and the skipped section after `prompt` do not extend its value.
  const std::string text =
      "[program:a]\ncommand=x\n  more\n[supervisorctl]\n\nbad line\nprompt=p\n"
      "[program:b]\n  continued\n[supervisorctl]\nhistory_file=/h\n";
  const auto chunks = zagent::ctl::supervisorctl_sections(text);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].first_line, 4);
  EXPECT_EQ(chunks[1].first_line, 10);
  zagent::IniDocument doc;
  const auto r = zagent::parse_ini_chunks(chunks, "/etc/z.conf", doc);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("[line  6]: 'bad line\\n'"), std::string::npos)
      << r.error().message;
  const zagent::IniSection* ctl = doc.find("supervisorctl");
  ASSERT_NE(ctl, nullptr);
  ASSERT_NE(ctl->find("prompt"), nullptr);
  EXPECT_EQ(ctl->find("prompt")->value, "p");
  EXPECT_EQ(ctl->find("prompt")->line, 7);
  ASSERT_NE(ctl->find("history_file"), nullptr);
  EXPECT_EQ(ctl->find("history_file")->line, 11);
}

TEST(SupervisorctlSections, TheSettingsReadFromTheFilteredTextAreTheSame) {
  const std::string text =
      "[program:a]\ncommand=x\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n"
      "prompt=mine\n[program:b]\ncommand=y\n";
  zagent::IniDocument full;
  zagent::IniDocument filtered;
  ASSERT_TRUE(zagent::parse_ini(text, "/etc/z.conf", full));
  ASSERT_TRUE(zagent::parse_ini_chunks(zagent::ctl::supervisorctl_sections(text), "/etc/z.conf",
                                       filtered));
  auto a = zagent::ctl::settings_from_config(full, "/etc", "/", {});
  auto b = zagent::ctl::settings_from_config(filtered, "/etc", "/", {});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->serverurl, b->serverurl);
  EXPECT_EQ(a->prompt, b->prompt);
}

TEST(SupervisorctlSections, OnlyALineThatStartsWithABracketIsAHeader) {
  // A '[' inside a value or a continuation is no header; `[supervisorctl` without its ']'
  // and `[supervisorctlx]` name other sections; a header on line 1 starts the first piece.
  const std::string text =
      "[supervisorctl]\nprompt=a [b]\n  [c]\n[program:a]\ncommand=x [supervisorctl]\n"
      "[supervisorctl\nk=1\n[supervisorctlx]\nk=2\n[DEFAULT]\nd=1\n[x]";
  const auto chunks = zagent::ctl::supervisorctl_sections(text);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].first_line, 1);
  EXPECT_EQ(chunks[0].text, "[supervisorctl]\nprompt=a [b]\n  [c]\n");
  EXPECT_EQ(chunks[1].first_line, 10);
  EXPECT_EQ(chunks[1].text, "[DEFAULT]\nd=1\n");
  EXPECT_TRUE(zagent::ctl::supervisorctl_sections("").empty());
  const auto headless = zagent::ctl::supervisorctl_sections("k=v\n");
  ASSERT_EQ(headless.size(), 1u);
  EXPECT_EQ(headless[0].text, "k=v\n");
}
