#include "agent/os/posix_spawner.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <cstdio>
#include <map>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/os/fd_range.h"
#include "agent/os/system_file_probe.h"
#include "agent/process/command.h"

namespace zagent {

namespace {

// Python's errno.errorcode[err] ("ENOENT"), or the number when it has no name.
std::string errno_code(int err) {
  const char* name = ::strerrorname_np(err);
  return name != nullptr ? std::string(name) : std::to_string(err);
}

// Closes a descriptor when it goes out of scope (parent side only).
class FdGuard {
 public:
  explicit FdGuard(int fd = -1) : fd_(fd) {}
  ~FdGuard() { reset(); }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_;  // owned descriptor, -1 when none
};

// Moves a new close-on-exec descriptor to 3 or above, so that the child's dup2() onto 0, 1
// and 2 never overwrites a source it still needs (the agent may run with 0-2 closed), and
// so that dup2() always clears FD_CLOEXEC on the target (it does not when source == target).
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

// Everything the child needs, prepared before the clone: the child shares the agent's memory
// (CLONE_VM, see spawn()) until it execs, so it may only make async-signal-safe calls, must
// not allocate, and must change no memory but its own stack (and errno, which the agent reads
// only when the clone itself failed). Calls that glibc wraps with
// process-wide bookkeeping (setuid() and friends signal every thread of the process) are made
// as raw system calls.
struct ChildPlan {
  const char* path = nullptr;   // the resolved file to exec
  char* const* argv = nullptr;  // NULL-terminated
  char* const* envp = nullptr;  // NULL-terminated
  int stdin_fd = -1;            // read end of the stdin pipe, >= 3
  int stdout_fd = -1;           // >= 3
  int stderr_fd = -1;           // >= 3; same as stdout_fd with redirect_stderr
  int error_fd = -1;            // write end of the error pipe, close-on-exec, >= 3
  int max_fd = 0;               // close() loop bound when close_range() is unavailable
  bool shares_fd_table = false; // cloned with CLONE_FILES: unshare before touching a descriptor
  int keep_below = 0;           // above the child's four descriptors: what the unshare copies
  const cpu_set_t* affinity = nullptr;  // the agent's CPU mask to restore; nullptr: unchanged
  bool switch_user = false;     // user= names a uid other than ours
  bool not_root = false;        // ... and we are not root (supervisord refuses)
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;  // primary gid first, then every group listing the user
  size_t group_count = 0;
  const char* directory = nullptr;  // nullptr: keep the agent's cwd
  bool set_umask = false;
  mode_t umask = 0;
  int parent_death_signal = 0;  // 0: none
  pid_t agent_pid = 0;          // the parent, to detect that it died before prctl()
  const char* cgroup_procs = nullptr;  // a cgroup.procs file to join; nullptr: none
};

// --- Child side: async-signal-safe only. ---

// A fixed-size message buffer; text beyond its capacity is cut.
struct ChildMessage {
  char text[4096 + 256];
  size_t len = 0;

