// lines FIRST [--more M] [--chunk B] [--stderr-too] [--then-wait] [--done-file PATH]: writes
// lines 1..FIRST of test_output.h's numbered_line() to stdout, one write() per line, or with
// --chunk in writes of B bytes that cut lines anywhere; with --stderr-too each stdout line is
// followed by numbered_err_line() on stderr. With --then-wait it then waits: every SIGUSR1
// writes the next M lines (default 1) the same way; SIGTERM ends it. After each batch the
// number of batches written so far goes into PATH (written to PATH.tmp, then renamed), once
// the pipes it wrote to are empty again: a test then knows that the reader (the agent) has
// read the whole batch, even when the output is lost.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "test_output.h"

namespace {

bool write_all(int fd, const std::string& data) {
  for (std::size_t off = 0; off < data.size();) {
    const ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w <= 0) {
      return false;
    }
    off += static_cast<std::size_t>(w);
  }
  return true;
}

struct Options {
  long long first = 0;
  long long more = 1;
  std::size_t chunk = 0;
  bool stderr_too = false;
  bool then_wait = false;
  std::string done_file;
};

/// Lines from..to; false if a write failed.
bool write_lines(const Options& o, long long from, long long to) {
  std::string pending;
  for (long long n = from; n <= to; ++n) {
    const std::string line = zagent::test_output::numbered_line(n);
    if (o.stderr_too) {
      if (!write_all(1, line) || !write_all(2, zagent::test_output::numbered_err_line(n))) {
        return false;
      }
      continue;
    }
    if (o.chunk == 0) {
      if (!write_all(1, line)) {
        return false;
      }
      continue;
    }
    pending += line;
    while (pending.size() >= o.chunk) {
      if (!write_all(1, pending.substr(0, o.chunk))) {
        return false;
      }
      pending.erase(0, o.chunk);
    }
  }
  return write_all(1, pending);
}

/// Until the pipe `fd` writes to holds no bytes (FIONREAD works on either end of a pipe).
void wait_drained(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    return;
  }
  for (int queued = 1; ioctl(fd, FIONREAD, &queued) == 0 && queued > 0;) {
    poll(nullptr, 0, 1);
  }
}

void record_progress(const Options& o, int batches) {
  if (o.done_file.empty()) {
    return;
  }
  wait_drained(1);
  wait_drained(2);
  const std::string tmp = o.done_file + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w"); f != nullptr) {
    std::fprintf(f, "%d\n", batches);
    std::fclose(f);
    std::rename(tmp.c_str(), o.done_file.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked before anything is written: a test signals only after it saw output, and the
  // signal then waits for sigwait() instead of killing the program (SIGUSR1's default).
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);

  Options o;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--more") == 0 && has_value) {
      o.more = std::atoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--chunk") == 0 && has_value) {
      o.chunk = static_cast<std::size_t>(std::atoll(argv[++i]));
    } else if (std::strcmp(argv[i], "--done-file") == 0 && has_value) {
      o.done_file = argv[++i];
    } else if (std::strcmp(argv[i], "--stderr-too") == 0) {
      o.stderr_too = true;
    } else if (std::strcmp(argv[i], "--then-wait") == 0) {
      o.then_wait = true;
    } else {
      o.first = std::atoll(argv[i]);
    }
  }
  if (!write_lines(o, 1, o.first)) {
    return 1;
  }
  int batches = 1;
  record_progress(o, batches);
  long long next = o.first + 1;
  while (o.then_wait) {
    int signo = 0;
    if (sigwait(&usr1, &signo) != 0) {
      return 1;
    }
    if (!write_lines(o, next, next + o.more - 1)) {
      return 1;
    }
    next += o.more;
    record_progress(o, ++batches);
  }
  return 0;
}
