// zctl's verbs against a scripted client: exact text, exact exit status, exact calls
// (spec/ctl.md; every table row has a test here).
#include "ctl/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "ctl/render.h"
#include "tests/unit/ctl/fake_client.h"

namespace zagent::ctl {
namespace {

using namespace std::chrono_literals;
using test::err;
using test::fault;
using test::info;
using test::kind_error;
using test::ok;
using test::os_error;
using test::result;
using test::std_error;
using PS = ProcessState;

constexpr std::string_view kUrl = "unix:///tmp/sup.sock";

Json args() { return Json::array(); }
template <typename... T>
Json args(T&&... values) {
  return Json::array({std::forward<T>(values)...});
}

std::string help_of(std::string_view topic) { return *help_topic(topic); }

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_.serverurl = std::string(kUrl);
    session_.client = &fake_;
    session_.output = &unused_;
    session_.input = &input_;
  }
  void TearDown() override { EXPECT_TRUE(fake_.done()) << "left: " << fake_.remaining(); }

  CommandResult run(std::string_view line) { return run_captured(session_, line); }

  /// Runs `line` and checks stdout and the exit status (stderr must be empty).
  void expect(std::string_view line, std::string_view out, int exit_code) {
    const CommandResult r = run(line);
    EXPECT_EQ(r.out, out) << "for: " << line;
    EXPECT_EQ(r.err, "") << "for: " << line;
    EXPECT_EQ(r.exit_code, exit_code) << "for: " << line;
  }

  test::FakeClient fake_;
  test::FakeInput input_;
  CapturingOutput unused_;
  Session session_;
};

// ---------------------------------------------------------------------------------------------
// status

TEST_F(CommandsTest, StatusAllPrintsEveryProcessWithTheAgentsDescriptions) {
  fake_.version_ok().expect(
      "supervisor.getAllProcessInfo", args(),
      ok(Json::array(
          {info("grp", "g1", PS::Running, "pid 6296, uptime 0:00:14", 6296),
           info("newprog", "newprog", PS::Starting, ""),
           info("quick", "quick", PS::Backoff, "Exited too quickly (process log may have details)"),
           info("stubborn", "stubborn", PS::Stopping, "")})));
  expect("status",
         "grp:g1                           RUNNING   pid 6296, uptime 0:00:14\n"
         "newprog                          STARTING  \n"
         "quick                            BACKOFF   Exited too quickly (process log may have "
         "details)\n"
         "stubborn                         STOPPING  \n",
         0);
}

TEST_F(CommandsTest, StatusExitsThreeWhenAnyPrintedProcessIsStopped) {
  for (PS state : {PS::Stopped, PS::Exited, PS::Fatal, PS::Unknown}) {
    fake_.version_ok().expect(
        "supervisor.getAllProcessInfo", args(),
        ok(Json::array({info("ok", "ok", PS::Running, "pid 1, uptime 0:00:01", 1),
                        info("x", "x", state, "d")})));
    EXPECT_EQ(run("status").exit_code, 3) << state_name(state);
  }
}

TEST_F(CommandsTest, StatusWithNothingConfiguredIsEmptyAndZero) {
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok(Json::array()));
  expect("status", "", 0);
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok(Json::array()));
  expect("status all", "", 0);
}

TEST_F(CommandsTest, StatusAllAnywhereMeansAll) {
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(),
                            ok(Json::array({info("ok", "ok", PS::Running, "pid 1", 1)})));
  expect("status ok all", "ok                               RUNNING   pid 1\n", 0);
}

TEST_F(CommandsTest, StatusNamesUseGetProcessInfoInArgumentOrder) {
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("b"), ok(info("b", "b", PS::Running, "pid 2", 2)))
      .expect("supervisor.getProcessInfo", args("grp:g1"),
              ok(info("grp", "g1", PS::Running, "pid 3", 3)))
      .expect("supervisor.getProcessInfo", args("a"), ok(info("a", "a", PS::Running, "pid 1", 1)));
  expect("status b grp:g1 a",
         "b                                RUNNING   pid 2\n"
         "grp:g1                           RUNNING   pid 3\n"
         "a                                RUNNING   pid 1\n",
         0);
  // One round trip: the connection check is pipelined with the status calls.
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{4});
}

TEST_F(CommandsTest, StatusAllIsOneRoundTripWithTheConnectionCheck) {
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok(Json::array()));
  expect("status", "", 0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2});
}

TEST_F(CommandsTest, StatusUnknownNamesComeFirstAndExitFour) {
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("ok"),
              ok(info("ok", "ok", PS::Running, "pid 1", 1)))
      .expect("supervisor.getProcessInfo", args("nosuch"), fault(Fault::BadName, "nosuch"))
      .expect("supervisor.getProcessInfo", args("grp:nosuch"), fault(Fault::BadName, "grp:nosuch"))
      .expect("supervisor.getProcessInfo", args("grp"), fault(Fault::BadName, "grp"));
  expect("status ok nosuch grp:nosuch grp",
         "nosuch: ERROR (no such process)\n"
         "grp:nosuch: ERROR (no such process)\n"
         "grp: ERROR (no such process)\n"
         "ok                               RUNNING   pid 1\n",
         4);
}

TEST_F(CommandsTest, StatusStoppedOverridesUnknownName) {
  // Verified: `status quick nosuch` -> 3 when quick is FATAL.
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("quick"),
              ok(info("quick", "quick", PS::Fatal,
                      "Exited too quickly (process log may have "
                      "details)")))
      .expect("supervisor.getProcessInfo", args("nosuch"), fault(Fault::BadName, "nosuch"));
  expect("status quick nosuch",
         "nosuch: ERROR (no such process)\n"
         "quick                            FATAL     Exited too quickly (process log may have "
         "details)\n",
         3);
}

TEST_F(CommandsTest, StatusGroupReferencesUseGetAllProcessInfo) {
  const Json all = Json::array({info("grp", "g1", PS::Running, "pid 1", 1),
                                info("grp", "g2", PS::Stopped, "Not started"),
                                info("ok", "ok", PS::Running, "pid 3", 3)});
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok(all));
  expect("status grp:*",
         "grp:g1                           RUNNING   pid 1\n"
         "grp:g2                           STOPPED   Not started\n",
         3);
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("ok"), ok(all[2]))
      .expect("supervisor.getAllProcessInfo", args(), ok(all));
  expect("status ok grp: nosuch:*",
         "nosuch: ERROR (no such group)\n"
         "ok                               RUNNING   pid 3\n"
         "grp:g1                           RUNNING   pid 1\n"
         "grp:g2                           STOPPED   Not started\n",
         3);
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok(all));
  expect("status nosuch:*", "nosuch: ERROR (no such group)\n", 4);
}

TEST_F(CommandsTest, StatusWidthCountsOnlyPrintedRows) {
  const std::string long_name(40, 'l');
  fake_.version_ok().expect("supervisor.getProcessInfo", args("ok"),
                            ok(info("ok", "ok", PS::Running, "pid 1", 1)));
  expect("status ok", "ok                               RUNNING   pid 1\n", 0);
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(),
                            ok(Json::array({info("ok", "ok", PS::Running, "pid 1", 1),
                                            info(long_name, long_name, PS::Running, "pid 2", 2)})));
  expect("status",
         "ok" + std::string(41, ' ') + "RUNNING   pid 1\n" + long_name + "   RUNNING   pid 2\n", 0);
}

