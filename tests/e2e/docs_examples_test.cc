// End-to-end: for each example config from supervisor's documentation
// (tests/fixtures/docs-examples), `zagent --dump-config` must show the values supervisord 4.2.5
// uses. The golden <name>.expected.json files are written by tests/compat/supervisord_dump.py
// from the real supervisord; this test runs only the real zagent binary.
#include <stdlib.h>
#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace zagent::test {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// The keys compared; supervisord_dump.py writes exactly these. zagent's own bookkeeping
// (config_file, here, rpcinterfaces, and per process program_name, process_num, numprocs) has
// no counterpart in supervisord's loaded config and is not compared.
const std::vector<std::string> kSupervisordKeys = {
    "logfile",  "logfile_maxbytes", "logfile_backups", "loglevel",    "pidfile",    "umask",
    "nodaemon", "silent",           "minfds",          "minprocs",    "nocleanup",  "childlogdir",
    "user",     "directory",        "strip_ansi",      "environment", "identifier",
};
const std::vector<std::string> kUnixHttpServerKeys = {"file", "chmod", "chown", "username",
                                                      "password_set"};
const std::vector<std::string> kInetHttpServerKeys = {"host", "port", "username", "password_set"};
const std::vector<std::string> kGroupKeys = {"name", "priority", "kind", "processes"};
const std::vector<std::string> kProcessKeys = {
    "name",
    "group",
    "command",
    "directory",
    "umask",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "serverurl",
};

// Sets an environment variable for the life of the object, then restores the old value.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = getenv(name_.c_str())) {
      old_ = old;
    }
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;                // the variable
  std::optional<std::string> old_;  // its value before, if it had one
};

std::string host_node_name() {
  struct utsname names {};
  if (uname(&names) != 0) {
    return "";
  }
  return names.nodename;
}

void replace_all(std::string& text, std::string_view token, std::string_view value) {
  for (auto at = text.find(token); at != std::string::npos;
       at = text.find(token, at + value.size())) {
    text.replace(at, token.size(), value);
  }
}

// The golden file's machine-neutral tokens (see supervisord_dump.py) made concrete.
struct Tokens {
  std::string here;  // @HERE@: the directory the fixture was copied to
  std::string host;  // @HOST@: uname -n
  std::string tmp;   // @TMP@: $TMPDIR as the test sets it
};

Json with_tokens_replaced(const Json& value, const Tokens& tokens) {
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    replace_all(text, "@HERE@", tokens.here);
    replace_all(text, "@HOST@", tokens.host);
    replace_all(text, "@TMP@", tokens.tmp);
    return text;
  }
  if (value.is_array() || value.is_object()) {
    Json out = value;
    for (auto& item : out) {
      item = with_tokens_replaced(item, tokens);
    }
    return out;
  }
  return value;
}

// The named keys of `from`; a missing key is recorded in `problems` under `path`.
Json pick(const Json& from, const std::vector<std::string>& keys, const std::string& path,
          std::vector<std::string>& problems) {
  if (!from.is_object()) {
    problems.push_back(fmt::format("{}: expected an object, found {}", path, from.dump()));
    return nullptr;
  }
  Json out = Json::object();
  for (const auto& key : keys) {
    if (from.contains(key)) {
      out[key] = from[key];
    } else {
      problems.push_back(fmt::format("{}.{}: missing", path, key));
    }
  }
  return out;
}

Json pick_or_null(const Json& from, const std::string& key, const std::vector<std::string>& keys,
                  const std::string& path, std::vector<std::string>& problems) {
  if (!from.contains(key)) {
    problems.push_back(fmt::format("{}.{}: missing", path, key));
    return nullptr;
  }
  const Json& value = from[key];
  return value.is_null() ? Json(nullptr) : pick(value, keys, path + "." + key, problems);
}

