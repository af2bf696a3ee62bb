// The HTTP front's transport rules (agent/http/http_rules.h): the demux byte, Basic auth,
// routing, the /logtail target, medusa's pages and dates, chunks and the bounded stream queue.
#include "agent/http/http_rules.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace zagent::http {
namespace {

TEST(HttpRules, FirstByteTellsTheProtocol) {
  EXPECT_EQ(protocol_of_first_byte('{'), Protocol::JsonRpc);
  EXPECT_EQ(protocol_of_first_byte('['), Protocol::JsonRpc);
  EXPECT_EQ(protocol_of_first_byte('\n'), Protocol::JsonRpc);
  EXPECT_EQ(protocol_of_first_byte(' '), Protocol::JsonRpc);
  EXPECT_EQ(protocol_of_first_byte(0xff), Protocol::JsonRpc);
  EXPECT_EQ(protocol_of_first_byte('G'), Protocol::Http);
  EXPECT_EQ(protocol_of_first_byte('P'), Protocol::Http);
  EXPECT_EQ(protocol_of_first_byte('h'), Protocol::Http);
}

TEST(HttpRules, Base64) {
  EXPECT_EQ(decode_base64("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(decode_base64("dXNlcjpwYXNzMQ=="), "user:pass1");
  EXPECT_EQ(decode_base64("dXNlcjpwYXNzMTI="), "user:pass12");
  EXPECT_EQ(decode_base64("dXNl\ncjpw YXNz"), "user:pass");  // whitespace is skipped
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("dXNlcjpwYXNzMQ"), std::nullopt);  // padding missing
  EXPECT_EQ(decode_base64("dXN!"), std::nullopt);
  EXPECT_EQ(decode_base64("dXNlcjpwYXNzMQ==dA=="), std::nullopt);  // data after the padding
  EXPECT_EQ(decode_base64("d"), std::nullopt);
}

AccessPolicy login(const std::string& password) {
  AccessPolicy p;
  p.username = "user";
  p.password = password;
  p.sha1_hex = [](std::string_view s) -> std::optional<std::string> {
    // The one digest these tests need: sha1("test").
    if (s == "test") {
      return "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
    }
    return std::string(40, '0');
  };
  return p;
}

TEST(HttpRules, BasicAuthAsMedusa) {
  const AccessPolicy plain = login("pass");
  EXPECT_EQ(check_basic_auth(plain, "Basic dXNlcjpwYXNz"), AuthCheck::Ok);
  EXPECT_EQ(check_basic_auth(plain, "basic dXNlcjpwYXNz"), AuthCheck::Ok);  // scheme any case
  EXPECT_EQ(check_basic_auth(plain, ""), AuthCheck::Unauthorized);
  EXPECT_EQ(check_basic_auth(plain, "Basic"), AuthCheck::Unauthorized);
  EXPECT_EQ(check_basic_auth(plain, "Digest dXNlcjpwYXNz"), AuthCheck::Unauthorized);
  EXPECT_EQ(check_basic_auth(plain, "Basic dXNlcjpwYXNzMQ=="), AuthCheck::Unauthorized);
  EXPECT_EQ(check_basic_auth(plain, "Basic dXNlcg=="), AuthCheck::Unauthorized);  // no colon
  EXPECT_EQ(check_basic_auth(plain, "Basic !!!"), AuthCheck::BadRequest);
  // {SHA}: the hex SHA-1 of the password (user:test).
  const AccessPolicy sha = login("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
  EXPECT_EQ(check_basic_auth(sha, "Basic dXNlcjp0ZXN0"), AuthCheck::Ok);
  EXPECT_EQ(check_basic_auth(sha, "Basic dXNlcjpwYXNz"), AuthCheck::Unauthorized);
}

TEST(HttpRules, RoutesAsSupervisordsHandlers) {
  const auto route = [](std::string_view m, std::string_view t, bool page = false) {
    const Routing r = route_request(m, t, page);
    return std::make_pair(r.route, r.status);
  };
  EXPECT_EQ(route("POST", "/RPC2"), std::make_pair(Route::XmlRpc, 0u));
  EXPECT_EQ(route("POST", "/RPC2/x?y"), std::make_pair(Route::XmlRpc, 0u));
  EXPECT_EQ(route("GET", "/RPC2"), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("GET", "/logtail/web"), std::make_pair(Route::LogTail, 0u));
  EXPECT_EQ(route("HEAD", "/logtail/web"), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("POST", "/logtail/web"), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("GET", "/mainlogtail"), std::make_pair(Route::MainLogTail, 0u));
  EXPECT_EQ(route("PUT", "/mainlogtail"), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("GET", "/", true), std::make_pair(Route::Page, 0u));
  EXPECT_EQ(route("POST", "/", true), std::make_pair(Route::Page, 0u));
  EXPECT_EQ(route("PUT", "/", true), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("GET", "/nosuch"), std::make_pair(Route::Error, 404u));
  EXPECT_EQ(route("HEAD", "/nosuch"), std::make_pair(Route::Error, 404u));
  EXPECT_EQ(route("POST", "/nosuch"), std::make_pair(Route::Error, 400u));
  EXPECT_EQ(route("DELETE", "/nosuch"), std::make_pair(Route::Error, 400u));
}

TEST(HttpRules, TargetPathAndDecoding) {
  EXPECT_EQ(target_path("/tail.html?processname=web"), "/tail.html");
  EXPECT_EQ(target_path("/a;p?q#f"), "/a");
  EXPECT_EQ(target_path("/a#f"), "/a");
  EXPECT_EQ(percent_decode("grp%3Aweb"), "grp:web");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

TEST(HttpRules, LogTailTargetAsSupervisord) {
  const auto parse = [](std::string_view t) -> std::optional<std::pair<std::string, std::string>> {
    auto r = parse_logtail_target(t);
    if (!r) {
      return std::nullopt;
    }
    return std::make_pair(r->name, r->channel);
  };
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(parse("/logtail/web"), P("web", "stdout"));
  EXPECT_EQ(parse("/logtail/web/stderr"), P("web", "stderr"));
  EXPECT_EQ(parse("/logtail/grp%3Aweb/stdout"), P("grp:web", "stdout"));
  EXPECT_EQ(parse("//logtail/web?x=1"), P("web", "stdout"));
  EXPECT_EQ(parse("/logtail/web/stdout/more"), P("web", "stdout/more"));
  EXPECT_EQ(parse("/logtail/"), P("", "stdout"));
  EXPECT_EQ(parse("/logtail"), std::nullopt);
}

TEST(HttpRules, MedusasErrorPageAndDate) {
  EXPECT_EQ(error_page(404),
            "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n"
            "<h1>Error response</h1>\r\n<p>Error code 404.\r\n<p>Message: Not Found.\r\n"
            "</body>\r\n");
  EXPECT_EQ(error_page(404).size(), 134u);  // what supervisord sends as its Content-Length
  EXPECT_EQ(reason_phrase(408), "Request Time-out");
  EXPECT_EQ(reason_phrase(413), "Request Entity Too Large");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(1796298353), "Thu, 03 Dec 2026 11:45:53 GMT");
}

TEST(HttpRules, Chunks) {
  EXPECT_EQ(chunk("hello\n"), "6\r\nhello\n\r\n");
  EXPECT_EQ(chunk(std::string(1014, 'x')).substr(0, 5), "3f6\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

TEST(HttpRules, StreamQueueKeepsWhatFitsInOrder) {
  StreamQueue q(64);
  EXPECT_TRUE(q.empty());
  q.append("abc");
  q.append("def");
  EXPECT_EQ(q.size(), 6u);
  EXPECT_EQ(q.take(), "abcdef");
  EXPECT_TRUE(q.empty());
  q.truncated();
  EXPECT_EQ(q.take(), std::string(kTruncatedNotice));
  EXPECT_EQ(q.skipped(), 0u);
}

TEST(HttpRules, StreamQueueSkipsAheadPastItsCap) {
  StreamQueue q(10);
  q.append("0123456");
  q.append("abcdef");  // 13 > 10: what waited goes
  EXPECT_EQ(q.size(), 6u);
  EXPECT_EQ(q.skipped(), 7u);
  EXPECT_EQ(q.take(), skip_notice(7) + "abcdef");
  q.append(std::string(25, 'x') + "0123456789");  // one piece over the cap: its end stays
  EXPECT_EQ(q.skipped(), 32u);
  EXPECT_EQ(q.take(), skip_notice(25) + "0123456789");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(skip_notice(7), "\n==> 7 bytes skipped: this reader fell behind <==\n");
}

}  // namespace
}  // namespace zagent::http
