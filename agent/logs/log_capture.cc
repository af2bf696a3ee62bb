#include "agent/logs/log_capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

#include "common/datatypes.h"
#include "common/pystr.h"

namespace zagent {

namespace asio = boost::asio;

namespace {

/// Bytes asked for per read(): one read is a pipe's turn before the loop serves others (the
/// control socket among them). Copying this much in and out takes about 0.1 ms, so a
/// request waits at most that long behind a program that spews.
constexpr std::size_t kReadSize = std::size_t{256} << 10;
/// drain() reads at most this much (a grandchild may keep a pipe busy forever).
constexpr std::size_t kDrainLimit = std::size_t{16} << 20;
/// A busy pipe is grown to this (the writer then blocks less often). Only busy pipes grow:
/// pipe memory counts against a per-user limit.
constexpr int kBigPipe = 1 << 20;
/// A pipe is busy when one read finds it full, or when this many reads in a row each take at
/// least half of it: a program that writes about a pipe's worth at a time blocks on every
/// other write, even when no read ever sees the pipe quite full (65,500-byte writes into a
/// 64 KiB pipe), and each block costs a wake-up of the writer and of the agent.
constexpr int kBusyReads = 2;

constexpr std::array<const char*, 2> kChannelNames = {"stdout", "stderr"};

/// supervisord compat: the DEBG record of a chunk of child output (spec/logging.md §1).
std::string debug_record(const std::string& name, const char* channel, std::string_view data) {
  if (is_utf8(data)) {
    return fmt::format("'{}' {} output:\n{}", name, channel, data);
  }
  return fmt::format("'{}' {} output:\nUndecodable: {}", name, channel, py_bytes_repr(data));
}

}  // namespace

struct LogCapture::Channel {
  const char* name = "stdout";
  std::unique_ptr<asio::posix::stream_descriptor> pipe;  // null once closed
  std::shared_ptr<RotatingLog> log;                       // null: NONE (output dropped)
  std::string path;                                       // the log's path ("" = none)
  int capacity = 0;                                       // the pipe's buffer size
  bool grown = false;                                     // F_SETPIPE_SZ was tried
  int busy_reads = 0;  // reads in a row that took at least half the pipe (kBusyReads)
};

struct LogCapture::Child {
  std::uint64_t id = 0;
  pid_t pid = 0;
  std::string name;  // the process name, for the main log
  std::array<Channel, 2> channels;
  std::shared_ptr<OutputTail> tail;  // the last lines, for crash records (null = none)
  std::shared_ptr<OutputWatch> watch;  // restart_on_output (null = none)
};

LogCapture::LogCapture(asio::io_context& io, LogSink& main_log, bool strip_ansi)
    : io_(io), main_log_(main_log), strip_ansi_(strip_ansi), alive_(std::make_shared<bool>(true)) {}

LogCapture::~LogCapture() {
  *alive_ = false;
  children_.clear();  // closes the pipes: pending waits complete as cancelled
}

void LogCapture::set_listeners(DataListener on_data, ResetListener on_reset) {
  on_data_ = std::move(on_data);
  on_reset_ = std::move(on_reset);
}

char* LogCapture::buffer() {
  if (!buffer_) {
    // Not value-initialised: only the pages a read fills become resident.
    buffer_.reset(new char[kReadSize]);
  }
  return buffer_.get();
}

std::shared_ptr<RotatingLog> LogCapture::log_for(const OutputLog& target,
                                                 const std::string& label) {
  if (logs_.size() > 2 * children_.size() + 16) {
    std::erase_if(logs_, [](const auto& kv) { return kv.second.expired(); });
  }
  if (auto it = logs_.find(target.path); it != logs_.end()) {
    if (auto log = it->second.lock()) {
      const RotatingLogOptions& o = log->options();
      if (o.maxbytes == target.maxbytes && o.backups == target.backups) {
        (void)log->reopen();  // supervisord reopens a child's logs at every spawn
        return log;
      }
    }
  }
  auto log = std::make_shared<RotatingLog>(
      RotatingLogOptions{target.path, target.maxbytes, target.backups},
      [this, label, path = target.path](const std::optional<Error>& error) {
        if (error) {
          main_log_.log(LogLevel::Warn,
                        fmt::format("{} log failed: {}; output is dropped until it can be "
                                    "written",
                                    label, error->message));
        } else {
          main_log_.log(LogLevel::Info, fmt::format("{} log is written again: {}", label, path));
        }
      });
  logs_[target.path] = log;
  return log;
}

void LogCapture::attach(const SpawnSpec& spec, pid_t pid, int stdout_fd, int stderr_fd) {
  auto child = std::make_unique<Child>();
  child->id = next_id_++;
  child->pid = pid;
  child->name = spec.name;
  child->tail = spec.output_tail;
  child->watch = spec.output_watch;
  const std::array<int, 2> fds = {stdout_fd, stderr_fd};
  const std::array<const OutputLog*, 2> targets = {&spec.stdout_log, &spec.stderr_log};
  for (std::size_t which = 0; which < 2; ++which) {
    if (fds[which] < 0) {
      continue;
    }
    Channel& ch = child->channels[which];
    ch.name = kChannelNames[which];
    boost::system::error_code ec;
    ch.pipe = std::make_unique<asio::posix::stream_descriptor>(io_);
    if (ch.pipe->assign(fds[which], ec)) {
      ::close(fds[which]);  // cannot be watched: the child's writes fail (EPIPE) instead
      ch.pipe.reset();
      main_log_.log(LogLevel::Error, fmt::format("'{}' {} cannot be captured: {}", spec.name,
                                                 ch.name, ec.message()));
      continue;
    }
    ch.capacity = ::fcntl(fds[which], F_GETPIPE_SZ);
    if (!targets[which]->path.empty()) {
      ch.path = targets[which]->path;
      ch.log = log_for(*targets[which], fmt::format("'{}' {}", spec.name, ch.name));
    }
  }
  Child& c = *child;
  by_pid_[pid] = c.id;
  children_[c.id] = std::move(child);
  for (Channel& ch : c.channels) {
    if (ch.pipe) {
      schedule(c, ch, false);
    }
  }
  erase_if_done(c.id);
}

void LogCapture::schedule(Child& child, Channel& channel, bool wait_first) {
  const int which = &channel == &child.channels[0] ? 0 : 1;
  auto turn = [this, alive = alive_, id = child.id, which](const boost::system::error_code& ec) {
    if (*alive && !ec) {
      read_turn(id, which);
    }
  };
  if (wait_first) {
    // Only after a read found the pipe empty: the next write is a new readiness edge.
    channel.pipe->async_wait(asio::posix::stream_descriptor::wait_read, std::move(turn));
  } else {
    asio::post(io_, [turn = std::move(turn)]() { turn(boost::system::error_code()); });
  }
}

namespace {

// Counts the read of `got` bytes; true once the channel's pipe is busy (kBusyReads).
bool pipe_is_busy(LogCapture::Channel& channel, std::size_t got) {
  const auto capacity = static_cast<std::size_t>(channel.capacity);
  channel.busy_reads = 2 * got >= capacity ? channel.busy_reads + 1 : 0;
  return got >= capacity || channel.busy_reads >= kBusyReads;
}

}  // namespace

void LogCapture::read_turn(std::uint64_t child_id, int which) {
  auto it = children_.find(child_id);
  if (it == children_.end()) {
    return;
  }
  Child& child = *it->second;
  Channel& ch = child.channels[static_cast<std::size_t>(which)];
  if (!ch.pipe) {
    return;
  }
  const ssize_t n = read_some(child, ch);
  if (n > 0) {
    const auto got = static_cast<std::size_t>(n);
    if (!ch.grown && ch.capacity > 0 && pipe_is_busy(ch, got)) {
      ch.grown = true;
      if (const int size = ::fcntl(ch.pipe->native_handle(), F_SETPIPE_SZ, kBigPipe);
          size > 0) {
        ch.capacity = size;
      }
    }
    // A read that did not fill the buffer took all the pipe held: wait for the next write.
    // A full one may have left more: come back after the others.
    schedule(child, ch, got < kReadSize);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    schedule(child, ch, true);
    return;
  }
  close_channel(child, ch);  // EOF: every writer is gone (or a read error)
  erase_if_done(child_id);
}

void LogCapture::drain(pid_t pid) {
  auto found = by_pid_.find(pid);
  if (found == by_pid_.end()) {
    return;
  }
  const std::uint64_t id = found->second;
  auto it = children_.find(id);
  if (it == children_.end()) {
    return;
  }
  Child& child = *it->second;
  for (Channel& ch : child.channels) {
    std::size_t total = 0;
    while (ch.pipe && total < kDrainLimit) {
      const ssize_t n = read_some(child, ch);
      if (n > 0) {
        total += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0) {
        close_channel(child, ch);  // a pending wait completes as cancelled
      }
      break;  // empty (EAGAIN): a pending wait or turn reads what comes later
    }
  }
  erase_if_done(id);
}

ssize_t LogCapture::read_some(Child& child, Channel& channel) {
  ssize_t n;
  do {
    n = ::read(channel.pipe->native_handle(), buffer(), kReadSize);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    consume(child, channel, std::string_view(buffer_.get(), static_cast<std::size_t>(n)));
  }
  return n;
}

void LogCapture::consume(Child& child, Channel& channel, std::string_view data) {
  std::string stripped;
  if (strip_ansi_) {
    stripped = strip_ansi_escapes(data);
    data = stripped;
    if (data.empty()) {
      return;
    }
  }
  if (channel.log) {
    channel.log->write(data);
  }
  const auto which =
      &channel == &child.channels[0] ? OutputTail::Channel::Stdout : OutputTail::Channel::Stderr;
  if (child.tail) {
    child.tail->append(which, data);
  }
  if (child.watch) {
    child.watch->feed(which, data);
  }
  if (main_log_.enabled(LogLevel::Debug)) {
    main_log_.log(LogLevel::Debug, debug_record(child.name, channel.name, data));
  }
  if (on_data_ && !channel.path.empty()) {
    on_data_(channel.path, data);
  }
}

void LogCapture::close_channel(Child&, Channel& channel) {
  channel.pipe.reset();  // closes the read end
  channel.log.reset();   // the file closes with its last channel
}

void LogCapture::erase_if_done(std::uint64_t child_id) {
  auto it = children_.find(child_id);
  if (it == children_.end()) {
    return;
  }
  for (const Channel& ch : it->second->channels) {
    if (ch.pipe) {
      return;
    }
  }
  if (auto p = by_pid_.find(it->second->pid); p != by_pid_.end() && p->second == child_id) {
    by_pid_.erase(p);
  }
  children_.erase(it);
}

void LogCapture::reopen_all() {
  for (auto& [path, weak] : logs_) {
    if (auto log = weak.lock()) {
      (void)log->reopen();
    }
  }
}

Result<void> LogCapture::clear(const std::string& path) {
  if (auto it = logs_.find(path); it != logs_.end()) {
    if (auto log = it->second.lock()) {
      auto cleared = log->clear();
      if (cleared && on_reset_) {
        on_reset_(path);
      }
      return cleared;
    }
  }
  // No child writes it now: empty the file where it is.
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    Error e = errno_error("open " + path, err);
    if (err == ENOENT) {
      e.code = ErrorCode::NotFound;
    }
    return e;
  }
  ::close(fd);
  if (on_reset_) {
    on_reset_(path);
  }
  return {};
}

std::optional<Error> LogCapture::error_of(const std::string& path) const {
  if (auto it = logs_.find(path); it != logs_.end()) {
    if (auto log = it->second.lock()) {
      return log->error();
    }
  }
  return std::nullopt;
}

}  // namespace zagent
