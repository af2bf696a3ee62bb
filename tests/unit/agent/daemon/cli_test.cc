#include "agent/daemon/cli.h"

#include <gtest/gtest.h>

namespace zagent {
namespace {

std::string cli_error(const std::vector<std::string>& args) {
  auto r = parse_agent_cli(args);
  EXPECT_FALSE(r.has_value());
  return r ? "" : r.error().message;
}

TEST(AgentCli, NoArguments) {
  auto r = parse_agent_cli({});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->config_path.has_value());
  EXPECT_FALSE(r->check);
  EXPECT_FALSE(r->overrides.nodaemon.has_value());
}

TEST(AgentCli, EveryOption) {
  auto r = parse_agent_cli({"-c", "/etc/z.conf", "-n", "-s", "-u", "op", "-m", "077", "-d",
                            "/srv", "-l", "main.log", "-y", "5MB", "-z", "3", "-e", "debug",
                            "-j", "z.pid", "-i", "gpu", "-q", "/var/log", "-k", "-a", "2048",
                            "-t", "--minprocs", "300", "--check"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config_path, "/etc/z.conf");
  const auto& o = r->overrides;
  EXPECT_EQ(o.nodaemon, true);
  EXPECT_EQ(o.silent, true);
  EXPECT_EQ(o.user, "op");
  EXPECT_EQ(o.umask, 077);
  EXPECT_EQ(o.directory, "/srv");
  EXPECT_EQ(o.logfile, "main.log");
  EXPECT_EQ(o.logfile_maxbytes, 5 * 1024 * 1024);
  EXPECT_EQ(o.logfile_backups, 3);
  EXPECT_EQ(o.loglevel, LogLevel::Debug);
  EXPECT_EQ(o.pidfile, "z.pid");
  EXPECT_EQ(o.identifier, "gpu");
  EXPECT_EQ(o.childlogdir, "/var/log");
  EXPECT_EQ(o.nocleanup, true);
  EXPECT_EQ(o.minfds, 2048);
  EXPECT_EQ(o.strip_ansi, true);
  EXPECT_EQ(o.minprocs, 300);
  EXPECT_TRUE(r->check);
}

TEST(AgentCli, LongForms) {
  auto r = parse_agent_cli({"--configuration=/a.conf", "--nodaemon", "--loglevel", "warn",
                            "--dump-config"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config_path, "/a.conf");
  EXPECT_EQ(r->overrides.loglevel, LogLevel::Warn);
  EXPECT_TRUE(r->dump_config);
}

TEST(AgentCli, HelpAndVersion) {
  EXPECT_TRUE(parse_agent_cli({"-h"})->help);
  EXPECT_TRUE(parse_agent_cli({"-?"})->help);
  EXPECT_TRUE(parse_agent_cli({"--version"})->version);
  EXPECT_NE(agent_usage("/usr/bin/zagent").find("Usage: /usr/bin/zagent [options]"),
            std::string::npos);
}

TEST(AgentCli, SupervisordUsageErrors) {
  EXPECT_EQ(cli_error({"--bogus"}), "option --bogus not recognized");
  EXPECT_EQ(cli_error({"-x"}), "option -x not recognized");
  EXPECT_EQ(cli_error({"extra"}), "positional arguments are not supported: ['extra']");
  EXPECT_EQ(cli_error({"-n", "-n"}), "conflicting command line option '-n'");
  EXPECT_EQ(cli_error({"-c", "a", "-c", "b"}), "conflicting command line option '-c'");
  EXPECT_EQ(cli_error({"-m", "8"}),
            "invalid value for -m '8': 8 can not be converted to an octal type");
  EXPECT_EQ(cli_error({"-e", "loud"}), "invalid value for -e 'loud': bad logging level name 'loud'");
  EXPECT_EQ(cli_error({"-y", "1.5MB"}),
            "invalid value for -y '1.5MB': invalid literal for int() with base 10: '1.5'");
  EXPECT_EQ(cli_error({"--minprocs", "x"}),
            "invalid value for --minprocs 'x': invalid literal for int() with base 10: 'x'");
}

}  // namespace
}  // namespace zagent
