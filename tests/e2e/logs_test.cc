// End-to-end: child output capture (spec/logging.md §2-§3, spec/ctl.md §4.6 and §5) with the
// real zagent and zctl in a temp dir. The helper programs write output that the test can
// regenerate exactly (tests/helpers/test_output.h), so every log is compared byte for byte:
// rotation (names, counts, sizes, no split lines), binary data, nothing lost at exit,
// redirect_stderr, AUTO logs, clear, SIGUSR2 reopen, unwritable logs (file size limit, missing
// directory, full disk), tail / maintail, tail -f across rotations and debug copies in the
// main log. Waits are conditions with deadlines; no process is left behind (agent_fixture.h).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/e2e/agent_fixture.h"
#include "tests/helpers/test_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test::e2e {
namespace {

using Json = nlohmann::json;
using test_output::numbered_err_line;
using test_output::numbered_line;
using test_output::numbered_lines;
using test_output::random_stream;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

bool exists(const std::string& path) { return fs::exists(path); }

std::string backup(const std::string& path, int index) {
  return path + "." + std::to_string(index);
}

/// The highest N for which `path.1` … `path.N` all exist.
int backup_count(const std::string& path) {
  int n = 0;
  while (exists(backup(path, n + 1))) {
    ++n;
  }
  return n;
}

/// The oldest backup first, then the current file: the captured stream as far as it is kept.
std::string concat_rotated(const std::string& path) {
  std::string all;
  for (int i = backup_count(path); i >= 1; --i) {
    all += read_file(backup(path, i));
  }
  return all + read_file(path);
}

/// Sum of the sizes of `path` and its backups (0 for missing files).
std::uintmax_t rotated_size(const std::string& path) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (int i = backup_count(path); i >= 0; --i) {
    const auto size = fs::file_size(i == 0 ? path : backup(path, i), ec);
    total += ec ? 0 : size;
  }
  return total;
}

/// Names of the files in `dir` that match `pattern` (whole name), sorted.
std::vector<std::string> files_matching(const fs::path& dir, const std::string& pattern) {
  const std::regex re(pattern);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, re)) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Offset where the last line of `text` (which ends with '\n') begins.
size_t last_line_start(const std::string& text) {
  if (text.size() < 2) {
    return 0;
  }
  const size_t nl = text.rfind('\n', text.size() - 2);
  return nl == std::string::npos ? 0 : nl + 1;
}

/// Length of the first line of `text`, its '\n' included (all of it if there is none).
size_t first_line_length(const std::string& text) {
  const size_t nl = text.find('\n');
  return nl == std::string::npos ? text.size() : nl + 1;
}

/// True if `part` is the end of `whole` and begins right after a '\n' (or at its start).
bool is_tail_at_line_start(const std::string& whole, const std::string& part) {
  if (part.size() > whole.size() ||
      whole.compare(whole.size() - part.size(), part.size(), part) != 0) {
    return false;
  }
  const size_t start = whole.size() - part.size();
  return start == 0 || whole[start - 1] == '\n';
}

/// The `<namespec> <STATE> <description>` row of `zctl status` for a running process, with the
/// given text after `pid N, uptime H:MM:SS` (e.g. ", stdout log: ...").
std::regex running_row(const std::string& name, const std::string& after_uptime) {
  std::string escaped;
  for (const char c : after_uptime) {
    if (std::strchr(R"(\^$.|?*+()[]{})", c) != nullptr) {
      escaped.push_back('\\');
    }
    escaped.push_back(c);
  }
  return std::regex("^" + name + " +RUNNING   pid \\d+, uptime \\d+:\\d\\d:\\d\\d" + escaped +
                    "\n$");
}

/// `lines` helper command line.
std::string lines_cmd(const std::string& args) { return helper("lines") + " " + args; }

class LogsTest : public AgentFixture {
 protected:
  /// `zctl LINE` must print exactly `out` on stdout, nothing on stderr, and exit `code`.
  void expect_ctl(const std::string& line, const std::string& out, int code) const {
    SCOPED_TRACE("zctl " + line);
    const RunResult r = ctl(line);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.out, out);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.exit_code, code);
  }

  /// `zctl --json status NAME`: the process's entry.
  Json process_json(const std::string& name) const {
    const RunResult r = ctl("--json status " + name);
    const Json doc = Json::parse(r.out, nullptr, false);
    if (doc.is_discarded() || !doc.contains("processes") || doc["processes"].size() != 1) {
      ADD_FAILURE() << "zctl --json status " << name << ": " << r.out << r.err;
      return Json::object();
    }
    return doc["processes"][0];
  }

  /// Until the file `name` ends with `suffix`.
  bool wait_file_ends_with(const std::string& name, const std::string& suffix) const {
    return wait_until([&] {
      const std::string text = read_file(dir_.file(name));
      return text.size() >= suffix.size() &&
             text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
    });
  }
};

// =============================================================================================
// §2.3 rotation

