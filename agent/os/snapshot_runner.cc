#include "agent/os/snapshot_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

namespace zagent {

namespace asio = boost::asio;

namespace {

// Reads the agent's end once the run is over: at most this much more is taken from a pipe
// that a killed group's last writes filled.
constexpr std::size_t kFinalDrainBytes = 1024 * 1024;

// A new close-on-exec descriptor moved to 3 or above, so that the child's dup2() onto 0, 1
// and 2 never overwrites a source it still needs (the agent may run with 0-2 closed).
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) {
    return fd;
  }
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int err = errno;
  ::close(fd);
  errno = err;
  return moved;
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Starts /bin/sh -c `command` as the leader of a new process group, stdin from `null_fd`,
// stdout and stderr to `out_fd`, every other descriptor closed, default signal dispositions
// and an empty mask. posix_spawn() uses clone(CLONE_VM | CLONE_VFORK) and is safe beside the
// agent's other threads; it reports an exec failure as its return value (and has then reaped
// the child itself, so the agent's reaper never sees that pid).
int spawn_shell(const std::string& command, int null_fd, int out_fd, pid_t& pid) {
  posix_spawnattr_t attr;
  if (const int rc = ::posix_spawnattr_init(&attr); rc != 0) {
    return rc;
  }
  posix_spawn_file_actions_t actions;
  if (const int rc = ::posix_spawn_file_actions_init(&actions); rc != 0) {
    ::posix_spawnattr_destroy(&attr);
    return rc;
  }
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  int rc = ::posix_spawnattr_setflags(
      &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (rc == 0) {
    rc = ::posix_spawnattr_setpgroup(&attr, 0);
  }
  if (rc == 0) {
    rc = ::posix_spawnattr_setsigdefault(&attr, &all);
  }
  if (rc == 0) {
    rc = ::posix_spawnattr_setsigmask(&attr, &none);
  }
  if (rc == 0) {
    rc = ::posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
  }
  if (rc == 0) {
    rc = ::posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  }
  if (rc == 0) {
    rc = ::posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  }
  if (rc == 0) {
    // Descriptors the agent opened without O_CLOEXEC (a library's) must not leak either.
    rc = ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  }
  if (rc == 0) {
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv),
                       environ);
  }
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  return rc;
}

}  // namespace

struct PosixSnapshotRunner::Run {
  Run(asio::io_context& io, int fd) : pipe(io, fd), timer(io) {}

  pid_t pid = -1;                          // the shell, leader of its own group
  asio::posix::stream_descriptor pipe;     // the agent's end of stdout+stderr
  asio::steady_timer timer;                // the timeout
  std::chrono::milliseconds timeout{0};    // for the note
  std::function<void(std::string)> done;   // called once, posted
  std::string output;                      // at most kMaxOutputBytes
  bool truncated = false;                  // output beyond the cap was dropped
  bool reaped = false;                     // on_child_exit() saw the shell
  bool eof = false;                        // the pipe was closed by every writer
  bool timed_out = false;                  // the timer fired first: the group was killed
  bool finished = false;                   // handed to done, or abandoned by the destructor
  std::array<char, 16384> buffer{};        // one read's worth

  void keep(const char* data, std::size_t n) {
    const std::size_t room = kMaxOutputBytes - output.size();
    if (n > room) {
      truncated = true;
      n = room;
    }
    output.append(data, n);
  }
};

PosixSnapshotRunner::~PosixSnapshotRunner() {
  *alive_ = false;
  for (auto& [pid, run] : runs_) {
    ::kill(-pid, SIGKILL);
    run->finished = true;
    boost::system::error_code ignored;
    run->pipe.close(ignored);
    run->timer.cancel();
  }
}

