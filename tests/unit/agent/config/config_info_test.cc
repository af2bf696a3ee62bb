#include "agent/config/config_info.h"

#include <gtest/gtest.h>

#include "tests/support/fake_config_host.h"

namespace zagent {
namespace {

using Json = nlohmann::json;

class ConfigInfoTest : public ::testing::Test {
 protected:
  AgentConfig load(const std::string& text) {
    host_.add_file("/srv/app/supervisord.conf", "[supervisord]\n" + text);
    auto result = load_config("/srv/app/supervisord.conf", {}, host_);
    for (const auto& e : result.errors) {
      ADD_FAILURE() << e.render();
    }
    return result.config.value_or(AgentConfig{});
  }

  test::FakeConfigHost host_;
};

// The dicts below are what supervisor.getAllConfigInfo (agent/rpc/methods.cc) returned for
// these configs before it was built from the program-key table.

TEST_F(ConfigInfoTest, PathsUserAndServerurlAsGiven) {
  const auto c = load(
      "[program:web]\ncommand=/bin/web --port 80\nautostart=false\npriority=5\n"
      "stdout_logfile=/var/log/web.out\nstderr_logfile=NONE\nexitcodes=0,2\n"
      "stopsignal=INT\ndirectory=/srv\nuser=op\nserverurl=unix:///tmp/s.sock\n");
  ASSERT_EQ(c.groups.size(), 1u);
  const std::string real = "/ignored/because/not/auto.log";
  EXPECT_EQ(process_config_info(c.groups[0], c.groups[0].processes[0], true, &real, &real),
            Json({{"autostart", false},
                  {"directory", "/srv"},
                  {"uid", 1000},
                  {"command", "/bin/web --port 80"},
                  {"exitcodes", {0, 2}},
                  {"group", "web"},
                  {"group_prio", 5},
                  {"inuse", true},
                  {"killasgroup", false},
                  {"name", "web"},
                  {"process_prio", 5},
                  {"redirect_stderr", false},
                  {"startretries", 3},
                  {"startsecs", 1},
                  {"stdout_capture_maxbytes", 0},
                  {"stdout_events_enabled", false},
                  {"stdout_logfile", "/var/log/web.out"},
                  {"stdout_logfile_backups", 10},
                  {"stdout_logfile_maxbytes", 10 * 1024 * 1024},
                  {"stdout_syslog", false},
                  {"stopsignal", 2},
                  {"stopwaitsecs", 10},
                  {"stderr_capture_maxbytes", 0},
                  {"stderr_events_enabled", false},
                  {"stderr_logfile", "none"},
                  {"stderr_logfile_backups", 10},
                  {"stderr_logfile_maxbytes", 10 * 1024 * 1024},
                  {"stderr_syslog", false},
                  {"serverurl", "unix:///tmp/s.sock"}}));
}

TEST_F(ConfigInfoTest, AutoLogsShowTheRealFileOnlyWhenKnown) {
  const auto c = load("[program:auto]\ncommand=/bin/auto\n");
  const GroupConfig& g = c.groups.at(0);
  const std::string real = "/auto/auto-stdout.log";
  const std::string empty;
  const Json active = process_config_info(g, g.processes.at(0), true, &real, &empty);
  EXPECT_EQ(active, Json({{"autostart", true},
                          {"directory", "none"},
                          {"uid", "none"},
                          {"command", "/bin/auto"},
                          {"exitcodes", {0}},
                          {"group", "auto"},
                          {"group_prio", 999},
                          {"inuse", true},
                          {"killasgroup", false},
                          {"name", "auto"},
                          {"process_prio", 999},
                          {"redirect_stderr", false},
                          {"startretries", 3},
                          {"startsecs", 1},
                          {"stdout_capture_maxbytes", 0},
                          {"stdout_events_enabled", false},
                          {"stdout_logfile", "/auto/auto-stdout.log"},
                          {"stdout_logfile_backups", 10},
                          {"stdout_logfile_maxbytes", 10 * 1024 * 1024},
                          {"stdout_syslog", false},
                          {"stopsignal", 15},
                          {"stopwaitsecs", 10},
                          {"stderr_capture_maxbytes", 0},
                          {"stderr_events_enabled", false},
                          {"stderr_logfile", "auto"},
                          {"stderr_logfile_backups", 10},
                          {"stderr_logfile_maxbytes", 10 * 1024 * 1024},
                          {"stderr_syslog", false},
                          {"serverurl", "none"}}));
  const Json inactive = process_config_info(g, g.processes.at(0), false, nullptr, nullptr);
  EXPECT_EQ(inactive["inuse"], false);
  EXPECT_EQ(inactive["stdout_logfile"], "auto");
  EXPECT_EQ(inactive["stderr_logfile"], "auto");
}

TEST_F(ConfigInfoTest, GroupMemberWithSyslogAndRedirectedStderr) {
  const auto c = load(
      "[group:g]\nprograms=w\npriority=7\n"
      "[program:w]\ncommand=/bin/w %(process_num)s\nprocess_name=w_%(process_num)s\n"
      "numprocs=2\nnumprocs_start=1\nredirect_stderr=true\nstdout_logfile=syslog\n"
      "stdout_logfile_maxbytes=1KB\nstdout_logfile_backups=0\nstderr_capture_maxbytes=2KB\n"
      "stdout_events_enabled=true\nkillasgroup=true\nstopsignal=KILL\nstopwaitsecs=3\n"
      "startsecs=0\nstartretries=9\nuser=nobody\nserverurl=AUTO\n");
  const GroupConfig& g = c.groups.at(0);
  ASSERT_EQ(g.processes.size(), 2u);
  EXPECT_EQ(process_config_info(g, g.processes[1], true, nullptr, nullptr),
            Json({{"autostart", true},
                  {"directory", "none"},
                  {"uid", 65534},
                  {"command", "/bin/w 2"},
                  {"exitcodes", {0}},
                  {"group", "g"},
                  {"group_prio", 7},
                  {"inuse", true},
                  {"killasgroup", true},
                  {"name", "w_2"},
                  {"process_prio", 999},
                  {"redirect_stderr", true},
                  {"startretries", 9},
                  {"startsecs", 0},
                  {"stdout_capture_maxbytes", 0},
                  {"stdout_events_enabled", true},
                  {"stdout_logfile", "none"},
                  {"stdout_logfile_backups", 0},
                  {"stdout_logfile_maxbytes", 1024},
                  {"stdout_syslog", true},
                  {"stopsignal", 9},
                  {"stopwaitsecs", 3},
                  {"stderr_capture_maxbytes", 2048},
                  {"stderr_events_enabled", false},
                  {"stderr_logfile", "none"},
                  {"stderr_logfile_backups", 10},
                  {"stderr_logfile_maxbytes", 10 * 1024 * 1024},
                  {"stderr_syslog", false},
                  {"serverurl", "none"}}));
}

}  // namespace
}  // namespace zagent