TEST_F(CommandsTest, StatusServerDownOrUnusableExitsFour) {
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  expect("status", "unix:///tmp/sup.sock no such file\n", 4);
  fake_.expect("supervisor.getVersion", args(), os_error(ECONNREFUSED));
  expect("status", "unix:///tmp/sup.sock refused connection\n", 4);
  // status sends getVersion and its status call in one round trip: a server that answered
  // the first answers the second too, and that reply is not used when the check failed.
  fake_.expect("supervisor.getVersion", args(), std_error(rpc::StdError::MethodNotFound));
  fake_.expect("supervisor.getAllProcessInfo", args(), ok(Json::array()));
  expect("status", unknown_namespace_text() + "\n", 4);
  fake_.expect("supervisor.getVersion", args(), ok("2.0"));
  fake_.expect("supervisor.getAllProcessInfo", args(), ok(Json::array()));
  expect("status", api_version_text("2.0") + "\n", 4);
  fake_.expect("supervisor.getVersion", args(), fault(Fault::ShutdownState));
  fake_.expect("supervisor.getAllProcessInfo", args(), fault(Fault::ShutdownState));
  expect("status",
         "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: zctl line: 0\n",
         1);
}

TEST_F(CommandsTest, AuthenticationFailure) {
  fake_.expect("supervisor.getVersion", args(), std_error(rpc::StdError::Unauthorized));
  fake_.expect("supervisor.getAllProcessInfo", args(), std_error(rpc::StdError::Unauthorized));
  expect("status", "Server requires authentication\nerror: 401 Unauthorized\n", 1);
  fake_.expect("supervisor.reloadConfig", args(), std_error(rpc::StdError::Unauthorized));
  expect("reread", "Server requires authentication\nerror: 401 Unauthorized\n", 1);
}

// ---------------------------------------------------------------------------------------------
// start

TEST_F(CommandsTest, StartTable) {
  struct Row {
    CallResult<Json> reply;
    std::string name;
    std::string out;
    int exit_code;
  };
  const std::vector<Row> rows = {
      {ok(true), "ok", "ok: started\n", 0},
      {fault(Fault::AlreadyStarted, "ok"), "ok", "ok: ERROR (already started)\n", 0},
      {fault(Fault::BadName, "nosuch"), "nosuch", "nosuch: ERROR (no such process)\n", 1},
      {fault(Fault::BadName, "grp:nosuch"), "grp:nosuch", "grp:nosuch: ERROR (no such process)\n",
       1},
      {fault(Fault::BadName, "grp"), "grp", "grp: ERROR (no such process)\n", 1},
      {fault(Fault::NoFile, "can't find command '/x'"), "missing",
       "missing: ERROR (no such file)\n", 1},
      {fault(Fault::NotExecutable, "command is empty"), "noexec",
       "noexec: ERROR (file is not executable)\n", 1},
      {fault(Fault::SpawnError, "quick"), "quick", "quick: ERROR (spawn error)\n", 7},
      {fault(Fault::AbnormalTermination, "slow"), "slow", "slow: ERROR (abnormal termination)\n",
       7},
      {fault(Fault::Failed, "ok is in an unknown process state"), "ok",
       "error: <class 'ValueError'>, Unknown result code 30 for ok: file: zctl line: 0\n", 1},
  };
  for (const Row& row : rows) {
    fake_.version_ok().expect("supervisor.startProcess", args(row.name, true), row.reply);
    expect("start " + row.name, row.out, row.exit_code);
  }
}

TEST_F(CommandsTest, StartUnknownGroupExitsTwo) {
  fake_.version_ok().expect("supervisor.startProcessGroup", args("nosuch", true),
                            fault(Fault::BadName, "nosuch"));
  expect("start nosuch:*", "nosuch: ERROR (no such group)\n", 2);
}

