#include "agent/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/config_json.h"
#include "tests/support/fake_config_host.h"

namespace zagent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr const char* kMain = "/srv/app/supervisord.conf";

class ConfigTest : public ::testing::Test {
 protected:
  ConfigLoad load(const std::string& text, const std::string& path = kMain) {
    host_.add_file(kMain, text);
    return load_config(path, overrides_, host_);
  }

  /// Loads and expects success.
  AgentConfig ok(const std::string& text) {
    auto result = load(text);
    if (!result.config) {
      for (const auto& e : result.errors) {
        ADD_FAILURE() << e.render();
      }
      return {};
    }
    return *result.config;
  }

  /// Loads and returns the supervisord text of the one expected error.
  std::string error(const std::string& text, const std::string& path = kMain) {
    auto result = load(text, path);
    EXPECT_FALSE(result.config.has_value());
    if (result.errors.empty()) {
      ADD_FAILURE() << "no error";
      return "";
    }
    EXPECT_EQ(result.errors.size(), 1u) << result.errors[1].render();
    return result.errors.front().supervisord_text();
  }

  /// Loads `[supervisord]` plus one program section whose body is `body`.
  std::string program_error(const std::string& body) {
    return error("[supervisord]\n[program:a]\n" + body + "\n");
  }

  /// A copy: callers often pass a temporary config.
  ProcessConfig only_process(const AgentConfig& c) {
    if (c.groups.size() != 1 || c.groups[0].processes.size() != 1) {
      ADD_FAILURE() << "expected exactly one process";
      return {};
    }
    return c.groups[0].processes[0];
  }

  test::FakeConfigHost host_;
  ConfigOverrides overrides_;
};

// ---- [program:x] defaults ------------------------------------------------------------------

TEST_F(ConfigTest, ProgramDefaults) {
  const auto c = ok("[supervisord]\n[program:web]\ncommand=/bin/web\n");
  const auto p = only_process(c);
  EXPECT_EQ(p.name, "web");
  EXPECT_EQ(p.group, "web");
  EXPECT_EQ(p.program_name, "web");
  EXPECT_EQ(p.command, "/bin/web");
  EXPECT_EQ(p.process_num, 0);
  EXPECT_EQ(p.numprocs, 1);
  EXPECT_EQ(p.directory, std::nullopt);
  EXPECT_EQ(p.umask, std::nullopt);
  EXPECT_EQ(p.priority, 999);
  EXPECT_TRUE(p.autostart);
  EXPECT_EQ(p.autorestart, AutoRestart::Unexpected);
  EXPECT_EQ(p.startsecs, 1);
  EXPECT_EQ(p.startretries, 3);
  EXPECT_THAT(p.exitcodes, ElementsAre(0));
  EXPECT_EQ(p.stopsignal, 15);
  EXPECT_EQ(p.stopwaitsecs, 10);
  EXPECT_FALSE(p.stopasgroup);
  EXPECT_FALSE(p.killasgroup);
  EXPECT_EQ(p.user, std::nullopt);
  EXPECT_FALSE(p.redirect_stderr);
  for (const auto* log : {&p.stdout_log, &p.stderr_log}) {
    EXPECT_EQ(log->logfile.kind, LogTargetKind::Auto);
    EXPECT_EQ(log->maxbytes, 10 * 1024 * 1024);  // zagent default (supervisord: 50MB)
    EXPECT_EQ(log->backups, 10);
    EXPECT_EQ(log->capture_maxbytes, 0);
    EXPECT_FALSE(log->events_enabled);
    EXPECT_FALSE(log->syslog);
  }
  EXPECT_TRUE(p.environment.empty());
  EXPECT_EQ(p.serverurl, std::nullopt);
  EXPECT_EQ(c.groups[0].priority, 999);
  EXPECT_FALSE(c.groups[0].from_group_section);
}

TEST_F(ConfigTest, ProgramEveryKeySet) {
  const auto c = ok(
      "[supervisord]\n"
      "[program:imagegen]\n"
      "command = python3 app.py --port 7860\n"
      "directory = /srv/app\n"
      "umask = 002\n"
      "priority = 50\n"
      "autostart = false\n"
      "autorestart = true\n"
      "startsecs = 30\n"
      "startretries = 5\n"
      "exitcodes = 0,2\n"
      "stopsignal = INT\n"
      "stopwaitsecs = 20\n"
      "stopasgroup = true\n"
      "user = nobody\n"
      "redirect_stderr = true\n"
      "stdout_logfile = /var/log/imagegen.log\n"
      "stdout_logfile_maxbytes = 1MB\n"
      "stdout_logfile_backups = 3\n"
      "stdout_capture_maxbytes = 1KB\n"
      "stdout_events_enabled = yes\n"
      "stdout_syslog = on\n"
      "stderr_logfile_maxbytes = 2GB\n"
      "stderr_logfile_backups = 0\n"
      "stderr_capture_maxbytes = 0\n"
      "stderr_events_enabled = 1\n"
      "stderr_syslog = off\n"
      "environment = CUDA_VISIBLE_DEVICES=\"0\",LD_LIBRARY_PATH=\"/usr/local/cuda/lib64\"\n"
      "serverurl = unix:///tmp/other.sock\n");
  const auto p = only_process(c);
  EXPECT_EQ(p.command, "python3 app.py --port 7860");
  EXPECT_EQ(p.directory, "/srv/app");
  EXPECT_EQ(p.umask, 2);
  EXPECT_EQ(p.priority, 50);
  EXPECT_EQ(c.groups[0].priority, 50);
  EXPECT_FALSE(p.autostart);
  EXPECT_EQ(p.autorestart, AutoRestart::Always);
  EXPECT_EQ(p.startsecs, 30);
  EXPECT_EQ(p.startretries, 5);
  EXPECT_THAT(p.exitcodes, ElementsAre(0, 2));
  EXPECT_EQ(p.stopsignal, 2);
  EXPECT_EQ(p.stopwaitsecs, 20);
  EXPECT_TRUE(p.stopasgroup);
  EXPECT_TRUE(p.killasgroup);  // defaults to stopasgroup
  ASSERT_TRUE(p.user.has_value());
  EXPECT_EQ(p.user->uid, 65534u);
  EXPECT_EQ(p.user->gid, 65534u);
  EXPECT_TRUE(p.redirect_stderr);
  EXPECT_EQ(p.stdout_log.logfile.kind, LogTargetKind::Path);
  EXPECT_EQ(p.stdout_log.logfile.path, "/var/log/imagegen.log");
  EXPECT_EQ(p.stdout_log.maxbytes, 1024 * 1024);
  EXPECT_EQ(p.stdout_log.backups, 3);
  EXPECT_EQ(p.stdout_log.capture_maxbytes, 1024);
  EXPECT_TRUE(p.stdout_log.events_enabled);
  EXPECT_TRUE(p.stdout_log.syslog);
  EXPECT_EQ(p.stderr_log.logfile.kind, LogTargetKind::None);  // redirected
  EXPECT_EQ(p.stderr_log.maxbytes, 2LL * 1024 * 1024 * 1024);
  EXPECT_EQ(p.stderr_log.backups, 0);
  EXPECT_TRUE(p.stderr_log.events_enabled);
  EXPECT_FALSE(p.stderr_log.syslog);
  EXPECT_THAT(p.environment, ElementsAre(Pair("CUDA_VISIBLE_DEVICES", "0"),
                                         Pair("LD_LIBRARY_PATH", "/usr/local/cuda/lib64")));
  EXPECT_EQ(p.serverurl, "unix:///tmp/other.sock");
}

