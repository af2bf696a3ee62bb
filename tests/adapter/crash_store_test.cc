// CrashStore against real files in a TempDir: records that survive a new store, the
// compaction of the records file, snapshot names, retention, the memory figures, size bounds,
// and write failures reported back on the loop. Destroying a store finishes its writes, so
// files are checked after that; reports posted by the worker are waited for with a deadline.
#include "agent/crash/crash_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/fake_log_sink.h"
#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using test::FakeLogSink;
using test::read_file;
using test::TempDir;

// 2023-11-14 22:13:20 UTC.
constexpr std::int64_t kEnded = 1700000000;
constexpr std::string_view kStamp = "20231114T221320Z";

CrashRecord record(std::string program, std::int64_t ended) {
  CrashRecord r;
  r.program = std::move(program);
  r.cause.kind = CauseKind::OomKilled;
  r.cause.confidence = Confidence::Probable;
  r.cause.evidence = {{"vmstat", "oom_kill rose by 1 during the run"},
                      {"wait_status", "terminated by SIGKILL"}};
  r.cause.note = "a note";
  r.signal = "SIGKILL";
  r.shell_status = 137;
  r.pid = 4242;
  r.started = ended - 5;
  r.ended = ended;
  r.uptime_seconds = 5.25;
  r.description = "terminated by SIGKILL";
  r.last_stdout = {"out 1", "out 2"};
  r.last_stderr = {"err 1"};
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) {
      out.insert(e.path().filename().string());
    }
  }
  return out;
}

/// Runs the loop until `done` holds or the deadline passes.
template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds deadline = 10s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    io.restart();
    io.run_for(5ms);
    if (io.stopped()) {
      io.restart();
      io.run_one_for(5ms);  // nothing queued: wait for a post from the worker
    }
  }
  return true;
}

class CrashStoreTest : public ::testing::Test {
 protected:
  CrashStore::Options options(std::size_t keep = 20) const {
    return CrashStore::Options{dir_, keep};
  }

  TempDir tmp_;
  std::string dir_ = tmp_.file("crashes");
  boost::asio::io_context io_;
  CrashLog log_;
  FakeLogSink main_log_;
};

TEST_F(CrashStoreTest, RecordsSurviveANewStore) {
  std::vector<CrashRecord> kept;
  {
    CrashStore store(io_, log_, main_log_, options());
    kept.push_back(store.add(record("web", kEnded), json{{"k", 1}}));
    kept.push_back(store.add(record("web", kEnded + 1), std::nullopt));
    kept.push_back(store.add(record("grp:worker", kEnded + 2), json{{"k", 2}}));
    kept.push_back(store.add(record("web", kEnded + 3), std::nullopt));
  }
  EXPECT_EQ(kept[0].snapshot, dir_ + "/web-" + std::string(kStamp) + ".json");
  EXPECT_EQ(kept[1].snapshot, std::nullopt);
  EXPECT_EQ(kept[2].snapshot, dir_ + "/grp_worker-20231114T221322Z.json");
  EXPECT_TRUE(fs::exists(dir_ + "/records/web.jsonl"));
  EXPECT_TRUE(fs::exists(dir_ + "/records/grp_worker.jsonl"));

  CrashLog loaded;
  CrashStore store(io_, loaded, main_log_, options());
  store.load();
  const auto all = loaded.newest("", 0);
  ASSERT_EQ(all.size(), 4U);
  EXPECT_EQ(all, log_.newest("", 0));
  EXPECT_EQ(all[0].ended, kEnded + 3);
  EXPECT_EQ(all[3], kept[0]);
  EXPECT_EQ(loaded.newest("grp:worker", 0), std::vector<CrashRecord>{kept[2]});
  EXPECT_TRUE(main_log_.lines.empty()) << main_log_.lines[0];
}

TEST_F(CrashStoreTest, LoadSkipsBadLinesAndAMissingDir) {
  {
    CrashLog none;
    CrashStore store(io_, none, main_log_, options());
    store.load();  // nothing there yet
    EXPECT_TRUE(none.newest("", 0).empty());
  }
  const std::string good = crash_record_json(record("web", kEnded)).dump();
  tmp_.write("crashes/records/web.jsonl",
             "not json\n" + good + "\n{\"program\": 3}\n\n[1,2]\n" + good.substr(0, 20));
  CrashStore store(io_, log_, main_log_, options());
  store.load();
  const auto all = log_.newest("", 0);
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0], record("web", kEnded));
}

