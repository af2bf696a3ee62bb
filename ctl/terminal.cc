#include "ctl/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace zagent::ctl {
namespace {

int g_interrupt_pipe[2] = {-1, -1};
bool g_sigterm_caught = false;        // SIGTERM goes to on_sigint
struct sigaction g_saved_sigterm {};  // SIGTERM's action before that

extern "C" void on_sigint(int /*signo*/) {
  const int saved = errno;
  const char byte = 'i';
  // Best effort: a full pipe already says "interrupted".
  [[maybe_unused]] const ssize_t n = ::write(g_interrupt_pipe[1], &byte, 1);
  errno = saved;
}

/// Writes all of `text` to `fd`; false when the reader is gone.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

constexpr std::size_t kFlushAt = 64 * 1024;

}  // namespace

int install_interrupt_pipe() {
  if (g_interrupt_pipe[0] >= 0) {
    return g_interrupt_pipe[0];
  }
  if (::pipe2(g_interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_interrupt_pipe[0] = g_interrupt_pipe[1] = -1;
    return -1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and looks at the pipe
  ::sigaction(SIGINT, &sa, nullptr);
  return g_interrupt_pipe[0];
}

void catch_sigterm_in_interrupt_pipe(bool on) {
  // Without the pipe a caught SIGTERM would be lost: it keeps its action.
  if (on == g_sigterm_caught || g_interrupt_pipe[0] < 0) {
    return;
  }
  if (on) {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGTERM, &sa, &g_saved_sigterm);
  } else {
    ::sigaction(SIGTERM, &g_saved_sigterm, nullptr);
  }
  g_sigterm_caught = on;
}

void drain_interrupt_pipe(int fd) {
  if (fd < 0) {
    return;
  }
  char buffer[64];
  while (::read(fd, buffer, sizeof(buffer)) > 0) {
  }
}

FdOutput::~FdOutput() { flush(); }

void FdOutput::out(std::string_view text) {
  pending_ += text;
  if (pending_.size() >= kFlushAt) {
    flush();
  }
}

void FdOutput::err(std::string_view text) {
  flush();
  write_all(err_fd_, text);
}

void FdOutput::flush() {
  if (!pending_.empty()) {
    write_all(out_fd_, pending_);
    pending_.clear();
  }
}

bool FdInput::fill() {
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) {
      return true;  // the caller polls again and sees the interrupt pipe
    }
    if (n < 0 && errno == EAGAIN) {
      return true;
    }
    eof_ = true;
    return false;
  }
}

bool FdInput::has_line() const {
  return buffer_.find('\n') != std::string::npos || (eof_ && !buffer_.empty());
}

void FdInput::take_lines(std::vector<std::string>& lines) {
  std::size_t start = 0;
  for (std::size_t nl = buffer_.find('\n'); nl != std::string::npos;
       nl = buffer_.find('\n', start)) {
    lines.push_back(buffer_.substr(start, nl - start));
    start = nl + 1;
  }
  buffer_.erase(0, start);
  if (eof_ && !buffer_.empty()) {
    lines.push_back(std::move(buffer_));
    buffer_.clear();
  }
}

std::optional<std::string> FdInput::read_line() {
  interrupted_ = false;
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) {
        return std::nullopt;
      }
      // Python's input() returns a last line that has no newline.
      std::string line = std::move(buffer_);
      buffer_.clear();
      return line;
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_fd_, POLLIN, 0}};
    const nfds_t count = interrupt_fd_ >= 0 ? 2 : 1;
    if (::poll(fds, count, -1) < 0 && errno != EINTR) {
      eof_ = true;
      continue;
    }
    if (count == 2 && (fds[1].revents & POLLIN) != 0) {
      drain_interrupt_pipe(interrupt_fd_);
      interrupted_ = true;
      return std::nullopt;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      fill();
    }
  }
}

bool FdInput::read_available(std::vector<std::string>& lines) {
  if (!has_line() && !eof_) {
    fill();
  }
  take_lines(lines);
  return !eof_;
}

}  // namespace zagent::ctl