TEST_F(ConfigTest, KillasgroupCanBeSetAlone) {
  const auto p = only_process(ok("[supervisord]\n[program:a]\ncommand=x\nkillasgroup=true\n"));
  EXPECT_FALSE(p.stopasgroup);
  EXPECT_TRUE(p.killasgroup);
}

TEST_F(ConfigTest, KillastreeIsABooleanOffByDefaultAndDumped) {
  const auto off = only_process(ok("[supervisord]\n[program:a]\ncommand=x\n"));
  EXPECT_FALSE(off.killastree);
  const auto on = only_process(ok("[supervisord]\n[program:a]\ncommand=x\nkillastree=true\n"));
  EXPECT_TRUE(on.killastree);
  EXPECT_FALSE(on.stopasgroup);
  EXPECT_FALSE(on.killasgroup);
  EXPECT_NE(off, on);  // a changed key is a changed program for update
  const auto dumped =
      config_to_json(ok("[supervisord]\n[program:a]\ncommand=x\nkillastree=yes\n"));
  EXPECT_EQ(dumped["groups"][0]["processes"][0]["killastree"].dump(), "true");
  auto bad = load("[supervisord]\n[program:a]\ncommand=x\nkillastree=maybe\n");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].render(),
            "not a valid boolean value: 'maybe' in section 'program:a' (file: "
            "'/srv/app/supervisord.conf', line 4)");
}

TEST_F(ConfigTest, ServerUrlAutoIsDefault) {
  const auto p = only_process(ok("[supervisord]\n[program:a]\ncommand=x\nserverurl= Auto \n"));
  EXPECT_EQ(p.serverurl, std::nullopt);
}

TEST_F(ConfigTest, UserByUid) {
  const auto p = only_process(ok("[supervisord]\n[program:a]\ncommand=x\nuser=1000\n"));
  ASSERT_TRUE(p.user.has_value());
  EXPECT_EQ(p.user->name, "op");
}

