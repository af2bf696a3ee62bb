// memory_hog [MAX_MIB]: prints "ready", then allocates and touches memory in 4 MiB chunks
// until it is killed (a memory cgroup's limit: the OOM killer). With MAX_MIB it stops
// growing at that size and waits for a signal instead.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const long max_mib = argc > 1 ? std::atol(argv[1]) : 0;
  constexpr std::size_t kChunk = 4 << 20;
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  long held_mib = 0;
  while (max_mib <= 0 || held_mib < max_mib) {
    void* chunk = std::malloc(kChunk);
    if (chunk == nullptr) {
      usleep(1000);  // overcommit refused for now: the OOM killer is still to come
      continue;
    }
    // Touch every page, so the memory is really charged; the chunk is never freed.
    std::memset(chunk, 1, kChunk);
    held_mib += 4;
  }
  while (true) {
    pause();
  }
}
