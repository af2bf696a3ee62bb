#include "agent/os/snapshot_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace zagent {

namespace asio = boost::asio;

namespace {

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

// The output, with a note for what was dropped and one for a kill at the timeout.
std::string with_notes(ChildWatch::Outcome outcome, std::chrono::milliseconds timeout) {
  std::string output = std::move(outcome.output);
  const auto end_line = [&output] {
    if (!output.empty() && output.back() != '\n') {
      output.push_back('\n');
    }
  };
  if (outcome.truncated) {
    end_line();
    output += "[output truncated]\n";
  }
  if (outcome.timed_out) {
    end_line();
    output += fmt::format("[snapshot_command timed out after {} s]\n",
                          static_cast<double>(timeout.count()) / 1000.0);
  }
  return output;
}

}  // namespace

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
  children_.watch(pid, read_fd, {timeout, kMaxOutputBytes, ChildWatch::Keep::Head},
                  [timeout, done = std::move(done)](ChildWatch::Outcome outcome) {
                    done(with_notes(std::move(outcome), timeout));
                  });
}

}  // namespace zagent