TEST_F(CommandsTest, StartWithoutNameExitsTwoAfterTheUpcheck) {
  fake_.version_ok();
  expect("start", "Error: start requires a process name\n" + help_of("start"), 2);
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  expect("start", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(CommandsTest, StartUpcheckExitCodes) {
  fake_.expect("supervisor.getVersion", args(), os_error(ECONNREFUSED));
  expect("start ok", "unix:///tmp/sup.sock refused connection\n", 4);
  fake_.expect("supervisor.getVersion", args(), std_error(rpc::StdError::MethodNotFound));
  expect("start ok", unknown_namespace_text() + "\n", 3);
  fake_.expect("supervisor.getVersion", args(), ok("4.0"));
  expect("start ok", api_version_text("4.0") + "\n", 5);
  fake_.expect("supervisor.getVersion", args(), os_error(EACCES));
  expect("start ok",
         "error: <class 'PermissionError'>, [Errno 13] Permission denied: file: zctl line: 0\n", 1);
}

TEST_F(CommandsTest, StartGroupAndAllPrintResultsInCompletionOrder) {
  fake_.version_ok().expect(
      "supervisor.startProcessGroup", args("grp", true),
      ok(Json::array({result("grp", "g2", Fault::Success),
                      result("grp", "g1", Fault::SpawnError, "SPAWN_ERROR: g1")})));
  expect("start grp:*", "grp:g2: started\ngrp:g1: ERROR (spawn error)\n", 7);
  fake_.version_ok().expect("supervisor.startAllProcesses", args(true), ok(Json::array()));
  expect("start all", "", 0);
  fake_.version_ok().expect("supervisor.startAllProcesses", args(true),
                            ok(Json::array({result("ok", "ok", Fault::Success),
                                            result("a", "a", Fault::AlreadyStarted)})));
  expect("start ok all", "ok: started\na: ERROR (already started)\n", 0);
}

TEST_F(CommandsTest, StartUnformattableGroupResultAbortsWithValueError) {
  fake_.version_ok().expect("supervisor.startAllProcesses", args(true),
                            ok(Json::array({result("a", "a", Fault::Success),
                                            result("b", "b", Fault::Failed, "FAILED: b"),
                                            result("c", "c", Fault::Success)})));
  expect("start all",
         "a: started\n"
         "error: <class 'ValueError'>, Unknown result code 30 for b: file: zctl line: 0\n",
         1);
}

TEST_F(CommandsTest, ExitStatusIsOnlySetByErrorsAndTheLastErrorWins) {
  fake_.version_ok()
      .expect("supervisor.startProcess", args("quick", true), fault(Fault::SpawnError, "quick"))
      .expect("supervisor.startProcess", args("ok", true), ok(true));
  expect("start quick ok", "quick: ERROR (spawn error)\nok: started\n", 7);
  fake_.version_ok()
      .expect("supervisor.startProcess", args("quick", true), fault(Fault::SpawnError, "quick"))
      .expect("supervisor.startProcess", args("nosuch", true), fault(Fault::BadName, "nosuch"))
      .expect("supervisor.startProcess", args("ok", true), fault(Fault::AlreadyStarted, "ok"));
  expect("start quick nosuch ok",
         "quick: ERROR (spawn error)\nnosuch: ERROR (no such process)\nok: ERROR (already "
         "started)\n",
         1);
}

TEST_F(CommandsTest, StartShutdownStateIsAValueError) {
  fake_.version_ok().expect("supervisor.startProcess", args("ok", true),
                            fault(Fault::ShutdownState));
  expect("start ok",
         "error: <class 'ValueError'>, Unknown result code 6 for ok: file: zctl line: 0\n", 1);
}

TEST_F(CommandsTest, StartNoWaitAndExplicitWait) {
  fake_.version_ok().expect("supervisor.startProcess", args("ok", false), ok(true));
  expect("start --no-wait ok", "ok: started\n", 0);
  fake_.version_ok().expect("supervisor.startProcessGroup", args("grp", false),
                            ok(Json::array({result("grp", "g1", Fault::Success)})));
  expect("start --no-wait grp:*", "grp:g1: started\n", 0);
  fake_.version_ok().expect("supervisor.startProcess", args("ok", true), ok(true));
  expect("start --wait ok", "ok: started\n", 0);
  fake_.version_ok()
      .expect("supervisor.stopProcess", args("ok", true), ok(true))
      .expect("supervisor.startProcess", args("ok", false), ok(true));
  expect("restart --no-wait ok", "ok: stopped\nok: started\n", 0);
}

TEST_F(CommandsTest, StartTimeout) {
  auto now = std::chrono::steady_clock::time_point{};
  session_.now = [&now] { return now; };
  fake_.version_ok().expect_timed("supervisor.startProcess", args("slow", true),
                                  kind_error(CallError::Kind::Timeout));
  expect("start --timeout 2.5 slow", "slow: ERROR (timed out)\n", 1);
  EXPECT_EQ(fake_.timeouts.back(), 2500ms);

  // A failure before the deadline is reported normally; a later name, reached after the
  // deadline, is started without waiting and reported as timed out.
  fake_.version_ok()
      .expect_timed("supervisor.startProcess", args("quick", true),
                    fault(Fault::SpawnError, "quick"))
      .expect("supervisor.startProcess", args("ok", false), ok(true));
  int calls = 0;
  session_.now = [&now, &calls] {
    // 1st: the deadline; 2nd: quick's call (in time); 3rd: ok's call (late).
    ++calls;
    return now + (calls >= 3 ? 10s : 0s);
  };
  expect("start --timeout=5 quick ok", "quick: ERROR (spawn error)\nok: ERROR (timed out)\n", 1);
}

TEST_F(CommandsTest, StartTimeoutOfAGroupReportsEveryPendingProcess) {
  session_.now = [] { return std::chrono::steady_clock::time_point{}; };
  fake_.version_ok()
      .expect(
          "supervisor.getAllProcessInfo", args(),
          ok(Json::array({info("grp", "g1", PS::Stopped, ""), info("grp", "g2", PS::Running, "", 5),
                          info("grp", "g3", PS::Fatal, ""), info("ok", "ok", PS::Stopped, "")})))
      .expect_timed("supervisor.startProcessGroup", args("grp", true),
                    kind_error(CallError::Kind::Timeout));
  expect("start --timeout 1 grp:*", "grp:g1: ERROR (timed out)\ngrp:g3: ERROR (timed out)\n", 1);
}

TEST_F(CommandsTest, StartTimeoutNeedsSeconds) {
  expect("start --timeout abc ok", "Error: --timeout requires a number of seconds\n", 2);
  expect("start --timeout", "Error: --timeout requires a number of seconds\n", 2);
  expect("start --timeout=0 ok", "Error: --timeout requires a number of seconds\n", 2);
}

TEST_F(CommandsTest, UnknownDashWordIsAProcessName) {
  fake_.version_ok().expect("supervisor.startProcess", args("--bogus", true),
                            fault(Fault::BadName, "--bogus"));
  expect("start --bogus", "--bogus: ERROR (no such process)\n", 1);
}

// ---------------------------------------------------------------------------------------------
// stop / restart / signal

TEST_F(CommandsTest, StopTable) {
  struct Row {
    CallResult<Json> reply;
    std::string name;
    std::string out;
    int exit_code;
  };
  const std::vector<Row> rows = {
      {ok(true), "ok", "ok: stopped\n", 0},
      {fault(Fault::NotRunning, "ok"), "ok", "ok: ERROR (not running)\n", 0},
      {fault(Fault::BadName, "nosuch"), "nosuch", "nosuch: ERROR (no such process)\n", 1},
      {fault(Fault::Failed, "kill failed"), "ok", "FAILED: kill failed\n", 1},
  };
  for (const Row& row : rows) {
    fake_.version_ok().expect("supervisor.stopProcess", args(row.name, true), row.reply);
    expect("stop " + row.name, row.out, row.exit_code);
  }
  fake_.version_ok().expect("supervisor.stopProcessGroup", args("nosuch", true),
                            fault(Fault::BadName, "nosuch"));
  expect("stop nosuch:*", "nosuch: ERROR (no such group)\n", 1);
  fake_.version_ok();
  expect("stop", "Error: stop requires a process name\n" + help_of("stop"), 1);
}

TEST_F(CommandsTest, StopAllAndGroup) {
  fake_.version_ok().expect("supervisor.stopAllProcesses", args(true), ok(Json::array()));
  expect("stop all", "", 0);
  fake_.version_ok().expect("supervisor.stopProcessGroup", args("grp", true),
                            ok(Json::array({result("grp", "g1", Fault::Success),
                                            result("grp", "g2", Fault::Failed, "FAILED: g2")})));
  expect("stop grp:", "grp:g1: stopped\nFAILED: g2\n", 1);
}

TEST_F(CommandsTest, RestartIsStopThenStart) {
  fake_.version_ok()
      .expect("supervisor.stopProcess", args("ok", true), fault(Fault::NotRunning, "ok"))
      .expect("supervisor.startProcess", args("ok", true), ok(true));
  expect("restart ok", "ok: ERROR (not running)\nok: started\n", 0);
  fake_.version_ok()
      .expect("supervisor.stopProcess", args("nosuch", true), fault(Fault::BadName, "nosuch"))
      .expect("supervisor.startProcess", args("nosuch", true), fault(Fault::BadName, "nosuch"));
  expect("restart nosuch", "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n", 1);
  fake_.version_ok()
      .expect("supervisor.stopProcess", args("quick", true), fault(Fault::NotRunning, "quick"))
      .expect("supervisor.startProcess", args("quick", true), fault(Fault::SpawnError, "quick"));
  expect("restart quick", "quick: ERROR (not running)\nquick: ERROR (spawn error)\n", 7);
  fake_.version_ok()
      .expect("supervisor.stopAllProcesses", args(true),
              ok(Json::array({result("a", "a", Fault::Success)})))
      .expect("supervisor.startAllProcesses", args(true),
              ok(Json::array({result("a", "a", Fault::Success)})));
  expect("restart all", "a: stopped\na: started\n", 0);
  fake_.version_ok();
  expect("restart", "Error: restart requires a process name\n" + help_of("restart"), 1);
}

TEST_F(CommandsTest, RestartStopsAtAnUnexpectedError) {
  fake_.version_ok().expect("supervisor.stopProcess", args("ok", true),
                            fault(Fault::AlreadyAdded, "ok"));
  expect("restart ok",
         "error: <class 'ValueError'>, Unknown result code 90 for ok: file: zctl line: 0\n", 1);
}

TEST_F(CommandsTest, SignalTable) {
  struct Row {
    CallResult<Json> reply;
    std::string out;
    int exit_code;
  };
  const std::vector<Row> rows = {
      {ok(true), "ok: signalled\n", 0},
      {fault(Fault::BadSignal, "BOGUS"), "ok: ERROR (bad signal name)\n", 1},
      {fault(Fault::NotRunning, "ok"), "ok: ERROR (not running)\n", 7},
      {fault(Fault::BadName, "ok"), "ok: ERROR (no such process)\n", 1},
      {fault(Fault::Failed, "ok"), "FAILED: ok\n", 1},
  };
  for (const Row& row : rows) {
    fake_.version_ok().expect("supervisor.signalProcess", args("ok", "HUP"), row.reply);
    expect("signal HUP ok", row.out, row.exit_code);
  }
  fake_.version_ok().expect("supervisor.signalProcessGroup", args("nosuch", "HUP"),
                            fault(Fault::BadName, "nosuch"));
  expect("signal HUP nosuch:*", "nosuch: ERROR (no such group)\n", 1);
  fake_.version_ok().expect("supervisor.signalAllProcesses", args("99"),
                            ok(Json::array({result("a", "a", Fault::BadSignal, "BAD_SIGNAL: 99"),
                                            result("grp", "b", Fault::BadSignal)})));
  expect("signal 99 all", "a: ERROR (bad signal name)\ngrp:b: ERROR (bad signal name)\n", 1);
  fake_.version_ok();
  expect("signal HUP",
         "Error: signal requires a signal name and a process name\n" + help_of("signal"), 1);
}

// ---------------------------------------------------------------------------------------------
// pid / clear

TEST_F(CommandsTest, PidForms) {
  fake_.version_ok().expect("supervisor.getPID", args(), ok(4242));
  expect("pid", "4242\n", 0);
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Running, "", 77)))
      .expect("supervisor.getProcessInfo", args("missing"),
              ok(info("missing", "missing", PS::Stopped, "")));
  expect("pid ok missing", "77\n0\n", 7);
  fake_.version_ok().expect(
      "supervisor.getAllProcessInfo", args(),
      ok(Json::array({info("a", "a", PS::Running, "", 5), info("b", "b", PS::Stopped, "")})));
  expect("pid all", "5\n0\n", 0);
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("nosuch"), fault(Fault::BadName, "nosuch"))
      .expect("supervisor.getProcessInfo", args("grp:*"), fault(Fault::BadName, "grp:*"));
  expect("pid nosuch grp:*", "No such process nosuch\nNo such process grp:*\n", 1);
}

