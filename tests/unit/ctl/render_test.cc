#include "ctl/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/faults.h"

namespace zagent::ctl {
namespace {

using ::testing::ElementsAre;

TEST(Namespec, GroupEqualsNameShowsTheNameOnly) {
  EXPECT_EQ(make_namespec("ok", std::string("ok")), "ok");
  EXPECT_EQ(make_namespec("grp", std::string("g1")), "grp:g1");
  EXPECT_EQ(make_namespec("grp", std::nullopt), "grp:None");
}

TEST(Namespec, SplitOnTheFirstColon) {
  auto plain = split_namespec("web");
  EXPECT_EQ(plain.group, "web");
  EXPECT_EQ(plain.process, "web");
  auto both = split_namespec("grp:g1");
  EXPECT_EQ(both.group, "grp");
  EXPECT_EQ(both.process, "g1");
  EXPECT_EQ(split_namespec("grp:*").process, std::nullopt);
  EXPECT_EQ(split_namespec("grp:").process, std::nullopt);
  EXPECT_EQ(split_namespec("grp:").group, "grp");
  auto nested = split_namespec("a:b:c");
  EXPECT_EQ(nested.group, "a");
  EXPECT_EQ(nested.process, "b:c");
}

TEST(Words, SplitLikePython) {
  EXPECT_THAT(split_words("  a \tb\n c  "), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(split_words(" \t ").empty());
  EXPECT_EQ(strip("\t x y \n"), "x y");
}

TEST(StatusTable, VerifiedRowsWithTheMinimumWidth) {
  // spec/ctl.md §3, verified output (W = 33).
  const std::vector<StatusRow> rows = {
      {"exit0", "EXITED", "Nov 24 02:16 PM"},
      {"grp:g1", "RUNNING", "pid 6296, uptime 0:00:14"},
      {"missing", "STOPPED", "Not started"},
      {"multi:multi_01", "STOPPED", "Not started"},
      {"newprog", "STARTING", ""},
      {"quick", "BACKOFF", "Exited too quickly (process log may have details)"},
      {"quick", "FATAL", "Exited too quickly (process log may have details)"},
      {"stubborn", "STOPPING", ""},
      {"missing", "FATAL", "can't find command '/nonexistent/cmd'"},
      {"missing", "STOPPED", "Jan 01 12:00 AM"},
      {"ok", "RUNNING", "pid 1, uptime 1 day, 1:01:01"},
      {"ok", "BACKOFF", "unknown error (try \"tail ok\")"},
      {"ok", "UNKNOWN", ""},
  };
  EXPECT_EQ(status_table(rows),
            "exit0                            EXITED    Nov 24 02:16 PM\n"
            "grp:g1                           RUNNING   pid 6296, uptime 0:00:14\n"
            "missing                          STOPPED   Not started\n"
            "multi:multi_01                   STOPPED   Not started\n"
            "newprog                          STARTING  \n"
            "quick                            BACKOFF   Exited too quickly (process log may have "
            "details)\n"
            "quick                            FATAL     Exited too quickly (process log may have "
            "details)\n"
            "stubborn                         STOPPING  \n"
            "missing                          FATAL     can't find command '/nonexistent/cmd'\n"
            "missing                          STOPPED   Jan 01 12:00 AM\n"
            "ok                               RUNNING   pid 1, uptime 1 day, 1:01:01\n"
            "ok                               BACKOFF   unknown error (try \"tail ok\")\n"
            "ok                               UNKNOWN   \n");
}

TEST(StatusTable, LongNameWidensEveryRow) {
  // Verified: a 48-character name gives W = 51.
  const std::vector<StatusRow> rows = {
      {"a_very_long_program_name_exceeding_thirty_chars", "RUNNING", "pid 26155, uptime 0:00:07"},
      {"nolog", "RUNNING", "pid 26156, uptime 0:00:07"},
  };
  EXPECT_EQ(status_table(rows),
            "a_very_long_program_name_exceeding_thirty_chars   RUNNING   pid 26155, uptime "
            "0:00:07\n"
            "nolog                                             RUNNING   pid 26156, uptime "
            "0:00:07\n");
}

TEST(StatusTable, WidthBoundaries) {
  const std::string n30(30, 'x');
  const std::string n31(31, 'y');
  EXPECT_EQ(status_table({{n30, "RUNNING", "d"}}), n30 + "   RUNNING   d\n");
  EXPECT_EQ(status_table({{n31, "RUNNING", "d"}}), n31 + "   RUNNING   d\n");
  EXPECT_EQ(status_table({{"a", "RUNNING", "d"}, {n31, "STOPPED", "e"}}),
            "a" + std::string(33, ' ') + "RUNNING   d\n" + n31 + "   STOPPED   e\n");
  EXPECT_EQ(status_table({}), "");
  // Python pads by characters, not bytes.
  EXPECT_EQ(status_table({{"\xc3\xa9", "RUNNING", ""}}),
            "\xc3\xa9" + std::string(32, ' ') + "RUNNING   \n");
}

TEST(ResultLines, StartPerFault) {
  const auto line = [](int code) {
    auto r = start_result("ok", code);
    return r ? r->line : std::string("<none>");
  };
  EXPECT_EQ(line(fault_code(Fault::Success)), "ok: started");
  EXPECT_EQ(line(fault_code(Fault::BadName)), "ok: ERROR (no such process)");
  EXPECT_EQ(line(fault_code(Fault::NoFile)), "ok: ERROR (no such file)");
  EXPECT_EQ(line(fault_code(Fault::NotExecutable)), "ok: ERROR (file is not executable)");
  EXPECT_EQ(line(fault_code(Fault::AlreadyStarted)), "ok: ERROR (already started)");
  EXPECT_EQ(line(fault_code(Fault::SpawnError)), "ok: ERROR (spawn error)");
  EXPECT_EQ(line(fault_code(Fault::AbnormalTermination)), "ok: ERROR (abnormal termination)");
  EXPECT_EQ(line(fault_code(Fault::Failed)), "<none>");
  EXPECT_EQ(line(fault_code(Fault::ShutdownState)), "<none>");
  auto r = start_result("grp:g1", fault_code(Fault::Success));
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->message, "started");
  EXPECT_EQ(start_result("x", fault_code(Fault::SpawnError))->message, "ERROR (spawn error)");
  EXPECT_EQ(unknown_result_code(30, "ok"),
            "error: <class 'ValueError'>, Unknown result code 30 for ok: file: zctl line: 0");
}

TEST(ResultLines, StopAndSignalPerFault) {
  const auto line = [](int code, std::string_view success) {
    auto r = signal_result("ok", code, "FAILED: kill failed", success);
    return r ? r->line : std::string("<none>");
  };
  EXPECT_EQ(line(80, "stopped"), "ok: stopped");
  EXPECT_EQ(line(80, "signalled"), "ok: signalled");
  EXPECT_EQ(line(10, "stopped"), "ok: ERROR (no such process)");
  EXPECT_EQ(line(11, "signalled"), "ok: ERROR (bad signal name)");
  EXPECT_EQ(line(70, "stopped"), "ok: ERROR (not running)");
  EXPECT_EQ(line(30, "stopped"), "FAILED: kill failed");
  EXPECT_EQ(line(60, "stopped"), "<none>");
}

TEST(ResultLines, ClearPerFault) {
  EXPECT_EQ(clear_result("talker", 80)->line, "talker: cleared");
  EXPECT_EQ(clear_result("grp:None", 10)->line, "grp:None: ERROR (no such process)");
  EXPECT_EQ(clear_result("talker", 30)->line, "talker: ERROR (failed)");
  EXPECT_FALSE(clear_result("talker", 20).has_value());
}

TEST(Avail, VerifiedLines) {
  EXPECT_EQ(avail_line("exit0", true, true, "999", "999"),
            "exit0                            in use    auto      999:999");
  EXPECT_EQ(avail_line("grp:g1", true, true, "50", "999"),
            "grp:g1                           in use    auto      50:999");
  EXPECT_EQ(avail_line("missing", true, false, "999", "999"),
            "missing                          in use    manual    999:999");
  EXPECT_EQ(avail_line("newprog", false, true, "999", "999"),
            "newprog                          avail     auto      999:999");
}

TEST(Reread, SortedNamesAndNothingChanged) {
  EXPECT_EQ(reread_text({"newprog"}, {"talker"}, {"stubborn"}),
            "newprog: available\nstubborn: disappeared\ntalker: changed\n");
  EXPECT_EQ(reread_text({}, {}, {}), "No config updates to processes\n");
  EXPECT_EQ(reread_text({"x"}, {}, {"x"}), "x: disappeared\n");
}

TEST(Durations, UptimeIsPythonsTimedelta) {
  EXPECT_EQ(uptime_text(0), "0:00:00");
  EXPECT_EQ(uptime_text(5.99), "0:00:05");
  EXPECT_EQ(uptime_text(3764.25), "1:02:44");
  EXPECT_EQ(uptime_text(86399), "23:59:59");
  EXPECT_EQ(uptime_text(86400), "1 day, 0:00:00");
  EXPECT_EQ(uptime_text(86400 * 3 + 4 * 3600 + 5 * 60 + 6), "3 days, 4:05:06");
  EXPECT_EQ(uptime_text(-3), "0:00:00");
}

TEST(Durations, UtcTime) {
  EXPECT_EQ(utc_time_text(0), "1970-01-01 00:00:00");
  EXPECT_EQ(utc_time_text(1764648764), "2025-12-02 04:12:44");
  EXPECT_EQ(utc_time_text(951782400), "2000-02-29 00:00:00");
  EXPECT_EQ(utc_time_text(-1), "1969-12-31 23:59:59");
}

TEST(Help, IndexIsByteExact) {
  // spec/ctl.md §8 (lines 4-6 end with the padding shown).
  EXPECT_EQ(help_index(),
            "\n"
            "default commands (type help <topic>):\n"
            "=====================================\n"
            "add    exit      open  reload  restart   start   tail   \n"
            "avail  fg        pid   remove  shutdown  status  update \n"
            "clear  maintail  quit  reread  signal    stop    version\n"
            "\n");
}

TEST(Help, Columnize) {
  EXPECT_EQ(columnize({}, 79), "<empty>\n");
  EXPECT_EQ(columnize({"one"}, 79), "one\n");
  EXPECT_EQ(columnize({"a", "bb", "c"}, 79), "a  bb  c\n");
  // Too wide for one row: two rows, column-major; a short last column is not padded out.
  EXPECT_EQ(columnize({"aaaa", "bbbb", "cccc"}, 10), "aaaa  cccc\nbbbb\n");
  EXPECT_EQ(columnize({"aaaaaaaaaaaa", "b"}, 5), "aaaaaaaaaaaa\nb\n");
}

TEST(Help, Topics) {
  EXPECT_EQ(*help_topic("start"),
            "start <name>\t\tStart a process\n"
            "start <gname>:*\t\tStart all processes in a group\n"
            "start <name> <name>\tStart multiple processes or groups\n"
            "start all\t\tStart all processes\n");
  EXPECT_EQ(*help_topic("maintail"),
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n"
            "maintail -100\tlast 100 *bytes* of supervisord main log file\n"
            "maintail\tlast 1600 *bytes* of supervisor main log file\n"
            "\n");
  EXPECT_EQ(*help_topic("tail"),
            "tail [-f] <name> [stdout|stderr] (default stdout)\n"
            "Ex:\n"
            "tail -f <name>\t\tContinuous tail of named process stdout\n"
            "\t\t\tCtrl-C to exit.\n"
            "tail -100 <name>\tlast 100 *bytes* of process stdout\n"
            "tail <name> stderr\tlast 1600 *bytes* of process stderr\n");
  EXPECT_EQ(*help_topic("reload"), "reload \t\tRestart the remote supervisord.\n");
  EXPECT_EQ(*help_topic("shutdown"), "shutdown \tShut the remote supervisord down.\n");
  EXPECT_EQ(*help_topic("fg"),
            "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit\n");
  EXPECT_EQ(*help_topic("help"),
            "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>\n");
  EXPECT_FALSE(help_topic("bogus").has_value());
  EXPECT_FALSE(help_topic("EOF").has_value());
  EXPECT_EQ(command_names().size(), 21U);
}

TEST(Help, EveryOtherTopicAsInTheSpecTable) {
  // spec/ctl.md §8, `\t` = TAB.
  const std::vector<std::pair<std::string, std::string>> topics = {
      {"add", "add <name> [...]\tActivates any updates in config for process/group\n"},
      {"avail", "avail\t\t\tDisplay all configured processes\n"},
      {"clear",
       "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple "
       "process' log files\nclear all\t\tClear all process' log files\n"},
      {"exit", "exit\tExit the supervisor shell.\n"},
      {"open",
       "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use "
       "unix:///socket/path)\n"},
      {"pid",
       "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process "
       "by name.\npid all\t\t\tGet the PID of every child process, one per line.\n"},
      {"quit", "quit\tExit the supervisor shell.\n"},
      {"remove", "remove <name> [...]\tRemoves process/group from active config\n"},
      {"reread", "reread \t\t\tReload the daemon's configuration files without add/remove\n"},
      {"restart",
       "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a "
       "group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart "
       "all\t\tRestart all processes\nNote: restart does not reread config files. For that, see "
       "reread and update.\n"},
      {"signal",
       "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal "
       "all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes "
       "or groups\nsignal <signal name> all\t\tSignal all processes\n"},
      {"status",
       "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all "
       "processes in a group\nstatus <name> <name>\tGet status for multiple named "
       "processes\nstatus\t\t\tGet all process status info\n"},
      {"stop",
       "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop "
       "<name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes\n"},
      {"update",
       "update\t\t\tReload config and add/remove as necessary, and will restart affected "
       "programs\nupdate all\t\tReload config and add/remove as necessary, and will restart "
       "affected programs\nupdate <gname> [...]\tUpdate specific groups\n"},
      {"version", "version\t\t\tShow the version of the remote supervisord process\n"},
  };
  for (const auto& [topic, text] : topics) {
    EXPECT_EQ(help_topic(topic).value_or("<none>"), text) << topic;
  }
}

TEST(ErrorLines, PythonShapes) {
  EXPECT_EQ(
      python_error("xmlrpc.client.Fault", fault_repr(6, "SHUTDOWN_STATE")),
      "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: zctl line: 0");
  // repr() picks double quotes for a string holding a single quote.
  EXPECT_EQ(fault_repr(92, "CANT_REREAD: not a valid boolean value: 'maybe'"),
            "<Fault 92: \"CANT_REREAD: not a valid boolean value: 'maybe'\">");
}

TEST(Upcheck, Texts) {
  EXPECT_EQ(no_such_file_text("unix:///tmp/s.sock"), "unix:///tmp/s.sock no such file");
  EXPECT_EQ(refused_connection_text("http://127.0.0.1:1"), "http://127.0.0.1:1 refused connection");
  EXPECT_EQ(api_version_text("2.0"),
            "Sorry, this version of supervisorctl expects to talk to a server with API version "
            "3.0, but the remote version is 2.0.");
  EXPECT_EQ(unknown_namespace_text(),
            "Sorry, supervisord responded but did not recognize the supervisor namespace commands "
            "that supervisorctl uses to control it.  Please check that the "
            "[rpcinterface:supervisor] section is enabled in the configuration file (see "
            "sample.conf).");
}

}  // namespace
}  // namespace zagent::ctl
