// End-to-end: the real zagent and zctl binaries on configs in a temp dir.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kZagent = ZAGENT_BIN;
const std::string kZctl = ZCTL_BIN;

constexpr const char* kGood =
    "[supervisord]\n"
    "logfile=%(here)s/z.log\n"
    "[program:web]\n"
    "command=/bin/sleep 100\n"
    "[program:worker]\n"
    "command=/bin/sleep 100\n"
    "process_name=w%(process_num)d\n"
    "numprocs=2\n";

TEST(ZagentCheck, ValidConfigPrintsSummary) {
  TempDir dir;
  const auto conf = dir.write("z.conf", kGood);
  const auto r = run({kZagent, "-c", conf, "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, conf + ": OK: 2 groups, 3 processes\n");
  EXPECT_EQ(r.err, "");
}

TEST(ZagentCheck, EveryErrorWithFileAndLineExit2) {
  TempDir dir;
  dir.write("z.conf",
            "[supervisord]\n"
            "loglevel=loud\n"
            "[program:a]\n"
            "command=x\n"
            "autostart=maybe\n"
            "[program:b]\n"
            "command=x\n"
            "stopsignal=FOO\n");
  RunOptions options;
  options.cwd = dir.path().string();
  const auto r = run({kZagent, "-c", "z.conf", "--check"}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Error: bad logging level name 'loud' (file: 'z.conf', line 2)\n"
            "Error: not a valid boolean value: 'maybe' in section 'program:a' "
            "(file: 'z.conf', line 5)\n"
            "Error: value 'FOO' is not a valid signal name in section 'program:b' "
            "(file: 'z.conf', line 8)\n"
            "For help, use " + kZagent + " -h\n");
}

TEST(ZagentCheck, IniSyntaxErrorMatchesSupervisord) {
  TempDir dir;
  dir.write("z.conf", "[supervisord]\nfoo\n[program:a]\ncommand=x\nbar\n");
  RunOptions options;
  options.cwd = dir.path().string();
  const auto r = run({kZagent, "-c", "z.conf", "--check"}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "Error: Source contains parsing errors: 'z.conf'\n"
            "\t[line  2]: 'foo\\n'\n"
            "\t[line  5]: 'bar\\n'\n"
            "For help, use " + kZagent + " -h\n");
}

TEST(ZagentCheck, WarningsGoToStderr) {
  TempDir dir;
  const auto conf = dir.write("z.conf",
                              "[supervisord]\n[include]\nfiles=conf.d/*.conf\n"
                              "[program:a]\ncommand=x\nstdout_logfile_maxbytes=0\n");
  const auto r = run({kZagent, "-c", conf, "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "WARN No file matches via include \"" + dir.file("conf.d/*.conf") + "\"\n"
            "WARN For [program:a], AUTO logging used for stdout_logfile without rollover, set "
            "maxbytes > 0 to avoid filling up filesystem unintentionally\n");
}

TEST(ZagentCheck, IncludedFilesAreRead) {
  TempDir dir;
  dir.write("conf.d/b.conf", "[program:b]\ncommand=%(here)s/b\n");
  dir.write("conf.d/a.conf", "[program:a]\ncommand=x\nautostart=nope\n");
  const auto conf = dir.write("z.conf", "[supervisord]\n[include]\nfiles=conf.d/*.conf\n");
  const auto r = run({kZagent, "-c", conf, "--check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Error: not a valid boolean value: 'nope' in section 'program:a' "
                               "(file: '" + dir.file("conf.d/a.conf") + "', line 3)\n"));
}

TEST(ZagentCheck, DumpConfigIsTheResolvedModel) {
  TempDir dir;
  const auto conf = dir.write("z.conf", kGood);
  const auto r = run({kZagent, "-c", conf, "--dump-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["supervisord"]["logfile"], dir.file("z.log"));
  ASSERT_EQ(j["groups"].size(), 2u);
  EXPECT_EQ(j["groups"][1]["name"], "worker");
  EXPECT_EQ(j["groups"][1]["processes"][1]["name"], "w1");
  EXPECT_EQ(j["groups"][1]["processes"][1]["stdout_logfile_maxbytes"], 10485760);
}

TEST(ZagentCheck, MissingConfigFile) {
  const auto r = run({kZagent, "-c", "/nonexistent/z.conf", "--check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "Error: could not find config file /nonexistent/z.conf\nFor help, use " +
                       kZagent + " -h\n");
}

TEST(ZagentCheck, SearchFindsZagentConfInCwd) {
  TempDir dir;
  dir.write("zagent.conf", kGood);
  RunOptions options;
  options.cwd = dir.path().string();
  const auto r = run({kZagent, "--check"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "zagent.conf: OK: 2 groups, 3 processes\n");
}

TEST(ZagentCli, UsageErrorsMatchSupervisord) {
  const std::string help = "For help, use " + kZagent + " -h\n";
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "Error: option --bogus not recognized\n"},
      {{"extra"}, "Error: positional arguments are not supported: ['extra']\n"},
      {{"-n", "-n"}, "Error: conflicting command line option '-n'\n"},
      {{"-m", "8"}, "Error: invalid value for -m '8': 8 can not be converted to an octal type\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {kZagent};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const auto r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_EQ(r.err, c.err + help) << c.args[0];
  }
}

TEST(ZagentCli, HelpAndVersion) {
  const auto h = run({kZagent, "-h"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_THAT(h.out, StartsWith("zagent -- run a set of applications as daemons.\n\nUsage: " +
                                kZagent + " [options]\n"));
  const auto v = run({kZagent, "-v"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "0.1.0\n");
}

TEST(ZagentCheck, ExampleConfigsAreValid) {
  TempDir dir;
  for (const char* name : {"demo.conf", "ai-image-service.conf"}) {
    std::filesystem::copy_file(std::filesystem::path(ZAGENT_EXAMPLES) / name, dir.path() / name);
  }
  std::filesystem::create_directory(dir.path() / "run");
  RunOptions options;
  options.extra_env = {"ZAGENT_BUILD=/opt/zagent/build"};  // set by scripts/run-demo.sh
  for (const char* name : {"demo.conf", "ai-image-service.conf"}) {
    const auto r = run({kZagent, "-c", dir.file(name), "--check"}, options);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.err, "") << name;
  }
}

TEST(Zctl, UsageErrors) {
  TempDir dir;
  const auto bad_url = run({kZctl, "-s", "bogus", "status"});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_EQ(bad_url.err, "Error: invalid value for -s 'bogus': value 'bogus' is not a URL\n"
                         "For help, use " + kZctl + " -h\n");
  const auto missing = run({kZctl, "-c", "/nonexistent.conf", "status"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "Error: could not find config file /nonexistent.conf\nFor help, use " +
                             kZctl + " -h\n");
  const auto conf = dir.write("z.conf", "[supervisord]\n");
  const auto no_section = run({kZctl, "-c", conf, "status"});
  EXPECT_EQ(no_section.exit_code, 2);
  EXPECT_EQ(no_section.err, "Error: .ini file does not include supervisorctl section\n"
                            "For help, use " + kZctl + " -h\n");
  const auto help = run({kZctl, "-h"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Usage: " + kZctl + " [options] [action [arguments]]"));
}

}  // namespace
}  // namespace zagent::test
