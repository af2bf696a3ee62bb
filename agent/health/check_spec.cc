#include "agent/health/check_spec.h"

#include <charconv>

#include "common/pystr.h"

namespace zagent {
namespace {

// HOST:PORT or [V6]:PORT; `port_required` for tcp://. The host must not be empty.
Result<void> split_authority(std::string_view authority, bool port_required,
                             HealthCheckSpec& spec) {
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail("missing ']' after the IPv6 address");
    }
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        return fail("expected ':PORT' after the IPv6 address");
      }
      port = rest.substr(1);
      if (port.empty()) {
        return fail("missing port");
      }
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) {
      return fail("missing port");
    }
  }
  if (host.empty()) {
    return fail("missing host");
  }
  spec.host = std::string(host);
  if (port.empty()) {
    if (port_required) {
      return fail("missing port (tcp://HOST:PORT)");
    }
    spec.port = 80;
    return {};
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return fail("invalid port '" + std::string(port) + "'");
  }
  spec.port = static_cast<std::uint16_t>(value);
  return {};
}

}  // namespace

std::string_view check_kind_name(CheckKind kind) {
  switch (kind) {
    case CheckKind::Http:
      return "http";
    case CheckKind::Tcp:
      return "tcp";
    case CheckKind::Command:
      return "cmd";
  }
  return "http";
}

Result<HealthCheckSpec> parse_healthcheck(std::string_view text) {
  const std::string_view value = py_strip(text);
  HealthCheckSpec spec;
  spec.text = std::string(value);
  const std::string lower = ascii_lower(value);
  if (lower.starts_with("cmd:")) {
    spec.kind = CheckKind::Command;
    spec.command = std::string(py_strip(value.substr(4)));
    if (spec.command.empty()) {
      return fail("missing command after 'cmd:'");
    }
    return spec;
  }
  const auto scheme_end = lower.find("://");
  if (scheme_end == std::string::npos) {
    return fail("use http://HOST[:PORT][/PATH], tcp://HOST:PORT or cmd:COMMAND");
  }
  const std::string scheme = lower.substr(0, scheme_end);
  if (scheme != "http" && scheme != "tcp") {
    return fail("unsupported scheme '" + scheme +
                "' (use http://, tcp:// or cmd:; an https service can be checked with tcp:// or "
                "a cmd: check)");
  }
  std::string_view rest = value.substr(scheme_end + 3);
  std::string_view authority = rest;
  std::string_view target;
  if (const auto slash = rest.find_first_of("/?"); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    target = rest.substr(slash);
  }
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials in the URL are not supported");
  }
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);  // a fragment is never sent
  }
  if (scheme == "tcp") {
    spec.kind = CheckKind::Tcp;
    if (!target.empty() && target != "/") {
      return fail("a tcp:// check takes no path");
    }
    if (auto split = split_authority(authority, true, spec); !split) {
      return split.error();
    }
    spec.target.clear();
    return spec;
  }
  spec.kind = CheckKind::Http;
  if (auto split = split_authority(authority, false, spec); !split) {
    return split.error();
  }
  for (const char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("the path contains a space or a control character");
    }
  }
  if (target.empty()) {
    spec.target = "/";
  } else if (target.starts_with('?')) {
    spec.target = "/" + std::string(target);
  } else {
    spec.target = std::string(target);
  }
  return spec;
}

}  // namespace zagent
