// The config family: reloadConfig, add/remove/update of groups, getAllConfigInfo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

// ---- config -----------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, GetAllConfigInfo) {
  make(
      "[program:web]\ncommand=/bin/web --port 80\nautostart=false\npriority=5\n"
      "stdout_logfile=/var/log/web.out\nstderr_logfile=NONE\nexitcodes=0,2\n"
      "stopsignal=INT\ndirectory=/srv\nuser=op\nserverurl=unix:///tmp/s.sock\n"
      "[program:auto]\ncommand=/bin/auto\n");
  const Json all = call("supervisor.getAllConfigInfo")["result"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["name"], "auto");                             // sorted by name
  EXPECT_EQ(all[0]["stdout_logfile"], "/auto/auto-stdout.log");  // active: the real file
  EXPECT_EQ(all[0]["stderr_logfile"], "/auto/auto-stderr.log");
  EXPECT_EQ(all[0]["directory"], "none");
  EXPECT_EQ(all[0]["uid"], "none");
  EXPECT_EQ(all[0]["serverurl"], "none");
  EXPECT_EQ(all[1], Json({{"autostart", false},
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
                          {"stopsignal", SIGINT},
                          {"stopwaitsecs", 10},
                          {"stderr_capture_maxbytes", 0},
                          {"stderr_events_enabled", false},
                          {"stderr_logfile", "none"},
                          {"stderr_logfile_backups", 10},
                          {"stderr_logfile_maxbytes", 10 * 1024 * 1024},
                          {"stderr_syslog", false},
                          {"serverurl", "unix:///tmp/s.sock"}}));
  // A group of the last-read config that is not active: inuse false, AUTO shows 'auto'.
  rewrite("[program:auto]\ncommand=/bin/auto\n[program:later]\ncommand=/bin/later\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"later"}, Json::array(), {"web"}}}));
  const Json next = call("supervisor.getAllConfigInfo")["result"];
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[1]["name"], "later");
  EXPECT_EQ(next[1]["inuse"], false);
  EXPECT_EQ(next[1]["stdout_logfile"], "auto");
  EXPECT_EQ(next[0]["inuse"], true);
}

TEST_F(RpcMethodsTest, ReloadConfigReportsAddedChangedRemoved) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\n"
       "[program:old]\ncommand=/bin/old\nautostart=false\n");
  rewrite(kWeb +
          "[program:db]\ncommand=/bin/db --new\nautostart=false\n"
          "[program:new2]\ncommand=/bin/n\nautostart=false\n"
          "[program:new1]\ncommand=/bin/n\nautostart=false\n");
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{{"new1", "new2"}, {"db"}, {"old"}}}));
  // Nothing was started or stopped.
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
  EXPECT_NE(supervisor_->find_group("old"), nullptr);
  // Nothing changed: three empty arrays.
  make(kWeb);
  rewrite(kWeb);
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, ReloadConfigCantReread) {
  make(kWeb);
  rewrite("[program:bad]\ncommand=/bin/bad\nautostart=maybe\n");
  ASSERT_FALSE(control_.next_load.config);
  Json expected = F(92,
                    "CANT_REREAD: not a valid boolean value: 'maybe' in section 'program:bad' "
                    "(file: '/srv/z.conf')");
  expected["error"]["data"] = {
      {"errors",
       {"not a valid boolean value: 'maybe' in section 'program:bad' (file: '/srv/z.conf', "
        "line 5)"}}};
  EXPECT_EQ(call("supervisor.reloadConfig"), expected);
  // The stored config is unchanged: bad is unknown to addProcessGroup.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"bad"}), F(10, "BAD_NAME: bad"));
}

TEST_F(RpcMethodsTest, AddProcessGroup) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"web"}), F(90, "ALREADY_ADDED: web"));
  rewrite(kWeb +
          "[program:new]\ncommand=/bin/new\n"
          "[program:idle]\ncommand=/bin/idle\nautostart=false\n");
  // Only the stored (last-read) config is used: before reloadConfig, new is unknown.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"idle", "new"}, Json::array(), Json::array()}}));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), R(true));
  // Autostart ran for the new group; its AUTO logs were created.
  EXPECT_EQ(state("new"), ProcessState::Starting);
  ASSERT_EQ(spawner_.fake.spawned.size(), 1u);
  EXPECT_EQ(spawner_.fake.spawned[0].name, "new");
  EXPECT_EQ(spawner_.fake.spawned[0].stdout_log.path, "/auto/new-stdout.log");
  EXPECT_THAT(control_.auto_log_groups, ElementsAre("new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"new"}), F(90, "ALREADY_ADDED: new"));
  EXPECT_EQ(call("supervisor.addProcessGroup", {"idle"}), R(true));
  EXPECT_EQ(state("idle"), ProcessState::Stopped);
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, RemoveProcessGroup) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  start_running("web");
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(91, "STILL_RUNNING: web"));
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(91, "STILL_RUNNING: web"));
  child_exit("web", killed_by(SIGTERM));
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), R(true));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"}), F(10, "BAD_NAME: web"));
  EXPECT_EQ(call("supervisor.removeProcessGroup", {"web"}), F(10, "BAD_NAME: web"));
  // Still in the stored config: it can be added again.
  EXPECT_EQ(call("supervisor.addProcessGroup", {"web"}), R(true));
}