TEST_F(ConfigTest, LogTargetsNoneOffAutoAndSyslog) {
  const auto c = ok(
      "[supervisord]\n"
      "[program:a]\ncommand=x\nstdout_logfile=none\nstderr_logfile=OFF\n"
      "[program:b]\ncommand=x\nstdout_logfile=auto\nstderr_logfile=syslog\n");
  const auto* a = c.find_process("a", "a");
  const auto* b = c.find_process("b", "b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->stdout_log.logfile.kind, LogTargetKind::None);
  EXPECT_EQ(a->stderr_log.logfile.kind, LogTargetKind::None);
  EXPECT_EQ(b->stdout_log.logfile.kind, LogTargetKind::Auto);
  // supervisord compat: the deprecated syslog value becomes no file plus *_syslog=true.
  EXPECT_EQ(b->stderr_log.logfile.kind, LogTargetKind::None);
  EXPECT_TRUE(b->stderr_log.syslog);
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_EQ(c.notes[0].level, LogLevel::Warn);
  EXPECT_EQ(c.notes[0].text,
            "For [program:b], stderr_logfile=syslog but this is deprecated and will be "
            "removed.  Use stderr_syslog=true to enable syslog instead.");
}

TEST_F(ConfigTest, RelativeLogPathIsKeptRelative) {
  const auto& p =
      only_process(ok("[supervisord]\n[program:a]\ncommand=x\nstdout_logfile=app/out.log\n"));
  EXPECT_EQ(p.stdout_log.logfile.path, "app/out.log");
}

TEST_F(ConfigTest, TildeInLogPathUsesHome) {
  const auto& p =
      only_process(ok("[supervisord]\n[program:a]\ncommand=x\nstdout_logfile=~/a.log\n"));
  EXPECT_EQ(p.stdout_log.logfile.path, "/home/op/a.log");
}

TEST_F(ConfigTest, ParseWarnings) {
  const auto c = ok(
      "[supervisord]\n"
      "[program:a]\ncommand=x\nstdout_logfile_maxbytes=0\n"
      "[program:b]\ncommand=x\nredirect_stderr=true\nstderr_logfile=/tmp/b.err\n");
  std::vector<std::string> texts;
  for (const auto& n : c.notes) {
    texts.push_back(n.text);
  }
  EXPECT_THAT(texts,
              ElementsAre("For [program:a], AUTO logging used for stdout_logfile without "
                          "rollover, set maxbytes > 0 to avoid filling up filesystem "
                          "unintentionally",
                          "For [program:b], redirect_stderr=true but stderr_logfile has also "
                          "been set to a filename, the filename has been ignored"));
}

TEST_F(ConfigTest, UnknownKeyIsNotedNotRejected) {
  const auto c = ok("[supervisord]\n[program:a]\ncommand=x\nautorestrat=true\n");
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_EQ(c.notes[0].text,
            "unknown key 'autorestrat' in [program:a] (/srv/app/supervisord.conf:4) is ignored");
}

TEST_F(ConfigTest, DefaultSectionIsInheritedBySections) {
  // supervisord compat: Python's configparser gives [DEFAULT] options to every section.
  const auto c = ok(
      "[DEFAULT]\nautostart=false\nstartsecs=9\n"
      "[supervisord]\n"
      "[program:a]\ncommand=x\nstartsecs=2\n");
  const auto p = only_process(c);
  EXPECT_FALSE(p.autostart);
  EXPECT_EQ(p.startsecs, 2);  // the section's own value wins
  EXPECT_TRUE(c.notes.empty());  // inherited keys are not "unknown" in [supervisord]
  ASSERT_EQ(c.groups.size(), 1u);
}

// ---- numprocs and names -------------------------------------------------------------------

TEST_F(ConfigTest, NumprocsExpandsProcessNumInEveryPerProcessKey) {
  const auto c = ok(
      "[supervisord]\n"
      "[program:worker]\n"
      "command=/bin/worker --id %(process_num)d --of %(numprocs)d\n"
      "process_name=%(program_name)s_%(process_num)02d\n"
      "numprocs=3\n"
      "numprocs_start=8\n"
      "directory=/tmp/w%(process_num)d\n"
      "stdout_logfile=/tmp/worker-%(process_num)d.log\n"
      "environment=SLOT=\"%(process_num)d\"\n");
  ASSERT_EQ(c.groups.size(), 1u);
  const auto& procs = c.groups[0].processes;
  ASSERT_EQ(procs.size(), 3u);
  EXPECT_EQ(procs[0].name, "worker_08");
  EXPECT_EQ(procs[1].name, "worker_09");
  EXPECT_EQ(procs[2].name, "worker_10");
  EXPECT_EQ(procs[2].command, "/bin/worker --id 10 --of 3");
  EXPECT_EQ(procs[2].directory, "/tmp/w10");
  EXPECT_EQ(procs[2].stdout_log.logfile.path, "/tmp/worker-10.log");
  EXPECT_THAT(procs[2].environment, ElementsAre(Pair("SLOT", "10")));
  EXPECT_EQ(procs[0].process_num, 8);
  EXPECT_EQ(procs[0].group, "worker");
}

TEST_F(ConfigTest, NumprocsZeroGivesEmptyGroup) {
  const auto c = ok("[supervisord]\n[program:a]\ncommand=x\nnumprocs=0\npriority=5\n");
  ASSERT_EQ(c.groups.size(), 1u);
  EXPECT_TRUE(c.groups[0].processes.empty());
  EXPECT_EQ(c.groups[0].priority, 5);
}

TEST_F(ConfigTest, ProcessesSortedByName) {
  const auto c = ok(
      "[supervisord]\n[program:w]\ncommand=x\nnumprocs=11\nprocess_name=%(process_num)s\n");
  ASSERT_EQ(c.groups[0].processes.size(), 11u);
  EXPECT_EQ(c.groups[0].processes[0].name, "0");
  EXPECT_EQ(c.groups[0].processes[1].name, "1");
  EXPECT_EQ(c.groups[0].processes[2].name, "10");  // string order, as supervisord
}

// ---- expansions ---------------------------------------------------------------------------

TEST_F(ConfigTest, ExpandsHereEnvHostAndNames) {
  host_.set_env({{"HOME", "/home/op"}, {"MODEL", "sdxl"}});
  const auto c = ok(
      "[supervisord]\n"
      "environment=GLOBAL=\"g-%(ENV_MODEL)s\"\n"
      "[group:gpu]\nprograms=gen\n"
      "[program:gen]\n"
      "command=%(here)s/run %(ENV_MODEL)s %(program_name)s %(group_name)s "
      "%(host_node_name)s %(ENV_GLOBAL)s %(ENV_OWN)s %%\n"
      "environment=OWN=own\n");
  const auto p = only_process(c);
  EXPECT_EQ(p.command, "/srv/app/run sdxl gen gpu gpu-box-1 g-sdxl own %");
  EXPECT_EQ(p.group, "gpu");
  EXPECT_THAT(c.supervisord.environment, ElementsAre(Pair("GLOBAL", "g-sdxl")));
}

TEST_F(ConfigTest, SupervisordEnvironmentCannotUseHostNodeName) {
  // supervisord compat (verified against 4.2.5): the first expansion of [supervisord]
  // environment= sees only here and ENV_*, so host_node_name fails there.
  EXPECT_EQ(error("[supervisord]\nenvironment=A=\"%(host_node_name)s\"\n"),
            "Format string 'A=\"%(host_node_name)s\"' for 'supervisord.environment' contains "
            "names ('host_node_name') which cannot be expanded. Available names: ENV_HOME, "
            "ENV_PATH, here");
}

TEST_F(ConfigTest, ProcessNumNotAvailableInPriority) {
  // supervisord compat: the group priority is read first, with only here and ENV_*, and
  // without the section suffix.
  EXPECT_EQ(program_error("command=x\npriority=%(process_num)d"),
            "Format string '%(process_num)d' for 'program:a.priority' contains names "
            "('process_num') which cannot be expanded. Available names: ENV_HOME, ENV_PATH, "
            "here");
}

TEST_F(ConfigTest, ProcessNumNotAvailableInUser) {
  EXPECT_THAT(program_error("command=x\nuser=%(process_num)d"),
              HasSubstr("Format string '%(process_num)d' for 'program:a.user' contains names "
                        "('process_num') which cannot be expanded. Available names: ENV_HOME, "
                        "ENV_PATH, group_name, here, host_node_name, program_name in section"));
}

TEST_F(ConfigTest, UnknownNameInCommand) {
  EXPECT_EQ(program_error("command=sleep %(foo)s"),
            "Format string 'sleep %(foo)s' for 'program:a.command' contains names ('foo') "
            "which cannot be expanded. Available names: ENV_HOME, ENV_PATH, group_name, here, "
            "host_node_name, numprocs, process_num, program_name in section 'program:a' "
            "(file: '/srv/app/supervisord.conf')");
}

TEST_F(ConfigTest, BadlyFormattedCommand) {
  EXPECT_EQ(program_error("command=sleep %(here"),
            "Format string 'sleep %(here' for 'program:a.command' is badly formatted: "
            "incomplete format key in section 'program:a' (file: '/srv/app/supervisord.conf')");
}

TEST_F(ConfigTest, EnvironmentErrorUsesBareOptionName) {
  EXPECT_THAT(program_error("command=x\nenvironment=A=%(nope)s"),
              HasSubstr("Format string 'A=%(nope)s' for 'environment' contains names"));
}

TEST_F(ConfigTest, LogfileIsExpandedTwice) {
  host_.add_dir("/dir");
  const auto p = only_process(
      ok("[supervisord]\n[program:a]\ncommand=x\nstdout_logfile=/dir/a%%%%b.log\n"));
  EXPECT_EQ(p.stdout_log.logfile.path, "/dir/a%b.log");
  EXPECT_EQ(program_error("command=x\nstdout_logfile=/dir/a%%b.log"),
            "Format string '/dir/a%b.log' for 'stdout_logfile' is badly formatted: unsupported "
            "format character 'b' (0x62) at index 7 in section 'program:a' (file: "
            "'/srv/app/supervisord.conf')");
}

// ---- [program:x] errors (spec/config.md §5.6) ----------------------------------------------

struct ProgramErrorCase {
  const char* body;
  const char* message;
};

class ProgramErrorTest : public ConfigTest,
                         public ::testing::WithParamInterface<ProgramErrorCase> {};

TEST_P(ProgramErrorTest, MessageMatchesSupervisord) {
  EXPECT_EQ(program_error(GetParam().body),
            std::string(GetParam().message) +
                " in section 'program:a' (file: '/srv/app/supervisord.conf')");
}

INSTANTIATE_TEST_SUITE_P(
    Spec, ProgramErrorTest,
    ::testing::Values(
        ProgramErrorCase{"command=x\nautostart=maybe", "not a valid boolean value: 'maybe'"},
        ProgramErrorCase{"command=x\nautorestart=sometimes",
                         "invalid 'autorestart' value 'sometimes'"},
        ProgramErrorCase{"command=x\nstartsecs=abc",
                         "invalid literal for int() with base 10: 'abc'"},
        ProgramErrorCase{"command=x\nstopsignal=FOO", "value 'FOO' is not a valid signal name"},
        ProgramErrorCase{"command=x\nstopsignal=99", "value '99' is not a valid signal number"},
        ProgramErrorCase{"command=x\nexitcodes=0,256",
                         "not a valid list of exit codes: '0,256'"},
        ProgramErrorCase{"command=x\nexitcodes=a,b", "not a valid list of exit codes: 'a,b'"},
        ProgramErrorCase{"autostart=true", "program section program:a does not specify a command"},
        ProgramErrorCase{"command=x\nnumprocs=2",
                         "%(process_num) must be present within process_name when numprocs > 1"},
        ProgramErrorCase{"command=x\nstopasgroup=true\nkillasgroup=false",
                         "Cannot set stopasgroup=true and killasgroup=false"},
        ProgramErrorCase{"command=x\nuser=nosuchuser", "Invalid user name nosuchuser"},
        ProgramErrorCase{"command=x\nuser=99999", "Invalid user id 99999"},
        ProgramErrorCase{"command=x\numask=089", "089 can not be converted to an octal type"},
        ProgramErrorCase{"command=x\nstdout_logfile_maxbytes=10XB",
                         "invalid literal for int() with base 10: '10xb'"},
        ProgramErrorCase{"command=x\nstdout_logfile=/nonexist/dir/a.log",
                         "The directory named as part of the path /nonexist/dir/a.log does not "
                         "exist"},
        ProgramErrorCase{"command=x\nenvironment=A=1,B",
                         "Unexpected end of key/value pairs in value 'A=1,B'"},
        ProgramErrorCase{"command=x\nprocess_name=a:b",
                         "Invalid name: 'a:b' because of character: ':'"},
        ProgramErrorCase{"command=x\nredirect_stderr=2", "not a valid boolean value: '2'"}));

TEST_F(ConfigTest, PriorityErrorHasNoSuffix) {
  EXPECT_EQ(program_error("command=x\npriority=high"),
            "invalid literal for int() with base 10: 'high'");
}

TEST_F(ConfigTest, InvalidSectionNameHasNoSuffix) {
  EXPECT_EQ(error("[supervisord]\n[program:a b]\ncommand=x\n"),
            "Invalid name: 'a b' because of character: ' '");
}

TEST_F(ConfigTest, ErrorRenderAddsLine) {
  auto result = load("[supervisord]\n[program:a]\ncommand=x\nautostart=maybe\n",
                     "app/supervisord.conf");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].render(),
            "not a valid boolean value: 'maybe' in section 'program:a' "
            "(file: 'app/supervisord.conf', line 4)");
}

