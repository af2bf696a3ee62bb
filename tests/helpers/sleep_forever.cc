// sleep_forever: prints "ready", then sleeps until a signal ends it.
#include <unistd.h>

#include <cstdio>

int main() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  while (true) {
    pause();
  }
}