// The compared part of a dump. `merge_supervisord_environment` is set for zagent's dump:
// supervisord stores each process's environment already merged with [supervisord]
// environment= (the program's pairs win), while zagent shows the program's own pairs.
Json compared_part(const Json& dump, bool merge_supervisord_environment, const std::string& who,
                   std::vector<std::string>& problems) {
  Json out = Json::object();
  if (!dump.is_object()) {
    problems.push_back(fmt::format("{}: not a JSON object", who));
    return out;
  }
  out["supervisord"] = pick_or_null(dump, "supervisord", kSupervisordKeys, who, problems);
  out["unix_http_server"] =
      pick_or_null(dump, "unix_http_server", kUnixHttpServerKeys, who, problems);
  out["inet_http_server"] =
      pick_or_null(dump, "inet_http_server", kInetHttpServerKeys, who, problems);
  out["included_files"] = dump.value("included_files", Json::array());
  Json groups = Json::array();
  for (const auto& group : dump.value("groups", Json::array())) {
    const std::string group_path = fmt::format("{}.groups[{}]", who, groups.size());
    Json g = pick(group, kGroupKeys, group_path, problems);
    Json processes = Json::array();
    for (const auto& process : group.value("processes", Json::array())) {
      const std::string process_path =
          fmt::format("{}.processes[{}]", group_path, processes.size());
      Json p = pick(process, kProcessKeys, process_path, problems);
      if (merge_supervisord_environment && p.is_object() && out["supervisord"].is_object()) {
        Json environment = out["supervisord"].value("environment", Json::object());
        const Json own = p.value("environment", Json::object());
        for (const auto& [key, value] : own.items()) {
          environment[key] = value;
        }
        p["environment"] = environment;
      }
      processes.push_back(p);
    }
    if (g.is_object()) {
      g["processes"] = processes;
    }
    groups.push_back(g);
  }
  out["groups"] = groups;
  return out;
}

std::string element_label(const Json& array, std::size_t index) {
  const Json& item = array[index];
  if (item.is_object() && item.contains("name") && item["name"].is_string()) {
    return fmt::format("[{}:{}]", index, item["name"].get<std::string>());
  }
  return fmt::format("[{}]", index);
}

// Records every place where zagent's value differs from supervisord's, by key path.
void diff(const Json& zagent, const Json& supervisord, const std::string& path,
          std::vector<std::string>& differences) {
  if (zagent.is_object() && supervisord.is_object()) {
    std::set<std::string> keys;
    for (const auto& [key, value] : zagent.items()) {
      keys.insert(key);
    }
    for (const auto& [key, value] : supervisord.items()) {
      keys.insert(key);
    }
    for (const auto& key : keys) {
      const std::string key_path = path + "." + key;
      if (!zagent.contains(key)) {
        differences.push_back(fmt::format("{}: zagent has no such key, supervisord {}", key_path,
                                          supervisord[key].dump()));
      } else if (!supervisord.contains(key)) {
        differences.push_back(fmt::format("{}: zagent {}, supervisord has no such key", key_path,
                                          zagent[key].dump()));
      } else {
        diff(zagent[key], supervisord[key], key_path, differences);
      }
    }
    return;
  }
  if (zagent.is_array() && supervisord.is_array()) {
    const std::size_t common = std::min(zagent.size(), supervisord.size());
    for (std::size_t i = 0; i < common; ++i) {
      diff(zagent[i], supervisord[i], path + element_label(supervisord, i), differences);
    }
    for (std::size_t i = common; i < zagent.size(); ++i) {
      differences.push_back(fmt::format("{}{}: only in zagent: {}", path, element_label(zagent, i),
                                        zagent[i].dump()));
    }
    for (std::size_t i = common; i < supervisord.size(); ++i) {
      differences.push_back(fmt::format("{}{}: only in supervisord: {}", path,
                                        element_label(supervisord, i), supervisord[i].dump()));
    }
    return;
  }
  if (zagent != supervisord) {
    differences.push_back(
        fmt::format("{}: zagent {}, supervisord {}", path, zagent.dump(), supervisord.dump()));
  }
}

bool has_note(const Json& notes, std::string_view level, std::string_view text) {
  return std::any_of(notes.begin(), notes.end(), [&](const Json& note) {
    return note.value("level", "") == level && note.value("text", "") == text;
  });
}

bool has_unsupported_note(const Json& notes, const std::string& section) {
  const std::string name = "[" + section + "]";
  return std::any_of(notes.begin(), notes.end(), [&](const Json& note) {
    const std::string text = note.value("text", "");
    return note.value("level", "") == "WARN" && text.find(name) != std::string::npos &&
           text.find("not supported yet") != std::string::npos;
  });
}