TEST_F(ConfigTest, EveryErrorIsReported) {
  auto result = load(
      "[supervisord]\nloglevel=loud\n"
      "[program:a]\ncommand=x\nautostart=maybe\nstartsecs=abc\n"
      "[program:b]\nstopsignal=FOO\n");
  std::vector<std::string> texts;
  for (const auto& e : result.errors) {
    texts.push_back(e.render());
  }
  const std::string f = "'/srv/app/supervisord.conf'";
  EXPECT_THAT(texts, ElementsAre("bad logging level name 'loud' (file: " + f + ", line 2)",
                                 "not a valid boolean value: 'maybe' in section 'program:a' "
                                 "(file: " + f + ", line 5)",
                                 "invalid literal for int() with base 10: 'abc' in section "
                                 "'program:a' (file: " + f + ", line 6)",
                                 "value 'FOO' is not a valid signal name in section 'program:b' "
                                 "(file: " + f + ", line 8)",
                                 "program section program:b does not specify a command in "
                                 "section 'program:b' (file: " + f + ", line 7)"));
}

TEST_F(ConfigTest, NumprocsErrorsAreReportedOnce) {
  auto result = load(
      "[supervisord]\n[program:a]\ncommand=x\nnumprocs=3\nprocess_name=%(process_num)d\n"
      "stdout_logfile=/nonexist/%(process_num)d.log\n");
  // Three different paths: three errors. The same text is never repeated.
  EXPECT_EQ(result.errors.size(), 3u);
  auto again = load(
      "[supervisord]\n[program:a]\ncommand=x\nnumprocs=3\nprocess_name=%(process_num)d\n"
      "autostart=maybe\n");
  EXPECT_EQ(again.errors.size(), 1u);
}

// ---- [group:x] ----------------------------------------------------------------------------

TEST_F(ConfigTest, GroupSectionCollectsProgramsInListOrder) {
  const auto c = ok(
      "[supervisord]\n"
      "[group:gpu]\nprograms = zeta , alpha\npriority=5\n"
      "[program:alpha]\ncommand=a\npriority=7\n"
      "[program:zeta]\ncommand=z\npriority=1\n"
      "[program:solo]\ncommand=s\npriority=3\n");
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].name, "solo");  // priority 3 first
  EXPECT_EQ(c.groups[1].name, "gpu");
  EXPECT_TRUE(c.groups[1].from_group_section);
  EXPECT_EQ(c.groups[1].priority, 5);
  ASSERT_EQ(c.groups[1].processes.size(), 2u);
  EXPECT_EQ(c.groups[1].processes[0].name, "zeta");
  EXPECT_EQ(c.groups[1].processes[0].priority, 1);
  EXPECT_EQ(c.groups[1].processes[1].name, "alpha");
  EXPECT_EQ(c.groups[1].processes[1].group, "gpu");
}

TEST_F(ConfigTest, GroupsOrderedByPriorityThenName) {
  const auto c = ok(
      "[supervisord]\n[program:b]\ncommand=x\n[program:a]\ncommand=x\n"
      "[program:c]\ncommand=x\npriority=1\n");
  ASSERT_EQ(c.groups.size(), 3u);
  EXPECT_EQ(c.groups[0].name, "c");
  EXPECT_EQ(c.groups[1].name, "a");
  EXPECT_EQ(c.groups[2].name, "b");
}

TEST_F(ConfigTest, GroupUnknownMemberNamesPreviousSection) {
  EXPECT_EQ(error("[supervisord]\n[group:g]\nprograms=a,zz\n[program:a]\ncommand=x\n"),
            "[program:a] names unknown program or fcgi-program zz");
  EXPECT_EQ(error("[supervisord]\n[group:g]\nprograms=zz\n"),
            "[group:g] names unknown program or fcgi-program zz");
}

TEST_F(ConfigTest, GroupAmbiguousMember) {
  EXPECT_EQ(error("[supervisord]\n[group:g]\nprograms=a\n[program:a]\ncommand=x\n"
                  "[fcgi-program:a]\ncommand=x\nsocket=unix:///tmp/a.sock\n"),
            "[group:g] name a is ambiguous (exists as program and fcgi-program)");
}

