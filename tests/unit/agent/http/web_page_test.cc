// The HTML of the status and tail pages (agent/http/web_page.h): rows, actions as forms,
// escaping, no external assets.
#include <gtest/gtest.h>

#include <string>

#include "agent/http/web_page.h"

namespace zagent::http {
namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

PageRow row(const std::string& name, const std::string& group, int state,
            const std::string& statename) {
  PageRow r;
  r.name = name;
  r.group = group;
  r.state = state;
  r.statename = statename;
  return r;
}

TEST(WebPageTest, Escapes) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(url_encode("g:web 1/&"), "g%3Aweb%201%2F%26");
  EXPECT_EQ(byte_text(512), "512 B");
  EXPECT_EQ(byte_text(1536), "1.5 KiB");
  EXPECT_EQ(byte_text(2LL * 1024 * 1024 * 1024), "2.0 GiB");
}

TEST(WebPageTest, NamespecAsSupervisord) {
  EXPECT_EQ(row("web", "web", 20, "RUNNING").namespec(), "web");
  EXPECT_EQ(row("api", "g", 20, "RUNNING").namespec(), "g:api");
}

TEST(WebPageTest, RunningRowHasRestartAndStopForms) {
  StatusPage page;
  PageRow r = row("api", "g", 20, "RUNNING");
  r.description = "pid 42, uptime 0:00:05";
  r.cpu_percent = 12.5;
  r.rss_bytes = 41943040;
  r.gpu_bytes = 1073741824;
  r.health = "passing";
  page.rows.push_back(r);
  const std::string html = render_status_page(page);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(contains(html, "<tr data-process=\"g:api\" data-state=\"RUNNING\">"));
  EXPECT_TRUE(contains(html, "<td class=\"state statusrunning\">running</td>"));
  EXPECT_TRUE(contains(html, "pid 42, uptime 0:00:05"));
  EXPECT_TRUE(contains(html, "<a href=\"tail.html?processname=g%3Aapi\">g:api</a>"));
  EXPECT_TRUE(contains(html, "<form method=\"post\" action=\"index.html\">"
                             "<input type=\"hidden\" name=\"processname\" value=\"g:api\">"));
  EXPECT_TRUE(contains(html, "name=\"action\" value=\"restart\""));
  EXPECT_TRUE(contains(html, "name=\"action\" value=\"stop\""));
  EXPECT_FALSE(contains(html, "value=\"start\""));
  EXPECT_TRUE(contains(html, "value=\"clearlog\""));
  EXPECT_TRUE(contains(html, "<a href=\"logtail/g%3Aapi\""));
  EXPECT_TRUE(contains(html, "<a href=\"logtail/g%3Aapi/stderr\""));
  EXPECT_TRUE(contains(html, "12.5%"));
  EXPECT_TRUE(contains(html, "40.0 MiB"));
  EXPECT_TRUE(contains(html, "1.0 GiB"));
  EXPECT_TRUE(contains(html, "health-passing\">passing"));
  // The whole-page actions.
  EXPECT_TRUE(contains(html, "value=\"refresh\""));
  EXPECT_TRUE(contains(html, "value=\"restartall\""));
  EXPECT_TRUE(contains(html, "value=\"stopall\""));
}

TEST(WebPageTest, StoppedRowHasStartOnly) {
  StatusPage page;
  page.rows.push_back(row("web", "web", 0, "STOPPED"));
  page.rows.push_back(row("s", "s", 10, "STARTING"));
  const std::string html = render_status_page(page);
  EXPECT_TRUE(contains(html, "<td class=\"state statusnominal\">stopped</td>"));
  const std::size_t web = html.find("data-process=\"web\"");
  const std::size_t s = html.find("data-process=\"s\"");
  ASSERT_NE(web, std::string::npos);
  ASSERT_NE(s, std::string::npos);
  const std::string web_row = html.substr(web, s - web);
  EXPECT_TRUE(contains(web_row, "value=\"start\""));
  EXPECT_FALSE(contains(web_row, "value=\"stop\""));
  const std::string s_row = html.substr(s);
  EXPECT_FALSE(contains(s_row.substr(0, s_row.find("</tr>")), "value=\"start\""));
  EXPECT_TRUE(contains(html, "<td class=\"num\">-</td>"));
}

