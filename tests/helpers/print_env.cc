// print_env [--wait]: prints its environment (one KEY=value a line), then cwd=, umask=,
// uid=, gid=, fds= (every open descriptor, ascending) and exits 0; with --wait it then
// sleeps until a signal ends it.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

extern char** environ;

int main(int argc, char** argv) {
  for (char** e = environ; *e != nullptr; ++e) {
    std::printf("%s\n", *e);
  }
  char cwd[PATH_MAX];
  std::printf("cwd=%s\n", getcwd(cwd, sizeof cwd) != nullptr ? cwd : "?");
  const mode_t mask = umask(0);
  umask(mask);
  std::printf("umask=%04o\n", static_cast<unsigned>(mask));
  std::printf("uid=%u\ngid=%u\n", static_cast<unsigned>(getuid()), static_cast<unsigned>(getgid()));
  std::set<int> fds;
  if (DIR* dir = opendir("/proc/self/fd"); dir != nullptr) {
    const int own = dirfd(dir);
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.' && std::atoi(entry->d_name) != own) {
        fds.insert(std::atoi(entry->d_name));
      }
    }
    closedir(dir);
  }
  std::string list;
  for (const int fd : fds) {
    list += (list.empty() ? "" : ",") + std::to_string(fd);
  }
  std::printf("fds=%s\n", list.c_str());
  std::fflush(stdout);
  if (argc > 1 && std::strcmp(argv[1], "--wait") == 0) {
    while (true) {
      pause();
    }
  }
  return 0;
}
