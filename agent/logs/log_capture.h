// Child output capture (spec/logging.md §2): reads every child's stdout/stderr pipes on the
// agent's loop and copies the bytes, unchanged, to the channel's RotatingLog; pushes them to
// `tail -f` followers; copies them to the main log at loglevel=debug. An adapter (Asio and
// system calls). Used on the loop thread only.
//
// Reads never block: a pipe is read until it is empty or a per-turn budget is spent, then the
// loop serves others (the control socket stays responsive while a program spews). A pipe is
// read until EOF, also after its child exited (grandchildren may still hold it), so the last
// lines a program writes are never lost; drain() reads what a dead child left before its exit
// is handled.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "agent/logs/log_format.h"
#include "agent/logs/rotating_log.h"
#include "agent/process/log_sink.h"
#include "agent/process/spawner.h"
#include "common/error.h"

namespace zagent {

class LogCapture {
 public:
  /// Data read for the log at `path` (after it was written there), for `tail -f` followers.
  using DataListener = std::function<void(const std::string& path, std::string_view data)>;
  /// The log at `path` was emptied (clear): followers start over.
  using ResetListener = std::function<void(const std::string& path)>;

  /// `strip_ansi`: [supervisord] strip_ansi, applied before output is logged.
  LogCapture(boost::asio::io_context& io, LogSink& main_log, bool strip_ansi = false);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  void set_listeners(DataListener on_data, ResetListener on_reset);

  /// Takes over the read ends of a new child's pipes (PosixSpawner::OutputHandler); -1 = no
  /// such pipe. The channel's log file is (re)opened now, as supervisord does at each spawn.
  void attach(const SpawnSpec& spec, pid_t pid, int stdout_fd, int stderr_fd);

  /// Reads everything the pipes of `pid` hold right now. Call when the child was reaped,
  /// before its exit is handled: what it wrote before dying is then in its log.
  void drain(pid_t pid);

  /// SIGUSR2: closes and reopens every open child log.
  void reopen_all();

  /// clearProcessLogs for one file: an open log is closed, deleted and reopened empty; a
  /// file no child writes now is emptied. NotFound if there is no such file.
  Result<void> clear(const std::string& path);

  /// The failure of the log at `path` (disk full, unwritable), while it lasts.
  std::optional<Error> error_of(const std::string& path) const;

  struct Channel;  // one pipe (log_capture.cc)
  struct Child;    // the pipes of one spawned child

 private:
  std::shared_ptr<RotatingLog> log_for(const OutputLog& target, const std::string& label);
  void schedule(Child& child, Channel& channel, bool wait_first);
  void read_turn(std::uint64_t child_id, int which);
  /// One read() of the channel's pipe (EINTR retried), its bytes passed to consume();
  /// returns what read() returned, errno kept when it is -1.
  ssize_t read_some(Child& child, Channel& channel);
  void consume(Child& child, Channel& channel, std::string_view data);
  void close_channel(Child& child, Channel& channel);
  void erase_if_done(std::uint64_t child_id);
  char* buffer();

  boost::asio::io_context& io_;
  LogSink& main_log_;
  bool strip_ansi_;
  DataListener on_data_;
  ResetListener on_reset_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Child>> children_;  // live captures by id
  std::map<pid_t, std::uint64_t> by_pid_;                     // for drain()
  std::map<std::string, std::weak_ptr<RotatingLog>> logs_;    // open logs by path
  std::unique_ptr<char[]> buffer_;                            // one read buffer for all
  std::shared_ptr<bool> alive_;                               // guards posted work
};

}  // namespace zagent
