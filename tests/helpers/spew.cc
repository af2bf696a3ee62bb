// spew BYTES [--stderr]: writes BYTES bytes of lines "line 000001 xxx...\n" to stdout (or
// stderr) as fast as it can, then exits 0. The last line is cut to fit BYTES exactly.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  long long remaining = argc > 1 ? std::atoll(argv[1]) : 0;
  const int fd = argc > 2 && std::strcmp(argv[2], "--stderr") == 0 ? 2 : 1;
  std::string chunk;
  for (long long n = 1; remaining > 0; ++n) {
    char line[80];
    std::snprintf(line, sizeof line, "line %06lld %s\n", n % 1000000,
                  "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
    chunk.append(line, static_cast<size_t>(std::min<long long>(remaining, std::strlen(line))));
    remaining -= static_cast<long long>(std::strlen(line));
    if (chunk.size() >= 65536 || remaining <= 0) {
      for (size_t off = 0; off < chunk.size();) {
        const ssize_t w = write(fd, chunk.data() + off, chunk.size() - off);
        if (w <= 0) {
          return 1;
        }
        off += static_cast<size_t>(w);
      }
      chunk.clear();
    }
  }
  return 0;
}