TEST_F(CrashStoreTest, RecordsFileIsCompactedToTheNewest) {
  const std::size_t total = 2 * kRecordsPerProgram + 7;
  {
    CrashStore store(io_, log_, main_log_, options());
    for (std::size_t i = 0; i < total; ++i) {
      store.add(record("web", kEnded + static_cast<std::int64_t>(i)), std::nullopt);
    }
  }
  const auto lines = lines_of(read_file(dir_ + "/records/web.jsonl"));
  // Rewritten to kRecordsPerProgram at 2 * kRecordsPerProgram + 1 lines, then 6 appended.
  ASSERT_EQ(lines.size(), kRecordsPerProgram + 6);
  EXPECT_EQ(json::parse(lines.back())["ended"], kEnded + static_cast<std::int64_t>(total) - 1);
  EXPECT_EQ(json::parse(lines.front())["ended"],
            kEnded + static_cast<std::int64_t>(total - kRecordsPerProgram - 6));
  EXPECT_FALSE(fs::exists(dir_ + "/records/web.jsonl.tmp"));

  CrashLog loaded;
  CrashStore store(io_, loaded, main_log_, options());
  store.load();
  const auto all = loaded.newest("web", 0);
  ASSERT_EQ(all.size(), kRecordsPerProgram);
  EXPECT_EQ(all.front().ended, kEnded + static_cast<std::int64_t>(total) - 1);
}

TEST_F(CrashStoreTest, AppendsAfterACutLastLine) {
  const std::string good = crash_record_json(record("web", kEnded)).dump();
  tmp_.write("crashes/records/web.jsonl", good + "\n" + good.substr(0, 30));
  {
    CrashStore store(io_, log_, main_log_, options());
    store.add(record("web", kEnded + 1), std::nullopt);
  }
  CrashLog loaded;
  CrashStore store(io_, loaded, main_log_, options());
  store.load();
  const auto all = loaded.newest("web", 0);
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].ended, kEnded + 1);
  EXPECT_EQ(all[1].ended, kEnded);
}

TEST_F(CrashStoreTest, RetentionKeepsTheNewestSnapshots) {
  tmp_.write("crashes/other-20000101T000000Z.json", "{}");
  tmp_.write("crashes/web-notes.json", "{}");
  {
    CrashStore store(io_, log_, main_log_, options(3));
    for (int i = 0; i < 6; ++i) {
      store.add(record("web", kEnded + i * 60), json{{"i", i}});
    }
    store.add(record("web", kEnded + 5 * 60), json{{"i", 6}});  // same second: -2
  }
  EXPECT_EQ(files_in(dir_),
            (std::set<std::string>{"other-20000101T000000Z.json", "web-notes.json",
                                   "web-20231114T221720Z.json", "web-20231114T221820Z.json",
                                   "web-20231114T221820Z-2.json"}));
  EXPECT_EQ(json::parse(read_file(dir_ + "/web-20231114T221820Z-2.json"))["i"], 6);
}

TEST_F(CrashStoreTest, SameSecondGetsDistinctNames) {
  const std::string first = dir_ + "/web-" + std::string(kStamp) + ".json";
  {
    CrashStore store(io_, log_, main_log_, options());
    const auto a = store.add(record("web", kEnded), json{{"n", "a"}});
    const auto b = store.add(record("web", kEnded), json{{"n", "b"}});
    const auto c = store.add(record("web", kEnded), json{{"n", "c"}});
    EXPECT_EQ(a.snapshot, first);
    EXPECT_EQ(b.snapshot, dir_ + "/web-" + std::string(kStamp) + "-2.json");
    EXPECT_EQ(c.snapshot, dir_ + "/web-" + std::string(kStamp) + "-3.json");
  }
  EXPECT_EQ(json::parse(read_file(first))["n"], "a");
  EXPECT_EQ(json::parse(read_file(dir_ + "/web-" + std::string(kStamp) + "-3.json"))["n"], "c");

  // A new life: the files on disk are taken.
  CrashStore store(io_, log_, main_log_, options());
  const auto d = store.add(record("web", kEnded), json{{"n", "d"}});
  EXPECT_EQ(d.snapshot, dir_ + "/web-" + std::string(kStamp) + "-4.json");
}

TEST_F(CrashStoreTest, SnapshotHasTheMemoryFigures) {
  const auto kept = [&] {
    CrashStore store(io_, log_, main_log_, options());
    return store.add(record("web", kEnded), json{{"program", "web"}, {"lines", {"a", "b"}}});
  }();
  ASSERT_TRUE(kept.snapshot);
  const json doc = json::parse(read_file(*kept.snapshot), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["program"], "web");
  EXPECT_EQ(doc["lines"], (json{"a", "b"}));
  EXPECT_FALSE(doc.contains("truncated"));
  ASSERT_TRUE(doc["memory"].is_object()) << doc.dump();
  for (const char* key : {"MemTotal", "MemAvailable", "MemFree", "SwapTotal", "SwapFree"}) {
    ASSERT_TRUE(doc["memory"][key].is_number_integer()) << key;
  }
  // In bytes: /proc/meminfo says kB.
  EXPECT_GT(doc["memory"]["MemTotal"].get<std::int64_t>(), 1024 * 1024);
  EXPECT_EQ(doc["memory"]["MemTotal"].get<std::int64_t>() % 1024, 0);
  EXPECT_FALSE(fs::exists(*kept.snapshot + ".tmp"));
}