TEST_F(CommandsTest, ClearTable) {
  fake_.version_ok().expect("supervisor.clearProcessLogs", args("talker"), ok(true));
  expect("clear talker", "talker: cleared\n", 0);
  fake_.version_ok().expect("supervisor.clearProcessLogs", args("nosuch"),
                            fault(Fault::BadName, "nosuch"));
  expect("clear nosuch", "nosuch: ERROR (no such process)\n", 1);
  fake_.version_ok().expect("supervisor.clearProcessLogs", args("talker"),
                            fault(Fault::Failed, "talker"));
  expect("clear talker", "talker: ERROR (failed)\n", 1);
  fake_.version_ok().expect("supervisor.clearProcessLogs", args("grp:*"),
                            fault(Fault::BadName, "grp:*"));
  expect("clear grp:*", "grp:None: ERROR (no such process)\n", 1);
  fake_.version_ok().expect(
      "supervisor.clearAllProcessLogs", args(),
      ok(Json::array({result("a", "a", Fault::Success), result("grp", "g1", Fault::Success)})));
  expect("clear all", "a: cleared\ngrp:g1: cleared\n", 0);
  fake_.version_ok();
  expect("clear", "Error: clear requires a process name\n" + help_of("clear"), 1);
}

// ---------------------------------------------------------------------------------------------
// tail / maintail

TEST_F(CommandsTest, TailReadsTheLast1600BytesAndAddsANewline) {
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("talker", -1600, 0),
                            ok("line 1\nline 2\n"));
  expect("tail talker", "line 1\nline 2\n\n", 0);
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("talker", -50, 0), ok(" 8\n"));
  expect("tail -50 talker", " 8\n\n", 0);
  fake_.version_ok().expect("supervisor.readProcessStderrLog", args("talker", -1600, 0), ok(""));
  expect("tail talker STDERR", "\n", 0);
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("talker", -5, 0), ok("abc"));
  expect("tail -5 talker stdout", "abc\n", 0);
}

