// random_bytes SEED BYTES [--stderr] [--then-sleep]: writes the BYTES pseudo-random bytes of
// test_output.h's random_stream(SEED) (binary: NUL, invalid UTF-8, few newlines) to stdout
// (or stderr) in write() calls of random sizes (1 byte .. 64 KiB), as fast as it can; then
// exits 0, or with --then-sleep sleeps until a signal ends it.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "test_output.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    return 2;
  }
  const std::uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  const std::size_t bytes = std::strtoull(argv[2], nullptr, 10);
  int fd = 1;
  bool then_sleep = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stderr") == 0) {
      fd = 2;
    } else if (std::strcmp(argv[i], "--then-sleep") == 0) {
      then_sleep = true;
    }
  }
  const std::string data = zagent::test_output::random_stream(seed, bytes);
  // The write sizes come from their own generator: the bytes do not depend on them.
  zagent::test_output::Prng sizes(seed ^ 0x5eedULL);
  static constexpr std::size_t kScales[] = {16, 4096, 65536};
  for (std::size_t off = 0; off < data.size();) {
    const std::uint64_t r = sizes.next();
    const std::size_t want = 1 + (r >> 8) % kScales[r % 3];
    const std::size_t n = want < data.size() - off ? want : data.size() - off;
    const ssize_t w = write(fd, data.data() + off, n);
    if (w <= 0) {
      return 1;
    }
    off += static_cast<std::size_t>(w);
  }
  while (then_sleep) {
    pause();
  }
  return 0;
}
