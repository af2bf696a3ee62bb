// spawn_grandchildren N [--setsid]: forks N children that sleep until a signal (with
// --setsid each first leaves the process group with setsid()), prints their pids one a
// line, then sleeps until a signal ends it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1;
  const bool new_session = argc > 2 && std::strcmp(argv[2], "--setsid") == 0;
  for (int i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      if (new_session) {
        setsid();
      }
      while (true) {
        pause();
      }
    }
    std::printf("%d\n", static_cast<int>(pid));
  }
  std::fflush(stdout);
  while (true) {
    pause();
  }
}
