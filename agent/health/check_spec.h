// What `healthcheck=` says: an HTTP GET, a TCP connect or a command, parsed once when the
// config is loaded. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zagent {

enum class CheckKind {
  Http,     ///< `http://HOST[:PORT][/PATH]`: a GET; a status 200-399 passes
  Tcp,      ///< `tcp://HOST:PORT`: a connect passes
  Command,  ///< `cmd:COMMAND`: exit status 0 passes
};

struct HealthCheckSpec {
  CheckKind kind = CheckKind::Http;
  std::string host;          ///< http, tcp: a name or address, without IPv6 brackets
  std::uint16_t port = 0;    ///< http (default 80), tcp
  std::string target = "/";  ///< http: the path and query sent in the request line
  std::string command;       ///< cmd: the command line, split as a program's `command`
  std::string text;          ///< the value as written (after %(...)s expansion)
  friend bool operator==(const HealthCheckSpec&, const HealthCheckSpec&) = default;
};

/// Parses a healthcheck value. Errors name what is wrong (`unsupported scheme 'https'`,
/// `missing port`, ...); the config loader adds the key and the place.
Result<HealthCheckSpec> parse_healthcheck(std::string_view text);

/// "http", "tcp", "cmd".
std::string_view check_kind_name(CheckKind kind);

}  // namespace zagent
