// zctl's real ends of the command plumbing: stdout/stderr as an `Output`, stdin as an `Input`,
// and the Ctrl-C self-pipe that lets blocking waits give up. The only ctl/ code besides
// rpc_client.cc that makes system calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/commands.h"

namespace zagent::ctl {

/// Installs a SIGINT handler (without SA_RESTART) that writes one byte to a non-blocking pipe,
/// and returns the pipe's read end (-1 if the pipe cannot be made). Idempotent.
int install_interrupt_pipe();

/// While `on`, SIGTERM writes to the interrupt pipe as SIGINT does (install_interrupt_pipe()
/// first); `false` puts back the action SIGTERM had before.
void catch_sigterm_in_interrupt_pipe(bool on);

/// Reads and discards every byte waiting in the interrupt pipe.
void drain_interrupt_pipe(int fd);

/// stdout buffered until flush() (or 64 KiB); stderr written at once, after flushing stdout so
/// that the two stay in order on a terminal. A closed stdout (EPIPE) is silently dropped.
class FdOutput final : public Output {
 public:
  FdOutput(int out_fd, int err_fd) : out_fd_(out_fd), err_fd_(err_fd) {}
  ~FdOutput() override;
  FdOutput(const FdOutput&) = delete;
  FdOutput& operator=(const FdOutput&) = delete;

  void out(std::string_view text) override;
  void err(std::string_view text) override;
  void flush() override;

 private:
  int out_fd_;
  int err_fd_;
  std::string pending_;  // stdout bytes not yet written
};

/// Lines from a file descriptor (stdin), with its own buffer so that `fg` and the shell can
/// share it. Ctrl-C (the interrupt pipe) ends a blocking read_line().
class FdInput final : public Input {
 public:
  FdInput(int fd, int interrupt_fd) : fd_(fd), interrupt_fd_(interrupt_fd) {}

  std::optional<std::string> read_line() override;
  int fd() const override { return eof_ ? -1 : fd_; }
  bool has_line() const override;
  bool read_available(std::vector<std::string>& lines) override;
  bool interrupted() const override { return interrupted_; }
  bool at_eof() const override { return eof_ && buffer_.empty(); }

 private:
  /// One read(2); false at EOF or on an error other than EINTR/EAGAIN.
  bool fill();
  /// Moves every complete line (and, at EOF, the unterminated rest) into `lines`.
  void take_lines(std::vector<std::string>& lines);

  int fd_;
  int interrupt_fd_;
  std::string buffer_;        // bytes read, not yet returned as lines
  bool eof_ = false;          // read(2) returned 0
  bool interrupted_ = false;  // the last read_line() was ended by Ctrl-C
};

}  // namespace zagent::ctl