TEST_F(LogsTest, RotationKeepsExactlyTheConfiguredBackupsWithWholeLines) {
  // ~105 KB of lines of 13..163 bytes, written in 4000-byte pieces that cut lines anywhere.
  const long long kLines = 1200;
  const std::string expected = numbered_lines(1, kLines);
  const std::string log = dir_.file("rot.log");
  ASSERT_TRUE(
      start_agent(program("rot", lines_cmd(std::to_string(kLines) + " --chunk 4000 --then-wait"),
                          "startsecs=0\nstdout_logfile=%(here)s/rot.log\n"
                          "stdout_logfile_maxbytes=10KB\nstdout_logfile_backups=3\n")));
  ASSERT_TRUE(wait_file_ends_with("rot.log", numbered_line(kLines))) << read_file(log);

  // Exactly rot.log and rot.log.1 .. rot.log.3.
  EXPECT_EQ(files_matching(dir_.path(), R"(rot\.log.*)"),
            (std::vector<std::string>{"rot.log", "rot.log.1", "rot.log.2", "rot.log.3"}));
  // Oldest first: each file ends at a line end, its last line began before the cap, and the
  // next file's first line did not fit any more (no rotation too early).
  const std::vector<std::string> files = {read_file(backup(log, 3)), read_file(backup(log, 2)),
                                          read_file(backup(log, 1)), read_file(log)};
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE("file " + std::to_string(i) + " (0 = rot.log.3)");
    ASSERT_FALSE(files[i].empty());
    EXPECT_EQ(files[i].back(), '\n');
    EXPECT_LT(last_line_start(files[i]), 10240u) << files[i].size();
    if (i + 1 < files.size()) {
      EXPECT_GT(files[i].size() + first_line_length(files[i + 1]), 10240u);
      EXPECT_THAT(files[i + 1], StartsWith("line "));
    }
  }
  // Together they are the end of the output; the older part was dropped.
  const std::string kept = files[0] + files[1] + files[2] + files[3];
  EXPECT_LT(kept.size(), expected.size());
  EXPECT_GT(kept.size(), 3u * 10240u - 3u * 163u);
  EXPECT_TRUE(is_tail_at_line_start(expected, kept)) << kept.size();
}

