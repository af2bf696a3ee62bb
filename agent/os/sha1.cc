#include "agent/os/sha1.h"

#include <dlfcn.h>
#include <openssl/evp.h>

#include <array>

#include <fmt/format.h>

namespace zagent {

namespace {

// The two EVP calls, resolved from libcrypto once; null when it is not there.
struct Evp {
  decltype(&EVP_Digest) digest = nullptr;
  decltype(&EVP_sha1) sha1 = nullptr;
};

const Evp& evp() {
  static const Evp loaded = [] {
    Evp e;
    // The soname of OpenSSL 3 (Debian 12's libssl3), which the headers above describe.
    void* lib = ::dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      return e;
    }
    e.digest = reinterpret_cast<decltype(&EVP_Digest)>(::dlsym(lib, "EVP_Digest"));
    e.sha1 = reinterpret_cast<decltype(&EVP_sha1)>(::dlsym(lib, "EVP_sha1"));
    return e;
  }();
  return loaded;
}

}  // namespace

std::optional<std::string> sha1_hex(std::string_view data) {
  const Evp& e = evp();
  if (e.digest == nullptr || e.sha1 == nullptr) {
    return std::nullopt;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (e.digest(data.data(), data.size(), digest.data(), &length, e.sha1(), nullptr) != 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

}  // namespace zagent