TEST(WebPageTest, FatalRowShowsErrorAndLastCrash) {
  StatusPage page;
  PageRow r = row("web", "web", 200, "FATAL");
  r.description = "Exited too quickly";
  r.health = "failing";
  r.health_error = "HTTP 503";
  CrashSummary c;
  c.cause = "oom_killed";
  c.confidence = "certain";
  c.description = "terminated by SIGKILL";
  c.ended = "2026-12-02 04:12:44 UTC";
  c.evidence = {"kmsg: Killed process 4242 (web)"};
  c.last_output = {"<boom>"};
  c.snapshot = "/tmp/crashes/web.json";
  r.last_crash = c;
  page.rows.push_back(r);
  const std::string html = render_status_page(page);
  EXPECT_TRUE(contains(html, "<td class=\"state statuserror\">fatal</td>"));
  EXPECT_TRUE(contains(html, "<summary>oom_killed at 2026-12-02 04:12:44 UTC</summary>"));
  EXPECT_TRUE(contains(html, "terminated by SIGKILL (certain)"));
  EXPECT_TRUE(contains(html, "<li>kmsg: Killed process 4242 (web)</li>"));
  EXPECT_TRUE(contains(html, "&lt;boom&gt;"));
  EXPECT_TRUE(contains(html, "snapshot: /tmp/crashes/web.json"));
  EXPECT_TRUE(contains(html, "health-failing\">failing: HTTP 503"));
}

TEST(WebPageTest, EveryNameAndDescriptionIsEscaped) {
  StatusPage page;
  page.identification = "<id>";
  page.message = "Process <x> stopped";
  PageRow r = row("<x>", "<x>", 0, "STOPPED");
  r.description = "<script>alert(1)</script>";
  page.rows.push_back(r);
  const std::string html = render_status_page(page);
  EXPECT_FALSE(contains(html, "<x>"));
  EXPECT_FALSE(contains(html, "<script>"));
  EXPECT_FALSE(contains(html, "<id>"));
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(contains(html, "<div class=\"status_msg\" id=\"message\">Process &lt;x&gt; stopped"));
  EXPECT_TRUE(contains(html, "value=\"&lt;x&gt;\""));
}

TEST(WebPageTest, NoExternalAssetsAndNoScript) {
  StatusPage page;
  page.rows.push_back(row("web", "web", 20, "RUNNING"));
  const std::string html = render_status_page(page);
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "<link"));
  EXPECT_FALSE(contains(html, "http://"));
  EXPECT_FALSE(contains(html, "https://"));
  EXPECT_FALSE(contains(html, "src="));
  EXPECT_TRUE(contains(html, "<style>"));
}

TEST(WebPageTest, EmptyTableSaysSo) {
  EXPECT_TRUE(contains(render_status_page({}), "No programs to manage"));
}

TEST(WebPageTest, TailPage) {
  TailPage t;
  t.namespec = "g:web";
  t.text = "line <1>\n";
  t.limit = 2048;
  const std::string html = render_tail_page(t);
  EXPECT_TRUE(contains(html, "<h1>Tail of process g:web</h1>"));
  EXPECT_TRUE(contains(html, "<pre id=\"tail\">line &lt;1&gt;\n</pre>"));
  EXPECT_TRUE(contains(html, "href=\"tail.html?processname=g%3Aweb&amp;limit=2048\""));
  TailPage none;
  none.text = "No process name found";
  EXPECT_FALSE(contains(render_tail_page(none), "limit="));
}

}  // namespace
}  // namespace zagent::http
