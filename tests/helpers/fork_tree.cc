// fork_tree --children N [--depth D] [--child-mib M]: a process tree N wide and D deep
// (default 1: the root and N children; with D=2 each child forks N of its own, and so on).
// Every process of the tree, the root included, allocates and touches M MiB (default 0) and
// then sleeps. Once every process exists (and holds its memory) the root prints
// "pids ROOT P2 P3 ..." (the whole tree, the root first, the others in the order they got
// ready) and then "ready". Every other process asks for SIGKILL when its parent dies
// (PR_SET_PDEATHSIG), so the tree goes with its root; on SIGTERM the root sends SIGTERM to
// every process of the tree, reaps its children and exits 0. Exit status 2 on a usage error,
// 1 when a fork fails.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr long kMaxProcesses = 4096;

// The root's view of its tree, read by its SIGTERM handler (written before it is unblocked
// or with SIGTERM blocked).
pid_t tree[kMaxProcesses];
volatile sig_atomic_t tree_size = 0;
pid_t children[kMaxProcesses];
volatile sig_atomic_t children_size = 0;

void kill_tree() {
  for (sig_atomic_t i = 1; i < tree_size; ++i) {
    kill(tree[i], SIGTERM);
  }
  for (sig_atomic_t i = 0; i < children_size; ++i) {
    kill(children[i], SIGTERM);  // also those not yet listed in the tree
  }
  for (sig_atomic_t i = 0; i < children_size; ++i) {
    while (waitpid(children[i], nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

void on_sigterm(int) {
  kill_tree();
  _exit(0);
}

void hold_memory(long mib) {
  if (mib <= 0) {
    return;
  }
  const std::size_t bytes = static_cast<std::size_t>(mib) << 20;
  void* block = std::malloc(bytes);
  if (block == nullptr) {
    return;
  }
  // Touch every page through a volatile pointer, so the memory is resident and counted in
  // RSS: the compiler may drop a plain memset of a block that is never read.
  volatile char* bytes_of = static_cast<volatile char*>(block);
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (std::size_t at = 0; at < bytes; at += page) {
    bytes_of[at] = 1;
  }
}

void sleep_forever() {
  while (true) {
    pause();
  }
}

// Runs in a new child: dies with its parent, forks its own subtree, takes its memory
// (after the forks, so that no child shares it copy-on-write), reports its pid on `report`,
// then sleeps.
[[noreturn]] void child(pid_t parent, int report, long width, long levels_below, long mib) {
  signal(SIGTERM, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(0);  // the parent died before prctl took effect
  }
  const pid_t self = getpid();
  for (long i = 0; levels_below > 0 && i < width; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      _exit(1);
    }
    if (pid == 0) {
      child(self, report, width, levels_below - 1, mib);
    }
  }
  hold_memory(mib);
  // A pid is smaller than PIPE_BUF: each write is atomic, whoever else writes.
  ssize_t ignored = write(report, &self, sizeof self);
  (void)ignored;
  sleep_forever();
  _exit(0);
}

bool parse_count(const char* text, long& out) {
  char* end = nullptr;
  out = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && out >= 0;
}

int usage() {
  std::fputs("usage: fork_tree --children N [--depth D] [--child-mib M]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long width = -1;
  long depth = 1;
  long mib = 0;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) {
      return usage();
    }
    long* target = std::strcmp(argv[i], "--children") == 0    ? &width
                   : std::strcmp(argv[i], "--depth") == 0     ? &depth
                   : std::strcmp(argv[i], "--child-mib") == 0 ? &mib
                                                              : nullptr;
    if (target == nullptr || !parse_count(argv[++i], *target)) {
      return usage();
    }
  }
  if (width < 0 || depth < 1) {
    return usage();
  }
  long total = 1;  // 1 + N + N^2 + ... + N^D, bounded by kMaxProcesses
  for (long level = 1, row = 1; level <= depth && width > 0; ++level) {
    row *= width;
    total += row;
    if (total > kMaxProcesses) {
      std::fprintf(stderr, "fork_tree: more than %ld processes\n", kMaxProcesses);
      return 2;
    }
  }
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    std::perror("fork_tree: pipe");
    return 1;
  }
  const pid_t root = getpid();
  tree[0] = root;
  tree_size = 1;
  // SIGTERM stays blocked while forking, so that a child never runs the root's handler and
  // the handler never sees a half-written list.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_sigterm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  for (long i = 0; i < width; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork_tree: fork");
      kill_tree();
      return 1;
    }
    if (pid == 0) {
      close(pipe_fds[0]);
      child(root, pipe_fds[1], width, depth - 1, mib);
    }
    children[children_size] = pid;
    children_size = children_size + 1;
  }
  close(pipe_fds[1]);
  sigprocmask(SIG_UNBLOCK, &term, nullptr);
  hold_memory(mib);
  while (tree_size < total) {
    pid_t pid = 0;
    const ssize_t got = read(pipe_fds[0], &pid, sizeof pid);
    if (got == sizeof pid) {
      sigprocmask(SIG_BLOCK, &term, nullptr);
      tree[tree_size] = pid;
      tree_size = tree_size + 1;
      sigprocmask(SIG_UNBLOCK, &term, nullptr);
    } else if (got == 0 || (got < 0 && errno != EINTR)) {
      std::fputs("fork_tree: a process of the tree failed to start\n", stderr);
      kill_tree();
      return 1;
    }
  }
  std::fputs("pids", stdout);
  for (sig_atomic_t i = 0; i < tree_size; ++i) {
    std::printf(" %d", static_cast<int>(tree[i]));
  }
  std::fputs("\nready\n", stdout);
  std::fflush(stdout);
  sleep_forever();
}
