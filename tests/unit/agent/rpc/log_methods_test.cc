// The log family: the main log and the process logs, read, tailed and cleared.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

// ---- main log ---------------------------------------------------------------------------------

TEST_F(RpcMethodsTest, ReadLogOffsetRules) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "0123456789";
  // offset < 0, length 0: the last -offset bytes, or the whole file.
  EXPECT_EQ(call("supervisor.readLog", {-4, 0}), R("6789"));
  EXPECT_EQ(call("supervisor.readLog", {-100, 0}), R("0123456789"));
  // offset < 0, length != 0.
  EXPECT_EQ(call("supervisor.readLog", {-4, 2}), F(3, "BAD_ARGUMENTS"));
  // offset >= 0, length < 0.
  EXPECT_EQ(call("supervisor.readLog", {0, -1}), F(3, "BAD_ARGUMENTS"));
  // offset >= 0, length 0: to the end.
  EXPECT_EQ(call("supervisor.readLog", {3, 0}), R("3456789"));
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), R("0123456789"));
  // otherwise up to length bytes from offset.
  EXPECT_EQ(call("supervisor.readLog", {2, 3}), R("234"));
  EXPECT_EQ(call("supervisor.readLog", {8, 5}), R("89"));
  EXPECT_EQ(call("supervisor.readLog", {20, 5}), R(""));
  // The alias.
  EXPECT_EQ(call("supervisor.readMainLog", {2, 3}), R("234"));
  // A read error.
  control_.unreadable.insert("/var/log/z.log");
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(30, "FAILED"));
  EXPECT_EQ(call("supervisor.readLog", {-3, 0}), F(30, "FAILED"));
}

TEST_F(RpcMethodsTest, ReadLogWithoutFile) {
  make(kWeb);
  // NO_FILE comes before the argument check, as supervisord's readLog.
  EXPECT_EQ(call("supervisor.readLog", {0, -1}), F(20, "NO_FILE: /var/log/z.log"));
  control_.main_log = "";  // syslog
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(20, "NO_FILE: None"));
}

TEST_F(RpcMethodsTest, ClearLog) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.clearLog"), F(20, "NO_FILE"));
  control_.files["/var/log/z.log"] = "old lines\n";
  EXPECT_EQ(call("supervisor.clearLog"), R(true));
  EXPECT_EQ(control_.main_log_clears, 1);
  EXPECT_EQ(control_.files["/var/log/z.log"], "");
  control_.clear_main_log_fails = true;
  EXPECT_EQ(call("supervisor.clearLog"), F(30, "FAILED"));
  control_.main_log = "";
  EXPECT_EQ(call("supervisor.clearLog"), F(20, "NO_FILE"));
}

// ---- process logs -----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, ReadProcessLogs) {
  make(kWeb +
       "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n"
       "redirect_stderr=true\n");
  control_.files["/var/log/web.out"] = "out0123456789";
  control_.files["/var/log/web.err"] = "err";
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", -4, 0}), R("6789"));
  EXPECT_EQ(call("supervisor.readProcessLog", {"web:web", 0, 3}), R("out"));
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"web", 0, 0}), R("err"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", -4, 1}), F(3, "BAD_ARGUMENTS"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 1, -1}), F(3, "BAD_ARGUMENTS"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 3, 0}), R("0123456789"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"nosuch", 0, 0}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web:*", 0, 0}), F(10, "BAD_NAME: web:*"));
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"quiet", 0, 0}), F(20, "NO_FILE: None"));
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"quiet", 0, 0}), F(20, "NO_FILE: None"));
  control_.files.erase("/var/log/web.err");
  EXPECT_EQ(call("supervisor.readProcessStderrLog", {"web", 0, 0}),
            F(20, "NO_FILE: /var/log/web.err"));
  control_.unreadable.insert("/var/log/web.out");
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"web", 0, 0}), F(30, "FAILED"));
}

