// zctl's crash verbs (`why`, `crashes`) and status's last_cause against a scripted client:
// exact text, exact exit status, exact calls (docs/zctl.md "why, crashes").
#include <gtest/gtest.h>

#include <cerrno>

#include "ctl/commands.h"
#include "ctl/render.h"
#include "tests/unit/ctl/fake_client.h"

namespace zagent::ctl {
namespace {

using test::fault;
using test::info;
using test::ok;
using test::os_error;
using PS = ProcessState;

constexpr std::string_view kMethod = "zagent.getCrashRecords";

/// An OOM kill of `web`, as the agent records it.
Json oom_record() {
  return Json::parse(R"j({"program":"web","cause":"oom_killed","confidence":"certain",
      "expected":false,"exit_code":null,"signal":"SIGKILL","core_dumped":false,
      "shell_status":137,"pid":4242,"started":1764645000,"ended":1764648764,
      "uptime_seconds":3764.25,"description":"terminated by SIGKILL","note":"",
      "evidence":[{"source":"kmsg","text":"Killed process 4242 (python3)"},
                  {"source":"vmstat","text":"oom_kill 3 -> 4"},
                  {"source":"wait_status","text":"terminated by SIGKILL"}],
      "last_output":{"stdout":["line1","line2"],
                     "stderr":["Traceback ...","torch.OutOfMemoryError: CUDA out of memory"]},
      "snapshot":"/tmp/crashes/web-20251202T041244Z.json","snapshot_error":null})j");
}

/// A spawn failure of `grp:worker`: no pid, no exit code, no output, no snapshot.
Json spawn_record() {
  return Json::parse(R"j({"program":"grp:worker","cause":"spawn_failed","confidence":"certain",
      "expected":false,"exit_code":null,"signal":null,"core_dumped":false,"shell_status":null,
      "pid":null,"started":1764648000,"ended":1764648000,"uptime_seconds":0,
      "description":"can't find command '/opt/worker'","note":"",
      "evidence":[{"source":"agent","text":"can't find command '/opt/worker'"}],
      "last_output":{"stdout":[],"stderr":[]},
      "snapshot":null,"snapshot_error":"crash_dir /var/crashes: Permission denied"})j");
}

/// An expected exit of `batch` after a bit more than two days, with a note.
Json exit_record() {
  return Json::parse(R"j({"program":"batch","cause":"exited","confidence":"certain",
      "expected":true,"exit_code":0,"signal":null,"core_dumped":false,"shell_status":0,
      "pid":77,"started":1764400000,"ended":1764580005,"uptime_seconds":180005.9,
      "description":"exit status 0","note":"exit code in exitcodes",
      "evidence":[{"source":"wait_status","text":"exit status 0"}],
      "last_output":{"stdout":["done"],"stderr":[]},
      "snapshot":"/tmp/crashes/batch.json","snapshot_error":null})j");
}

Json named(std::optional<std::string> name, int limit) {
  Json params{{"limit", limit}};
  if (name) {
    params["name"] = *name;
  }
  return params;
}

class CrashesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_.serverurl = "unix:///tmp/sup.sock";
    session_.client = &fake_;
    session_.output = &unused_;
  }
  void TearDown() override { EXPECT_TRUE(fake_.done()) << "left: " << fake_.remaining(); }

  CommandResult run(std::string_view line) { return run_captured(session_, line); }

  void expect(std::string_view line, std::string_view out, int exit_code) {
    const CommandResult r = run(line);
    EXPECT_EQ(r.out, out) << "for: " << line;
    EXPECT_EQ(r.err, "") << "for: " << line;
    EXPECT_EQ(r.exit_code, exit_code) << "for: " << line;
  }

  /// The connection check and the records call, as one round trip.
  void records(Json params, CallResult<Json> reply) {
    fake_.version_ok().expect(std::string(kMethod), std::move(params), std::move(reply));
  }

  test::FakeClient fake_;
  CapturingOutput unused_;
  Session session_;
};

// ---------------------------------------------------------------------------------------------
// why

