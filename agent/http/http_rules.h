// The transport rules of the HTTP front (docs/http.md) as plain functions: which protocol a
// new connection on the unix socket speaks, HTTP Basic auth against a listener's login, where
// a request goes, the /logtail target, medusa's error page, the chunk framing and the bounded
// queue of one log stream. Pure: the Beast session (agent/http/http_session.cc) applies them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/rpc/access.h"

namespace zagent::http {

/// The value of one hex digit (0-15), or -1 for any other character.
int hex_value(char c);

/// What a connection on the unix socket speaks, told by its first byte.
enum class Protocol { JsonRpc, Http };

/// An ASCII letter (every HTTP method is a token of letters) starts HTTP; anything else is
/// JSON-RPC (`{`, `[`, and whatever else the JSON side answers with its own errors).
Protocol protocol_of_first_byte(unsigned char byte);

/// The answer to a request's `Authorization` header under a listener that has a login.
enum class AuthCheck {
  Ok,            ///< Basic credentials that match
  Unauthorized,  ///< none, another scheme, or the wrong ones: 401
  BadRequest,    ///< Basic with a cookie that is not base64: 400 (medusa's auth_handler)
};

/// supervisord compat: medusa's auth_handler with supervisord's encrypted authorizer, through
/// access.h's login_matches (plain or `{SHA}` passwords). `header` is the Authorization value
/// ("" when absent). Meant for a policy with a login (login_required).
AuthCheck check_basic_auth(const AccessPolicy& policy, std::string_view header);

/// Standard base64 (RFC 4648, padding required as Python's binascii does; whitespace skipped);
/// nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);

/// Where a request goes. Matched on the raw target, as supervisord's handlers do
/// (`uri.startswith('/RPC2')`), in its order: XML-RPC, the log tails, the pages, the rest.
enum class Route {
  XmlRpc,       ///< POST /RPC2...
  LogTail,      ///< GET /logtail...
  MainLogTail,  ///< GET /mainlogtail...
  Page,         ///< http::is_page(path)
  Error,        ///< answered with `status` (medusa's error page)
};
struct Routing {
  Route route = Route::Error;
  unsigned status = 0;  ///< for Route::Error: 400 (a method the handler does not take), 404
};
/// `is_page` tells whether the path (the target without its query) is one of the pages.
Routing route_request(std::string_view method, std::string_view target, bool is_page);

/// The path of a request target: what comes before `;`, `?` or `#` (medusa's split_uri).
std::string_view target_path(std::string_view target);
/// `%XX` decoded (Python's unquote: a `%` not followed by two hex digits is kept as is).
std::string percent_decode(std::string_view text);

/// The process namespec and channel a /logtail target names.
struct LogTailTarget {
  std::string name;     ///< a namespec ("web", "grp:web"); may be empty (then 404)
  std::string channel;  ///< "stdout" unless the target names one (it may name anything)
};
/// supervisord compat: logtail_handler.handle_request: the path is percent-decoded, leading
/// slashes go, the first segment (`logtail`) is dropped, and the rest is NAME or NAME/CHANNEL.
/// nullopt when there is no second segment at all (supervisord fails there: 500).
std::optional<LogTailTarget> parse_logtail_target(std::string_view target);

/// medusa's reason phrase for `status` ("Not Found", "Request Time-out", ...).
std::string_view reason_phrase(unsigned status);
/// medusa's error page (its DEFAULT_ERROR_MESSAGE, CRLF line ends), sent as text/html.
std::string error_page(unsigned status);
/// An RFC 1123 date in GMT, as medusa's build_http_date: `Thu, 03 Dec 2026 11:45:53 GMT`.
std::string http_date(std::int64_t epoch_seconds);

/// One chunk of the chunked transfer coding (`%x CRLF data CRLF`); `data` must not be empty.
std::string chunk(std::string_view data);
/// The chunk that ends a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

/// What a log stream sends when its file was emptied (supervisord's tail_f_producer).
inline constexpr std::string_view kTruncatedNotice = "==> File truncated <==\n";

/// The data of one log stream that is waiting to be written. Bounded: when more than `cap`
/// bytes wait (the client reads slower than the program writes, or not at all), what waits is
/// dropped and the stream skips ahead to the newest data; the next take() begins with a line
/// saying how many bytes were skipped.
class StreamQueue {
 public:
  explicit StreamQueue(std::size_t cap) : cap_(cap) {}

  /// `data` was appended to the followed file.
  void append(std::string_view data);
  /// The followed file was emptied.
  void truncated() { append(kTruncatedNotice); }
  /// True when nothing waits (no data, no skip notice).
  bool empty() const { return pending_.empty() && unreported_skip_ == 0; }
  /// Everything waiting, the skip notice first; the queue is empty afterwards.
  std::string take();
  /// Bytes waiting now.
  std::size_t size() const { return pending_.size(); }
  /// Bytes skipped so far, over the stream's life.
  std::uint64_t skipped() const { return skipped_; }

 private:
  std::size_t cap_;                   // most bytes that may wait
  std::string pending_;               // the waiting data, oldest first
  std::uint64_t skipped_ = 0;         // dropped over the stream's life
  std::uint64_t unreported_skip_ = 0;  // dropped since the last take()
};

/// The line a stream sends in place of `bytes` it skipped.
std::string skip_notice(std::uint64_t bytes);

}  // namespace zagent::http
