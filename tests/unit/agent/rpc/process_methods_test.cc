// The process family: info, start, stop, signal, stdin; the process description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

// ---- process info -----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, GetProcessInfoStruct) {
  make(kWeb + "autorestart=false\n");
  const std::int64_t t0 = epoch(clock_.wall_now());
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"}), R({{"name", "web"},
                                                           {"group", "web"},
                                                           {"start", 0},
                                                           {"stop", 0},
                                                           {"now", t0},
                                                           {"state", 0},
                                                           {"statename", "STOPPED"},
                                                           {"spawnerr", ""},
                                                           {"exitstatus", 0},
                                                           {"logfile", "/var/log/web.out"},
                                                           {"stdout_logfile", "/var/log/web.out"},
                                                           {"stderr_logfile", "/var/log/web.err"},
                                                           {"pid", 0},
                                                           {"stdout_log_error", ""},
                                                           {"stderr_log_error", ""},
                                                           {"description", "Not started"},
                                                           {"last_cause", nullptr},
                                                           {"health", nullptr}}));
  start_running("web");
  clock_.advance(3s);
  const Json info = call("supervisor.getProcessInfo", {"web:web"})["result"];
  EXPECT_EQ(info["start"], t0);
  EXPECT_EQ(info["now"], t0 + 4);
  EXPECT_EQ(info["state"], 20);
  EXPECT_EQ(info["statename"], "RUNNING");
  EXPECT_EQ(info["pid"], pid("web"));
  EXPECT_EQ(info["description"], "pid " + std::to_string(pid("web")) + ", uptime 0:00:04");
  child_exit("web", exited_with(3));
  const Json exited = call("supervisor.getProcessInfo", {"web"})["result"];
  EXPECT_EQ(exited["stop"], t0 + 4);
  EXPECT_EQ(exited["exitstatus"], 3);
  EXPECT_EQ(exited["spawnerr"], "Bad exit code 3");
  EXPECT_EQ(exited["last_cause"], "exited");
}

TEST_F(RpcMethodsTest, LogErrorsShowInTheProcessInfoAndDescription) {
  make(kWeb);
  start_running("web");
  control_.log_errors["/var/log/web.err"] = "write /var/log/web.err: No space left on device";
  const Json info = call("supervisor.getProcessInfo", {"web"})["result"];
  EXPECT_EQ(info["stdout_log_error"], "");
  EXPECT_EQ(info["stderr_log_error"], "write /var/log/web.err: No space left on device");
  EXPECT_EQ(info["description"], "pid " + std::to_string(pid("web")) +
                                     ", uptime 0:00:01, stderr log: write /var/log/web.err: "
                                     "No space left on device");
  control_.log_errors.clear();
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["description"],
            "pid " + std::to_string(pid("web")) + ", uptime 0:00:01");
}

TEST_F(RpcMethodsTest, GetProcessInfoBadNames) {
  make(kWeb + "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n");
  EXPECT_EQ(call("supervisor.getProcessInfo", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:*"}), F(10, "BAD_NAME: g:*"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:"}), F(10, "BAD_NAME: g:"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:nosuch"}), F(10, "BAD_NAME: g:nosuch"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"p"}), F(10, "BAD_NAME: p"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"g:p"})["result"]["group"], "g");
}

TEST_F(RpcMethodsTest, GetAllProcessInfoIsLexical) {
  make(
      "[program:zz]\ncommand=/bin/zz\nautostart=false\npriority=1\n"
      "[group:b]\nprograms=y,x\n[program:y]\ncommand=/bin/y\nautostart=false\n"
      "[program:x]\ncommand=/bin/x\nautostart=false\npriority=2\n"
      "[program:aa]\ncommand=/bin/aa\nautostart=false\npriority=999\n");
  const Json all = call("supervisor.getAllProcessInfo")["result"];
  std::vector<std::string> names;
  for (const auto& info : all) {
    names.push_back(info["group"].get<std::string>() + ":" + info["name"].get<std::string>());
  }
  EXPECT_THAT(names, ElementsAre("aa:aa", "b:x", "b:y", "zz:zz"));
}

// ---- start ------------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, StartWithWaitIsHeldUntilRunning) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web"});  // wait defaults to true
  EXPECT_FALSE(reply->has_value());
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(methods_->waiting_calls(), 1u);
  advance(500ms);
  EXPECT_FALSE(reply->has_value());
  advance(600ms);  // past startsecs=1
  ASSERT_EQ(state("web"), ProcessState::Running);
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(methods_->waiting_calls(), 0u);
}