TEST_F(LogsTest, NoBackupsTruncatesTheFileInPlace) {
  const long long kLines = 1200;
  const std::string expected = numbered_lines(1, kLines);
  const std::string log = dir_.write("rot0.log", "");  // exists before: the inode must stay
  struct stat before {};
  ASSERT_EQ(stat(log.c_str(), &before), 0);
  ASSERT_TRUE(
      start_agent(program("rot0", lines_cmd(std::to_string(kLines) + " --chunk 4000 --then-wait"),
                          "startsecs=0\nstdout_logfile=%(here)s/rot0.log\n"
                          "stdout_logfile_maxbytes=10KB\nstdout_logfile_backups=0\n")));
  ASSERT_TRUE(wait_file_ends_with("rot0.log", numbered_line(kLines))) << read_file(log);

  const std::string kept = read_file(log);
  EXPECT_EQ(files_matching(dir_.path(), R"(rot0\.log.*)"), std::vector<std::string>{"rot0.log"});
  EXPECT_TRUE(is_tail_at_line_start(expected, kept)) << kept.size();
  EXPECT_LT(last_line_start(kept), 10240u) << kept.size();
  EXPECT_LT(kept.size(), expected.size());
  struct stat after {};
  ASSERT_EQ(stat(log.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
}

TEST_F(LogsTest, MaxbytesZeroNeverRotates) {
  const long long kLines = 3000;  // ~260 KB
  const std::string expected = numbered_lines(1, kLines);
  ASSERT_TRUE(
      start_agent(program("all", lines_cmd(std::to_string(kLines) + " --chunk 4000 --then-wait"),
                          "startsecs=0\nstdout_logfile=%(here)s/all.log\n"
                          "stdout_logfile_maxbytes=0\nstdout_logfile_backups=3\n")));
  EXPECT_TRUE(wait_file("all.log", expected)) << read_file(dir_.file("all.log")).size();
  EXPECT_EQ(files_matching(dir_.path(), R"(all\.log.*)"), std::vector<std::string>{"all.log"});
}

TEST_F(LogsTest, BinaryOutputIsCopiedByteForByteAcrossManyRotations) {
  // 3 MB of random bytes (NUL, invalid UTF-8, a '\n' about every 256 bytes) in write()s of
  // random sizes; 64 KB files and enough backups that nothing is dropped.
  const size_t kBytes = 3000000;
  const std::string expected = random_stream(42, kBytes);
  const std::string log = dir_.file("bin.log");
  ASSERT_TRUE(start_agent(
      program("bin", helper("random_bytes") + " 42 " + std::to_string(kBytes) + " --then-sleep",
              "startsecs=0\nstdout_logfile=%(here)s/bin.log\n"
              "stdout_logfile_maxbytes=64KB\nstdout_logfile_backups=100\n")));
  ASSERT_TRUE(wait_until([&] { return rotated_size(log) == kBytes; })) << rotated_size(log);

  const int backups = backup_count(log);
  EXPECT_GE(backups, static_cast<int>(kBytes / 65536) - 1);
  EXPECT_LE(backups, static_cast<int>(kBytes / 65536) + 2);
  EXPECT_FALSE(exists(backup(log, backups + 1)));
  for (int i = 1; i <= backups; ++i) {
    SCOPED_TRACE("bin.log." + std::to_string(i));
    const std::string part = read_file(backup(log, i));
    ASSERT_FALSE(part.empty());
    EXPECT_EQ(part.back(), '\n');  // a random line is far shorter than 64 KB: never split
    EXPECT_LT(last_line_start(part), 65536u);
  }
  const std::string all = concat_rotated(log);
  ASSERT_EQ(all.size(), expected.size());
  EXPECT_TRUE(all == expected) << "the captured bytes differ from the stream";
}

TEST_F(LogsTest, NothingIsLostWhenAProgramExitsRightAfterWriting) {
  // 5 MB as fast as possible, then exit at once: the agent reads what is left in the pipe
  // before it handles the exit, so the log is complete when the status says EXITED.
  const size_t kBytes = 5000000;
  const std::string log = dir_.file("fast.log");
  ASSERT_TRUE(start_agent(program("fast", helper("random_bytes") + " 7 " + std::to_string(kBytes),
                                  "startsecs=0\nautorestart=false\n"
                                  "stdout_logfile=%(here)s/fast.log\n"
                                  "stdout_logfile_maxbytes=1MB\nstdout_logfile_backups=10\n")));
  ASSERT_TRUE(wait_state("fast", "EXITED"));
  const std::string all = concat_rotated(log);  // no further wait
  const std::string expected = random_stream(7, kBytes);
  ASSERT_EQ(all.size(), expected.size());
  EXPECT_TRUE(all == expected) << "the captured bytes differ from the stream";
  EXPECT_GE(backup_count(log), 4);
}

// =============================================================================================
// §2.2 where the output goes

TEST_F(LogsTest, RedirectStderrInterleavesBothStreamsInTheStdoutLog) {
  const long long kLines = 300;
  std::string interleaved;
  std::string out_only;
  std::string err_only;
  for (long long n = 1; n <= kLines; ++n) {
    interleaved += numbered_line(n) + numbered_err_line(n);
    out_only += numbered_line(n);
    err_only += numbered_err_line(n);
  }
  ASSERT_TRUE(
      start_agent(program("red", lines_cmd(std::to_string(kLines) + " --stderr-too --then-wait"),
                          "startsecs=0\nredirect_stderr=true\nstdout_logfile=%(here)s/red.log\n") +
                  program("split", lines_cmd(std::to_string(kLines) + " --stderr-too --then-wait"),
                          "startsecs=0\nstdout_logfile=%(here)s/split.out\n"
                          "stderr_logfile=%(here)s/split.err\n")));
  // One pipe: the order of the writes is kept exactly.
  EXPECT_TRUE(wait_file("red.log", interleaved)) << read_file(dir_.file("red.log"));
  // Two pipes: each channel in its own file, nothing mixed.
  EXPECT_TRUE(wait_file("split.out", out_only));
  EXPECT_TRUE(wait_file("split.err", err_only));

  expect_ctl("tail red stderr", "red: ERROR (no log file)\n", 1);
  expect_ctl("tail -44 red", last_bytes(interleaved, 44) + "\n", 0);
  const Json info = process_json("red");
  EXPECT_EQ(info.value("stdout_logfile", "?"), dir_.file("red.log"));
  EXPECT_EQ(info.value("stderr_logfile", "?"), "");
  EXPECT_EQ(files_matching(dir_.path(), R"(red-stderr---.*)"), std::vector<std::string>{});
}

TEST_F(LogsTest, AutoLogsAreCreatedAtStartInChildlogdir) {
  ASSERT_TRUE(
      start_agent(program("autoa", lines_cmd("20 --stderr-too --then-wait"), "startsecs=0\n") +
                  program("autob", lines_cmd("5"), "autostart=false\n")));
  // zagent logs "supervisord started" (and writes the pidfile) just before it creates the AUTO
  // files, where supervisord creates them first: wait for them.
  const std::string pattern = R"((autoa|autob)-(stdout|stderr)---supervisor-[a-z0-9_]{8}\.log)";
  wait_until([&] { return files_matching(dir_.path(), pattern).size() >= 4; });
  const std::vector<std::string> names = files_matching(dir_.path(), pattern);
  ASSERT_EQ(names.size(), 4u) << ::testing::PrintToString(names);
  std::map<std::string, std::string> by_channel;  // "autoa-stdout" -> file name
  for (const std::string& name : names) {
    by_channel[name.substr(0, name.find("---"))] = name;
    struct stat st {};
    ASSERT_EQ(stat(dir_.file(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  ASSERT_EQ(by_channel.size(), 4u) << ::testing::PrintToString(names);
  // The never-started program's files exist and are empty.
  EXPECT_EQ(read_file(dir_.file(by_channel["autob-stdout"])), "");
  EXPECT_EQ(read_file(dir_.file(by_channel["autob-stderr"])), "");
  // The output lands in them, each channel in its own.
  std::string err;
  for (long long n = 1; n <= 20; ++n) {
    err += numbered_err_line(n);
  }
  EXPECT_TRUE(wait_file(by_channel["autoa-stdout"], numbered_lines(1, 20)));
  EXPECT_TRUE(wait_file(by_channel["autoa-stderr"], err));
  // getProcessInfo reports the paths.
  for (const std::string name : {"autoa", "autob"}) {
    SCOPED_TRACE(name);
    const Json info = process_json(name);
    EXPECT_EQ(info.value("stdout_logfile", "?"), dir_.file(by_channel[name + "-stdout"]));
    EXPECT_EQ(info.value("stderr_logfile", "?"), dir_.file(by_channel[name + "-stderr"]));
  }
  expect_ctl("tail autoa stderr", err + "\n", 0);
}

// =============================================================================================
// §2.4 clear and SIGUSR2

TEST_F(LogsTest, ClearEmptiesTheCurrentFileAndKeepsBackups) {
  const std::string log = dir_.file("cl.log");
  ASSERT_TRUE(start_agent(
      program("cl", lines_cmd("400 --then-wait --more 3 --done-file " + dir_.file("cl.done")),
              "startsecs=0\nstdout_logfile=%(here)s/cl.log\n"
              "stdout_logfile_maxbytes=10KB\nstdout_logfile_backups=3\n") +
      program("other", lines_cmd("10 --then-wait --done-file " + dir_.file("other.done")),
              "startsecs=0\nstdout_logfile=%(here)s/other.log\n")));
  ASSERT_TRUE(wait_file("cl.done", "1\n"));
  ASSERT_TRUE(wait_file("other.done", "1\n"));
  ASSERT_THAT(read_file(log), EndsWith(numbered_line(400)));
  ASSERT_EQ(backup_count(log), 3);
  const std::string b1 = read_file(backup(log, 1));
  const std::string b2 = read_file(backup(log, 2));
  const std::string b3 = read_file(backup(log, 3));
  ASSERT_EQ(read_file(dir_.file("other.log")), numbered_lines(1, 10));

  expect_ctl("clear cl", "cl: cleared\n", 0);
  EXPECT_TRUE(exists(log));
  EXPECT_EQ(read_file(log), "");
  EXPECT_EQ(read_file(backup(log, 1)), b1);
  EXPECT_EQ(read_file(backup(log, 2)), b2);
  EXPECT_EQ(read_file(backup(log, 3)), b3);
  EXPECT_FALSE(exists(backup(log, 4)));
  EXPECT_EQ(read_file(dir_.file("other.log")), numbered_lines(1, 10));  // only cl's log
  expect_ctl("tail cl", "\n", 0);

  // Output written afterwards lands in the new file.
  expect_ctl("signal USR1 cl", "cl: signalled\n", 0);
  EXPECT_TRUE(wait_file("cl.log", numbered_lines(401, 403))) << read_file(log);
  EXPECT_EQ(read_file(backup(log, 1)), b1);

  // clear all: every process, in priority order then by name.
  expect_ctl("clear all", "cl: cleared\nother: cleared\n", 0);
  EXPECT_EQ(read_file(log), "");
  EXPECT_EQ(read_file(dir_.file("other.log")), "");
  EXPECT_EQ(read_file(backup(log, 3)), b3);
  expect_ctl("signal USR1 other", "other: signalled\n", 0);
  EXPECT_TRUE(wait_file("other.log", numbered_line(11)));
}

TEST_F(LogsTest, Sigusr2ReopensLogsAfterAnExternalRename) {
  ASSERT_TRUE(start_agent(
      program("ro", lines_cmd("50 --then-wait --more 5 --done-file " + dir_.file("ro.done")),
              "startsecs=0\nstdout_logfile=%(here)s/ro.log\n")));
  ASSERT_TRUE(wait_file("ro.done", "1\n"));
  ASSERT_EQ(read_file(dir_.file("ro.log")), numbered_lines(1, 50));

  // logrotate's way: rename the files away, then tell the agent.
  fs::rename(dir_.file("ro.log"), dir_.file("ro.log.old"));
  fs::rename(dir_.file("z.log"), dir_.file("z.log.1"));  // main_log() reads z.log.1 too
  const std::string pidfile = read_file(dir_.file("z.pid"));
  ASSERT_EQ(pidfile, std::to_string(agent_->pid()) + "\n");
  ASSERT_EQ(kill(std::stoi(pidfile), SIGUSR2), 0);
  ASSERT_TRUE(wait_log("INFO received SIGUSR2 indicating log reopen request"));
  ASSERT_TRUE(wait_log("INFO supervisord logreopen"));
  // The new files are created at the original paths.
  EXPECT_TRUE(
      wait_until([&] { return exists(dir_.file("ro.log")) && exists(dir_.file("z.log")); }));
  EXPECT_EQ(read_file(dir_.file("ro.log")), "");
  EXPECT_THAT(read_file(dir_.file("z.log.1")),
              HasSubstr("INFO received SIGUSR2 indicating log reopen request\n"));

  expect_ctl("signal USR1 ro", "ro: signalled\n", 0);
  EXPECT_TRUE(wait_file("ro.log", numbered_lines(51, 55))) << read_file(dir_.file("ro.log"));
  EXPECT_EQ(read_file(dir_.file("ro.log.old")), numbered_lines(1, 50));
  // Main log lines written after the reopen go to the new file.
  expect_ctl("stop ro", "ro: stopped\n", 0);
  EXPECT_TRUE(wait_until([&] {
    return read_file(dir_.file("z.log")).find("stopped: ro (terminated by SIGTERM)") !=
           std::string::npos;
  })) << read_file(dir_.file("z.log"));
  EXPECT_THAT(read_file(dir_.file("z.log.1")), Not(HasSubstr("stopped: ro")));
}

// =============================================================================================
// Logs that cannot be written: the program runs on, the status says why, writing resumes.

TEST_F(LogsTest, FileSizeLimitDropsOutputWithoutBlockingTheProgram) {
  // The agent runs with RLIMIT_FSIZE = 200 KiB (`ulimit -f 200`); the program writes ~3.5 MB,
  // more than the pipe holds, so it could only finish if the agent kept reading.
  const long long kLines = 40000;
  const std::string log = dir_.file("big.log");
  ASSERT_TRUE(start_agent(
      program("big",
              lines_cmd(std::to_string(kLines) +
                        " --chunk 65536 --then-wait --more 3 --done-file " + dir_.file("big.done")),
              "startsecs=0\nstdout_logfile=%(here)s/big.log\n"),
      {}, {helper("with_fsize_limit"), "204800"}));
  // Stops waiting at once should the agent die (a write past the limit raises SIGXFSZ, whose
  // default action kills; supervisord, being Python, runs with SIGXFSZ ignored).
  wait_until(
      [&] { return read_file(dir_.file("big.done")) == "1\n" || !process_alive(agent_->pid()); });
  ASSERT_TRUE(process_alive(agent_->pid()))
      << "the agent died; exit status " << agent_->wait(milliseconds(1000)).value_or(-1)
      << " (128 + 25 = killed by SIGXFSZ)\n"
      << main_log();
  ASSERT_EQ(read_file(dir_.file("big.done")), "1\n") << "the program is blocked\n" << main_log();

  const std::string error = "write " + log + ": File too large";
  EXPECT_TRUE(wait_log("WARN 'big' stdout log failed: " + error)) << main_log();
  const RunResult status = ctl("status big");
  EXPECT_TRUE(std::regex_match(status.out, running_row("big", ", stdout log: " + error)))
      << status.out;
  EXPECT_EQ(status.exit_code, 0);
  // Exactly the bytes up to the limit are in the file.
  const std::string kept = read_file(log);
  EXPECT_EQ(kept.size(), 204800u);
  EXPECT_TRUE(numbered_lines(1, kLines).compare(0, kept.size(), kept) == 0);

  // clear gives room again: writing resumes, the error is gone.
  expect_ctl("clear big", "big: cleared\n", 0);
  EXPECT_TRUE(wait_log("INFO 'big' stdout log is written again: " + log)) << main_log();
  EXPECT_TRUE(std::regex_match(ctl("status big").out, running_row("big", "")))
      << ctl("status big").out;
  expect_ctl("signal USR1 big", "big: signalled\n", 0);
  EXPECT_TRUE(wait_file("big.log", numbered_lines(kLines + 1, kLines + 3))) << read_file(log);
  EXPECT_TRUE(wait_file("big.done", "2\n"));
}

TEST_F(LogsTest, MissingLogDirectoryDoesNotStopTheProgram) {
  // The directory must exist when the config is read (supervisord compat: a config error
  // otherwise); it is gone when the program starts.
  fs::create_directory(dir_.file("missing"));
  const std::string log = dir_.file("missing/out.log");
  ASSERT_TRUE(start_agent(
      program("nodir", lines_cmd("10 --then-wait --more 2 --done-file " + dir_.file("nodir.done")),
              "startsecs=0\nautostart=false\nstdout_logfile=%(here)s/missing/out.log\n")));
  fs::remove(dir_.file("missing"));
  expect_ctl("start nodir", "nodir: started\n", 0);
  ASSERT_TRUE(wait_state("nodir", "RUNNING"));
  ASSERT_TRUE(wait_file("nodir.done", "1\n"));  // the agent read the first batch (and lost it)
  const std::string error = "open " + log + ": No such file or directory";
  const RunResult status = ctl("status nodir");
  EXPECT_TRUE(std::regex_match(status.out, running_row("nodir", ", stdout log: " + error)))
      << status.out;
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(process_json("nodir").value("description", "?"), EndsWith(", stdout log: " + error));
  EXPECT_THAT(main_log(), HasSubstr("WARN 'nodir' stdout log failed: " + error));

  // The status call above was served after the first batch was read: creating the directory
  // now cannot let that batch in. The next output creates the file.
  fs::create_directory(dir_.file("missing"));
  expect_ctl("signal USR1 nodir", "nodir: signalled\n", 0);
  EXPECT_TRUE(wait_file("missing/out.log", numbered_lines(11, 12))) << read_file(log);
  EXPECT_TRUE(wait_log("INFO 'nodir' stdout log is written again: " + log));
  EXPECT_TRUE(std::regex_match(ctl("status nodir").out, running_row("nodir", "")));
}

// Issue 12, item 8: an AUTO log that cannot be created is reported as any other log failure
// (main log, status description, stdout_log_error), not left silently without a log. A name
// too long for the file system fails the same way as root and as another user.
TEST_F(LogsTest, AutoLogThatCannotBeCreatedIsReported) {
  const std::string name(240, 'n');
  ASSERT_TRUE(start_agent(
      program(name, lines_cmd("3 --then-wait --done-file " + dir_.file("long.done")),
              "startsecs=0\n")));
  ASSERT_TRUE(wait_state(name, "RUNNING"));
  ASSERT_TRUE(wait_file("long.done", "1\n"));
  const std::string prefix = "open " + dir_.file(name + "-stdout---");
  EXPECT_TRUE(wait_log("WARN '" + name + "' stdout log failed: " + prefix)) << main_log();
  EXPECT_THAT(main_log(), HasSubstr(".log: File name too long; output is dropped"));
  const RunResult status = ctl("status " + name);
  EXPECT_THAT(status.out, HasSubstr(", stdout log: " + prefix)) << status.out;
  EXPECT_THAT(status.out, EndsWith(".log: File name too long\n")) << status.out;
  EXPECT_THAT(process_json(name).value("stdout_log_error", "?"), HasSubstr("File name too long"));
}

/// The capacity of the pipe `pid` has on its stdout (the pipe's other end is the agent's).
int stdout_pipe_size(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/1";
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  const int size = ::fcntl(fd, F_GETPIPE_SZ);
  ::close(fd);
  return size;
}

// Issue 12 (log capture speed): a program that writes about half a pipe or more at a time is
// busy even though no read finds its pipe full; its pipe grows so that it blocks less. Each
// batch here is one write of about 43 KB, read whole before the next: under the old rule
// (grow only on a full read) the pipe never grew.
TEST_F(LogsTest, PipeGrowsForWritesOfHalfAPipe) {
  ASSERT_TRUE(start_agent(program(
      "busy", lines_cmd("1 --more 500 --chunk 60000 --then-wait --done-file " +
                        dir_.file("busy.done")),
      "startsecs=0\nstdout_logfile=%(here)s/busy.log\n")));
  ASSERT_TRUE(wait_state("busy", "RUNNING"));
  ASSERT_TRUE(wait_file("busy.done", "1\n"));
  const pid_t pid = last_pid("busy");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(stdout_pipe_size(pid), 65536);
  expect_ctl("signal USR1 busy", "busy: signalled\n", 0);
  ASSERT_TRUE(wait_file("busy.done", "2\n"));
  EXPECT_EQ(stdout_pipe_size(pid), 65536) << "one busy read is not enough";
  expect_ctl("signal USR1 busy", "busy: signalled\n", 0);
  ASSERT_TRUE(wait_file("busy.done", "3\n"));
  EXPECT_EQ(stdout_pipe_size(pid), 1 << 20);
  EXPECT_EQ(read_file(dir_.file("busy.log")), numbered_lines(1, 1001));
}

TEST_F(LogsTest, FullDiskDropsOutputUntilThereIsRoomAgain) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "mounting a tmpfs needs root";
  }
  const std::string mnt = dir_.file("fs");
  fs::create_directory(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};

  const long long kLines = 3000;  // ~260 KB into 64 KB
  const std::string log = mnt + "/full.log";
  ASSERT_TRUE(start_agent(
      program("full",
              lines_cmd(std::to_string(kLines) + " --chunk 8192 --then-wait --more 3 --done-file " +
                        dir_.file("full.done")),
              "startsecs=0\nstdout_logfile=%(here)s/fs/full.log\n")));
  ASSERT_TRUE(wait_file("full.done", "1\n")) << "the program is blocked\n" << main_log();
  const std::string error = "write " + log + ": No space left on device";
  EXPECT_TRUE(wait_log("WARN 'full' stdout log failed: " + error)) << main_log();
  EXPECT_TRUE(
      std::regex_match(ctl("status full").out, running_row("full", ", stdout log: " + error)))
      << ctl("status full").out;
  const std::string kept = read_file(log);
  EXPECT_GT(kept.size(), 0u);
  EXPECT_LE(kept.size(), 65536u);
  EXPECT_TRUE(numbered_lines(1, kLines).compare(0, kept.size(), kept) == 0);

  expect_ctl("clear full", "full: cleared\n", 0);
  EXPECT_TRUE(wait_log("INFO 'full' stdout log is written again: " + log)) << main_log();
  expect_ctl("signal USR1 full", "full: signalled\n", 0);
  EXPECT_TRUE(wait_file("fs/full.log", numbered_lines(kLines + 1, kLines + 3))) << read_file(log);
  EXPECT_TRUE(std::regex_match(ctl("status full").out, running_row("full", "")));
  stop_agent();  // closes the file before the unmount
}

// =============================================================================================
// spec/ctl.md §5: tail and maintail read the current file only (zctl_test.cc has the basic
// forms and the errors)

/// The size of the current file after lines 1..`lines` of numbered_line() were logged with a
/// cap of `cap` bytes, when every file takes whole lines while they fit (the rotation rule of
/// rotating_log.h for lines shorter than the cap, each line written whole).
size_t last_file_size(long long lines, size_t cap) {
  size_t size = 0;
  for (long long n = 1; n <= lines; ++n) {
    const size_t len = numbered_line(n).size();
    size = size + len > cap ? len : size + len;
  }
  return size;
}

TEST_F(LogsTest, TailReadsOnlyTheCurrentFileOfARotatedLog) {
  // A line count that leaves a short current file (< 1600 bytes) after a rotation.
  long long lines = 200;
  while (last_file_size(lines, 10240) < 300 || last_file_size(lines, 10240) > 1200) {
    ++lines;
  }
  std::string err;
  for (long long n = 1; n <= 200; ++n) {
    err += numbered_err_line(n);
  }
  ASSERT_TRUE(start_agent(
      program("tr",
              lines_cmd(std::to_string(lines) + " --then-wait --done-file " + dir_.file("tr.done")),
              "startsecs=0\nstdout_logfile=%(here)s/tr.log\n"
              "stdout_logfile_maxbytes=10KB\nstdout_logfile_backups=2\n") +
      program(
          "both", lines_cmd("200 --stderr-too --then-wait"),
          "startsecs=0\nstdout_logfile=%(here)s/both.out\nstderr_logfile=%(here)s/both.err\n")));
  ASSERT_TRUE(wait_file("tr.done", "1\n"));
  ASSERT_TRUE(wait_file("both.err", err));
  const std::string current = read_file(dir_.file("tr.log"));
  ASSERT_GE(backup_count(dir_.file("tr.log")), 1);
  ASSERT_LT(current.size(), 1600u);
  ASSERT_THAT(current, EndsWith(numbered_line(lines)));

  expect_ctl("tail tr", current + "\n", 0);  // not 1600 bytes: backups are never read
  expect_ctl("tail -20 tr", last_bytes(current, 20) + "\n", 0);
  expect_ctl("tail -100000 tr", current + "\n", 0);
  expect_ctl("tail both stderr", last_bytes(err, 1600) + "\n", 0);  // starts mid-line
  expect_ctl("tail -30 both stderr", last_bytes(err, 30) + "\n", 0);
  expect_ctl("tail -30 both", last_bytes(numbered_lines(1, 200), 30) + "\n", 0);
  expect_ctl("tail nosuch stderr", "nosuch: ERROR (no such process name)\n", 1);
}

TEST_F(LogsTest, MaintailReadsOnlyTheCurrentMainLog) {
  // A small main log that rotates while 12 programs start.
  std::string programs;
  for (int i = 0; i < 12; ++i) {
    programs += program("p" + std::to_string(i), lines_cmd("1 --then-wait"), "startsecs=0\n");
  }
  ASSERT_TRUE(start_agent(programs, {.supervisord = "logfile_maxbytes=2KB\nlogfile_backups=3\n"}));
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(wait_log("success: p" + std::to_string(i) + " entered RUNNING state"));
  }
  ASSERT_TRUE(exists(dir_.file("z.log.1")));
  const std::string current = read_file(dir_.file("z.log"));
  ASSERT_FALSE(current.empty());
  expect_ctl("maintail", last_bytes(current, 1600) + "\n", 0);
  expect_ctl("maintail -100", last_bytes(current, 100) + "\n", 0);
  expect_ctl("maintail -100000", current + "\n", 0);
  EXPECT_EQ(read_file(dir_.file("z.log")), current);  // nothing was logged in between
}

// =============================================================================================
// tail -f / maintail -f: the agent pushes what it writes, so rotation does not matter

TEST_F(LogsTest, TailFollowSeesEveryLineAcrossRotations) {
  const std::string log = dir_.file("fo.log");
  ASSERT_TRUE(start_agent(
      program("fo", lines_cmd("8 --then-wait --more 300 --done-file " + dir_.file("fo.done")),
              "startsecs=0\nstdout_logfile=%(here)s/fo.log\n"
              "stdout_logfile_maxbytes=10KB\nstdout_logfile_backups=2\n")));
  ASSERT_TRUE(wait_file("fo.done", "1\n"));
  ASSERT_LT(numbered_lines(1, 8).size(), 1024u);  // the follower starts with all of it
  BackgroundProcess& follow = background("f", "tail -f fo");
  ASSERT_TRUE(wait_file("f.out", kFollowHeader + numbered_lines(1, 8)))
      << read_file(dir_.file("f.out"));

  // Three batches of ~26 KB: the 10 KB file rotates about eight times.
  for (int batch = 2; batch <= 4; ++batch) {
    expect_ctl("signal USR1 fo", "fo: signalled\n", 0);
    ASSERT_TRUE(wait_file("fo.done", std::to_string(batch) + "\n"));
  }
  const std::string stream = numbered_lines(1, 908);
  EXPECT_TRUE(wait_file("f.out", kFollowHeader + stream))
      << read_file(dir_.file("f.out")).size() << " of " << kFollowHeader.size() + stream.size();
  // The files keep only the end; the follower saw it all.
  EXPECT_EQ(backup_count(log), 2);
  EXPECT_LT(concat_rotated(log).size(), stream.size() / 2);
  EXPECT_TRUE(is_tail_at_line_start(stream, concat_rotated(log)));

  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("f.out")), kFollowHeader + stream + "\n");
  EXPECT_EQ(read_file(dir_.file("f.err")), "");
}

TEST_F(LogsTest, MaintailFollowSeesNewLinesAcrossARotation) {
  std::string programs;
  for (int i = 0; i < 10; ++i) {
    programs += program("m" + std::to_string(i), lines_cmd("1 --then-wait"),
                        "startsecs=0\nautostart=false\n");
  }
  ASSERT_TRUE(start_agent(programs, {.supervisord = "logfile_maxbytes=1KB\nlogfile_backups=9\n"}));
  const std::string before = main_log();
  ASSERT_FALSE(exists(dir_.file("z.log.1")));
  BackgroundProcess& follow = background("m", "maintail -f");
  ASSERT_TRUE(wait_file("m.out", kFollowHeader + last_bytes(before, 1024)))
      << read_file(dir_.file("m.out"));

  const RunResult started = ctl("start all");
  EXPECT_EQ(started.exit_code, 0);
  EXPECT_EQ(count_of(started.out, ": started\n"), 10u) << started.out;
  ASSERT_TRUE(exists(dir_.file("z.log.1")));  // the main log rotated meanwhile
  const std::string after = main_log();
  ASSERT_THAT(after, StartsWith(before));
  const std::string added = after.substr(before.size());
  EXPECT_THAT(added, HasSubstr("INFO spawned: 'm9' with pid "));
  EXPECT_TRUE(wait_file("m.out", kFollowHeader + last_bytes(before, 1024) + added))
      << read_file(dir_.file("m.out"));

  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(kDeadline), 0);
  EXPECT_EQ(read_file(dir_.file("m.out")), kFollowHeader + last_bytes(before, 1024) + added + "\n");
  EXPECT_EQ(read_file(dir_.file("m.err")), "");
}

