// join_cgroup <cgroup.procs path> <program> [args...]: writes its own pid to the file (joins
// that cgroup), then execs the program (searched in PATH) with the same pid. Exits 127 with a
// message on stderr when either fails.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: join_cgroup <cgroup.procs path> <program> [args...]\n");
    return 127;
  }
  const std::string pid = std::to_string(getpid());
  const int fd = open(argv[1], O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    std::fprintf(stderr, "join_cgroup: %s: %s\n", argv[1], std::strerror(errno));
    return 127;
  }
  close(fd);
  execvp(argv[2], argv + 2);
  std::fprintf(stderr, "join_cgroup: exec %s: %s\n", argv[2], std::strerror(errno));
  return 127;
}