// ---- [supervisord] ------------------------------------------------------------------------

TEST_F(ConfigTest, SupervisordDefaults) {
  const auto c = ok("[supervisord]\n");
  const auto& sd = c.supervisord;
  EXPECT_EQ(sd.logfile, "/srv/supervisord.log");  // absolute against the CWD
  EXPECT_EQ(sd.logfile_maxbytes, 50 * 1024 * 1024);
  EXPECT_EQ(sd.logfile_backups, 10);
  EXPECT_EQ(sd.loglevel, LogLevel::Info);
  EXPECT_EQ(sd.pidfile, "/srv/supervisord.pid");
  EXPECT_EQ(sd.umask, 022);
  EXPECT_FALSE(sd.nodaemon);
  EXPECT_FALSE(sd.silent);
  EXPECT_EQ(sd.minfds, 1024);
  EXPECT_EQ(sd.minprocs, 200);
  EXPECT_FALSE(sd.nocleanup);
  EXPECT_EQ(sd.childlogdir, "/tmp");
  EXPECT_EQ(sd.user, std::nullopt);
  EXPECT_EQ(sd.directory, std::nullopt);
  EXPECT_FALSE(sd.strip_ansi);
  EXPECT_TRUE(sd.environment.empty());
  EXPECT_EQ(sd.identifier, "supervisor");
  EXPECT_FALSE(c.unix_http_server.has_value());
  EXPECT_FALSE(c.inet_http_server.has_value());
  EXPECT_TRUE(c.groups.empty());
  EXPECT_EQ(c.here, "/srv/app");
}

TEST_F(ConfigTest, SupervisordEveryKeySet) {
  const auto c = ok(
      "[supervisord]\n"
      "logfile=%(here)s/main.log\nlogfile_maxbytes=1MB\nlogfile_backups=2\nloglevel=debug\n"
      "pidfile=/tmp/z.pid\numask=077\nnodaemon=true\nsilent=true\nminfds=4096\n"
      "minprocs=300\nnocleanup=true\nchildlogdir=/var/log\nuser=op\ndirectory=/srv\n"
      "strip_ansi=true\nenvironment=A=\"1\",B=2\nidentifier=gpu1\n");
  const auto& sd = c.supervisord;
  EXPECT_EQ(sd.logfile, "/srv/app/main.log");
  EXPECT_EQ(sd.logfile_maxbytes, 1024 * 1024);
  EXPECT_EQ(sd.logfile_backups, 2);
  EXPECT_EQ(sd.loglevel, LogLevel::Debug);
  EXPECT_EQ(sd.pidfile, "/tmp/z.pid");
  EXPECT_EQ(sd.umask, 077);
  EXPECT_TRUE(sd.nodaemon);
  EXPECT_TRUE(sd.silent);
  EXPECT_EQ(sd.minfds, 4096);
  EXPECT_EQ(sd.minprocs, 300);
  EXPECT_TRUE(sd.nocleanup);
  EXPECT_EQ(sd.childlogdir, "/var/log");
  EXPECT_EQ(sd.user, "op");
  EXPECT_EQ(sd.directory, "/srv");
  EXPECT_TRUE(sd.strip_ansi);
  EXPECT_THAT(sd.environment, ElementsAre(Pair("A", "1"), Pair("B", "2")));
  EXPECT_EQ(sd.identifier, "gpu1");
}

TEST_F(ConfigTest, SupervisordErrorsHaveNoSectionSuffix) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"loglevel=loud", "bad logging level name 'loud'"},
      {"loglevel=warning", "bad logging level name 'warning'"},
      {"minfds=big", "invalid literal for int() with base 10: 'big'"},
      {"directory=/nonexist", "/nonexist is not an existing directory"},
      {"childlogdir=/nonexist", "/nonexist is not an existing directory"},
      {"umask=8", "8 can not be converted to an octal type"},
      {"nodaemon=perhaps", "not a valid boolean value: 'perhaps'"},
      {"logfile=/nonexist/x.log",
       "The directory named as part of the path /nonexist/x.log does not exist"},
  };
  for (const auto& [line, message] : cases) {
    EXPECT_EQ(error("[supervisord]\n" + line + "\n"), message) << line;
  }
}

TEST_F(ConfigTest, SupervisordUserMustExist) {
  // supervisord compat: checked when options are realized, reported without a suffix.
  EXPECT_EQ(error("[supervisord]\nuser=nosuchuser\n"), "Invalid user name nosuchuser");
  EXPECT_EQ(error("[supervisord]\nuser=99999\n"), "Invalid user id 99999");
  overrides_.user = "ghost";
  EXPECT_EQ(error("[supervisord]\n"), "Invalid user name ghost");
}

// Bug: with an unknown user in both [supervisord] user= and [program:x] user=, the first error
// was the [supervisord] one. supervisord resolves a program's user while reading its section
// and checks its own user only in ServerOptions.realize(), after every section is read:
// `Error: Invalid user name django in section 'program:gunicorn' (file: '…')`, exit 2.
TEST_F(ConfigTest, UnknownUserInSupervisordAndProgramReportsTheProgramFirst) {
  const auto result = load(
      "[supervisord]\nuser=nosuchsupuser\n[program:gunicorn]\ncommand=/bin/true\n"
      "user=django\n");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].supervisord_text(),
            "Invalid user name django in section 'program:gunicorn' (file: "
            "'/srv/app/supervisord.conf')");
  EXPECT_EQ(result.errors[1].supervisord_text(), "Invalid user name nosuchsupuser");
  // The servers are read before the check too, and -u is checked at the same stage.
  overrides_.user = "ghost";
  const auto servers = load(
      "[supervisord]\n[unix_http_server]\nfile=/tmp/s.sock\nchown=nosuchchown\n");
  ASSERT_EQ(servers.errors.size(), 2u);
  EXPECT_EQ(servers.errors[0].supervisord_text(), "Invalid sockchown value nosuchchown");
  EXPECT_EQ(servers.errors[1].supervisord_text(), "Invalid user name ghost");
}

TEST_F(ConfigTest, MissingSupervisordSection) {
  EXPECT_EQ(error("[program:a]\ncommand=x\n"), ".ini file does not include supervisord section");
}

TEST_F(ConfigTest, MissingFile) {
  auto result = load_config("/srv/nope.conf", overrides_, host_);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].render(), "could not find config file /srv/nope.conf");
}

TEST_F(ConfigTest, IniSyntaxErrorIsReportedAsIs) {
  EXPECT_EQ(error("garbage line\n[supervisord]\n", "app/supervisord.conf"),
            "File contains no section headers.\nfile: 'app/supervisord.conf', line: 1\n"
            "'garbage line\\n'");
}