TEST_F(RpcMethodsTest, StartWithoutWaitRepliesAtOnce) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(methods_->waiting_calls(), 0u);
}

TEST_F(RpcMethodsTest, StartWithStartsecsZeroRepliesAtOnce) {
  make("[program:fast]\ncommand=/bin/fast\nautostart=false\nstartsecs=0\n");
  EXPECT_EQ(call("supervisor.startProcess", {"fast", true}), R(true));
  EXPECT_EQ(state("fast"), ProcessState::Running);
}

TEST_F(RpcMethodsTest, StartFaultsInOrder) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.startProcess", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.startProcess", {"web:nosuch"}), F(10, "BAD_NAME: web:nosuch"));
  EXPECT_EQ(call("supervisor.startProcess", {"nosuch:*"}), F(10, "BAD_NAME: nosuch:*"));
  control_.probe.missing.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(20, "NO_FILE: can't find command '/bin/web'"));
  control_.probe.missing.clear();
  control_.probe.not_executable.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(21, "NOT_EXECUTABLE: command at '/bin/web' is not executable"));
  control_.probe.not_executable.clear();
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
  start_running("web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(60, "ALREADY_STARTED: web"));
  EXPECT_EQ(call("supervisor.startProcess", {"web:web"}), F(60, "ALREADY_STARTED: web:web"));
  // The command is checked first, even for a running process.
  control_.probe.missing.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(20, "NO_FILE: can't find command '/bin/web'"));
  control_.probe.missing.clear();
  control_.probe.not_executable.insert("/bin/web");
  EXPECT_EQ(call("supervisor.startProcess", {"web"}),
            F(21, "NOT_EXECUTABLE: command at '/bin/web' is not executable"));
}

TEST_F(RpcMethodsTest, StartCommandIsSearchedOnPath) {
  make("[program:rel]\ncommand=relcmd --flag\nautostart=false\n");
  control_.probe.missing = {"/usr/bin/relcmd", "/bin/relcmd"};
  EXPECT_EQ(call("supervisor.startProcess", {"rel"}),
            F(20, "NO_FILE: can't find command 'relcmd'"));
  control_.probe.missing = {"/usr/bin/relcmd"};
  EXPECT_EQ(call("supervisor.startProcess", {"rel", false}), R(true));
}

TEST_F(RpcMethodsTest, StartSpawnFailureIsSpawnError) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "can't find command '/bin/web'";
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(50, "SPAWN_ERROR: web"));
  EXPECT_EQ(state("web"), ProcessState::Backoff);
  advance(1100ms);  // the retry spawns
  ASSERT_EQ(state("web"), ProcessState::Starting);
  EXPECT_EQ(call("supervisor.startProcess", {"web"}), F(60, "ALREADY_STARTED: web"));
}

TEST_F(RpcMethodsTest, StartSpawnFailureWithoutWaitIsSpawnError) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "boom";
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), F(50, "SPAWN_ERROR: web"));
}

TEST_F(RpcMethodsTest, StartExitBeforeStartsecsIsSpawnError) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web", true});
  ASSERT_FALSE(reply->has_value());
  clock_.advance(300ms);
  child_exit("web", exited_with(0));
  ASSERT_EQ(state("web"), ProcessState::Backoff);
  EXPECT_EQ(*reply, F(50, "SPAWN_ERROR: web"));
}