// Copies the fixture directory to a fresh temp dir, runs zagent on `<name>.conf` there (from
// that directory, as supervisord_dump.py runs supervisord) and compares with
// `<name>.expected.json`.
void expect_dump_matches_supervisord(const std::string& name) {
  SCOPED_TRACE("fixture " + name + ".conf");
  const fs::path fixtures = fs::path(ZAGENT_FIXTURES) / "docs-examples";
  const std::string golden = read_file(fixtures / (name + ".expected.json"));
  ASSERT_FALSE(golden.empty()) << "no golden file " << (fixtures / (name + ".expected.json"));
  const Json expected_raw = Json::parse(golden, nullptr, false);
  ASSERT_FALSE(expected_raw.is_discarded()) << "golden file is not JSON";

  TempDir temp;
  fs::copy(fixtures, temp.path(), fs::copy_options::recursive);
  const fs::path tmpdir = temp.path() / "tmpdir";
  fs::create_directory(tmpdir);
  const Tokens tokens{temp.path().string(), host_node_name(), tmpdir.string()};
  // childlogdir defaults to the temp directory ($TMPDIR for supervisord and zagent alike).
  const ScopedEnv tmpdir_env("TMPDIR", tokens.tmp);

  const std::string config = (temp.path() / (name + ".conf")).string();
  RunOptions options;
  options.cwd = temp.path().string();

  const RunResult check = run({ZAGENT_BIN, "-c", config, "--check"}, options);
  EXPECT_EQ(check.exit_code, 0) << "zagent --check: " << check.out << check.err;

  const RunResult dumped = run({ZAGENT_BIN, "-c", config, "--dump-config"}, options);
  ASSERT_EQ(dumped.exit_code, 0) << "zagent --dump-config: " << dumped.err;
  const Json actual_raw = Json::parse(dumped.out, nullptr, false);
  ASSERT_FALSE(actual_raw.is_discarded()) << "--dump-config printed no JSON:\n" << dumped.out;

  std::vector<std::string> problems;
  const Json expected =
      compared_part(with_tokens_replaced(expected_raw, tokens), false, "golden", problems);
  const Json actual = compared_part(actual_raw, true, "zagent", problems);
  for (const auto& problem : problems) {
    ADD_FAILURE() << problem;
  }

  std::vector<std::string> differences;
  diff(actual, expected, "", differences);
  for (const auto& difference : differences) {
    ADD_FAILURE() << difference;
  }

  const Json notes = actual_raw.value("notes", Json::array());
  for (const auto& warning : expected_raw.value("warnings", Json::array())) {
    const std::string text = with_tokens_replaced(warning, tokens).get<std::string>();
    EXPECT_TRUE(has_note(notes, "WARN", text))
        << "supervisord warns \"" << text << "\"; zagent notes: " << notes.dump();
  }
  for (const auto& section : expected_raw.value("unsupported_sections", Json::array())) {
    EXPECT_TRUE(has_unsupported_note(notes, section.get<std::string>()))
        << "no 'not supported yet' note for [" << section.get<std::string>()
        << "]; zagent notes: " << notes.dump();
  }
}

TEST(DocsExamples, EchoSupervisordConfSampleWithSectionsEnabled) {
  expect_dump_matches_supervisord("echo-supervisord-conf-sample");
}

TEST(DocsExamples, ProgramCatWithEveryKeyAndSupervisordDefaults) {
  expect_dump_matches_supervisord("program-cat-every-key");
}

TEST(DocsExamples, NumprocsWithNumberedProcessNames) {
  expect_dump_matches_supervisord("numprocs-process-name");
}

TEST(DocsExamples, GroupOfTwoProgramsWithPriorities) {
  expect_dump_matches_supervisord("group-two-programs-priorities");
}

TEST(DocsExamples, IncludeConfDirWithHereInIncludedFiles) {
  expect_dump_matches_supervisord("include-conf-d");
}

TEST(DocsExamples, EnvironmentWithQuotingAndExpansion) {
  expect_dump_matches_supervisord("environment-quoting");
}

TEST(DocsExamples, GradioTextToImageService) {
  expect_dump_matches_supervisord("gradio-text-to-image");
}

TEST(DocsExamples, UnixHttpServerChownUserOnlyLeavesGroup) {
  expect_dump_matches_supervisord("unix-http-server-chown-user-only");
}

}  // namespace
}  // namespace zagent::test
