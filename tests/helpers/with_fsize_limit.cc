// with_fsize_limit BYTES PROGRAM [ARGS...]: sets RLIMIT_FSIZE (soft and hard) to BYTES, then
// execs PROGRAM (a path) with ARGS, as `ulimit -f` would, without a shell. Signal dispositions
// are left as they are (SIGXFSZ keeps its default).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: with_fsize_limit BYTES PROGRAM [ARGS...]\n", stderr);
    return 2;
  }
  const rlim_t bytes = std::strtoull(argv[1], nullptr, 10);
  const rlimit limit{bytes, bytes};
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
    std::perror("setrlimit");
    return 1;
  }
  execv(argv[2], argv + 2);
  std::perror("execv");
  return 127;
}