TEST_F(RpcMethodsTest, TailProcessLogRules) {
  make(kWeb);
  control_.files["/var/log/web.out"] = "abcdefghij";  // size 10
  // Grown beyond offset + length: overflow, the last `length` bytes.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, 5}), R({"fghij", 10, true}));
  // Everything fits.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, 100}), R({"abcdefghij", 10, false}));
  // Nothing appended since the offset.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 10, 5}), R({"", 10, false}));
  // Bytes before the requested offset come back: at most the last `length` bytes.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 8, 5}), R({"fghij", 10, false}));
  // An offset past the end.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 20, 5}), R({"", 10, false}));
  // Negative values are clamped.
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, -5}), R({"", 10, true}));
  EXPECT_EQ(call("supervisor.tailProcessLog", {"web", 0, 3}), R({"hij", 10, true}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"nosuch", 0, 5}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web:*", 0, 5}), F(10, "BAD_NAME: web:*"));
  // A missing file: no fault.
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"web", 0, 5}), R({"", 0, false}));
  control_.files["/var/log/web.err"] = "e1\ne2\n";
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"web", 0, 3}), R({"e2\n", 6, true}));
}

// Bug: 64-bit offsets and lengths overflowed the sums of the tail rules (undefined behaviour;
// an abort under UBSan) and gave the last byte with overflow=true.
TEST_F(RpcMethodsTest, HugeLogArgumentsDoNotOverflow) {
  make(kWeb);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  control_.files["/var/log/web.out"] = "abcdefghij";
  control_.files["/var/log/z.log"] = "0123456789";
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", max, max}), R({"", 10, false}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", 0, max}), R({"abcdefghij", 10, false}));
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"web", min, 3}), R({"hij", 10, true}));
  EXPECT_EQ(call("supervisor.readLog", {min, 0}), R("0123456789"));
  EXPECT_EQ(call("supervisor.readLog", {max, 0}), R(""));
  EXPECT_EQ(call("supervisor.readLog", {0, max}), R("0123456789"));
}

TEST_F(RpcMethodsTest, TailWithoutConfiguredLog) {
  make(
      "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n"
      "redirect_stderr=true\n");
  EXPECT_EQ(call("supervisor.tailProcessStdoutLog", {"quiet", 0, 5}), R({"", 0, false}));
  EXPECT_EQ(call("supervisor.tailProcessStderrLog", {"quiet", 0, 5}), R({"", 0, false}));
}

TEST_F(RpcMethodsTest, AutoLogsAreTheResolvedPaths) {
  make("[program:auto]\ncommand=/bin/auto\nautostart=false\n");
  control_.files["/auto/auto-stdout.log"] = "hello";
  EXPECT_EQ(call("supervisor.readProcessStdoutLog", {"auto", 0, 0}), R("hello"));
  EXPECT_EQ(call("supervisor.getProcessInfo", {"auto"})["result"]["stdout_logfile"],
            "/auto/auto-stdout.log");
  EXPECT_EQ(call("supervisor.getProcessInfo", {"auto"})["result"]["stderr_logfile"],
            "/auto/auto-stderr.log");
}

TEST_F(RpcMethodsTest, ClearProcessLogs) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\npriority=1\n"
       "stdout_logfile=/var/log/db.out\n");
  control_.files["/var/log/web.out"] = "out";
  control_.files["/var/log/web.err"] = "err";
  control_.files["/var/log/db.out"] = "db";
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web"}), R(true));
  EXPECT_EQ(control_.files["/var/log/web.out"], "");
  EXPECT_EQ(control_.files["/var/log/web.err"], "");
  EXPECT_EQ(control_.files["/var/log/db.out"], "db");
  EXPECT_EQ(call("supervisor.clearProcessLog", {"db"}), R(true));
  EXPECT_EQ(control_.files["/var/log/db.out"], "");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"nosuch"}), F(10, "BAD_NAME: nosuch"));
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web:*"}), F(10, "BAD_NAME: web:*"));
  // A missing file is not an error.
  control_.files.erase("/var/log/web.err");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web"}), R(true));
  control_.untruncatable.insert("/var/log/web.out");
  EXPECT_EQ(call("supervisor.clearProcessLogs", {"web:web"}), F(30, "FAILED: web:web"));
  // All: priority order (db first), FAILED for web.
  EXPECT_EQ(call("supervisor.clearAllProcessLogs"),
            R({RS("db", "db"), RS("web", "web", 30, "FAILED: web")}));
}

}  // namespace
}  // namespace zagent::rpc_test