  void add(const char* s) {
    while (*s != '\0' && len < sizeof(text)) {
      text[len++] = *s++;
    }
  }
  void add_number(unsigned long value) {
    char digits[24];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n > 0 && len < sizeof(text)) {
      text[len++] = digits[--n];
    }
  }
  // errno.errorcode.get(err, err): strerrorname_np() only indexes a static table.
  void add_errno_code(int err) {
    const char* name = ::strerrorname_np(err);
    if (name != nullptr) {
      add(name);
    } else {
      add_number(static_cast<unsigned long>(err));
    }
  }
};

void write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

// supervisord compat: Subprocess._spawn_as_child() writes "supervisor: <reason>" and then
// "supervisor: child process was not spawned" to fd 2 (the process's stderr log) and exits
// 127. We also send the reason up the error pipe so that spawn() can report it.
[[noreturn]] void child_fail(const ChildPlan& plan, const ChildMessage& reason) {
  constexpr std::string_view kPrefix = "supervisor: ";
  constexpr std::string_view kNotSpawned = "supervisor: child process was not spawned\n";
  write_all(2, kPrefix.data(), kPrefix.size());
  write_all(2, reason.text, reason.len);
  write_all(2, "\n", 1);
  write_all(2, kNotSpawned.data(), kNotSpawned.size());
  write_all(plan.error_fd, reason.text, reason.len);
  ::_exit(127);
}

void close_from(int first, int last, int max_fd) {
  if (first > last) {
    return;
  }
  if (::close_range(static_cast<unsigned>(first), static_cast<unsigned>(last), 0) == 0) {
    return;
  }
  for (int fd = first; fd <= last && fd < max_fd; ++fd) {
    ::close(fd);
  }
}

// The child of a CLONE_FILES clone shares the agent's descriptor table: before it changes
// any descriptor it takes a private table holding only the numbers below keep_below (its own
// four and the few low ones of the agent, which it closes below). A copy of the whole table
// and the close of every descriptor the agent holds (five per program) were most of the cost
// of a spawn with many programs. Without close_range(CLOSE_RANGE_UNSHARE) (Linux < 5.9), a
// full private copy. Nothing can be reported through fd 2 yet: it is still the agent's.
void own_fd_table(const ChildPlan& plan) {
  if (!plan.shares_fd_table) {
    return;
  }
  if (::close_range(static_cast<unsigned>(plan.keep_below), ~0U, CLOSE_RANGE_UNSHARE) == 0) {
    return;
  }
  if (::unshare(CLONE_FILES) == 0) {
    return;
  }
  const int err = errno;
  ChildMessage m;
  m.add("couldn't unshare the descriptor table: ");
  m.add_errno_code(err);
  write_all(plan.error_fd, m.text, m.len);
  ::_exit(127);
}

[[noreturn]] void run_child(const ChildPlan& plan) {
  own_fd_table(plan);
  // Born on the agent's CPU (PinToCurrentCpu): the program gets the agent's CPU mask back.
  if (plan.affinity != nullptr) {
    ::syscall(SYS_sched_setaffinity, 0, sizeof(cpu_set_t), plan.affinity);
  }

  // supervisord compat: setpgrp(), so that signals to the agent's group (Ctrl-C in the
  // foreground) do not reach the children, and a group kill reaches the child's own tree.
  ::setpgid(0, 0);

  // Join the program's cgroup before anything else, so everything the child does is counted
  // there, and while it still has the agent's credentials (the file belongs to root). "0"
  // names the writer. A failure only costs the cgroup evidence: the start goes on.
  if (plan.cgroup_procs != nullptr) {
    const int fd = ::open(plan.cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      write_all(fd, "0", 1);
      ::close(fd);
    }
  }

  // The agent catches or ignores some signals; an exec'd program starts with defaults.
  // All signals were blocked across the clone so no agent handler can run in the child.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for SIGKILL, SIGSTOP, reserved
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  ::dup2(plan.stdin_fd, 0);
  ::dup2(plan.stdout_fd, 1);
  ::dup2(plan.stderr_fd, 2);
  // Keep only the error pipe (closed by exec itself, being O_CLOEXEC).
  close_from(3, plan.error_fd - 1, plan.max_fd);
  close_from(plan.error_fd + 1, static_cast<int>(~0U >> 1), plan.max_fd);

  // supervisord compat: ServerOptions.drop_privileges(): same uid is a no-op; a non-root
  // agent cannot switch; setgroups (primary gid first), setgid, then setuid.
  if (plan.switch_user) {
    const char* why = nullptr;
    int setuid_errno = 0;
    if (plan.not_root) {
      why = "Can't drop privilege as nonroot user";
    } else if (::syscall(SYS_setgroups, plan.group_count, plan.groups) != 0) {
      why = "Could not set groups of effective user";
    } else if (::syscall(SYS_setgid, plan.gid) != 0) {
      why = "Could not set group id of effective user";
    } else if (::syscall(SYS_setuid, plan.uid) != 0) {
      setuid_errno = errno;
    }
    if (why != nullptr || setuid_errno != 0) {
      ChildMessage m;
      m.add("couldn't setuid to ");
      m.add_number(plan.uid);
      m.add(": ");
      // strerrordesc_np(): the untranslated text from a static table (no locale, no malloc).
      m.add(why != nullptr ? why : ::strerrordesc_np(setuid_errno));
      child_fail(plan, m);
    }
  }

  // After the user switch: a credential change clears the parent-death signal.
  if (plan.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, plan.parent_death_signal);
    if (::getppid() != plan.agent_pid) {
      // The agent died between the clone and prctl(): the signal would never come.
      ::_exit(127);
    }
  }

  if (plan.directory != nullptr && ::chdir(plan.directory) != 0) {
    const int err = errno;
    ChildMessage m;
    m.add("couldn't chdir to ");
    m.add(plan.directory);
    m.add(": ");
    m.add_errno_code(err);
    child_fail(plan, m);
  }