TEST_F(CommandsTest, TailErrors) {
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("nolog", -1600, 0),
                            fault(Fault::NoFile, "None"));
  expect("tail nolog", "nolog: ERROR (no log file)\n", 1);
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("nosuch", -1600, 0),
                            fault(Fault::BadName, "nosuch"));
  expect("tail nosuch", "nosuch: ERROR (no such process name)\n", 1);
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("x", -1600, 0),
                            fault(Fault::Failed));
  expect("tail x", "x: ERROR (unknown error reading log)\n", 1);
  fake_.version_ok();
  expect("tail x bogus", "Error: bad channel 'bogus'\n", 1);
  fake_.version_ok();
  expect("tail -x talker", "Error: bad argument -x\n", 1);
  fake_.version_ok();
  expect("tail", "Error: too few arguments\n" + help_of("tail"), 1);
  fake_.version_ok();
  expect("tail -f a b c", "Error: too many arguments\n" + help_of("tail"), 1);
  fake_.version_ok();
  expect("tail -5", "Error: tail requires process name\n", 1);
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  expect("tail x", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(CommandsTest, TailFollowPrintsPushedDataUntilCtrlC) {
  fake_.version_ok()
      .expect("zagent.followProcessLog", args("talker", "stdout", 1024),
              ok({{"name", "talker"}, {"channel", "stdout"}}))
      .event(test::notification("zagent.logData",
                                {{"id", 2}, {"data", "old\n"}, {"truncated", false}}))
      .event(test::notification("zagent.other", {{"x", 1}}))
      .event(test::event_of(Event::Kind::Timeout))
      .event(
          test::notification("zagent.logData", {{"id", 2}, {"data", "new\n"}, {"truncated", true}}))
      .event(test::event_of(Event::Kind::Interrupted));
  expect("tail -f talker", "==> Press Ctrl-C to exit <==\nold\n==> File truncated <==\nnew\n\n", 0);
  EXPECT_EQ(fake_.resets, 1);
}

TEST_F(CommandsTest, TailFollowEndsWhenTheConnectionCloses) {
  fake_.version_ok()
      .expect("zagent.followProcessLog", args("talker", "stderr", 1024), ok(Json::object()))
      .event(test::notification("zagent.logData", {{"data", "x"}}))
      .event(test::event_of(Event::Kind::Closed));
  expect("tail -f talker stderr", "==> Press Ctrl-C to exit <==\nx", 0);
}

TEST_F(CommandsTest, TailFollowUnknownProcessIs404OnStderr) {
  fake_.version_ok().expect("zagent.followProcessLog", args("nosuch", "stdout", 1024),
                            fault(Fault::BadName, "nosuch"));
  CommandResult r = run("tail -f nosuch");
  EXPECT_EQ(r.out, "==> Press Ctrl-C to exit <==\n");
  EXPECT_EQ(r.err, "unix:///tmp/sup.sock/logtail/nosuch/stdout Cannot read, status code 404\n");
  EXPECT_EQ(r.exit_code, 0);
  fake_.version_ok().expect("zagent.followProcessLog", args("nolog", "stderr", 1024),
                            fault(Fault::NoFile, "None"));
  r = run("tail -f nolog stderr");
  EXPECT_EQ(r.err, "unix:///tmp/sup.sock/logtail/nolog/stderr Cannot read, status code 404\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(CommandsTest, Maintail) {
  fake_.version_ok().expect("supervisor.readLog", args(-1600, 0), ok("main\n"));
  expect("maintail", "main\n\n", 0);
  fake_.version_ok().expect("supervisor.readLog", args(-100, 0), ok("m"));
  expect("maintail -100", "m\n", 0);
  fake_.version_ok().expect("supervisor.readLog", args(-1600, 0), fault(Fault::NoFile, "None"));
  expect("maintail", "supervisord: ERROR (no log file)\n", 1);
  fake_.version_ok().expect("supervisor.readLog", args(-1600, 0), fault(Fault::Failed));
  expect("maintail", "supervisord: ERROR (unknown error reading log)\n", 1);
  fake_.version_ok();
  expect("maintail x", "Error: bad argument x\n", 1);
  fake_.version_ok();
  expect("maintail -x", "Error: bad argument -x\n", 1);
  fake_.version_ok();
  expect("maintail -f x", "Error: too many arguments\n" + help_of("maintail"), 1);
  fake_.version_ok()
      .expect("zagent.followMainLog", args(1024), ok(Json::object()))
      .event(test::notification("zagent.logData", {{"data", "boot\n"}}))
      .event(test::event_of(Event::Kind::Interrupted));
  expect("maintail -f", "==> Press Ctrl-C to exit <==\nboot\n\n", 0);
  fake_.version_ok().expect("zagent.followMainLog", args(1024), fault(Fault::NoFile, "None"));
  const CommandResult r = run("maintail -f");
  EXPECT_EQ(r.err, "unix:///tmp/sup.sock/mainlogtail Cannot read, status code 404\n");
}

// ---------------------------------------------------------------------------------------------
// fg

TEST_F(CommandsTest, FgArgumentErrors) {
  fake_.version_ok();
  expect("fg", "ERROR: no process name supplied\n" + help_of("fg"), 1);
  fake_.version_ok();
  expect("fg a b", "ERROR: too many process names supplied\n", 1);
  fake_.version_ok().expect("supervisor.getProcessInfo", args("nosuch"),
                            fault(Fault::BadName, "nosuch"));
  expect("fg nosuch", "ERROR: bad process name supplied\n", 1);
  fake_.version_ok().expect("supervisor.getProcessInfo", args("grp:*"),
                            fault(Fault::BadName, "grp:*"));
  expect("fg grp:*", "ERROR: bad process name supplied\n", 1);
  fake_.version_ok().expect("supervisor.getProcessInfo", args("ok"),
                            ok(info("ok", "ok", PS::Stopped, "")));
  expect("fg ok", "ERROR: process not running\n", 1);
  fake_.version_ok().expect("supervisor.getProcessInfo", args("ok"), fault(Fault::ShutdownState));
  expect("fg ok", "ERROR: <Fault 6: 'SHUTDOWN_STATE'>\n", 0);
}

class FgTest : public CommandsTest {
 protected:
  void running_and_following() {
    fake_.version_ok()
        .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Running, "", 9)))
        .expect("zagent.followProcessLog", args("ok", "stdout", 1024), ok(Json::object()))
        .expect("zagent.followProcessLog", args("ok", "stderr", 1024), ok(Json::object()));
  }
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(FgTest, ForwardsInputAndPrintsOutputUntilCtrlC) {
  session_.now = [this] { return now_; };
  input_ = test::FakeInput({"hello"});
  running_and_following();
  fake_.event(test::notification("zagent.logData", {{"data", "out\n"}}))
      .event(test::event_of(Event::Kind::InputReady))
      .expect("supervisor.sendProcessStdin", args("ok", "hello\n"), ok(true))
      .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Running, "", 9)))
      .event(test::notification("zagent.logData", {{"data", "err\n"}}))
      .event(test::event_of(Event::Kind::Interrupted));
  expect("fg ok", "==> Press Ctrl-C to exit <==\nout\nerr\nExiting foreground\n", 0);
  EXPECT_EQ(fake_.resets, 1);
  ASSERT_FALSE(fake_.waits.empty());
  EXPECT_EQ(fake_.waits.front().second, 1000ms);
}

TEST_F(FgTest, PollsOncePerSecondAndNoticesTheProcessDied) {
  session_.now = [this] { return now_; };
  running_and_following();
  fake_.event(test::event_of(Event::Kind::Timeout))
      .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Exited, "")));
  // The fake's Timeout comes "at once"; advance the fake time as a real wait would.
  session_.now = [this] {
    now_ += 600ms;
    return now_;
  };
  expect("fg ok", "==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n", 0);
}

TEST_F(FgTest, StdinLineIsSentThenNotRunningEnds) {
  session_.now = [this] { return now_; };
  input_ = test::FakeInput({"a", "b"});
  running_and_following();
  fake_.event(test::event_of(Event::Kind::InputReady))
      .expect("supervisor.sendProcessStdin", args("ok", "a\n"), ok(true))
      .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Running, "", 9)))
      .event(test::event_of(Event::Kind::InputReady))
      .expect("supervisor.sendProcessStdin", args("ok", "b\n"), fault(Fault::NotRunning, "ok"));
  expect("fg ok", "==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n", 0);
}

// supervisorctl compat: do_fg() ends on any other fault of sendProcessStdin, NO_FILE (a child
// that closed its stdin) included, with `ERROR: ` and the fault's repr.
TEST_F(FgTest, StdinNoFileEndsWithTheFault) {
  session_.now = [this] { return now_; };
  input_ = test::FakeInput({"a"});
  running_and_following();
  fake_.event(test::event_of(Event::Kind::InputReady))
      .expect("supervisor.sendProcessStdin", args("ok", "a\n"), fault(Fault::NoFile, "ok"));
  expect("fg ok",
         "==> Press Ctrl-C to exit <==\nERROR: <Fault 20: 'NO_FILE: ok'>\nExiting foreground\n",
         0);
}

TEST_F(FgTest, EndOfInputExits) {
  session_.now = [this] { return now_; };
  running_and_following();
  fake_.event(test::event_of(Event::Kind::InputReady));
  expect("fg ok", "==> Press Ctrl-C to exit <==\nExiting foreground\n", 0);
}

TEST_F(FgTest, MissingStderrLogIs404AndOutputContinues) {
  session_.now = [this] { return now_; };
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("ok"), ok(info("ok", "ok", PS::Running, "", 9)))
      .expect("zagent.followProcessLog", args("ok", "stdout", 1024), ok(Json::object()))
      .expect("zagent.followProcessLog", args("ok", "stderr", 1024), fault(Fault::NoFile, "None"))
      .event(test::notification("zagent.logData", {{"data", "x\n"}}))
      .event(test::event_of(Event::Kind::Interrupted));
  const CommandResult r = run("fg ok");
  EXPECT_EQ(r.out, "==> Press Ctrl-C to exit <==\nx\nExiting foreground\n");
  EXPECT_EQ(r.err, "unix:///tmp/sup.sock/logtail/ok/stderr Cannot read, status code 404\n");
  EXPECT_EQ(r.exit_code, 0);
}

// ---------------------------------------------------------------------------------------------
// reread / update / add / remove / avail