TEST_F(ConfigTest, OverridesWinOverConfig) {
  overrides_.nodaemon = true;
  overrides_.loglevel = LogLevel::Blather;
  overrides_.logfile = "rel.log";
  overrides_.identifier = "cli";
  const auto c = ok("[supervisord]\nnodaemon=false\nloglevel=info\nidentifier=conf\n");
  EXPECT_TRUE(c.supervisord.nodaemon);
  EXPECT_EQ(c.supervisord.loglevel, LogLevel::Blather);
  EXPECT_EQ(c.supervisord.logfile, "/srv/rel.log");
  EXPECT_EQ(c.supervisord.identifier, "cli");
}

// ---- servers and plugins ------------------------------------------------------------------

TEST_F(ConfigTest, UnixHttpServer) {
  const auto c = ok(
      "[supervisord]\n[unix_http_server]\nfile=%(here)s/../run/z.sock\nchmod=0770\n"
      "chown=nobody:op\nusername=u\npassword={SHA}abc\n");
  ASSERT_TRUE(c.unix_http_server.has_value());
  EXPECT_EQ(c.unix_http_server->file, "/srv/run/z.sock");
  EXPECT_EQ(c.unix_http_server->chmod, 0770);
  EXPECT_EQ(c.unix_http_server->chown_uid, 65534u);
  EXPECT_EQ(c.unix_http_server->chown_gid, 1000u);
  EXPECT_EQ(c.unix_http_server->username, "u");
}

TEST_F(ConfigTest, UnixHttpServerErrors) {
  EXPECT_EQ(error("[supervisord]\n[unix_http_server]\n"),
            "section [unix_http_server] has no file value");
  EXPECT_EQ(error("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchmod=999\n"),
            "Invalid chmod value 999");
  EXPECT_EQ(error("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchown=ghost\n"),
            "Invalid sockchown value ghost");
  EXPECT_EQ(error("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchown=op:ghosts\n"),
            "Invalid sockchown value op:ghosts");
  EXPECT_EQ(error("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nusername=u\n"),
            "Section [unix_http_server] contains incomplete authentication: If a username or a "
            "password is specified, both the username and password must be specified");
}

TEST_F(ConfigTest, ServerSectionValuesAreExpanded) {
  host_.set_env({{"HOME", "/home/op"}, {"MODE", "0770"}, {"WHO", "op"}});
  const auto c = ok(
      "[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchmod=%(ENV_MODE)s\n"
      "chown=%(ENV_WHO)s\nusername=%(ENV_WHO)s\npassword=x\n");
  EXPECT_EQ(c.unix_http_server->chmod, 0770);
  EXPECT_EQ(c.unix_http_server->chown_uid, 1000u);
  EXPECT_EQ(c.unix_http_server->chown_gid, std::nullopt);  // user alone: group unchanged
  EXPECT_EQ(c.unix_http_server->username, "op");
}

TEST_F(ConfigTest, InetHttpServer) {
  const auto c = ok("[supervisord]\n[inet_http_server]\nport=127.0.0.1:9001\n");
  ASSERT_TRUE(c.inet_http_server.has_value());
  EXPECT_EQ(c.inet_http_server->address.host, "127.0.0.1");
  EXPECT_EQ(c.inet_http_server->address.port, 9001);
  EXPECT_EQ(error("[supervisord]\n[inet_http_server]\n"),
            "section [inet_http_server] has no port value");
  EXPECT_EQ(error("[supervisord]\n[inet_http_server]\nport=abc\n"),
            "not a valid port number: 'abc' ");
  EXPECT_EQ(error("[supervisord]\n[inet_http_server]\nport=127.0.0.1:99999\n"),
            "99999 is above upper bound (65535)");
  EXPECT_EQ(error("[supervisord]\n[inet_http_server]\nport=99999\n"),
            "not a valid port number: '99999' ");
}

TEST_F(ConfigTest, RpcInterface) {
  const auto c = ok(
      "[supervisord]\n[rpcinterface:supervisor]\n"
      "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n");
  EXPECT_THAT(c.rpcinterfaces, ElementsAre("supervisor"));
  EXPECT_EQ(error("[supervisord]\n[rpcinterface:foo]\n"),
            "section [rpcinterface:foo] does not specify a supervisor.rpcinterface_factory");
  const auto other = ok(
      "[supervisord]\n[rpcinterface:twiddler]\nsupervisor.rpcinterface_factory = tw:make\n");
  EXPECT_TRUE(other.rpcinterfaces.empty());
  ASSERT_EQ(other.notes.size(), 1u);
  EXPECT_THAT(other.notes[0].text, HasSubstr("not supported"));
}

TEST_F(ConfigTest, EventListenerAndFcgiAreParsedAndReportedUnsupported) {
  const auto c = ok(
      "[supervisord]\n"
      "[eventlistener:memmon]\ncommand=memmon -a 200MB\nevents=TICK_60\n"
      "[fcgi-program:php]\ncommand=php-cgi\nsocket=unix:///tmp/php.sock\n");
  EXPECT_TRUE(c.groups.empty());
  ASSERT_EQ(c.notes.size(), 2u);
  EXPECT_THAT(c.notes[0].text, HasSubstr("[eventlistener:memmon]"));
  EXPECT_THAT(c.notes[0].text, HasSubstr("not supported yet"));
  EXPECT_THAT(c.notes[1].text, HasSubstr("[fcgi-program:php]"));
  // Their values are still checked, with supervisord's texts.
  EXPECT_EQ(error("[supervisord]\n[eventlistener:m]\ncommand=x\n"),
            "[eventlistener:m] section requires an \"events\" line");
  EXPECT_EQ(error("[supervisord]\n[eventlistener:m]\ncommand=x\nevents=TICK_5,BOGUS\n"),
            "Unknown event type BOGUS in [eventlistener:m] events");
  EXPECT_EQ(error("[supervisord]\n[eventlistener:m]\ncommand=x\nevents=tick_5\n"
                  "buffer_size=0\n"),
            "[eventlistener:m] section sets invalid buffer_size (0)");
  EXPECT_EQ(error("[supervisord]\n[eventlistener:m]\ncommand=x\nevents=TICK_5\n"
                  "redirect_stderr=true\n"),
            "[eventlistener:m] section sets redirect_stderr=true but this is not allowed "
            "because it will interfere with the eventlistener protocol");
  EXPECT_EQ(error("[supervisord]\n[fcgi-program:f]\ncommand=x\n"),
            "[fcgi-program:f] section requires a \"socket\" line");
  EXPECT_EQ(error("[supervisord]\n[eventlistener:m]\ncommand=x\nevents=TICK_5\n"
                  "autostart=maybe\n"),
            "not a valid boolean value: 'maybe' in section 'eventlistener:m' "
            "(file: '/srv/app/supervisord.conf')");
}