  if (plan.set_umask) {
    ::umask(plan.umask);
  }
  ::execve(plan.path, plan.argv, plan.envp);
  const int err = errno;
  ChildMessage m;
  m.add("couldn't exec ");
  m.add(plan.argv[0]);
  m.add(": ");
  m.add_errno_code(err);
  child_fail(plan, m);
}

int child_entry(void* arg) { run_child(*static_cast<const ChildPlan*>(arg)); }

// The child's stack while it shares the agent's memory. One is enough: spawn() runs on the
// loop thread only, and the agent is suspended until the child has exec'd or exited.
constexpr size_t kChildStackSize = 256 * 1024;
alignas(64) char g_child_stack[kChildStackSize];

// AddressSanitizer's runtime cannot run a child on a borrowed stack in shared memory (its
// interceptors keep process-wide state), so sanitizer builds fork() instead; the child's
// code is the same either way.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kShareMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kShareMemory = false;
#else
constexpr bool kShareMemory = true;
#endif
#else
constexpr bool kShareMemory = true;
#endif

pid_t start_child(ChildPlan& plan) {
  if (!kShareMemory) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      run_child(plan);
    }
    return pid;
  }
  plan.shares_fd_table = true;
  return ::clone(child_entry, g_child_stack + kChildStackSize,
                 CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &plan);
}

// --- Parent side. ---

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// The user's primary gid, then every other group whose member list names the user.
std::vector<gid_t> supplementary_groups(const UserSpec& user) {
  int count = 32;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count) + 1);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<size_t>(count));
  std::vector<gid_t> out{user.gid};
  for (const gid_t g : groups) {
    if (g != user.gid) {
      out.push_back(g);
    }
  }
  return out;
}

// A pipe whose write end (for the child) is moved to 3 or above; both ends close-on-exec
// (the child's end is dup2'ed onto 1 or 2, or closed by exec, the error pipe).
Result<void> create_pipe(const SpawnSpec& spec, FdGuard& read_end, FdGuard& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int err = errno;
    // supervisord compat: Subprocess.spawn() pipe-creation errors.
    if (err == EMFILE || err == ENFILE) {
      return fail("too many open files to spawn '" + spec.name + "'", ErrorCode::Io);
    }
    return fail("unknown error making dispatchers for '" + spec.name + "': " + errno_code(err),
                ErrorCode::Io);
  }
  read_end.reset(above_stdio(fds[0]));
  write_end.reset(above_stdio(fds[1]));
  if (read_end.get() < 0 || write_end.get() < 0) {
    return fail("too many open files to spawn '" + spec.name + "'", ErrorCode::Io);
  }
  return {};
}

// One output pipe: the agent's read end is non-blocking (read by the log capture).
struct OutputPipe {
  FdGuard read_end;
  FdGuard write_end;
};

Result<void> open_output_pipe(const SpawnSpec& spec, OutputPipe& pipe) {
  if (auto r = create_pipe(spec, pipe.read_end, pipe.write_end); !r) {
    return r;
  }
  ::fcntl(pipe.read_end.get(), F_SETFL, O_NONBLOCK);
  pipe.read_end.reset(move_to_agent_range(pipe.read_end.release()));
  return {};
}

// Every pipe of a spawn: the child's three standard streams and the exec-error pipe.
struct ChildPipes {
  FdGuard stdin_read;   // the child's stdin
  FdGuard stdin_write;  // the agent's end, non-blocking
  OutputPipe out;
  OutputPipe errs;      // unused with redirect_stderr
  FdGuard error_read;   // exec errors come back through here; the child's end closes at exec
  FdGuard error_write;
};

Result<void> open_child_pipes(const SpawnSpec& spec, ChildPipes& pipes) {
  // supervisord compat: every child gets a stdin pipe whose write end the agent holds open
  // (sendProcessStdin, fg); a program that reads stdin waits instead of reading end of file.
  if (auto r = create_pipe(spec, pipes.stdin_read, pipes.stdin_write); !r) {
    return r;
  }
  ::fcntl(pipes.stdin_write.get(), F_SETFL, O_NONBLOCK);
  // The agent's ends live long: in its range, so that the child's ends get low numbers.
  pipes.stdin_write.reset(move_to_agent_range(pipes.stdin_write.release()));
  if (auto r = open_output_pipe(spec, pipes.out); !r) {
    return r;
  }
  if (!spec.redirect_stderr) {
    if (auto r = open_output_pipe(spec, pipes.errs); !r) {
      return r;
    }
  }
  return create_pipe(spec, pipes.error_read, pipes.error_write);
}