TEST_F(CommandsTest, Reread) {
  fake_.expect("supervisor.reloadConfig", args(),
               ok(Json::array({Json::array({Json::array({"newprog"}), Json::array({"talker"}),
                                            Json::array({"stubborn"})})})));
  expect("reread", "newprog: available\nstubborn: disappeared\ntalker: changed\n", 0);
  fake_.expect("supervisor.reloadConfig", args(),
               ok(Json::array({Json::array({Json::array(), Json::array(), Json::array()})})));
  expect("reread", "No config updates to processes\n", 0);
  fake_.expect("supervisor.reloadConfig", args(),
               fault(Fault::CantReread,
                     "not a valid boolean value: 'maybe' in section 'program:broken' (file: "
                     "'base.conf')"));
  expect("reread",
         "ERROR: CANT_REREAD: not a valid boolean value: 'maybe' in section 'program:broken' "
         "(file: 'base.conf')\n",
         1);
  fake_.expect("supervisor.reloadConfig", args(), fault(Fault::ShutdownState));
  expect("reread", "ERROR: supervisor shutting down\n", 1);
  expect("reread x", "Error: reread accepts no arguments\n" + help_of("reread"), 1);
  fake_.expect("supervisor.reloadConfig", args(), os_error(ENOENT));
  expect("reread",
         "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: file: zctl "
         "line: 0\n",
         1);
  fake_.expect("supervisor.reloadConfig", args(), os_error(ECONNREFUSED));
  expect("reread",
         "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused: file: zctl "
         "line: 0\n",
         1);
}

Json changes(std::vector<std::string> added, std::vector<std::string> changed,
             std::vector<std::string> removed) {
  return Json::array({Json::array({added, changed, removed})});
}

TEST_F(CommandsTest, UpdateChangedGroupUsesTheZagentExtension) {
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({}, {"talker"}, {})))
      .expect("supervisor.getAllProcessInfo", args(),
              ok(Json::array({info("talker", "talker", PS::Running, "", 3)})))
      .expect("zagent.updateProcessGroup", args("talker"), ok(true));
  expect("update talker", "talker: stopped\ntalker: updated process group\n", 0);
}

TEST_F(CommandsTest, UpdateRemovedThenChangedThenAdded) {
  fake_
      .expect("supervisor.reloadConfig", args(), ok(changes({"newprog"}, {"talker"}, {"stubborn"})))
      .expect("supervisor.stopProcessGroup", args("stubborn", true),
              ok(Json::array({result("stubborn", "stubborn", Fault::Success)})))
      .expect("supervisor.removeProcessGroup", args("stubborn"), ok(true))
      .expect("zagent.updateProcessGroup", args("talker"), ok(true))
      .expect("supervisor.addProcessGroup", args("newprog"), ok(true));
  expect("update",
         "stubborn: stopped\nstubborn: removed process group\ntalker: stopped\n"
         "talker: updated process group\nnewprog: added process group\n",
         0);
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({}, {}, {})));
  expect("update all", "", 0);
}

TEST_F(CommandsTest, UpdateNamedGroupsOnly) {
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({"newprog"}, {"talker"}, {"old"})))
      .expect("supervisor.getAllProcessInfo", args(),
              ok(Json::array({info("talker", "talker", PS::Running, "", 3),
                              info("old", "old", PS::Stopped, "")})))
      .expect("supervisor.addProcessGroup", args("newprog"), ok(true));
  expect("update nosuch newprog nosuch",
         "ERROR: no such group: nosuch\nnewprog: added process group\n", 1);
}

TEST_F(CommandsTest, UpdateRemovedGroupWithStopProblemsIsKept) {
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({}, {}, {"stubborn"})))
      .expect("supervisor.stopProcessGroup", args("stubborn", true),
              ok(Json::array({result("stubborn", "stubborn", Fault::Failed, "FAILED: x")})));
  expect("update", "stubborn: stopped\nstubborn: has problems; not removing\n", 1);
}

TEST_F(CommandsTest, UpdateFallsBackWhenTheAgentLacksUpdateProcessGroup) {
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({}, {"talker"}, {})))
      .expect("zagent.updateProcessGroup", args("talker"), std_error(rpc::StdError::MethodNotFound))
      .expect("supervisor.stopProcessGroup", args("talker", true), ok(Json::array()))
      .expect("supervisor.removeProcessGroup", args("talker"), ok(true))
      .expect("supervisor.addProcessGroup", args("talker"), ok(true));
  expect("update", "talker: stopped\ntalker: updated process group\n", 0);
}

TEST_F(CommandsTest, UpdateErrors) {
  fake_.expect("supervisor.reloadConfig", args(),
               fault(Fault::CantReread, "not a valid boolean value: 'maybe'"));
  expect("update",
         "error: <class 'xmlrpc.client.Fault'>, <Fault 92: \"CANT_REREAD: not a valid boolean "
         "value: 'maybe'\">: file: zctl line: 0\n",
         1);
  fake_.expect("supervisor.reloadConfig", args(), fault(Fault::ShutdownState));
  expect("update", "ERROR: already shutting down\n", 1);
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({}, {"talker"}, {})))
      .expect("zagent.updateProcessGroup", args("talker"), fault(Fault::Failed, "talker"));
  expect("update",
         "talker: stopped\n"
         "error: <class 'xmlrpc.client.Fault'>, <Fault 30: 'FAILED: talker'>: file: zctl line: "
         "0\n",
         1);
}

TEST_F(CommandsTest, AddAndRemoveTable) {
  fake_.expect("supervisor.addProcessGroup", args("missing"), ok(true));
  expect("add missing", "missing: added process group\n", 0);
  fake_.expect("supervisor.addProcessGroup", args("ok"), fault(Fault::AlreadyAdded, "ok"));
  expect("add ok", "ERROR: process group already active\n", 0);
  fake_.expect("supervisor.addProcessGroup", args("nosuch"), fault(Fault::BadName, "nosuch"));
  expect("add nosuch", "ERROR: no such process/group: nosuch\n", 1);
  fake_.expect("supervisor.addProcessGroup", args("x"), fault(Fault::ShutdownState));
  expect("add x", "ERROR: shutting down\n", 1);
  fake_.expect("supervisor.removeProcessGroup", args("missing"), ok(true));
  expect("remove missing", "missing: removed process group\n", 0);
  fake_.expect("supervisor.removeProcessGroup", args("ok"), fault(Fault::StillRunning, "ok"));
  expect("remove ok", "ERROR: process/group still running: ok\n", 1);
  fake_.expect("supervisor.removeProcessGroup", args("nosuch"), fault(Fault::BadName, "nosuch"));
  expect("remove nosuch", "ERROR: no such process/group: nosuch\n", 1);
  expect("add", "", 0);
  expect("remove", "", 0);
  // Each name is tried; the exit status keeps the last error.
  fake_.expect("supervisor.addProcessGroup", args("nosuch"), fault(Fault::BadName, "nosuch"))
      .expect("supervisor.addProcessGroup", args("a"), ok(true));
  expect("add nosuch a", "ERROR: no such process/group: nosuch\na: added process group\n", 1);
}

TEST_F(CommandsTest, Avail) {
  const auto conf = [](std::string group, std::string name, bool inuse, bool autostart, int gprio,
                       int pprio) {
    return Json{{"group", group},         {"name", name},        {"inuse", inuse},
                {"autostart", autostart}, {"group_prio", gprio}, {"process_prio", pprio},
                {"command", "/bin/true"}};
  };
  fake_.expect("supervisor.getAllConfigInfo", args(),
               ok(Json::array({conf("exit0", "exit0", true, true, 999, 999),
                               conf("grp", "g1", true, true, 50, 999),
                               conf("missing", "missing", true, false, 999, 999),
                               conf("newprog", "newprog", false, true, 999, 999),
                               conf("ok", "ok", true, true, 10, 10)})));
  expect("avail",
         "exit0                            in use    auto      999:999\n"
         "grp:g1                           in use    auto      50:999\n"
         "missing                          in use    manual    999:999\n"
         "newprog                          avail     auto      999:999\n"
         "ok                               in use    auto      10:10\n",
         0);
  expect("avail x", "Error: avail accepts no arguments\n" + help_of("avail"), 1);
  fake_.expect("supervisor.getAllConfigInfo", args(), fault(Fault::ShutdownState));
  expect("avail", "ERROR: supervisor shutting down\n", 1);
}