// ---- [include] ----------------------------------------------------------------------------

TEST_F(ConfigTest, IncludeGlobsRelativeToMainFileSortedWithOwnHere) {
  host_.add_file("/srv/app/conf.d/b.conf", "[program:b]\ncommand=%(here)s/b\n");
  host_.add_file("/srv/app/conf.d/a.conf", "[program:a]\ncommand=%(here)s/a\n");
  host_.add_file("/srv/app/sub/other.ini", "[program:c]\ncommand=%(here)s/c\n");
  host_.set_cwd("/");
  const auto c = ok("[supervisord]\n[include]\nfiles = conf.d/*.conf\n  sub/*.ini nomatch/*.x\n");
  EXPECT_THAT(c.included_files, ElementsAre("/srv/app/conf.d/a.conf", "/srv/app/conf.d/b.conf",
                                            "/srv/app/sub/other.ini"));
  ASSERT_NE(c.find_process("a", "a"), nullptr);
  EXPECT_EQ(c.find_process("a", "a")->command, "/srv/app/conf.d/a");
  EXPECT_EQ(c.find_process("c", "c")->command, "/srv/app/sub/c");
  std::vector<std::string> texts;
  for (const auto& n : c.notes) {
    texts.push_back(std::string(log_level_tag(n.level)) + " " + n.text);
  }
  EXPECT_THAT(texts,
              ElementsAre("INFO Included extra file \"/srv/app/conf.d/a.conf\" during parsing",
                          "INFO Included extra file \"/srv/app/conf.d/b.conf\" during parsing",
                          "INFO Included extra file \"/srv/app/sub/other.ini\" during parsing",
                          "WARN No file matches via include \"/srv/app/nomatch/*.x\""));
}

TEST_F(ConfigTest, IncludedFileOverridesKeysAndErrorsNameIt) {
  host_.add_file("/etc/zagent/over.conf", "[program:a]\nstartsecs=7\n");
  const auto c = ok("[supervisord]\n[include]\nfiles=/etc/zagent/over.conf\n"
                    "[program:a]\ncommand=x\nstartsecs=1\n");
  EXPECT_EQ(only_process(c).startsecs, 7);

  host_.add_file("/etc/zagent/bad.conf", "[program:b]\ncommand=x\nautostart=maybe\n");
  auto result = load("[supervisord]\n[include]\nfiles=/etc/zagent/bad.conf\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].render(),
            "not a valid boolean value: 'maybe' in section 'program:b' "
            "(file: '/etc/zagent/bad.conf', line 3)");
}

TEST_F(ConfigTest, HereInOtherSpellingsIsTheMainDirectory) {
  // supervisord compat: only the literal text %(here)s is replaced per file; %(here)r is
  // expanded later with the main file's directory.
  host_.add_file("/srv/app/conf.d/x.conf", "[program:x]\ncommand=run %(here)s %(here)r\n");
  const auto c = ok("[supervisord]\n[include]\nfiles=conf.d/x.conf\n");
  ASSERT_NE(c.find_process("x", "x"), nullptr);
  EXPECT_EQ(c.find_process("x", "x")->command, "run /srv/app/conf.d '/srv/app'");
}

TEST_F(ConfigTest, UnreadableIncludeIsSkippedWithWarning) {
  host_.add_unreadable("/srv/app/conf.d/secret.conf");
  const auto c = ok("[supervisord]\n[include]\nfiles=conf.d/*.conf\n");
  ASSERT_EQ(c.notes.size(), 2u);
  EXPECT_EQ(c.notes[1].text,
            "Included file \"/srv/app/conf.d/secret.conf\" (/srv/app/supervisord.conf:3) could "
            "not be read and is skipped");
}

TEST_F(ConfigTest, IncludesAreNotRecursive) {
  host_.add_file("/srv/app/one.conf", "[include]\nfiles=two.conf\n[program:one]\ncommand=x\n");
  host_.add_file("/srv/app/two.conf", "[program:two]\ncommand=x\n");
  const auto c = ok("[supervisord]\n[include]\nfiles=one.conf\n");
  EXPECT_NE(c.find_process("one", "one"), nullptr);
  EXPECT_EQ(c.find_process("two", "two"), nullptr);
}

TEST_F(ConfigTest, IncludeWithoutFiles) {
  EXPECT_EQ(error("[supervisord]\n[include]\n"),
            ".ini file has [include] section, but no files setting");
}

TEST_F(ConfigTest, IncludeExpandsEnvAndHostName) {
  host_.set_env({{"HOME", "/home/op"}, {"CONFD", "conf.d"}});
  host_.add_file("/srv/app/conf.d/gpu-box-1.conf", "[program:x]\ncommand=x\n");
  const auto c = ok("[supervisord]\n[include]\nfiles=%(ENV_CONFD)s/%(host_node_name)s.conf\n");
  EXPECT_NE(c.find_process("x", "x"), nullptr);
}

// ---- JSON dump ----------------------------------------------------------------------------

TEST_F(ConfigTest, JsonDumpHasEveryProgramKey) {
  const auto c = ok("[supervisord]\n[program:a]\ncommand=x\nstopsignal=KILL\numask=022\n");
  const auto j = config_to_json(c);
  const auto& p = j["groups"][0]["processes"][0];
  for (const char* key :
       {"name", "group", "program_name", "process_num", "numprocs", "command", "directory",
        "umask", "priority", "autostart", "autorestart", "startsecs", "startretries",
        "exitcodes", "stopsignal", "stopwaitsecs", "stopasgroup", "killasgroup", "user",
        "redirect_stderr", "stdout_logfile", "stdout_logfile_maxbytes",
        "stdout_logfile_backups", "stdout_capture_maxbytes", "stdout_events_enabled",
        "stdout_syslog", "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups",
        "stderr_capture_maxbytes", "stderr_events_enabled", "stderr_syslog", "environment",
        "serverurl"}) {
    EXPECT_TRUE(p.contains(key)) << key;
  }
  EXPECT_EQ(p["stopsignal"], "SIGKILL");
  EXPECT_EQ(p["umask"], "0022");
  EXPECT_EQ(p["autorestart"], "unexpected");
  EXPECT_EQ(p["stdout_logfile"], "AUTO");
  EXPECT_EQ(j["supervisord"]["loglevel"], "info");
}

TEST_F(ConfigTest, JsonDumpNeverShowsPasswords) {
  const auto c = ok("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nusername=u\npassword=pw\n");
  const auto text = config_to_json(c).dump();
  EXPECT_EQ(text.find("\"pw\""), std::string::npos);
  EXPECT_NE(text.find("password_set"), std::string::npos);
}

// ---- zagent extensions: restart delay, backoff cap, crash-loop limit -----------------------

