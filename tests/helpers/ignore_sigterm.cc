// ignore_sigterm: ignores SIGTERM, prints "ready", then sleeps until killed (e.g. SIGKILL).
#include <signal.h>
#include <unistd.h>

#include <cstdio>

int main() {
  signal(SIGTERM, SIG_IGN);
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  while (true) {
    pause();
  }
}
