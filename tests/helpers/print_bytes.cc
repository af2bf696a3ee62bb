// print_bytes [--stderr] HEX [--then-sleep]: writes the bytes spelled in HEX (two hex digits
// a byte, e.g. 6869ff0a) to stdout (or stderr) in one write(); then exits 0, or with
// --then-sleep sleeps until a signal ends it.
#include <unistd.h>

#include <cstring>
#include <string>

int main(int argc, char** argv) {
  int fd = 1;
  bool then_sleep = false;
  std::string bytes;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stderr") == 0) {
      fd = 2;
    } else if (std::strcmp(argv[i], "--then-sleep") == 0) {
      then_sleep = true;
    } else {
      const std::string hex = argv[i];
      for (std::size_t k = 0; k + 1 < hex.size(); k += 2) {
        bytes.push_back(static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16)));
      }
    }
  }
  if (!bytes.empty() &&
      write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    return 1;
  }
  while (then_sleep) {
    pause();
  }
  return 0;
}