int max_open_files() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > 1U << 20) {
    return 1 << 20;
  }
  return static_cast<int>(rl.rlim_cur);
}

// Pins the agent to the CPU it runs on for the lifetime of the object (the clone window), so
// that the child is born there: the agent sleeps until the child has exec'd, and a child the
// scheduler placed on another, busy CPU left the agent's CPU idle while it waited for its
// turn (most of a spawn's time with programs starting on the other CPU). The child restores
// the mask before it execs (run_child). Nothing is pinned on a single-CPU mask or on error.
class PinToCurrentCpu {
 public:
  PinToCurrentCpu() {
    if (::sched_getaffinity(0, sizeof(saved_), &saved_) != 0 || CPU_COUNT(&saved_) < 2) {
      return;
    }
    const int cpu = ::sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &saved_)) {
      return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = ::sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~PinToCurrentCpu() {
    if (pinned_) {
      ::sched_setaffinity(0, sizeof(saved_), &saved_);
    }
  }
  PinToCurrentCpu(const PinToCurrentCpu&) = delete;
  PinToCurrentCpu& operator=(const PinToCurrentCpu&) = delete;

  /// The mask to restore in the child; nullptr when nothing was pinned.
  const cpu_set_t* saved() const { return pinned_ ? &saved_ : nullptr; }

 private:
  cpu_set_t saved_{};
  bool pinned_ = false;
};

// Blocks every signal for the lifetime of the object (the clone window): a handler of the
// agent must not run in the child between the clone and its reset of dispositions.
class BlockAllSignals {
 public:
  BlockAllSignals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockAllSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;

 private:
  sigset_t saved_;  // the caller's mask, restored in the parent
};

}  // namespace

