#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace zagent::test {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  RunResult result;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      pipe2(in_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    env_strings.emplace_back(*e);
  }
  for (const auto& extra : options.extra_env) {
    env_strings.push_back(extra);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) {
    argp.push_back(a.data());
  }
  argp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close_fd(in_pipe[0]);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (rc != 0) {
    close_fd(in_pipe[1]);
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    result.err = std::string("posix_spawn: ") + std::strerror(rc);
    return result;
  }

  // Feed stdin (small inputs only) and close it so the child sees EOF.
  if (!options.stdin_data.empty()) {
    const ssize_t n = write(in_pipe[1], options.stdin_data.data(), options.stdin_data.size());
    (void)n;
  }
  close_fd(in_pipe[1]);

  const auto deadline = std::chrono::steady_clock::now() + options.deadline;
  char buf[65536];
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close_fd(i == 0 ? out_pipe[0] : err_pipe[0]);
        continue;
      }
      (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
    }
  }
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace zagent::test

namespace zagent::test {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd,
                                     const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (!cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  }
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) {
    argp.push_back(a.data());
  }
  argp.push_back(nullptr);
  if (posix_spawn(&pid_, argp[0], &actions, nullptr, argp.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ <= 0 || reaped_) {
    return;
  }
  kill(pid_, SIGTERM);
  if (!wait(std::chrono::milliseconds(15000))) {
    kill(pid_, SIGKILL);
    wait(std::chrono::milliseconds(5000));
  }
}

void BackgroundProcess::signal(int signo) const {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, signo);
  }
}

std::optional<int> BackgroundProcess::wait(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  if (!reaped_) {
    const bool done = wait_until(
        [this] {
          const pid_t r = waitpid(pid_, &status_, WNOHANG);
          return r == pid_ || (r < 0 && errno == ECHILD);
        },
        deadline);
    if (!done) {
      return std::nullopt;
    }
    reaped_ = true;
  }
  if (WIFEXITED(status_)) {
    return WEXITSTATUS(status_);
  }
  return 128 + WTERMSIG(status_);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    // Polling interval of a condition wait, not a fixed wait for an outcome.
    poll(nullptr, 0, 5);
  }
}

bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0) {
    return false;
  }
  // A zombie still answers kill(0); look at its state.
  const std::string stat = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = fopen(stat.c_str(), "r");
  if (f == nullptr) {
    return false;
  }
  char buf[512] = {0};
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  const std::string s(buf, n);
  const auto close_paren = s.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= s.size() ||
         s[close_paren + 2] != 'Z';
}

}  // namespace zagent::test
