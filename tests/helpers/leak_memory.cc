// leak_memory --rate MIB_PER_S [--max MIB] [--start MIB] [--report-over MIB]: allocates and
// touches START MiB at once (default 0), prints "ready", then every 50 ms allocates and
// touches more, so that it grows by RATE MiB a second (fractions allowed, e.g. 0.5), until
// it holds MAX MiB (default: no limit); then it waits for a signal. The memory is never freed.
// With --report-over MIB it prints "over <ns>" once, the first time its own RSS
// (/proc/self/statm) is MIB or more, and on SIGTERM it prints "sigterm <ns>" and exits 0
// (<ns>: CLOCK_MONOTONIC in nanoseconds). Without it SIGTERM ends it by its default action.
// MiB = 2^20 bytes. Exit status 2 on a usage error.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr long kStepNs = 50'000'000;  // one growth step every 50 ms

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Async-signal-safe: no stdio, no allocation; clock_gettime and write(2) are on the list.
void on_sigterm(int) {
  char buf[40] = "sigterm ";
  char digits[24];
  int n = 0;
  for (std::int64_t v = monotonic_ns(); n == 0 || v > 0; v /= 10) {
    digits[n++] = static_cast<char>('0' + v % 10);
  }
  std::size_t len = 8;
  while (n > 0) {
    buf[len++] = digits[--n];
  }
  buf[len++] = '\n';
  ssize_t ignored = write(STDOUT_FILENO, buf, len);
  (void)ignored;
  _exit(0);
}

long rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) {
    return 0;
  }
  long size = 0;
  long resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * sysconf(_SC_PAGESIZE) : 0;
}

void touch_new(std::size_t bytes) {
  if (bytes == 0) {
    return;
  }
  void* block = std::malloc(bytes);
  if (block == nullptr) {
    return;  // refused for now; the next step asks again for the whole shortfall
  }
  // Touch every page through a volatile pointer, so the memory is resident and counted in
  // RSS: the compiler may drop a plain memset of a block that is never read (and the malloc
  // with it).
  volatile char* bytes_of = static_cast<volatile char*>(block);
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (std::size_t at = 0; at < bytes; at += page) {
    bytes_of[at] = 1;
  }
}

bool parse_mib(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && out >= 0;
}

int usage() {
  std::fputs(
      "usage: leak_memory --rate MIB_PER_S [--max MIB] [--start MIB] "
      "[--report-over MIB]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double rate = -1;
  double max_mib = -1;  // below 0: no limit
  double start_mib = 0;
  double over_mib = -1;  // below 0: no report
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) {
      return usage();
    }
    double* target = std::strcmp(argv[i], "--rate") == 0          ? &rate
                     : std::strcmp(argv[i], "--max") == 0         ? &max_mib
                     : std::strcmp(argv[i], "--start") == 0       ? &start_mib
                     : std::strcmp(argv[i], "--report-over") == 0 ? &over_mib
                                                                  : nullptr;
    if (target == nullptr || !parse_mib(argv[++i], *target)) {
      return usage();
    }
  }
  if (rate < 0) {
    return usage();
  }
  const bool report = over_mib >= 0;
  if (report) {
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
  }
  const bool has_cap = max_mib >= 0;
  const auto cap = static_cast<std::size_t>(max_mib * kMiB);
  auto capped = [has_cap, cap](double bytes) {
    const auto whole = static_cast<std::size_t>(bytes);
    return has_cap && whole > cap ? cap : whole;
  };

  std::size_t held = capped(start_mib * kMiB);
  touch_new(held);
  std::fputs("ready\n", stdout);
  std::fflush(stdout);

  bool reported = false;
  auto check_over = [&] {
    if (report && !reported && rss_bytes() >= over_mib * kMiB) {
      reported = true;
      // SIGTERM waits until the line is out: its handler ends the process without
      // flushing stdio.
      sigset_t term;
      sigemptyset(&term);
      sigaddset(&term, SIGTERM);
      sigprocmask(SIG_BLOCK, &term, nullptr);
      std::printf("over %lld\n", static_cast<long long>(monotonic_ns()));
      std::fflush(stdout);
      sigprocmask(SIG_UNBLOCK, &term, nullptr);
    }
  };
  check_over();

  // Steps on an absolute schedule, so the rate does not drift with the time spent touching.
  const std::int64_t t0 = monotonic_ns();
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!has_cap || held < cap) {
    next.tv_nsec += kStepNs;
    if (next.tv_nsec >= 1'000'000'000) {
      next.tv_nsec -= 1'000'000'000;
      ++next.tv_sec;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) != 0) {
    }
    const double elapsed_s = static_cast<double>(monotonic_ns() - t0) / 1e9;
    const std::size_t target = capped(start_mib * kMiB + rate * kMiB * elapsed_s);
    if (target > held) {
      touch_new(target - held);
      held = target;
    }
    check_over();
  }
  while (true) {
    pause();
    check_over();
  }
}