TEST_F(CrashesTest, WhyPrintsTheNewestRecordInWords) {
  records(named("web", 1), ok(Json::array({oom_record()})));
  expect("why web",
         "web: oom_killed (certain), pid 4242, terminated by SIGKILL, uptime 1:02:44\n"
         "  ended: 2025-12-02 04:12:44 UTC\n"
         "  evidence:\n"
         "    kmsg: Killed process 4242 (python3)\n"
         "    vmstat: oom_kill 3 -> 4\n"
         "    wait_status: terminated by SIGKILL\n"
         "  last stdout:\n"
         "    line1\n"
         "    line2\n"
         "  last stderr:\n"
         "    Traceback ...\n"
         "    torch.OutOfMemoryError: CUDA out of memory\n"
         "  snapshot: /tmp/crashes/web-20251202T041244Z.json\n",
         0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2}) << "one round trip";
}

TEST_F(CrashesTest, WhySpawnFailureHasNoPidUptimeOrOutputAndShowsTheSnapshotError) {
  records(named("grp:worker", 1), ok(Json::array({spawn_record()})));
  expect("why grp:worker",
         "grp:worker: spawn_failed (certain), can't find command '/opt/worker'\n"
         "  ended: 2025-12-02 04:00:00 UTC\n"
         "  evidence:\n"
         "    agent: can't find command '/opt/worker'\n"
         "  snapshot: none\n"
         "  snapshot error: crash_dir /var/crashes: Permission denied\n",
         0);
}

TEST_F(CrashesTest, WhyExpectedExitShowsTheNoteAndDays) {
  records(named("batch", 1), ok(Json::array({exit_record()})));
  expect("why batch",
         "batch: exited (certain, expected), pid 77, exit status 0, uptime 2 days, 2:00:05\n"
         "  ended: 2025-12-01 09:06:45 UTC\n"
         "  note: exit code in exitcodes\n"
         "  evidence:\n"
         "    wait_status: exit status 0\n"
         "  last stdout:\n"
         "    done\n"
         "  snapshot: /tmp/crashes/batch.json\n",
         0);
}

TEST_F(CrashesTest, WhyWithoutARecord) {
  records(named("web", 1), ok(Json::array()));
  expect("why web", "web: no crash on record\n", 0);
}

TEST_F(CrashesTest, WhyUnknownName) {
  records(named("nosuch", 1), fault(Fault::BadName, "nosuch"));
  expect("why nosuch", "nosuch: ERROR (no such process)\n", 1);
}

TEST_F(CrashesTest, WhyUsageErrorsNeedNoServer) {
  expect("why", "Error: why requires a process name\n" + *help_topic("why"), 1);
  expect("why a b", "Error: too many arguments\n" + *help_topic("why"), 1);
  EXPECT_TRUE(fake_.calls.empty());
}