TEST_F(RpcMethodsTest, StartStoppedWhileStartingIsAbnormalTermination) {
  make(kWeb);
  auto reply = call_async("supervisor.startProcess", {"web"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), R(true));
  control_.run_posted();
  ASSERT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_EQ(*reply, F(40, "ABNORMAL_TERMINATION: web"));
}

TEST_F(RpcMethodsTest, StartOfUnknownStateFails) {
  make(kWeb +
       "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n"
       "startsecs=0\n");
  ASSERT_EQ(call("supervisor.startProcess", {"g:p"}), R(true));
  spawner_.signal_error = "kill: Operation not permitted";
  EXPECT_EQ(call("supervisor.signalProcess", {"g:p", "HUP"}),
            F(30, "FAILED: kill: Operation not permitted"));
  ASSERT_EQ(state("g", "p"), ProcessState::Unknown);
  // supervisord compat: the name as the client passed it.
  EXPECT_EQ(call("supervisor.startProcess", {"g:p"}),
            F(30, "FAILED: g:p is in an unknown process state"));
  EXPECT_EQ(call("supervisor.stopProcess", {"g:p"}), F(70, "NOT_RUNNING: g:p"));
}

TEST_F(RpcMethodsTest, StartGroupStarAndGroupResultsInCompletionOrder) {
  make(
      "[group:g]\nprograms=slow,quick,broken,up\n"
      "[program:slow]\ncommand=/bin/slow\nautostart=false\nstartsecs=2\npriority=1\n"
      "[program:quick]\ncommand=/bin/quick\nautostart=false\nstartsecs=1\npriority=2\n"
      "[program:broken]\ncommand=/bin/broken\nautostart=false\npriority=3\n"
      "[program:up]\ncommand=/bin/up\nautostart=false\nstartsecs=0\npriority=4\n");
  control_.probe.missing.insert("/bin/broken");
  auto reply = call_async("supervisor.startProcess", {"g:*"});
  ASSERT_FALSE(reply->has_value());
  advance(1100ms);
  EXPECT_FALSE(reply->has_value());
  advance(1000ms);
  // Immediate outcomes first (broken, up), then quick, then slow.
  EXPECT_EQ(*reply, R({RS("g", "broken", 20, "NO_FILE: can't find command '/bin/broken'"),
                       RS("g", "up"), RS("g", "quick"), RS("g", "slow")}));
  // Running ones are left out; nothing left to start: empty array.
  control_.probe.missing.clear();
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g", false}), R({RS("g", "broken")}));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g"}), R(Json::array()));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.startProcessGroup", {"g:*"}), F(10, "BAD_NAME: g:*"));
}

TEST_F(RpcMethodsTest, StartAllInPriorityOrderWithoutWait) {
  make(
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\n"
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\n"
      "[program:c]\ncommand=/bin/c\nautostart=false\npriority=3\n");
  spawner_.fake.fail_next["c"] = "boom";
  EXPECT_EQ(call("supervisor.startAllProcesses", {false}),
            R({RS("a", "a"), RS("b", "b"), RS("c", "c", 50, "SPAWN_ERROR: c")}));
  EXPECT_THAT(spawner_.fake.spawned.size(), 3u);
}

TEST_F(RpcMethodsTest, StartAllWithWaitInCompletionOrder) {
  make(
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\nstartsecs=3\n"
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\nstartsecs=1\n"
      "[program:c]\ncommand=/bin/c\nautostart=false\npriority=3\nstartsecs=2\n");
  auto reply = call_async("supervisor.startAllProcesses");
  advance(1100ms);
  clock_.advance(200ms);
  child_exit("c", exited_with(1));  // before its startsecs
  EXPECT_FALSE(reply->has_value());
  advance(2000ms);
  EXPECT_EQ(*reply, R({RS("b", "b"), RS("c", "c", 50, "SPAWN_ERROR: c"), RS("a", "a")}));
}

