// The CrashSink over the disk: crash records as JSON lines under `<dir>/records/`, snapshots
// as one JSON file each under `<dir>/` (docs/crashes.md). An adapter: files are written on
// one worker thread, so that a crash never waits for the disk; the loop thread only picks
// names and keeps the in-memory CrashLog.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/crash/crash_record.h"
#include "agent/crash/ports.h"
#include "agent/process/log_sink.h"

namespace zagent {

class CrashStore final : public CrashSink {
 public:
  struct Options {
    std::string dir;         ///< "" = nothing on disk: records in memory only, no snapshots
    std::size_t keep = 20;   ///< snapshot files kept per program; 0 = every one
  };

  /// `log` and `main_log` are touched on the loop thread only (the one running `io`); the
  /// worker's failures come back there through asio::post.
  CrashStore(boost::asio::io_context& io, CrashLog& log, LogSink& main_log, Options options);
  /// Finishes the queued writes, then joins the worker (if one was ever started). Failures
  /// still to be reported then are dropped.
  ~CrashStore() override;
  CrashStore(const CrashStore&) = delete;
  CrashStore& operator=(const CrashStore&) = delete;

  /// Reads `<dir>/records/*.jsonl` into the CrashLog (a missing dir, an unreadable file or a
  /// bad line is skipped). Blocking file reads: call once at startup, before serving.
  void load();

  /// Loop thread. Never blocks on the disk (one stat() to choose the snapshot's name), never
  /// throws; the files are written later on the worker.
  CrashRecord add(CrashRecord record, std::optional<nlohmann::json> snapshot) override;

  /// `<prefix>-YYYYMMDDTHHMMSSZ.json` for a record's program and end time (UTC): the name
  /// before the collision counter. Exposed for tests and docs.
  static std::string snapshot_name(const std::string& program, std::int64_t ended);
  /// The program's name as a file-name prefix: every char outside [A-Za-z0-9._-] is '_'.
  static std::string file_prefix(const std::string& program);

 private:
  /// One crash's writes, with copies of everything (the worker never reads shared state).
  struct Job {
    std::string prefix;                      // file_prefix(program)
    std::string program;                     // for the failure report
    CrashRecord record;                      // as kept, with its snapshot path
    std::optional<nlohmann::json> snapshot;  // nullopt: the record only
  };

  std::string choose_snapshot_path(const std::string& prefix, std::int64_t ended);
  void enqueue(Job job);
  void worker_loop();
  void run_job(Job& job);
  void report(std::string line, std::string program, std::string path, std::string error);

  boost::asio::io_context& io_;  // the loop: where failures are reported
  CrashLog& log_;                // the in-memory records (loop thread)
  LogSink& main_log_;            // WARN lines about failed writes (loop thread)
  const Options options_;
  std::shared_ptr<bool> alive_;  // false once destroyed: posted reports then do nothing
  /// Loop thread: names handed out lately, per prefix, so that two crashes queued before
  /// either file exists still get distinct names.
  std::map<std::string, std::deque<std::string>> reserved_;

  std::mutex mutex_;              // guards jobs_ and stopping_
  std::condition_variable wake_;  // a job was queued, or stopping_
  std::deque<Job> jobs_;          // queued for the worker, oldest first
  bool stopping_ = false;         // set by the destructor: finish jobs_, then exit
  std::thread worker_;            // started at the first job
  /// Worker thread only: lines in each records file, counted at its first use.
  std::map<std::string, std::size_t> record_lines_;
};

}  // namespace zagent
