// The exact output of the random_bytes and lines helpers, shared by the helpers (which write
// it) and the end-to-end tests (which regenerate it to compare logs byte for byte). Header
// only, std only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace zagent::test_output {

/// splitmix64: a tiny deterministic generator, the same on every platform.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

/// The `bytes` bytes `random_bytes SEED BYTES` writes: uniformly random, so they hold NUL,
/// '\n' about every 256 bytes and invalid UTF-8.
inline std::string random_stream(std::uint64_t seed, std::size_t bytes) {
  Prng prng(seed);
  std::string out;
  out.reserve(bytes);
  while (out.size() < bytes) {
    std::uint64_t word = prng.next();
    for (int i = 0; i < 8 && out.size() < bytes; ++i, word >>= 8) {
      out.push_back(static_cast<char>(word & 0xff));
    }
  }
  return out;
}

/// Line `n` (n >= 1) of the lines helper: `line NNNNNN ` and 0..149 letters, then '\n'
/// (13..163 bytes; the length varies from line to line).
inline std::string numbered_line(long long n) {
  char head[32];
  std::snprintf(head, sizeof head, "line %06lld ", n % 1000000);
  std::string line = head;
  const long long filler = (n * 37) % 150;
  for (long long i = 0; i < filler; ++i) {
    line.push_back(static_cast<char>('a' + (n + i) % 26));
  }
  line.push_back('\n');
  return line;
}

/// The stderr line the lines helper writes after line `n` with --stderr-too.
inline std::string numbered_err_line(long long n) {
  char line[32];
  std::snprintf(line, sizeof line, "err %06lld\n", n % 1000000);
  return line;
}

/// Lines first..last (inclusive) of the lines helper's stdout.
inline std::string numbered_lines(long long first, long long last) {
  std::string out;
  for (long long n = first; n <= last; ++n) {
    out += numbered_line(n);
  }
  return out;
}

}  // namespace zagent::test_output
