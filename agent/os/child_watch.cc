#include "agent/os/child_watch.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace zagent {

namespace asio = boost::asio;

namespace {

// Read from the agent's end once the child is over: at most this much more is taken from a
// pipe that a killed group's last writes filled.
constexpr std::size_t kFinalDrainBytes = 1024 * 1024;

}  // namespace

struct ChildWatch::Child {
  Child(asio::io_context& io, int fd) : pipe(io, fd), timer(io) {}

  pid_t pid = -1;                       // the child, leader of its own group
  asio::posix::stream_descriptor pipe;  // the agent's end of stdout+stderr
  asio::steady_timer timer;             // the timeout
  Limits limits;
  std::function<void(Outcome)> done;  // called once, posted
  Outcome outcome;                    // filled as the child goes
  bool reaped = false;                // on_child_exit() saw the child
  bool eof = false;                   // the pipe was closed by every writer
  bool finished = false;              // handed to done, or abandoned by the destructor
  std::array<char, 16384> buffer{};   // one read's worth

  void keep(const char* data, std::size_t n) {
    std::string& out = outcome.output;
    const std::size_t cap = limits.max_output;
    if (limits.keep == Keep::Head) {
      const std::size_t room = cap - out.size();
      if (n > room) {
        outcome.truncated = true;
        n = room;
      }
      out.append(data, n);
      return;
    }
    if (n >= cap) {
      outcome.truncated = outcome.truncated || n > cap || !out.empty();
      out.assign(data + (n - cap), cap);
      return;
    }
    if (out.size() + n > cap) {
      outcome.truncated = true;
      out.erase(0, out.size() + n - cap);
    }
    out.append(data, n);
  }
};

ChildWatch::~ChildWatch() {
  *alive_ = false;
  for (auto& [pid, child] : children_) {
    ::kill(-pid, SIGKILL);
    child->finished = true;
    boost::system::error_code ignored;
    child->pipe.close(ignored);
    child->timer.cancel();
  }
}

void ChildWatch::watch(pid_t pid, int read_fd, const Limits& limits,
                       std::function<void(Outcome)> done) {
  ::fcntl(read_fd, F_SETFL, ::fcntl(read_fd, F_GETFL) | O_NONBLOCK);
  auto child = std::make_shared<Child>(io_, read_fd);
  child->pid = pid;
  child->limits = limits;
  child->done = std::move(done);
  children_[pid] = child;
  start_read(child);
  child->timer.expires_after(limits.timeout);
  child->timer.async_wait([this, child](const boost::system::error_code& ec) {
    if (child->finished || ec) {
      return;  // done already, cancelled, or the watch is gone
    }
    on_timeout(child);
  });
}

void ChildWatch::start_read(const std::shared_ptr<Child>& child) {
  child->pipe.async_read_some(
      asio::buffer(child->buffer),
      [this, child](const boost::system::error_code& ec, std::size_t n) {
        if (child->finished) {
          return;  // the watch may be gone: touch nothing of it
        }
        child->keep(child->buffer.data(), n);
        if (ec) {
          child->eof = true;  // end of file, or an error that ends the reading just the same
          maybe_finish(child);
          return;
        }
        start_read(child);
      });
}

void ChildWatch::on_timeout(const std::shared_ptr<Child>& child) {
  child->outcome.timed_out = true;
  // The group id is the child's pid; it cannot name another process while any member of the
  // group lives, so the kill reaches the child's tree and nobody else.
  ::kill(-child->pid, SIGKILL);
  maybe_finish(child);
}

bool ChildWatch::on_child_exit(pid_t pid, int status) {
  const auto it = children_.find(pid);
  if (it == children_.end()) {
    return false;
  }
  const auto child = it->second;
  child->reaped = true;
  child->outcome.status = status;
  child->outcome.exited_in_time = !child->outcome.timed_out;
  maybe_finish(child);
  return true;
}

void ChildWatch::maybe_finish(const std::shared_ptr<Child>& child) {
  // After a timeout, a descendant that left the group may hold the pipe open for ever: the
  // reap alone ends the watch then.
  if (child->finished || !child->reaped || !(child->eof || child->outcome.timed_out)) {
    return;
  }
  child->finished = true;
  child->timer.cancel();
  if (!child->eof) {
    // What the killed group wrote last is still in the pipe.
    std::size_t taken = 0;
    while (taken < kFinalDrainBytes) {
      const ssize_t n =
          ::read(child->pipe.native_handle(), child->buffer.data(), child->buffer.size());
      if (n <= 0) {
        break;
      }
      child->keep(child->buffer.data(), static_cast<std::size_t>(n));
      taken += static_cast<std::size_t>(n);
    }
  }
  boost::system::error_code ignored;
  child->pipe.close(ignored);
  children_.erase(child->pid);
  asio::post(io_, [alive = alive_, done = std::move(child->done),
                   outcome = std::move(child->outcome)]() mutable {
    if (*alive) {
      done(std::move(outcome));
    }
  });
}

}  // namespace zagent
