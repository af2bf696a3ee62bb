// The HTML of the status and tail pages (docs/http.md, "The web page"). Pure.
//
// Every action is a POST form (a button per action, the process name in a hidden field), so
// that link prefetchers and crawlers cannot stop a process; pages.cc also honours
// supervisord's GET links. The page has no script and no external asset: it works offline,
// in curl and in text browsers.
#include "agent/http/web_page.h"

#include <fmt/format.h>

#include <iterator>

namespace zagent::http {
namespace {

constexpr int kStopped = 0;
constexpr int kRunning = 20;
constexpr int kBackoff = 30;
constexpr int kExited = 100;
constexpr int kFatal = 200;

constexpr std::string_view kStyle = R"(
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .5em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eee}
tr:nth-child(even) td{background:#f6f6f6}
.statusrunning{color:#0a6b0a;font-weight:bold}
.statuserror{color:#b00000;font-weight:bold}
.statusnominal{color:#555}
.status_msg{border:1px solid #9c9;background:#efe;padding:.5em;margin:.5em 0}
.error_msg{border:1px solid #c99;background:#fee;padding:.5em;margin:.5em 0}
.num{text-align:right;white-space:nowrap}
.actions form{display:inline;margin:0}
.actions a{margin-left:.4em}
button{margin:0 .15em .15em 0}
pre{white-space:pre-wrap;word-break:break-all;background:#fff;border:1px solid #ccc;padding:.5em}
details pre{font-size:.85em}
.health-failing{color:#b00000}
.health-passing{color:#0a6b0a}
footer{margin-top:1em;color:#777;font-size:.85em}
)";

std::string_view state_class(int state) {
  // supervisord compat: StatusView.css_class_for_state.
  if (state == kRunning) {
    return "statusrunning";
  }
  if (state == kFatal || state == kBackoff) {
    return "statuserror";
  }
  return "statusnominal";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

void head(std::string& out, std::string_view title) {
  fmt::format_to(std::back_inserter(out),
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
                 html_escape(title), kStyle);
}

/// The action buttons of one row: those supervisord's page offers for the state
/// (StatusView.actions_for_process), then clear log and the two `tail -f` links.
void actions_cell(std::string& out, const PageRow& row) {
  const std::string ns = row.namespec();
  const std::string ns_html = html_escape(ns);
  out += "<td class=\"actions\"><form method=\"post\" action=\"index.html\">";
  fmt::format_to(std::back_inserter(out),
                 "<input type=\"hidden\" name=\"processname\" value=\"{}\">", ns_html);
  const auto button = [&](std::string_view action, std::string_view label) {
    fmt::format_to(std::back_inserter(out),
                   "<button type=\"submit\" name=\"action\" value=\"{}\" "
                   "title=\"{} {}\">{}</button>",
                   action, label, ns_html, label);
  };
  if (row.state == kRunning) {
    button("restart", "Restart");
    button("stop", "Stop");
  } else if (row.state == kStopped || row.state == kExited || row.state == kFatal) {
    button("start", "Start");
  }
  button("clearlog", "Clear Log");
  out += "</form>";
  const std::string ns_url = html_escape(url_encode(ns));
  fmt::format_to(std::back_inserter(out),
                 "<a href=\"logtail/{0}\" target=\"_blank\">Tail -f Stdout</a>"
                 "<a href=\"logtail/{0}/stderr\" target=\"_blank\">Tail -f Stderr</a></td>",
                 ns_url);
}

void optional_num(std::string& out, bool present, const std::string& text) {
  fmt::format_to(std::back_inserter(out), "<td class=\"num\">{}</td>", present ? text : "-");
}

void health_cell(std::string& out, const PageRow& row) {
  if (!row.health) {
    out += "<td class=\"health\">-</td>";
    return;
  }
  fmt::format_to(std::back_inserter(out), "<td class=\"health health-{0}\">{0}", html_escape(*row.health));
  if (!row.health_error.empty()) {
    fmt::format_to(std::back_inserter(out), ": {}", html_escape(row.health_error));
  }
  out += "</td>";
}

void crash_cell(std::string& out, const PageRow& row) {
  if (!row.last_crash) {
    out += "<td class=\"crash\">-</td>";
    return;
  }
  const CrashSummary& c = *row.last_crash;
  out += "<td class=\"crash\"><details><summary>";
  out += html_escape(c.cause);
  if (!c.ended.empty()) {
    fmt::format_to(std::back_inserter(out), " at {}", html_escape(c.ended));
  }
  out += "</summary>";
  fmt::format_to(std::back_inserter(out), "<div>{} ({})</div>", html_escape(c.description),
                 html_escape(c.confidence));
  if (!c.note.empty()) {
    fmt::format_to(std::back_inserter(out), "<div>{}</div>", html_escape(c.note));
  }
  if (!c.evidence.empty()) {
    out += "<ul>";
    for (const std::string& e : c.evidence) {
      fmt::format_to(std::back_inserter(out), "<li>{}</li>", html_escape(e));
    }
    out += "</ul>";
  }
  if (!c.last_output.empty()) {
    out += "<pre>";
    for (const std::string& line : c.last_output) {
      out += html_escape(line);
      out += '\n';
    }
    out += "</pre>";
  }
  if (!c.snapshot.empty()) {
    fmt::format_to(std::back_inserter(out), "<div>snapshot: {}</div>", html_escape(c.snapshot));
  }
  out += "</details></td>";
}

void row_html(std::string& out, const PageRow& row) {
  const std::string ns = row.namespec();
  fmt::format_to(std::back_inserter(out), "<tr data-process=\"{}\" data-state=\"{}\">",
                 html_escape(ns), html_escape(row.statename));
  fmt::format_to(std::back_inserter(out), "<td class=\"state {}\">{}</td>", state_class(row.state),
                 html_escape(lower(row.statename)));
  fmt::format_to(std::back_inserter(out), "<td class=\"description\">{}</td>",
                 html_escape(row.description));
  fmt::format_to(std::back_inserter(out),
                 "<td class=\"name\"><a href=\"tail.html?processname={}\">{}</a></td>",
                 html_escape(url_encode(ns)), html_escape(ns));
  optional_num(out, row.cpu_percent.has_value(),
               row.cpu_percent ? fmt::format("{:.1f}%", *row.cpu_percent) : "");
  optional_num(out, row.rss_bytes.has_value(), row.rss_bytes ? byte_text(*row.rss_bytes) : "");
  optional_num(out, row.gpu_bytes.has_value(),
               row.gpu_bytes ? byte_text(*row.gpu_bytes) + (row.gpu_estimated ? " (est.)" : "")
                             : "");
  health_cell(out, row);
  crash_cell(out, row);
  actions_cell(out, row);
  out += "</tr>\n";
}

}  // namespace

std::string PageRow::namespec() const { return group == name ? name : group + ":" + name; }

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out += c;
    } else {
      fmt::format_to(std::back_inserter(out), "%{:02X}", u);
    }
  }
  return out;
}

std::string byte_text(std::int64_t bytes) {
  if (bytes < 1024) {
    return fmt::format("{} B", bytes);
  }
  constexpr std::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string render_status_page(const StatusPage& page) {
  std::string out;
  out.reserve(4096 + page.rows.size() * 1500);
  head(out, page.identification + " status");
  fmt::format_to(std::back_inserter(out), "<h1>{} status</h1>\n", html_escape(page.identification));
  if (!page.message.empty()) {
    fmt::format_to(std::back_inserter(out), "<div class=\"status_msg\" id=\"message\">{}</div>\n",
                   html_escape(page.message));
  }
  if (!page.error.empty()) {
    fmt::format_to(std::back_inserter(out), "<div class=\"error_msg\" id=\"error\">{}</div>\n",
                   html_escape(page.error));
  }
  out +=
      "<form method=\"post\" action=\"index.html\" class=\"global\">"
      "<button type=\"submit\" name=\"action\" value=\"refresh\">Refresh</button>"
      "<button type=\"submit\" name=\"action\" value=\"restartall\">Restart All</button>"
      "<button type=\"submit\" name=\"action\" value=\"stopall\">Stop All</button>"
      "</form>\n";
  out +=
      "<table>\n<thead><tr><th>State</th><th>Description</th><th>Name</th><th>CPU</th>"
      "<th>Memory</th><th>GPU memory</th><th>Health</th><th>Last crash</th><th>Action</th>"
      "</tr></thead>\n<tbody>\n";
  for (const PageRow& row : page.rows) {
    row_html(out, row);
  }
  if (page.rows.empty()) {
    out += "<tr><td colspan=\"9\">No programs to manage</td></tr>\n";
  }
  out += "</tbody>\n</table>\n<footer>zagent";
  if (!page.generated.empty()) {
    fmt::format_to(std::back_inserter(out), ", page made {}", html_escape(page.generated));
  }
  out += " &middot; <a href=\"metrics\">metrics</a></footer>\n</body>\n</html>\n";
  return out;
}

std::string render_tail_page(const TailPage& page) {
  std::string out;
  head(out, "Tail of process " + page.namespec);
  fmt::format_to(std::back_inserter(out), "<h1>Tail of process {}</h1>\n<p><a href=\"index.html\">Back</a>",
                 html_escape(page.namespec));
  if (!page.namespec.empty()) {
    fmt::format_to(std::back_inserter(out),
                   " &middot; <a href=\"tail.html?processname={}&amp;limit={}\">Refresh</a>",
                   html_escape(url_encode(page.namespec)), page.limit);
  }
  fmt::format_to(std::back_inserter(out), "</p>\n<pre id=\"tail\">{}</pre>\n</body>\n</html>\n",
                 html_escape(page.text));
  return out;
}

}  // namespace zagent::http