TEST_F(RpcMethodsTest, UpdateProcessGroupRestartsOnlyChangedPrograms) {
  const std::string head = "[group:g]\nprograms=same,changed,gone\n";
  make(head +
       "[program:same]\ncommand=/bin/same\nstartsecs=0\n"
       "[program:changed]\ncommand=/bin/changed\nstartsecs=0\n"
       "[program:gone]\ncommand=/bin/gone\nstartsecs=0\n");
  supervisor_->start();
  ASSERT_EQ(state("g", "same"), ProcessState::Running);
  const pid_t same = live_pid("g", "same");
  const pid_t changed = live_pid("g", "changed");
  rewrite(
      "[group:g]\nprograms=same,changed,fresh\n"
      "[program:same]\ncommand=/bin/same\nstartsecs=0\n"
      "[program:changed]\ncommand=/bin/changed --v2\nstartsecs=0\n"
      "[program:fresh]\ncommand=/bin/fresh\nstartsecs=0\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), {"g"}, Json::array()}}));
  EXPECT_EQ(call("zagent.updateProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  auto reply = call_async("zagent.updateProcessGroup", {"g"});
  EXPECT_FALSE(reply->has_value());
  EXPECT_EQ(state("g", "changed"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "gone"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "same"), ProcessState::Running);
  control_.run_posted();
  EXPECT_FALSE(reply->has_value());  // waits for both exits
  child_exit("changed", killed_by(SIGTERM));
  EXPECT_FALSE(reply->has_value());
  child_exit("gone", killed_by(SIGTERM));
  ASSERT_EQ(*reply, R(true));
  EXPECT_EQ(live_pid("g", "same"), same);
  EXPECT_EQ(state("g", "same"), ProcessState::Running);
  EXPECT_EQ(state("g", "changed"), ProcessState::Running);
  EXPECT_NE(live_pid("g", "changed"), changed);
  EXPECT_EQ(spawner_.fake.spawned.back().name, "fresh");
  EXPECT_EQ(state("g", "fresh"), ProcessState::Running);
  EXPECT_EQ(supervisor_->find("g", "gone"), nullptr);
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:gone"}), F(10, "BAD_NAME: g:gone"));
  EXPECT_EQ(call("supervisor.reloadConfig"), R({{Json::array(), Json::array(), Json::array()}}));
}

TEST_F(RpcMethodsTest, UpdateProcessGroupFaults) {
  make(kWeb + "[program:db]\ncommand=/bin/db\nstartsecs=0\n");
  supervisor_->start();
  rewrite("[program:db]\ncommand=/bin/db --v2\nstartsecs=0\n[program:new]\ncommand=/bin/new\n");
  ASSERT_EQ(call("supervisor.reloadConfig"), R({{{"new"}, {"db"}, {"web"}}}));
  // Active but no longer in the stored config, or stored but not active.
  EXPECT_EQ(call("zagent.updateProcessGroup", {"web"}), F(10, "BAD_NAME: web"));
  EXPECT_EQ(call("zagent.updateProcessGroup", {"new"}), F(10, "BAD_NAME: new"));
  // A shutdown that begins while the update waits for its stops.
  auto reply = call_async("zagent.updateProcessGroup", {"db"});
  ASSERT_EQ(state("db"), ProcessState::Stopping);
  control_.agent_state = SupervisorState::Shutdown;
  child_exit("db", killed_by(SIGTERM));
  EXPECT_EQ(*reply, F(6, "SHUTDOWN_STATE"));
  EXPECT_EQ(supervisor_->find("db", "db")->config.command, "/bin/db");
}

TEST_F(RpcMethodsTest, UpdateOfUnchangedGroupKeepsEverything) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  supervisor_->start();
  const pid_t before = live_pid("web", "web");
  rewrite("[program:web]\ncommand=/bin/web\nstartsecs=0\n");
  auto reply = call_async("zagent.updateProcessGroup", {"web"});
  control_.run_posted();
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(live_pid("web", "web"), before);
  EXPECT_EQ(spawner_.fake.spawned.size(), 1u);
}

TEST(DiffGroups, AddedChangedRemovedSorted) {
  const auto group = [](const std::string& name, const std::string& command) {
    GroupConfig g;
    g.name = name;
    ProcessConfig p;
    p.name = name;
    p.group = name;
    p.command = command;
    g.processes.push_back(p);
    return g;
  };
  const std::vector<GroupConfig> active = {group("same", "a"), group("changed", "b"),
                                           group("zgone", "c"), group("agone", "d")};
  const std::vector<GroupConfig> next = {group("same", "a"), group("changed", "b2"),
                                         group("znew", "e"), group("anew", "f")};
  const ConfigDiff d = diff_groups(next, active);
  EXPECT_THAT(d.added, ElementsAre("anew", "znew"));
  EXPECT_THAT(d.changed, ElementsAre("changed"));
  EXPECT_THAT(d.removed, ElementsAre("agone", "zgone"));
  GroupConfig prio = group("same", "a");
  prio.priority = 5;
  EXPECT_THAT(diff_groups({prio}, {group("same", "a")}).changed, ElementsAre("same"));
  const ConfigDiff none = diff_groups(active, active);
  EXPECT_THAT(none.added, IsEmpty());
  EXPECT_THAT(none.changed, IsEmpty());
  EXPECT_THAT(none.removed, IsEmpty());
}

}  // namespace
}  // namespace zagent::rpc_test