TEST_F(RpcMethodsTest, StartAllLeavesRunningOutAndStopAllSignalsAllAtOnceInPriorityOrder) {
  make(
      "[program:c]\ncommand=/bin/c\npriority=999\nautostart=false\n"
      "[program:a]\ncommand=/bin/a\npriority=1\nautostart=false\n"
      "[program:b]\ncommand=/bin/b\npriority=500\nautostart=false\n");
  start_running("b");
  // b is already running: left out.
  EXPECT_EQ(call("supervisor.startAllProcesses", {false}), R({RS("a", "a"), RS("c", "c")}));
  ASSERT_EQ(spawner_.fake.spawned.size(), 3u);
  EXPECT_EQ(spawner_.fake.spawned[1].name, "a");
  EXPECT_EQ(spawner_.fake.spawned[2].name, "c");

  spawner_.fake.signals.clear();
  auto stopped = call_async("supervisor.stopAllProcesses");
  ASSERT_FALSE(stopped->has_value());
  // supervisord compat: ascending priority (not reversed), all signalled at once.
  using Sig = test::FakeSpawner::Signal;
  EXPECT_THAT(spawner_.fake.signals,
              ElementsAre(Sig{pid("a"), SIGTERM, false}, Sig{pid("b"), SIGTERM, false},
                          Sig{pid("c"), SIGTERM, false}));
  child_exit("c", killed_by(SIGTERM));
  child_exit("a", killed_by(SIGTERM));
  child_exit("b", killed_by(SIGTERM));
  EXPECT_EQ(*stopped, R({RS("c", "c"), RS("a", "a"), RS("b", "b")}));
  EXPECT_EQ(call("supervisor.stopAllProcesses"), R(Json::array()));  // nothing left to stop
}