// ---------------------------------------------------------------------------------------------
// agent commands

TEST_F(CommandsTest, Version) {
  fake_.version_ok().expect("supervisor.getSupervisorVersion", args(), ok("4.2.5"));
  expect("version", "4.2.5\n", 0);
  expect("version x", "Error: version accepts no arguments\n" + help_of("version"), 1);
}

TEST_F(CommandsTest, Reload) {
  fake_.expect("supervisor.restart", args(), ok(true));
  expect("reload", "Restarted supervisord\n", 0);
  EXPECT_EQ(fake_.resets, 1);
  fake_.expect("supervisor.restart", args(), fault(Fault::ShutdownState));
  expect("reload", "ERROR: already shutting down\n", 1);
  expect("reload x", "Error: reload accepts no arguments\n" + help_of("reload"), 1);
  fake_.expect("supervisor.restart", args(), os_error(ENOENT));
  expect("reload",
         "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: file: zctl "
         "line: 0\n",
         1);
}

TEST_F(CommandsTest, Shutdown) {
  fake_.expect("supervisor.shutdown", args(), ok(true));
  expect("shutdown", "Shut down\n", 0);
  fake_.expect("supervisor.shutdown", args(), fault(Fault::ShutdownState));
  expect("shutdown", "ERROR: already shutting down\n", 0);
  fake_.expect("supervisor.shutdown", args(), os_error(ENOENT));
  expect("shutdown", "ERROR: unix:///tmp/sup.sock no such file (already shut down?)\n", 1);
  fake_.expect("supervisor.shutdown", args(), os_error(ECONNREFUSED));
  expect("shutdown", "ERROR: unix:///tmp/sup.sock refused connection (already shut down?)\n", 1);
  expect("shutdown x", "Error: shutdown accepts no arguments\n" + help_of("shutdown"), 1);
}

TEST_F(CommandsTest, InteractiveShutdownAndReloadAskFirst) {
  session_.interactive = true;
  input_ = test::FakeInput({"n", "Yes", "", "y"});
  expect("shutdown", "Really shut the remote supervisord process down y/N? ", 0);
  fake_.expect("supervisor.shutdown", args(), ok(true));
  expect("shutdown", "Really shut the remote supervisord process down y/N? Shut down\n", 0);
  expect("reload", "Really restart the remote supervisord process y/N? ", 0);
  fake_.expect("supervisor.restart", args(), ok(true));
  expect("reload", "Really restart the remote supervisord process y/N? Restarted supervisord\n", 0);
}

TEST_F(CommandsTest, Open) {
  expect("open ftp://x", "ERROR: url must be http:// or unix://\n", 1);
  expect("open", "ERROR: url must be http:// or unix://\n", 1);
  test::FakeClient other;
  std::string opened;
  session_.connect = [&](const std::string& url) {
    opened = url;
    return std::unique_ptr<Client>(new test::FakeClientRef(other));
  };
  other.expect("supervisor.getVersion", args(), os_error(ENOENT));
  expect("open unix:///x", "unix:///x no such file\n", 0);
  EXPECT_EQ(opened, "unix:///x");
  EXPECT_EQ(session_.serverurl, "unix:///x");
  other.version_ok().expect("supervisor.getAllProcessInfo", args(),
                            ok(Json::array({info("a", "a", PS::Stopped, "Not started")})));
  expect("open http://127.0.0.1:9001", "a                                STOPPED   Not started\n",
         0);
  EXPECT_TRUE(other.done());
}

// ---------------------------------------------------------------------------------------------
// help, quit, unknown, dispatch

TEST_F(CommandsTest, Help) {
  expect("help", help_index(), 0);
  expect("?", help_index(), 0);
  expect("help start", help_of("start"), 0);
  expect("?stop", help_of("stop"), 0);
  expect("help help", help_of("help"), 0);
  expect("help bogus", "*** No help on bogus\n", 0);
  expect("help EOF", "*** No help on EOF\n", 0);
  expect("help start stop", "*** No help on start stop\n", 0);
}

TEST_F(CommandsTest, QuitExitEofPrintAnEmptyLine) {
  for (const char* verb : {"quit", "exit", "EOF"}) {
    const CommandResult r = run(verb);
    EXPECT_EQ(r.out, "\n");
    EXPECT_EQ(r.exit_code, 0);
  }
}

TEST_F(CommandsTest, UnknownSyntax) {
  expect("bogus arg", "*** Unknown syntax: bogus arg\n", 1);
  expect("  bogus   arg  ", "*** Unknown syntax: bogus   arg\n", 1);
  expect("STATUS", "*** Unknown syntax: STATUS\n", 1);
  expect("!ls", "*** Unknown syntax: !ls\n", 1);
  expect("-x", "*** Unknown syntax: -x\n", 1);
  expect("", "", 0);
  expect("   ", "", 0);
}

TEST_F(CommandsTest, UnexpectedTransportAndProtocolErrors) {
  fake_.expect("supervisor.getVersion", args(), kind_error(CallError::Kind::Closed));
  expect("status",
         "error: <class 'http.client.RemoteDisconnected'>, Remote end closed connection without "
         "response: file: zctl line: 0\n",
         1);
  fake_.expect("supervisor.getVersion", args(), std_error(rpc::StdError::InternalError));
  expect("version",
         "error: <class 'zagent.RpcError'>, <RpcError -32603: 'Internal error'>: file: zctl line: "
         "0\n",
         1);
  fake_.version_ok().expect("supervisor.getAllProcessInfo", args(), ok("garbage"));
  expect("status",
         "error: <class 'zagent.ProtocolError'>, unexpected reply to supervisor.getAllProcessInfo: "
         "file: zctl line: 0\n",
         1);
}

TEST_F(CommandsTest, InterruptedCallEndsQuietly) {
  fake_.version_ok().expect("supervisor.startProcess", args("ok", true),
                            kind_error(CallError::Kind::Interrupted));
  const Outcome out = run_line(session_, "start ok");
  EXPECT_TRUE(out.interrupted);
}

// ---------------------------------------------------------------------------------------------
// --json

Json parse(const std::string& text) { return Json::parse(text); }

TEST_F(CommandsTest, JsonStatus) {
  fake_.version_ok()
      .expect("supervisor.getProcessInfo", args("grp:g1"),
              ok(info("grp", "g1", PS::Running, "pid 7, uptime 0:00:01", 7)))
      .expect("supervisor.getProcessInfo", args("nosuch"), fault(Fault::BadName, "nosuch"))
      .expect("zagent.getProcessStats", Json{{"name", ""}},
              std_error(rpc::StdError::MethodNotFound));
  const CommandResult r = run("status --json grp:g1 nosuch");
  EXPECT_EQ(r.exit_code, 4);
  const Json doc = parse(r.out);
  ASSERT_EQ(doc["processes"].size(), 1U);
  const Json& p = doc["processes"][0];
  EXPECT_EQ(p["namespec"], "grp:g1");
  EXPECT_EQ(p["name"], "g1");
  EXPECT_EQ(p["group"], "grp");
  EXPECT_EQ(p["state"], 20);
  EXPECT_EQ(p["statename"], "RUNNING");
  EXPECT_EQ(p["description"], "pid 7, uptime 0:00:01");
  EXPECT_EQ(p["pid"], 7);
  EXPECT_TRUE(p.contains("exitstatus"));
  EXPECT_TRUE(p.contains("spawnerr"));
  ASSERT_TRUE(p.contains("resources"));
  EXPECT_TRUE(p["resources"].is_null());
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{4}) << "one round trip";
  EXPECT_EQ(doc["errors"], Json::parse(R"j([{"name":"nosuch","error":"no such process"}])j"));
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
}

