// SHA-1 of a password (`{SHA}` passwords of [unix_http_server]) through OpenSSL's EVP, with
// libcrypto loaded at the first use (dlopen), not at start: an agent whose config has no
// `{SHA}` password never maps it (over 1 MB of memory). An adapter; loop thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zagent {

/// The lower-case hex SHA-1 of `data`; nullopt when libcrypto cannot be loaded or the
/// digest fails (then no `{SHA}` password matches).
std::optional<std::string> sha1_hex(std::string_view data);

}  // namespace zagent