TEST_F(CrashesTest, WhyConnectionCheck) {
  fake_.expect("supervisor.getVersion", Json::array(), os_error(ENOENT));
  expect("why web", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(CrashesTest, WhyAgentWithoutCrashRecordsIsAnErrorLine) {
  records(named("web", 1), test::std_error(rpc::StdError::MethodNotFound));
  const CommandResult r = run("why web");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with("error: ")) << r.out;
}

TEST_F(CrashesTest, WhyBadReply) {
  records(named("web", 1), ok(Json::array({"garbage"})));
  expect("why web",
         "error: <class 'zagent.ProtocolError'>, unexpected reply to zagent.getCrashRecords: "
         "file: zctl line: 0\n",
         1);
}

// ---------------------------------------------------------------------------------------------
// crashes

TEST_F(CrashesTest, CrashesTableNewestFirst) {
  records(named(std::nullopt, 20), ok(Json::array({oom_record(), spawn_record(), exit_record()})));
  expect("crashes",
         "TIME                 PROGRAM     CAUSE         EXIT     UPTIME           CONFIDENCE\n"
         "2025-12-02 04:12:44  web         oom_killed    SIGKILL  1:02:44          certain\n"
         "2025-12-02 04:00:00  grp:worker  spawn_failed  -        -                certain\n"
         "2025-12-01 09:06:45  batch       exited        0        2 days, 2:00:05  certain\n",
         0);
}

TEST_F(CrashesTest, CrashesPassesTheNameAndTheLimit) {
  records(named(std::nullopt, 2), ok(Json::array({oom_record()})));
  EXPECT_EQ(run("crashes -n 2").exit_code, 0);
  records(named("web", 20), ok(Json::array({oom_record()})));
  EXPECT_EQ(run("crashes web").exit_code, 0);
  records(named("web", 5), ok(Json::array({oom_record()})));
  EXPECT_EQ(run("crashes -n 5 web").exit_code, 0);
  records(named("web", 0), ok(Json::array({oom_record()})));
  EXPECT_EQ(run("crashes web -n0").exit_code, 0);
}

TEST_F(CrashesTest, CrashesWithoutRecords) {
  records(named(std::nullopt, 20), ok(Json::array()));
  expect("crashes", "no crashes on record\n", 0);
}

TEST_F(CrashesTest, CrashesUnknownName) {
  records(named("nosuch", 20), fault(Fault::BadName, "nosuch"));
  expect("crashes nosuch", "nosuch: ERROR (no such process)\n", 1);
}

TEST_F(CrashesTest, CrashesUsageErrorsNeedNoServer) {
  const std::string help = *help_topic("crashes");
  expect("crashes -n", "Error: -n requires a number of records\n" + help, 2);
  expect("crashes -n x", "Error: -n requires a number of records\n" + help, 2);
  expect("crashes -n -1", "Error: -n requires a number of records\n" + help, 2);
  expect("crashes -x", "Error: unknown option -x\n" + help, 2);
  expect("crashes a b", "Error: too many arguments\n" + help, 1);
  EXPECT_TRUE(fake_.calls.empty());
}

// ---------------------------------------------------------------------------------------------
// --json

Json parse(const std::string& text) { return Json::parse(text); }

TEST_F(CrashesTest, JsonWhyIsTheRecordOrNull) {
  records(named("web", 1), ok(Json::array({oom_record()})));
  CommandResult r = run("why --json web");
  EXPECT_EQ(parse(r.out), oom_record());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  EXPECT_EQ(r.exit_code, 0);
  session_.json = true;
  records(named("web", 1), ok(Json::array()));
  r = run("why web");
  EXPECT_EQ(r.out, "null\n");
  EXPECT_EQ(r.exit_code, 0);
  records(named("nosuch", 1), fault(Fault::BadName, "nosuch"));
  r = run("why nosuch");
  EXPECT_EQ(parse(r.out), Json({{"error", "nosuch: ERROR (no such process)"}}));
  EXPECT_EQ(r.exit_code, 1);
  r = run("why");
  EXPECT_EQ(parse(r.out), Json({{"error", "Error: why requires a process name"}}));
}

TEST_F(CrashesTest, JsonCrashesIsTheArray) {
  records(named("web", 2), ok(Json::array({oom_record(), exit_record()})));
  CommandResult r = run("crashes --json web -n 2");
  EXPECT_EQ(parse(r.out), Json::array({oom_record(), exit_record()}));
  EXPECT_EQ(r.exit_code, 0);
  records(named(std::nullopt, 20), ok(Json::array()));
  r = run("crashes --json");
  EXPECT_EQ(r.out, "[]\n");
  records(named("nosuch", 20), fault(Fault::BadName, "nosuch"));
  r = run("crashes --json nosuch");
  EXPECT_EQ(parse(r.out), Json({{"error", "nosuch: ERROR (no such process)"}}));
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(CrashesTest, JsonStatusCarriesLastCause) {
  Json crashed = info("web", "web", PS::Backoff, "");
  crashed["last_cause"] = "oom_killed";
  fake_.version_ok().expect("supervisor.getAllProcessInfo", Json::array(),
                            ok(Json::array({crashed, info("new", "new", PS::Running, "", 5)})));
  fake_.expect("zagent.getProcessStats", Json{{"name", ""}}, ok(Json::array()));
  const Json doc = parse(run("status --json").out);
  ASSERT_EQ(doc["processes"].size(), 2U);
  EXPECT_EQ(doc["processes"][0]["last_cause"], "oom_killed");
  // Never ended in this agent's life (or an agent that does not say): null.
  ASSERT_TRUE(doc["processes"][1].contains("last_cause"));
  EXPECT_TRUE(doc["processes"][1]["last_cause"].is_null());
}

// ---------------------------------------------------------------------------------------------
// help

TEST_F(CrashesTest, HelpTopicsButSupervisorctlsIndex) {
  expect("help why", "why <name>\t\tWhy a process last ended: cause, evidence, last output\n", 0);
  expect("help crashes",
         "crashes\t\t\tList the last 20 crashes of all processes, newest first\n"
         "crashes <name>\t\tList the last 20 crashes of a process\n"
         "crashes -n <N> [<name>]\tList the last N crashes (0: all that are kept)\n",
         0);
  EXPECT_EQ(help_index().find("why"), std::string::npos);
  EXPECT_EQ(help_index().find("crashes"), std::string::npos);
}

}  // namespace
}  // namespace zagent::ctl