TEST_F(CommandsTest, JsonFromTheSessionAndErrors) {
  session_.json = true;
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  CommandResult r = run("status");
  EXPECT_EQ(parse(r.out), Json({{"error", "unix:///tmp/sup.sock no such file"}}));
  EXPECT_EQ(r.exit_code, 4);
  r = run("bogus");
  EXPECT_EQ(parse(r.out), Json({{"error", "*** Unknown syntax: bogus"}}));
  EXPECT_EQ(r.exit_code, 1);
  fake_.version_ok();
  r = run("start");
  EXPECT_EQ(parse(r.out), Json({{"error", "Error: start requires a process name"}}));
  EXPECT_EQ(r.exit_code, 2);
  r = run("help stop");
  EXPECT_EQ(parse(r.out)["help"], help_of("stop"));
  r = run("quit");
  EXPECT_EQ(parse(r.out), Json::object());
}

TEST_F(CommandsTest, JsonControlResults) {
  fake_.version_ok()
      .expect("supervisor.stopProcess", args("ok", true), fault(Fault::NotRunning, "ok"))
      .expect("supervisor.startProcess", args("ok", true), fault(Fault::SpawnError, "ok"));
  const CommandResult r = run("restart --json ok");
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(parse(r.out), Json::parse(R"j({"results":[
      {"action":"stop","name":"ok","ok":false,"status":70,"message":"ERROR (not running)"},
      {"action":"start","name":"ok","ok":false,"status":50,"message":"ERROR (spawn error)"}]})j"));
  fake_.version_ok().expect("supervisor.startProcessGroup", args("nosuch", true),
                            fault(Fault::BadName, "nosuch"));
  const CommandResult g = run("start --json nosuch:*");
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_EQ(parse(g.out)["results"][0]["message"], "ERROR (no such group)");
}

TEST_F(CommandsTest, JsonOtherVerbs) {
  session_.json = true;
  fake_.version_ok().expect("supervisor.getPID", args(), ok(42));
  EXPECT_EQ(parse(run("pid").out), Json({{"pid", 42}}));
  fake_.version_ok().expect("supervisor.readProcessStdoutLog", args("a", -1600, 0), ok("x\n"));
  EXPECT_EQ(parse(run("tail a").out),
            Json({{"name", "a"}, {"channel", "stdout"}, {"data", "x\n"}}));
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({"n"}, {}, {"o"})));
  EXPECT_EQ(parse(run("reread").out),
            Json::parse(R"j({"added":["n"],"changed":[],"removed":["o"]})j"));
  fake_.expect("supervisor.reloadConfig", args(), ok(changes({"n"}, {"c"}, {})))
      .expect("zagent.updateProcessGroup", args("c"), ok(true))
      .expect("supervisor.addProcessGroup", args("n"), ok(true));
  EXPECT_EQ(parse(run("update").out), Json::parse(R"j({"groups":[
      {"name":"c","action":"updated","ok":true},{"name":"n","action":"added","ok":true}],
      "errors":[]})j"));
  fake_.version_ok().expect("supervisor.getSupervisorVersion", args(), ok("4.2.5"));
  EXPECT_EQ(parse(run("version").out), Json({{"version", "4.2.5"}}));
  fake_.expect("supervisor.shutdown", args(), fault(Fault::ShutdownState));
  const CommandResult shut = run("shutdown");
  EXPECT_EQ(parse(shut.out), Json({{"ok", false}, {"message", "ERROR: already shutting down"}}));
  EXPECT_EQ(shut.exit_code, 0);
  fake_.version_ok()
      .expect("zagent.followProcessLog", args("a", "stdout", 1024), ok(Json::object()))
      .event(test::notification("zagent.logData", {{"data", "l1\n"}}))
      .event(test::event_of(Event::Kind::Interrupted));
  EXPECT_EQ(run("tail -f a").out, "{\"data\":\"l1\\n\",\"truncated\":false}\n");
}

// ---------------------------------------------------------------------------------------------
// the shell

TEST_F(CommandsTest, ShellTranscript) {
  // spec/ctl.md §1.1, verified with stdin = `status ok` / `bogus` / `stop ok`.
  CapturingOutput out;
  session_.output = &out;
  session_.interactive = true;
  input_ = test::FakeInput({"status ok", "", "bogus", "stop ok"});
  fake_.version_ok()
      .expect("supervisor.getAllProcessInfo", args(),
              ok(Json::array({info("ok", "ok", PS::Running, "pid 7957, uptime 0:01:11", 7957)})))
      .version_ok()
      .expect("supervisor.getProcessInfo", args("ok"),
              ok(info("ok", "ok", PS::Running, "pid 7957, uptime 0:01:12", 7957)))
      .version_ok()
      .expect("supervisor.stopProcess", args("ok", true), ok(true));
  EXPECT_EQ(run_shell(session_, "supervisor"), 0);
  EXPECT_EQ(out.out_,
            "ok                               RUNNING   pid 7957, uptime 0:01:11\n"
            "supervisor> ok                               RUNNING   pid 7957, uptime 0:01:12\n"
            "supervisor> supervisor> *** Unknown syntax: bogus\n"
            "supervisor> ok: stopped\n"
            "supervisor> \n");
}

TEST_F(CommandsTest, ShellQuitAndCtrlC) {
  CapturingOutput out;
  session_.output = &out;
  input_ = test::FakeInput({"quit", "status"});
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  EXPECT_EQ(run_shell(session_, "gpu"), 0);
  EXPECT_EQ(out.out_, "unix:///tmp/sup.sock no such file\ngpu> \n");

  out.out_.clear();
  input_ = test::FakeInput({}, /*interrupt_at_end=*/true);
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT));
  EXPECT_EQ(run_shell(session_, "supervisor"), 0);
  EXPECT_EQ(out.out_, "unix:///tmp/sup.sock no such file\nsupervisor> \n");
}

TEST_F(CommandsTest, ShellKeepsGoingAfterTailFollowCtrlC) {
  CapturingOutput out;
  session_.output = &out;
  input_ = test::FakeInput({"tail -f a", "exit"});
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT))
      .version_ok()
      .expect("zagent.followProcessLog", args("a", "stdout", 1024), ok(Json::object()))
      .event(test::event_of(Event::Kind::Interrupted));
  EXPECT_EQ(run_shell(session_, "supervisor"), 0);
  EXPECT_EQ(out.out_,
            "unix:///tmp/sup.sock no such file\n"
            "supervisor> ==> Press Ctrl-C to exit <==\n\n"
            "supervisor> \n");
}

TEST_F(CommandsTest, ShellEndsOnCtrlCDuringACall) {
  CapturingOutput out;
  session_.output = &out;
  input_ = test::FakeInput({"start ok", "status"});
  fake_.expect("supervisor.getVersion", args(), os_error(ENOENT))
      .version_ok()
      .expect("supervisor.startProcess", args("ok", true),
              kind_error(CallError::Kind::Interrupted));
  EXPECT_EQ(run_shell(session_, "supervisor"), 0);
  EXPECT_EQ(out.out_, "unix:///tmp/sup.sock no such file\nsupervisor> \n");
}

}  // namespace
}  // namespace zagent::ctl
