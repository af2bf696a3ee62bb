// spin_cpu [--threads N]: prints "ready", then keeps N cores busy (default 1), one thread
// each in a loop that makes no system calls, until a signal ends it (SIGTERM by its default
// action). Exit status 2 on a usage error.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

void spin() {
  // A relaxed atomic the compiler may not drop: a busy loop and nothing else.
  std::atomic<unsigned long> counter{0};
  while (true) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long threads = 1;
  if (argc == 3 && std::strcmp(argv[1], "--threads") == 0) {
    threads = std::atol(argv[2]);
  } else if (argc != 1) {
    threads = 0;
  }
  if (threads < 1) {
    std::fputs("usage: spin_cpu [--threads N]\n", stderr);
    return 2;
  }
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  std::vector<std::thread> spinners;
  for (long i = 0; i < threads; ++i) {
    spinners.emplace_back(spin);
  }
  for (auto& t : spinners) {
    t.join();  // never returns: the spinners run until the process is killed
  }
}
