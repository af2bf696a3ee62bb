#include "agent/http/http_rules.h"

#include <array>
#include <ctime>

#include <fmt/format.h>

#include "common/pystr.h"

namespace zagent::http {

namespace {

/// The value of one base64 digit, or -1.
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

Protocol protocol_of_first_byte(unsigned char byte) {
  const bool letter = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z');
  return letter ? Protocol::Http : Protocol::JsonRpc;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  std::uint32_t bits = 0;
  int nbits = 0;
  std::size_t digits = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    if (is_space(c)) {
      continue;
    }
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = base64_value(c);
    if (v < 0 || padding > 0) {
      return std::nullopt;  // not base64, or a digit after the padding
    }
    ++digits;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  // Whole quartets only: 2 or 3 digits in the last one need their `=`s.
  if (digits % 4 == 1 || (digits + padding) % 4 != 0 || padding > 2) {
    return std::nullopt;
  }
  return out;
}

AuthCheck check_basic_auth(const AccessPolicy& policy, std::string_view header) {
  // supervisord compat: medusa matches `Authorization: ([^ ]+) (.*)`: a scheme, one space, a
  // cookie. Without that shape the header counts as absent.
  const std::size_t space = header.find(' ');
  if (space == std::string_view::npos || space == 0) {
    return AuthCheck::Unauthorized;
  }
  if (ascii_lower(header.substr(0, space)) != "basic") {
    return AuthCheck::Unauthorized;
  }
  const std::optional<std::string> decoded = decode_base64(header.substr(space + 1));
  if (!decoded) {
    return AuthCheck::BadRequest;
  }
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return AuthCheck::Unauthorized;
  }
  return login_matches(policy, decoded->substr(0, colon), decoded->substr(colon + 1))
             ? AuthCheck::Ok
             : AuthCheck::Unauthorized;
}

Routing route_request(std::string_view method, std::string_view target, bool is_page) {
  const auto only = [&](std::string_view allowed, Route route) {
    return method == allowed ? Routing{route, 0} : Routing{Route::Error, 400};
  };
  // supervisord compat: make_http_servers installs the handlers so that they are consulted
  // in this order; each matches on the start of the raw URI.
  if (target.starts_with("/RPC2")) {
    return only("POST", Route::XmlRpc);
  }
  if (target.starts_with("/logtail")) {
    return only("GET", Route::LogTail);
  }
  if (target.starts_with("/mainlogtail")) {
    return only("GET", Route::MainLogTail);
  }
  if (is_page && (method == "GET" || method == "HEAD" || method == "POST")) {
    return {Route::Page, 0};
  }
  // The default handler: files for GET and HEAD (none here), 400 for other methods.
  return {Route::Error, (method == "GET" || method == "HEAD") ? 404u : 400u};
}

std::string_view target_path(std::string_view target) {
  return target.substr(0, std::min(target.size(), target.find_first_of(";?#")));
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

std::optional<LogTailTarget> parse_logtail_target(std::string_view target) {
  std::string path(target_path(target));
  if (path.find('%') != std::string::npos) {
    path = percent_decode(path);
  }
  std::string_view rest(path);
  while (rest.starts_with('/')) {
    rest.remove_prefix(1);
  }
  const std::size_t first = rest.find('/');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  rest.remove_prefix(first + 1);
  const std::size_t second = rest.find('/');
  if (second == std::string_view::npos) {
    return LogTailTarget{std::string(rest), "stdout"};
  }
  return LogTailTarget{std::string(rest.substr(0, second)), std::string(rest.substr(second + 1))};
}

std::string_view reason_phrase(unsigned status) {
  // supervisord compat: medusa's http_request.responses (older phrasings than RFC 9110's).
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Time-out";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";  // not in medusa's table
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version not supported";
    default:
      return "Unknown";
  }
}

std::string error_page(unsigned status) {
  return fmt::format(
      "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n"
      "<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
      status, reason_phrase(status));
}

std::string http_date(std::int64_t epoch_seconds) {
  // By hand rather than strftime: %a and %b follow the locale, the header must not.
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT",
                     kDays[static_cast<std::size_t>(tm.tm_wday) % 7], tm.tm_mday,
                     kMonths[static_cast<std::size_t>(tm.tm_mon) % 12], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string chunk(std::string_view data) {
  std::string out = fmt::format("{:x}\r\n", data.size());
  out.append(data);
  out.append("\r\n");
  return out;
}

std::string skip_notice(std::uint64_t bytes) {
  return fmt::format("\n==> {} bytes skipped: this reader fell behind <==\n", bytes);
}

void StreamQueue::append(std::string_view data) {
  if (pending_.size() + data.size() > cap_) {
    // Skip ahead: what waits is older than anything the reader could still catch up on.
    skipped_ += pending_.size();
    unreported_skip_ += pending_.size();
    pending_.clear();
    if (data.size() > cap_) {
      const std::size_t drop = data.size() - cap_;
      skipped_ += drop;
      unreported_skip_ += drop;
      data.remove_prefix(drop);
    }
  }
  pending_.append(data);
}

std::string StreamQueue::take() {
  std::string out;
  if (unreported_skip_ > 0) {
    out = skip_notice(unreported_skip_);
    unreported_skip_ = 0;
  }
  out.append(pending_);
  pending_.clear();
  return out;
}

}  // namespace zagent::http