TEST_F(ConfigTest, RestartPolicyKeysDefaultToSupervisordBehaviour) {
  const auto p = only_process(ok("[supervisord]\n[program:web]\ncommand=/bin/web\n"));
  EXPECT_EQ(p.restart_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(p.restart_delay_max, std::chrono::milliseconds(0));
  EXPECT_EQ(p.crashloop_max_restarts, 0);
  EXPECT_EQ(p.crashloop_window_secs, 60);
}

TEST_F(ConfigTest, RestartPolicyKeysAreParsedAndKnown) {
  host_.set_env({{"WINDOW", "120"}});
  const auto c =
      ok("[supervisord]\n[program:web]\ncommand=/bin/web\nnumprocs=2\n"
         "process_name=web%(process_num)d\n"
         "restart_delay = 0.5\nrestart_delay_max=30\ncrashloop_max_restarts=5\n"
         "crashloop_window_secs=%(ENV_WINDOW)s\n");
  EXPECT_TRUE(c.notes.empty()) << c.notes.front().text;  // not "unknown key"
  ASSERT_EQ(c.groups.size(), 1u);
  ASSERT_EQ(c.groups[0].processes.size(), 2u);
  for (const auto& p : c.groups[0].processes) {
    EXPECT_EQ(p.restart_delay, std::chrono::milliseconds(500));
    EXPECT_EQ(p.restart_delay_max, std::chrono::seconds(30));
    EXPECT_EQ(p.crashloop_max_restarts, 5);
    EXPECT_EQ(p.crashloop_window_secs, 120);
  }
}

TEST_F(ConfigTest, RestartDelaySecondsForms) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"0", 0},         {"5", 5000},
      {" 2 ", 2000},    {"0.25", 250},
      {".5", 500},      {"5.", 5000},
      {"1.2345", 1234}, {"-0", 0},
      {"007", 7000},    {"1000000000", 1'000'000'000'000},
  };
  for (const auto& [text, millis] : cases) {
    SCOPED_TRACE(text);
    const auto p = only_process(
        ok(std::string("[supervisord]\n[program:a]\ncommand=x\nrestart_delay=") + text + "\n"));
    EXPECT_EQ(p.restart_delay.count(), millis);
  }
}

TEST_F(ConfigTest, RestartDelayMaxWithoutRestartDelayIsNoted) {
  const auto c = ok("[supervisord]\n[program:a]\ncommand=x\nrestart_delay_max=10\n");
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_EQ(c.notes[0].level, LogLevel::Warn);
  EXPECT_EQ(c.notes[0].text,
            "For [program:a], restart_delay_max has no effect without restart_delay > 0");
}

INSTANTIATE_TEST_SUITE_P(
    RestartPolicy, ProgramErrorTest,
    ::testing::Values(
        ProgramErrorCase{"command=x\nrestart_delay=abc",
                         "invalid value for restart_delay: 'abc' (seconds expected)"},
        ProgramErrorCase{"command=x\nrestart_delay=-1",
                         "invalid value for restart_delay: '-1' (must not be negative)"},
        ProgramErrorCase{"command=x\nrestart_delay=-0.5",
                         "invalid value for restart_delay: '-0.5' (must not be negative)"},
        ProgramErrorCase{"command=x\nrestart_delay=1e3",
                         "invalid value for restart_delay: '1e3' (seconds expected)"},
        ProgramErrorCase{"command=x\nrestart_delay=.",
                         "invalid value for restart_delay: '.' (seconds expected)"},
        ProgramErrorCase{"command=x\nrestart_delay=1.2.3",
                         "invalid value for restart_delay: '1.2.3' (seconds expected)"},
        ProgramErrorCase{"command=x\nrestart_delay=",
                         "invalid value for restart_delay: '' (seconds expected)"},
        ProgramErrorCase{"command=x\nrestart_delay=1000000000.5",
                         "invalid value for restart_delay: '1000000000.5' (at most 1000000000 "
                         "seconds)"},
        ProgramErrorCase{"command=x\nrestart_delay_max=99999999999999999999",
                         "invalid value for restart_delay_max: '99999999999999999999' (at most "
                         "1000000000 seconds)"},
        ProgramErrorCase{"command=x\nrestart_delay_max=-2",
                         "invalid value for restart_delay_max: '-2' (must not be negative)"},
        ProgramErrorCase{"command=x\ncrashloop_max_restarts=many",
                         "invalid literal for int() with base 10: 'many'"},
        ProgramErrorCase{"command=x\ncrashloop_max_restarts=-1",
                         "invalid value for crashloop_max_restarts: '-1' (must not be negative)"},
        ProgramErrorCase{"command=x\ncrashloop_max_restarts=10001",
                         "invalid value for crashloop_max_restarts: '10001' (at most 10000)"},
        ProgramErrorCase{"command=x\ncrashloop_window_secs=0",
                         "invalid value for crashloop_window_secs: '0' (must be at least 1)"},
        ProgramErrorCase{"command=x\ncrashloop_window_secs=1.5",
                         "invalid literal for int() with base 10: '1.5'"}));

TEST_F(ConfigTest, RestartPolicyErrorRenderNamesTheLine) {
  auto result = load("[supervisord]\n[program:a]\ncommand=x\nrestart_delay=-1\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].render(),
            "invalid value for restart_delay: '-1' (must not be negative) in section "
            "'program:a' (file: '/srv/app/supervisord.conf', line 4)");
}

TEST_F(ConfigTest, JsonDumpHasRestartPolicyKeys) {
  const auto defaults = config_to_json(ok("[supervisord]\n[program:a]\ncommand=x\n"));
  const auto& d = defaults["groups"][0]["processes"][0];
  EXPECT_EQ(d["restart_delay"].dump(), "0");
  EXPECT_EQ(d["restart_delay_max"].dump(), "0");
  EXPECT_EQ(d["crashloop_max_restarts"].dump(), "0");
  EXPECT_EQ(d["crashloop_window_secs"].dump(), "60");

  const auto set = config_to_json(
      ok("[supervisord]\n[program:a]\ncommand=x\nrestart_delay=0.5\nrestart_delay_max=30\n"
         "crashloop_max_restarts=4\ncrashloop_window_secs=90\n"));
  const auto& p = set["groups"][0]["processes"][0];
  EXPECT_EQ(p["restart_delay"].dump(), "0.5");
  EXPECT_EQ(p["restart_delay_max"].dump(), "30");
  EXPECT_EQ(p["crashloop_max_restarts"].dump(), "4");
  EXPECT_EQ(p["crashloop_window_secs"].dump(), "90");
}

TEST_F(ConfigTest, ChangedRestartPolicyChangesTheProcessConfig) {
  // reread/update compare ProcessConfig values: a changed key is a changed program.
  const auto a = only_process(ok("[supervisord]\n[program:a]\ncommand=x\n"));
  const auto b = only_process(ok("[supervisord]\n[program:a]\ncommand=x\nrestart_delay=1\n"));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace zagent