void PosixSnapshotRunner::run(const std::string& command, std::chrono::milliseconds timeout,
                              std::function<void(std::string output)> done) {
  const auto fail = [&](const std::string& what, int err) {
    asio::post(io_, [alive = alive_, done = std::move(done),
                     text = fmt::format("snapshot_command: {}: {}\n", what,
                                        std::strerror(err))] {
      if (*alive) {
        done(text);
      }
    });
  };
  int null_fd = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd < 0) {
    fail("cannot open /dev/null", errno);
    return;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int err = errno;
    close_fd(null_fd);
    fail("cannot create a pipe", err);
    return;
  }
  int read_fd = above_stdio(fds[0]);
  int write_fd = above_stdio(fds[1]);
  if (read_fd < 0 || write_fd < 0) {
    const int err = errno;
    close_fd(null_fd);
    close_fd(read_fd);
    close_fd(write_fd);
    fail("cannot create a pipe", err);
    return;
  }
  pid_t pid = -1;
  const int rc = spawn_shell(command, null_fd, write_fd, pid);
  // Our copy of the write end must go, or the read never sees end of file.
  close_fd(write_fd);
  close_fd(null_fd);
  if (rc != 0) {
    close_fd(read_fd);
    fail("cannot run /bin/sh", rc);
    return;
  }
  ::fcntl(read_fd, F_SETFL, O_NONBLOCK);
  auto run = std::make_shared<Run>(io_, read_fd);
  run->pid = pid;
  run->timeout = timeout;
  run->done = std::move(done);
  runs_[pid] = run;
  start_read(run);
  run->timer.expires_after(timeout);
  run->timer.async_wait([this, run](const boost::system::error_code& ec) {
    if (run->finished || ec) {
      return;  // done already, cancelled, or the runner is gone
    }
    on_timeout(run);
  });
}

void PosixSnapshotRunner::start_read(const std::shared_ptr<Run>& run) {
  run->pipe.async_read_some(
      asio::buffer(run->buffer), [this, run](const boost::system::error_code& ec, std::size_t n) {
        if (run->finished) {
          return;  // the runner may be gone: touch nothing of it
        }
        run->keep(run->buffer.data(), n);
        if (ec) {
          run->eof = true;  // end of file, or an error that ends the reading just the same
          maybe_finish(run);
          return;
        }
        start_read(run);
      });
}

void PosixSnapshotRunner::on_timeout(const std::shared_ptr<Run>& run) {
  run->timed_out = true;
  // The group id is the shell's pid; it cannot name another process while any member of the
  // group lives, so the kill reaches the command's tree and nobody else.
  ::kill(-run->pid, SIGKILL);
  maybe_finish(run);
}

bool PosixSnapshotRunner::on_child_exit(pid_t pid, int /*status*/) {
  const auto it = runs_.find(pid);
  if (it == runs_.end()) {
    return false;
  }
  const auto run = it->second;
  run->reaped = true;
  maybe_finish(run);
  return true;
}

void PosixSnapshotRunner::maybe_finish(const std::shared_ptr<Run>& run) {
  // After a timeout, a descendant that left the group may hold the pipe open for ever: the
  // reap alone ends the run then.
  if (run->finished || !run->reaped || !(run->eof || run->timed_out)) {
    return;
  }
  run->finished = true;
  run->timer.cancel();
  if (!run->eof) {
    // What the killed group wrote last is still in the pipe.
    std::size_t taken = 0;
    while (taken < kFinalDrainBytes) {
      const ssize_t n = ::read(run->pipe.native_handle(), run->buffer.data(), run->buffer.size());
      if (n <= 0) {
        break;
      }
      run->keep(run->buffer.data(), static_cast<std::size_t>(n));
      taken += static_cast<std::size_t>(n);
    }
  }
  boost::system::error_code ignored;
  run->pipe.close(ignored);
  std::string output = std::move(run->output);
  const auto end_line = [&output] {
    if (!output.empty() && output.back() != '\n') {
      output.push_back('\n');
    }
  };
  if (run->truncated) {
    end_line();
    output += "[output truncated]\n";
  }
  if (run->timed_out) {
    end_line();
    output += fmt::format("[snapshot_command timed out after {} s]\n",
                          static_cast<double>(run->timeout.count()) / 1000.0);
  }
  runs_.erase(run->pid);
  asio::post(io_, [alive = alive_, done = std::move(run->done), output = std::move(output)] {
    if (*alive) {
      done(output);
    }
  });
}

}  // namespace zagent
