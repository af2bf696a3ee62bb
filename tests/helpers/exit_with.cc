// exit_with N [MS] [--signal SIG] [--core]: sleeps MS milliseconds (default 0), then exits with
// code N, or with --signal kills itself with SIG (a number or a name such as TERM or SIGKILL);
// --core raises RLIMIT_CORE to its hard limit first, so a SIGSEGV leaves a core.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

int signal_number(std::string name) {
  if (name.rfind("SIG", 0) == 0) {
    name = name.substr(3);
  }
  const struct {
    const char* name;
    int number;
  } kNames[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                {"ABRT", SIGABRT}, {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
                {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
  for (const auto& entry : kNames) {
    if (name == entry.name) {
      return entry.number;
    }
  }
  return std::atoi(name.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  long sleep_ms = 0;
  int signo = 0;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--core") == 0) {
      struct rlimit limit {};
      getrlimit(RLIMIT_CORE, &limit);
      limit.rlim_cur = limit.rlim_max;
      setrlimit(RLIMIT_CORE, &limit);
    } else if (std::strcmp(argv[i], "--signal") == 0 && i + 1 < argc) {
      signo = signal_number(argv[++i]);
    } else if (positional++ == 0) {
      code = std::atoi(argv[i]);
    } else {
      sleep_ms = std::atol(argv[i]);
    }
  }
  if (sleep_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }
  if (signo > 0) {
    signal(signo, SIG_DFL);
    kill(getpid(), signo);
  }
  return code;
}
