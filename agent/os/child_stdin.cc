#include "agent/os/child_stdin.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>

namespace zagent {

namespace asio = boost::asio;

struct ChildStdin::Pipe {
  explicit Pipe(asio::io_context& io, int fd) : descriptor(io, fd) {}
  asio::posix::stream_descriptor descriptor;  // owns the fd
  std::string pending;                        // queued bytes not written yet
  bool waiting = false;                       // an async wait for writability is armed
};

ChildStdin::ChildStdin(asio::io_context& io) : io_(io), alive_(std::make_shared<bool>(true)) {}

ChildStdin::~ChildStdin() { *alive_ = false; }

void ChildStdin::attach(pid_t pid, int fd) {
  if (fd < 0) {
    return;
  }
  pipes_[pid] = std::make_unique<Pipe>(io_, fd);  // a reused pid's old pipe is closed
}

Result<void> ChildStdin::write(pid_t pid, std::string_view data) {
  auto it = pipes_.find(pid);
  if (it == pipes_.end()) {
    return fail("stdin channel is closed", ErrorCode::NotFound);
  }
  it->second->pending.append(data);
  flush(pid);
  // supervisord compat: Subprocess.write() queues and flushes once; a broken pipe found by
  // that first write is reported (NO_FILE), later ones close the channel quietly.
  if (pipes_.find(pid) == pipes_.end()) {
    return fail("stdin channel is closed", ErrorCode::NotFound);
  }
  return {};
}

void ChildStdin::close(pid_t pid) { pipes_.erase(pid); }

void ChildStdin::flush(pid_t pid) {
  auto it = pipes_.find(pid);
  if (it == pipes_.end()) {
    return;
  }
  Pipe& pipe = *it->second;
  while (!pipe.pending.empty()) {
    const ssize_t n = ::write(pipe.descriptor.native_handle(), pipe.pending.data(),
                              pipe.pending.size());
    if (n > 0) {
      pipe.pending.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      wait_writable(pid, pipe);  // full: the rest follows as the child reads
      return;
    } else {
      pipes_.erase(it);  // EPIPE: the child closed its stdin (or another error): drop
      return;
    }
  }
}

void ChildStdin::wait_writable(pid_t pid, Pipe& pipe) {
  if (pipe.waiting) {
    return;
  }
  pipe.waiting = true;
  pipe.descriptor.async_wait(
      asio::posix::stream_descriptor::wait_write,
      [this, alive = alive_, pid, p = &pipe](const boost::system::error_code& ec) {
        if (!*alive || ec) {
          return;  // destroyed, or the pipe was closed (operation_aborted)
        }
        auto it = pipes_.find(pid);
        if (it == pipes_.end() || it->second.get() != p) {
          return;
        }
        p->waiting = false;
        flush(pid);
      });
}

}  // namespace zagent