// ---- stop -------------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, StopWithWaitIsHeldUntilReaped) {
  make(kWeb);
  start_running("web");
  auto reply = call_async("supervisor.stopProcess", {"web"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_THAT(spawner_.fake.signals,
              Contains(test::FakeSpawner::Signal{pid("web"), SIGTERM, false}));
  control_.run_posted();
  EXPECT_FALSE(reply->has_value());
  child_exit("web", killed_by(SIGTERM));
  EXPECT_EQ(*reply, R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(RpcMethodsTest, StopWithoutWaitAndNotRunning) {
  make(kWeb + "[group:g]\nprograms=p\n[program:p]\ncommand=/bin/p\nautostart=false\n");
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.stopProcess", {"g:p"}), F(70, "NOT_RUNNING: g:p"));
  EXPECT_EQ(call("supervisor.stopProcess", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.stopProcess", {"nosuch:*"}), F(10, "BAD_NAME: nosuch:*"));
  start_running("web");
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopping);
  EXPECT_EQ(call("supervisor.stopProcess", {"web", false}), F(70, "NOT_RUNNING: web"));
}

TEST_F(RpcMethodsTest, StopInBackoffStopsAtOnce) {
  make(kWeb);
  spawner_.fake.fail_next["web"] = "boom";
  call("supervisor.startProcess", {"web"});
  ASSERT_EQ(state("web"), ProcessState::Backoff);
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), R(true));
  EXPECT_EQ(state("web"), ProcessState::Stopped);
}

TEST_F(RpcMethodsTest, StopGroupStarAndAllInCompletionOrder) {
  make(
      "[group:g]\nprograms=a,b,off\n"
      "[program:a]\ncommand=/bin/a\nautostart=false\npriority=1\n"
      "[program:b]\ncommand=/bin/b\nautostart=false\npriority=2\n"
      "[program:off]\ncommand=/bin/off\nautostart=false\npriority=3\n"
      "[program:solo]\ncommand=/bin/solo\nautostart=false\npriority=500\n");
  start_running("g:a");
  start_running("g:b");
  start_running("solo");
  auto reply = call_async("supervisor.stopProcess", {"g:*"});
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("g", "a"), ProcessState::Stopping);
  EXPECT_EQ(state("g", "b"), ProcessState::Stopping);
  child_exit("b", killed_by(SIGTERM));
  EXPECT_FALSE(reply->has_value());
  child_exit("a", killed_by(SIGTERM));
  // Only the running ones, in completion order.
  EXPECT_EQ(*reply, R({RS("g", "b"), RS("g", "a")}));
  EXPECT_EQ(call("supervisor.stopProcessGroup", {"g"}), R(Json::array()));
  EXPECT_EQ(call("supervisor.stopProcessGroup", {"nosuch"}), F(10, "BAD_NAME: nosuch"));

  start_running("g:a");
  // Ascending group priority: solo (500) before g (999).
  EXPECT_EQ(call("supervisor.stopAllProcesses", {false}), R({RS("solo", "solo"), RS("g", "a")}));
  child_exit("a", killed_by(SIGTERM));
  child_exit("solo", killed_by(SIGTERM));
  start_running("g:b");
  auto all = call_async("supervisor.stopAllProcesses");
  ASSERT_FALSE(all->has_value());
  child_exit("b", killed_by(SIGTERM));
  EXPECT_EQ(*all, R({RS("g", "b")}));
}

// ---- signal -----------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, SignalProcess) {
  make(kWeb +
       "[group:g]\nprograms=p,q\n[program:p]\ncommand=/bin/p\nautostart=false\n"
       "[program:q]\ncommand=/bin/q\nautostart=false\n");
  // BAD_SIGNAL is checked before the state.
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "BOGUS"}), F(11, "BAD_SIGNAL: BOGUS"));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.signalProcess", {"nosuch", "HUP"}), F(10, "BAD_NAME: nosuch"));
  start_running("web");
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "SIGUSR1"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "10"}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "usr2"}), R(true));
  const pid_t p = pid("web");
  EXPECT_THAT(spawner_.fake.signals, ElementsAre(test::FakeSpawner::Signal{p, SIGHUP, false},
                                                 test::FakeSpawner::Signal{p, SIGUSR1, false},
                                                 test::FakeSpawner::Signal{p, 10, false},
                                                 test::FakeSpawner::Signal{p, SIGUSR2, false}));
  // STOPPING is signallable, STOPPED is not.
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "KILL"}), R(true));
  // g:* routes to the group variant: only signallable processes, BAD_SIGNAL per process.
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "HUP"}), R(Json::array()));
  start_running("g:q");
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "HUP"}), R({RS("g", "q")}));
  EXPECT_EQ(call("supervisor.signalProcess", {"g:*", "BOGUS"}),
            R({RS("g", "q", 11, "BAD_SIGNAL: BOGUS")}));
  EXPECT_EQ(call("supervisor.signalProcessGroup", {"g", "TERM"}), R({RS("g", "q")}));
  EXPECT_EQ(call("supervisor.signalProcessGroup", {"nosuch", "TERM"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.signalAllProcesses", {"USR1"}), R({RS("g", "q"), RS("web", "web")}));
}

TEST_F(RpcMethodsTest, SignalFailureIsFailed) {
  make(kWeb);
  start_running("web");
  spawner_.signal_error = "kill: Operation not permitted";
  EXPECT_EQ(call("supervisor.signalProcess", {"web", "HUP"}),
            F(30, "FAILED: kill: Operation not permitted"));
  EXPECT_EQ(state("web"), ProcessState::Unknown);
}

// ---- stdin ------------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, SendProcessStdin) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(70, "NOT_RUNNING: web"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"nosuch", "hi"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web:*", "hi"}), F(10, "BAD_NAME: web:*"));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", 5}),
            InvalidParams("supervisor.sendProcessStdin: parameter 'chars' must be a string"));
  start_running("web");
  const pid_t pid = supervisor_->find("web", "web")->record.pid;
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), R(true));
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "there\n"}), R(true));
  EXPECT_EQ(control_.stdin_written[pid], "hi\nthere\n");
  // The program closed its stdin (a broken pipe): supervisord's NO_FILE.
  control_.closed_stdin.insert(pid);
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(20, "NO_FILE: web"));
  call("supervisor.stopProcess", {"web", false});
  EXPECT_EQ(call("supervisor.sendProcessStdin", {"web", "hi\n"}), F(70, "NOT_RUNNING: web"));
}