TEST_F(CrashStoreTest, LargeSnapshotLosesItsLines) {
  json lines = json::array();
  for (int i = 0; i < 5000; ++i) {
    lines.push_back(std::string(1024, 'x'));
  }
  const auto kept = [&] {
    CrashStore store(io_, log_, main_log_, options());
    return store.add(record("web", kEnded),
                     json{{"program", "web"}, {"last_output", {{"stdout", lines}}}});
  }();
  ASSERT_TRUE(kept.snapshot);
  const std::string text = read_file(*kept.snapshot);
  EXPECT_LT(text.size(), 4U * 1024 * 1024);
  const json doc = json::parse(text, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["truncated"], true);
  EXPECT_EQ(doc["program"], "web");
  EXPECT_EQ(doc["last_output"]["stdout"], json::array());
  EXPECT_TRUE(doc["memory"].is_object());
}

TEST_F(CrashStoreTest, UnwritableDirIsReportedOnTheLoop) {
  // A directory under a regular file: mkdir fails with ENOTDIR, for root too.
  tmp_.write("afile", "not a directory");
  const std::string dir = tmp_.file("afile/crashes");
  CrashStore store(io_, log_, main_log_, CrashStore::Options{dir, 20});
  const auto start = std::chrono::steady_clock::now();
  const auto kept = store.add(record("web", kEnded), json{{"k", 1}});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  const std::string path = dir + "/web-" + std::string(kStamp) + ".json";
  EXPECT_EQ(kept.snapshot, path);
  ASSERT_TRUE(log_.last("web"));
  EXPECT_EQ(log_.last("web")->snapshot, path);  // until the report comes back

  ASSERT_TRUE(run_until(io_, [&] { return main_log_.lines.size() >= 2; }))
      << "lines: " << main_log_.lines.size();
  EXPECT_EQ(main_log_.lines[0],
            "WARN crash: cannot write snapshot " + path + ": Not a directory");
  EXPECT_EQ(main_log_.lines[1],
            "WARN crash: cannot write records " + dir + "/records/web.jsonl: Not a directory");
  ASSERT_TRUE(log_.last("web"));
  EXPECT_EQ(log_.last("web")->snapshot, std::nullopt);
  EXPECT_EQ(log_.last("web")->snapshot_error, "Not a directory");
}

TEST_F(CrashStoreTest, OutputThatIsNotUtf8IsWrittenReplaced) {
  auto r = record("web", kEnded);
  r.last_stderr = {"bad \xff byte"};
  {
    CrashStore store(io_, log_, main_log_, options());
    store.add(r, json{{"line", "bad \xff byte"}});
  }
  EXPECT_TRUE(main_log_.lines.empty()) << main_log_.lines[0];
  CrashLog loaded;
  CrashStore store(io_, loaded, main_log_, options());
  store.load();
  ASSERT_TRUE(loaded.last("web"));
  EXPECT_EQ(loaded.last("web")->last_stderr, std::vector<std::string>{"bad \xef\xbf\xbd byte"});
  const json doc =
      json::parse(read_file(dir_ + "/web-" + std::string(kStamp) + ".json"), nullptr, false);
  EXPECT_EQ(doc["line"], "bad \xef\xbf\xbd byte");
}

TEST_F(CrashStoreTest, NoDirKeepsRecordsInMemoryOnly) {
  {
    CrashStore store(io_, log_, main_log_, CrashStore::Options{"", 20});
    store.load();
    const auto kept = store.add(record("web", kEnded), json{{"k", 1}});
    EXPECT_EQ(kept.snapshot, std::nullopt);
  }
  ASSERT_TRUE(log_.last("web"));
  EXPECT_EQ(log_.last("web")->snapshot, std::nullopt);
  EXPECT_TRUE(files_in(tmp_.path()).empty());
  EXPECT_FALSE(fs::exists(dir_));
}

TEST(CrashStoreNames, PrefixAndStamp) {
  EXPECT_EQ(CrashStore::file_prefix("grp:web 1/x.y-z"), "grp_web_1_x.y-z");
  EXPECT_EQ(CrashStore::snapshot_name("grp:web", kEnded), "grp_web-20231114T221320Z.json");
  EXPECT_EQ(CrashStore::snapshot_name("a", 0), "a-19700101T000000Z.json");
}

}  // namespace
}  // namespace zagent