Result<pid_t> PosixSpawner::spawn(const SpawnSpec& spec) {
  std::string search_path;
  {
    const char* agent_path = std::getenv("PATH");
    search_path = choose_search_path(
        spec.environment, agent_path ? std::optional<std::string_view>(agent_path) : std::nullopt);
  }
  auto resolved = resolve_command(spec.command, search_path, SystemFileProbe{});
  if (!resolved) {
    return resolved.error();
  }

  ChildPipes pipes;
  if (auto r = open_child_pipes(spec, pipes); !r) {
    return r.error();
  }
  std::vector<char*> argv = c_strings(resolved->argv);
  std::vector<char*> envp = c_strings(spec.environment);
  std::vector<gid_t> groups;

  ChildPlan plan;
  plan.path = resolved->path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.stdin_fd = pipes.stdin_read.get();
  plan.stdout_fd = pipes.out.write_end.get();
  plan.stderr_fd =
      spec.redirect_stderr ? pipes.out.write_end.get() : pipes.errs.write_end.get();
  plan.error_fd = pipes.error_write.get();
  plan.max_fd = max_open_files();
  plan.keep_below =
      std::max({plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, plan.error_fd}) + 1;
  if (spec.user && spec.user->uid != ::getuid()) {
    plan.switch_user = true;
    plan.not_root = ::getuid() != 0;
    plan.uid = spec.user->uid;
    plan.gid = spec.user->gid;
    if (!plan.not_root) {
      groups = supplementary_groups(*spec.user);
    }
    plan.groups = groups.data();
    plan.group_count = groups.size();
  }
  plan.directory = spec.directory ? spec.directory->c_str() : nullptr;
  plan.set_umask = spec.umask.has_value();
  plan.umask = spec.umask.value_or(0);
  plan.parent_death_signal = spec.parent_death_signal;
  plan.agent_pid = ::getpid();
  plan.cgroup_procs = spec.cgroup_procs.empty() ? nullptr : spec.cgroup_procs.c_str();

  // CLONE_VM | CLONE_VFORK, as posix_spawn() does: the child borrows the agent's memory
  // instead of copying its page tables, and the agent sleeps until the child has exec'd or
  // exited (it would wait on the error pipe for that anyway). Copying the page tables of an
  // agent with a thousand programs was the largest cost of a spawn.
  pid_t pid = -1;
  int fork_errno = 0;
  {
    PinToCurrentCpu pinned;
    plan.affinity = pinned.saved();
    BlockAllSignals blocked;
    pid = start_child(plan);
    fork_errno = errno;
  }
  if (pid < 0) {
    // supervisord compat: Subprocess.spawn() fork errors.
    if (fork_errno == EAGAIN) {
      return fail("Too many processes in process table to spawn '" + spec.name + "'",
                  ErrorCode::Io);
    }
    return fail("unknown error during fork for '" + spec.name + "': " + errno_code(fork_errno),
                ErrorCode::Io);
  }

  // Our copies of the write ends must go, or the reads never see EOF. The child's copy of
  // the error pipe closes at a successful exec (O_CLOEXEC) or when it exits.
  pipes.error_write.reset();
  pipes.out.write_end.reset();
  pipes.errs.write_end.reset();
  pipes.stdin_read.reset();
  std::string reason;
  char buf[512];
  while (true) {
    const ssize_t n = ::read(pipes.error_read.get(), buf, sizeof buf);
    if (n > 0) {
      reason.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  if (!reason.empty()) {
    // The child failed before exec and exits 127 right after writing. Reaping it here (the
    // loop thread is blocked in spawn(), so the SIGCHLD reaper cannot run before us) means
    // the supervisor never hears of a pid it was never given; spawn() reports the failure.
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // The output pipes go to the capture either way: a failed child's `supervisor: ...` lines
  // belong in its log, as in supervisord.
  if (on_pipes_) {
    Pipes handed;
    handed.stdin_fd = reason.empty() ? pipes.stdin_write.release() : -1;
    handed.stdout_fd = pipes.out.read_end.release();
    handed.stderr_fd = pipes.errs.read_end.release();
    on_pipes_(spec, pid, handed);
  }
  if (!reason.empty()) {
    return fail(reason, ErrorCode::Io);
  }
  return pid;
}

Result<void> PosixSpawner::send_signal(pid_t pid, int signo, bool to_group) {
  if (pid <= 0) {
    return fail("refusing to signal pid " + std::to_string(pid), ErrorCode::Internal);
  }
  if (::kill(to_group ? -pid : pid, signo) != 0) {
    const int err = errno;
    if (err == ESRCH) {
      return {};  // already gone; the reap follows
    }
    return fail(std::strerror(err), ErrorCode::Io);
  }
  return {};
}

namespace {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) {
    return std::nullopt;
  }
  return parse_proc_stat(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace

namespace {

/// The children of every thread of `pid`, from /proc/PID/task/TID/children; nullopt if the
/// kernel does not provide those files (CONFIG_PROC_CHILDREN).
std::optional<std::vector<pid_t>> children_of(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  DIR* dir = ::opendir(path);
  if (dir == nullptr) {
    return std::vector<pid_t>{};  // the process is gone: no children
  }
  std::vector<pid_t> out;
  bool supported = true;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') {
      continue;
    }
    char file[512];
    std::snprintf(file, sizeof file, "%s/%s/children", path, e->d_name);
    const int fd = ::open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      supported = errno != ENOENT;
      if (!supported) {
        break;
      }
      continue;
    }
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
      text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    const char* p = text.c_str();
    char* next = nullptr;
    for (long v = std::strtol(p, &next, 10); next != p; v = std::strtol(p, &next, 10)) {
      out.push_back(static_cast<pid_t>(v));
      p = next;
    }
  }
  ::closedir(dir);
  if (!supported) {
    return std::nullopt;
  }
  return out;
}

/// Fallback without /proc/PID/task/TID/children: one pass over all of /proc.
std::vector<ProcessId> descendants_by_full_scan(pid_t root) {
  std::multimap<pid_t, ProcStat> children;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return {};
  }
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (auto st = read_proc_stat(pid)) {
      children.emplace(st->ppid, *st);
    }
  }
  ::closedir(dir);
  std::vector<ProcessId> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    const auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      out.push_back(ProcessId{it->second.pid, it->second.starttime});
      todo.push_back(it->second.pid);
    }
  }
  return out;
}

}  // namespace

std::vector<ProcessId> PosixSpawner::descendants(pid_t root) {
  // Runs when a stop or kill signal is sent. Walking only the subtree keeps a stop of N
  // programs linear in N (a full /proc scan per stop made it quadratic).
  std::vector<ProcessId> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    auto kids = children_of(parent);
    if (!kids) {
      return descendants_by_full_scan(root);
    }
    for (const pid_t kid : *kids) {
      if (auto st = read_proc_stat(kid)) {
        out.push_back(ProcessId{st->pid, st->starttime});
        todo.push_back(kid);
      }
    }
  }
  return out;
}

bool PosixSpawner::signal_if_alive(const ProcessId& process, int signo) {
  const auto st = read_proc_stat(process.pid);
  if (!st || st->starttime != process.start_time) {
    return false;  // gone, or the pid now names another process
  }
  return ::kill(process.pid, signo) == 0;
}

}  // namespace zagent