// =============================================================================================
// §1: loglevel=debug copies every chunk into the main log

TEST_F(LogsTest, DebugLevelCopiesOutputChunksIntoTheMainLog) {
  loglevel_ = "debug";
  ASSERT_TRUE(start_agent(
      // "héllo wörld\n" (valid UTF-8), "it's\0\xff\n\xfe" (not UTF-8), "oops\n" on stderr
      program("txt", helper("print_bytes") + " 68c3a96c6c6f2077c3b6726c640a --then-sleep",
              "startsecs=0\n") +
      program("bin", helper("print_bytes") + " 6974277300ff0afe --then-sleep",
              "startsecs=0\nstdout_logfile=%(here)s/bin.out\n") +
      program("err", helper("print_bytes") + " --stderr 6f6f70730a --then-sleep",
              "startsecs=0\n")));
  // The chunk keeps its newline and the record adds one.
  EXPECT_TRUE(wait_log(" DEBG 'txt' stdout output:\nh\xc3\xa9llo w\xc3\xb6rld\n\n")) << main_log();
  EXPECT_TRUE(wait_log(" DEBG 'err' stderr output:\noops\n\n")) << main_log();
  // Python's bytes repr: double quotes because of the single quote.
  EXPECT_TRUE(wait_log(" DEBG 'bin' stdout output:\nUndecodable: b\"it's\\x00\\xff\\n\\xfe\"\n"))
      << main_log();
  // The log file itself has the bytes unchanged.
  EXPECT_TRUE(wait_file("bin.out", std::string("it's\0\xff\n\xfe", 8)));
}

}  // namespace
}  // namespace zagent::test::e2e