TEST_F(RpcMethodsTest, SignalAcceptsAnIntAsSupervisordDoes) {
  make(kWeb);
  start_running("web");
  EXPECT_EQ(call("supervisor.signalProcess", {"web", 1}), R(true));
  EXPECT_EQ(call("supervisor.signalProcess", {"web", 99}), F(11, "BAD_SIGNAL: 99"));
  EXPECT_EQ(call("system.methodSignature", {"supervisor.signalProcess"}),
            R({"boolean", "string", "string"}));
}

TEST_F(RpcMethodsTest, StopCancelsAPendingDelayedRestart) {
  make("[program:web]\ncommand=/bin/web\nstartsecs=0\nrestart_delay=30\n");
  start_running("web");
  child_exit("web", 1 << 8);  // exit status 1 from RUNNING: EXITED, restart in 30 s
  ASSERT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["statename"], "EXITED");
  // zagent: the description says when and why, instead of the stop time.
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["description"],
            "restart in 30s after exit status 1");
  advance(std::chrono::milliseconds(25'500));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["description"],
            "restart in 5s after exit status 1");
  EXPECT_EQ(call("supervisor.stopProcess", {"web"}), R(true));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"web"})["result"]["statename"], "STOPPED");
  const auto spawns = spawner_.fake.spawned.size();
  advance(std::chrono::seconds(31));
  EXPECT_EQ(spawner_.fake.spawned.size(), spawns);  // the restart was cancelled
}

// ---- crash records ----------------------------------------------------------------------------

CrashRecord record_of(const std::string& program, std::int64_t ended) {
  CrashRecord r;
  r.program = program;
  r.cause.evidence = {{"wait_status", "exit status 1"}};
  r.exit_code = 1;
  r.started = ended - 5;
  r.ended = ended;
  return r;
}

TEST_F(RpcMethodsTest, GetCrashRecordsFiltersAndLimits) {
  make("[program:web]\ncommand=/bin/web\nautostart=false\n"
       "[program:api]\ncommand=/bin/api\nautostart=false\n"
       "[group:g]\nprograms=web,api\n");
  control_.crashes.add(record_of("g:web", 100));
  control_.crashes.add(record_of("g:api", 200));
  control_.crashes.add(record_of("g:web", 300));
  control_.crashes.add(record_of("old", 50));  // no longer in the config
  const Json all = call("zagent.getCrashRecords", Json::array())["result"];
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0]["ended"], 300);
  EXPECT_EQ(all[0]["program"], "g:web");
  EXPECT_EQ(all[0]["cause"], "exited");
  EXPECT_EQ(call("zagent.getCrashRecords", {"g:web"})["result"].size(), 2u);
  EXPECT_EQ(call("zagent.getCrashRecords", {"g:web", 1})["result"][0]["ended"], 300);
  EXPECT_EQ(call("zagent.getCrashRecords", {"g:*"})["result"].size(), 3u);
  EXPECT_EQ(call("zagent.getCrashRecords", {"old"})["result"].size(), 1u);
  EXPECT_EQ(call("zagent.getCrashRecords", Json{{"name", ""}, {"limit", 2}})["result"].size(),
            2u);
  EXPECT_EQ(call("zagent.getCrashRecords", {"nope"}), F(10, "BAD_NAME: nope"));
  EXPECT_EQ(call("zagent.getCrashRecords", {"", -1}),
            F(3, "BAD_ARGUMENTS: limit must be >= 0"));
}

// ---- pure helpers -----------------------------------------------------------------------------

class ProcessDescriptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz != nullptr ? std::optional<std::string>(tz) : std::nullopt;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  std::optional<std::string> saved_tz_;
};

