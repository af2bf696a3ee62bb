#include "agent/process/command.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace zagent {
namespace {

// An in-memory file system: path -> status; paths listed in `denied` fail access(X_OK).
class FakeFileProbe final : public FileProbe {
 public:
  FakeFileProbe& file(const std::string& path, bool executable = true) {
    files_[path] = FileStatus{true, false, executable};
    return *this;
  }
  FakeFileProbe& dir(const std::string& path) {
    files_[path] = FileStatus{true, true, true};
    return *this;
  }
  FakeFileProbe& deny(const std::string& path) {
    denied_.push_back(path);
    return *this;
  }

  FileStatus stat(const std::string& path) const override {
    stat_calls.push_back(path);
    const auto it = files_.find(path);
    return it == files_.end() ? FileStatus{} : it->second;
  }
  bool can_execute(const std::string& path) const override {
    for (const auto& d : denied_) {
      if (d == path) {
        return false;
      }
    }
    return true;
  }

  mutable std::vector<std::string> stat_calls;  // every path asked about, in order

 private:
  std::map<std::string, FileStatus> files_;
  std::vector<std::string> denied_;
};

FakeFileProbe standard_fs() {
  FakeFileProbe fs;
  fs.file("/bin/sh")
      .file("/usr/bin/python3")
      .file("/usr/local/bin/python3")
      .file("/opt/app/run", false)
      .file("/opt/app/secret")
      .deny("/opt/app/secret")
      .file("/opt/app/it's")
      .dir("/opt/app/adir")
      .dir("/usr/bin/adir")
      .file("bin/rel")
      .file("/first/tool", false)
      .file("/second/tool");
  return fs;
}

struct ErrorCase {
  const char* command;
  const char* search_path;
  const char* message;
  CommandFault fault;
};

TEST(CommandResolve, SpawnerrTextsMatchSupervisord) {
  const ErrorCase cases[] = {
      {"sh -c \"unterminated", "/bin",
       "can't parse command 'sh -c \"unterminated': No closing quotation",
       CommandFault::NotExecutable},
      {"sh -c 'it\\", "/bin", "can't parse command \"sh -c 'it\\\\\": No closing quotation",
       CommandFault::NotExecutable},
      {"", "/bin", "command is empty", CommandFault::NotExecutable},
      {"   ", "/bin", "command is empty", CommandFault::NotExecutable},
      {"/nonexistent/cmd --flag", "/bin", "can't find command '/nonexistent/cmd'",
       CommandFault::NoFile},
      {"nosuchprog_xyz", "/bin:/usr/bin", "can't find command 'nosuchprog_xyz'",
       CommandFault::NoFile},
      {"/opt/app/adir", "/bin", "command at '/opt/app/adir' is a directory",
       CommandFault::NotExecutable},
      {"adir", "/usr/bin", "command at '/usr/bin/adir' is a directory",
       CommandFault::NotExecutable},
      {"/opt/app/run", "/bin", "command at '/opt/app/run' is not executable",
       CommandFault::NotExecutable},
      {"/opt/app/secret", "/bin", "no permission to run command '/opt/app/secret'",
       CommandFault::NotExecutable},
      {"\"/opt/app/missing'q\"", "/bin", "can't find command \"/opt/app/missing'q\"",
       CommandFault::NoFile},
  };
  const FakeFileProbe fs = standard_fs();
  for (const auto& c : cases) {
    const auto r = resolve_command(c.command, c.search_path, fs);
    ASSERT_FALSE(r) << c.command;
    EXPECT_EQ(r.error().message, c.message) << c.command;
    EXPECT_EQ(command_fault(r.error()), c.fault) << c.command;
    EXPECT_EQ(is_not_found_error(r.error()), c.fault == CommandFault::NoFile) << c.command;
  }
}

struct OkCase {
  const char* command;
  const char* search_path;
  const char* path;
  std::vector<std::string> argv;
};

TEST(CommandResolve, FindsTheProgram) {
  const OkCase cases[] = {
      // A name with '/' is used as given, relative or absolute; argv[0] stays as written.
      {"/bin/sh -c 'echo hi'", "", "/bin/sh", {"/bin/sh", "-c", "echo hi"}},
      {"bin/rel a", "/bin", "bin/rel", {"bin/rel", "a"}},
      // PATH search: the first entry where the name exists wins.
      {"python3 -u app.py",
       "/usr/local/bin:/usr/bin",
       "/usr/local/bin/python3",
       {"python3", "-u", "app.py"}},
      {"python3", "/usr/bin:/usr/local/bin", "/usr/bin/python3", {"python3"}},
      {"python3", "/nope:/usr/bin/", "/usr/bin/python3", {"python3"}},
      {"sh", "/bin", "/bin/sh", {"sh"}},
      {"\"/opt/app/it's\"", "", "/opt/app/it's", {"/opt/app/it's"}},
  };
  const FakeFileProbe fs = standard_fs();
  for (const auto& c : cases) {
    const auto r = resolve_command(c.command, c.search_path, fs);
    ASSERT_TRUE(r) << c.command << ": " << r.error().message;
    EXPECT_EQ(r->path, c.path) << c.command;
    EXPECT_EQ(r->argv, c.argv) << c.command;
  }
}

TEST(CommandResolve, FirstExistingEntryWinsEvenIfNotExecutable) {
  const FakeFileProbe fs = standard_fs();
  const auto r = resolve_command("tool", "/first:/second", fs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "command at '/first/tool' is not executable");
}

TEST(CommandResolve, SearchStopsAtFirstHitAndPathWithSlashIsNotSearched) {
  FakeFileProbe fs = standard_fs();
  ASSERT_TRUE(resolve_command("sh", "/a:/bin:/usr/bin", fs));
  EXPECT_EQ(fs.stat_calls, (std::vector<std::string>{"/a/sh", "/bin/sh"}));

  fs.stat_calls.clear();
  EXPECT_FALSE(resolve_command("x/sh", "/bin", fs));
  EXPECT_EQ(fs.stat_calls, (std::vector<std::string>{"x/sh"}));
}

TEST(CommandResolve, EmptySearchEntryMeansTheNameAlone) {
  // Python's os.path.join('', name) == name (relative to the agent's cwd).
  FakeFileProbe fs;
  fs.file("tool");
  const auto r = resolve_command("tool", "/nope:", fs);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "tool");
}

struct PathCase {
  std::vector<std::string> env;
  std::optional<std::string_view> agent_path;
  const char* expected;
};

TEST(CommandSearchPath, ProgramThenAgentThenDefault) {
  const PathCase cases[] = {
      {{"HOME=/root", "PATH=/prog/bin"}, "/agent/bin", "/prog/bin"},
      {{"PATH=/first", "PATH=/second"}, "/agent/bin", "/first"},
      {{"HOME=/root", "MYPATH=/x", "PATHX=/y"}, "/agent/bin", "/agent/bin"},
      {{"PATH="}, "/agent/bin", "/agent/bin"},
      {{}, std::nullopt, "/bin:/usr/bin:/usr/local/bin"},
      {{}, "", "/bin:/usr/bin:/usr/local/bin"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(choose_search_path(c.env, c.agent_path), c.expected);
  }
}

}  // namespace
}  // namespace zagent