TEST_F(ProcessDescriptionTest, Running) {
  const std::int64_t t = 1'800'000'000;
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 7, ""),
            "pid 42, uptime 0:00:07");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 3723, ""),
            "pid 42, uptime 1:02:03");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 86400 + 61, ""),
            "pid 42, uptime 1 day, 0:01:01");
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t + 2 * 86400 + 36000, ""),
            "pid 42, uptime 2 days, 10:00:00");
  // The wall clock went back: 0:00:00.
  EXPECT_EQ(process_description(ProcessState::Running, "web", 42, t, 0, t - 5, ""),
            "pid 42, uptime 0:00:00");
}

TEST_F(ProcessDescriptionTest, BackoffAndFatal) {
  EXPECT_EQ(process_description(ProcessState::Backoff, "web", 0, 1, 2, 3,
                                "Exited too quickly (process log may have details)"),
            "Exited too quickly (process log may have details)");
  EXPECT_EQ(process_description(ProcessState::Fatal, "web", 0, 1, 2, 3, "can't find command 'x'"),
            "can't find command 'x'");
  EXPECT_EQ(process_description(ProcessState::Backoff, "web", 0, 1, 2, 3, ""),
            "unknown error (try \"tail web\")");
  EXPECT_EQ(process_description(ProcessState::Fatal, "g_web", 0, 1, 2, 3, ""),
            "unknown error (try \"tail g_web\")");
}

TEST_F(ProcessDescriptionTest, StoppedAndExitedShowTheStopTime) {
  // 2026-11-24 14:16:00 UTC
  const std::int64_t stop = 1795529760;
  for (const auto s : {ProcessState::Stopped, ProcessState::Exited}) {
    EXPECT_EQ(process_description(s, "web", 0, stop - 10, stop, stop + 99, ""), "Nov 24 02:16 PM");
    // 12 AM and 12 PM edges, day and hour zero-padded.
    EXPECT_EQ(process_description(s, "web", 0, 1, 0, 5, ""), "Jan 01 12:00 AM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 12 * 3600 + 5 * 60, 5, ""), "Jan 01 12:05 PM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 11 * 3600 + 59 * 60, 5, ""), "Jan 01 11:59 AM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 23 * 3600 + 59 * 60, 5, ""), "Jan 01 11:59 PM");
    EXPECT_EQ(process_description(s, "web", 0, 1, 8 * 86400 + 3600, 5, ""), "Jan 09 01:00 AM");
    EXPECT_EQ(process_description(s, "web", 0, 0, 0, 5, ""), "Not started");
  }
}

TEST_F(ProcessDescriptionTest, OtherStatesAreEmpty) {
  for (const auto s : {ProcessState::Starting, ProcessState::Stopping, ProcessState::Unknown}) {
    EXPECT_EQ(process_description(s, "web", 42, 1, 2, 3, "err"), "");
  }
}

TEST_F(ProcessDescriptionTest, LocalTimeFollowsTz) {
  ::setenv("TZ", "EST5", 1);
  ::tzset();
  EXPECT_EQ(process_description(ProcessState::Stopped, "web", 0, 1, 1795529760, 5, ""),
            "Nov 24 09:16 AM");
}

TEST(TimedeltaText, PythonFormat) {
  EXPECT_EQ(timedelta_text(0), "0:00:00");
  EXPECT_EQ(timedelta_text(7), "0:00:07");
  EXPECT_EQ(timedelta_text(3661), "1:01:01");
  EXPECT_EQ(timedelta_text(86399), "23:59:59");
  EXPECT_EQ(timedelta_text(86400), "1 day, 0:00:00");
  EXPECT_EQ(timedelta_text(90061), "1 day, 1:01:01");
  EXPECT_EQ(timedelta_text(2 * 86400), "2 days, 0:00:00");
  EXPECT_EQ(timedelta_text(400 * 86400 + 5), "400 days, 0:00:05");
  EXPECT_EQ(timedelta_text(-5), "0:00:00");
}

}  // namespace
}  // namespace zagent::rpc_test
