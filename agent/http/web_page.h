// The web page at `/` and the tail page (docs/http.md, "The web page"): HTML made from plain
// data, one row per process with its state, description, resources, health and last crash,
// and a form per action, so that every action works without JavaScript and in a text
// browser. Inline CSS only, no external assets. Pure: pages.cc gathers the data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zagent::http {

/// The last crash record of a process, as the page shows it.
struct CrashSummary {
  std::string cause;        ///< cause name (docs/crashes.md): exited, oom_killed, ...
  std::string confidence;   ///< certain / probable
  std::string description;  ///< `exit status 1`, `killed by the OOM killer`, ...
  std::string ended;        ///< when it ended, local time text ("" if unknown)
  std::string note;
  std::vector<std::string> evidence;     ///< `source: text`, strongest first
  std::vector<std::string> last_output;  ///< the last lines of its output (stderr, then stdout)
  std::string snapshot;                  ///< snapshot file path, "" if none
};

/// One process row.
struct PageRow {
  std::string name;         ///< process name
  std::string group;        ///< group name
  int state = 0;            ///< supervisord's state code
  std::string statename;    ///< RUNNING, STOPPED, ...
  std::string description;  ///< getProcessInfo's description
  std::optional<double> cpu_percent;
  std::optional<std::int64_t> rss_bytes;
  std::optional<std::int64_t> gpu_bytes;
  bool gpu_estimated = false;           ///< the GPU figure is an estimate (a container)
  std::optional<std::string> health;    ///< passing / failing / unknown; nullopt: no check
  std::string health_error;             ///< the last check's error, "" if none
  std::optional<CrashSummary> last_crash;

  /// `group:name`, or `name` where both are the same (supervisord's make_namespec).
  std::string namespec() const;
};

/// The status page.
struct StatusPage {
  std::string identification = "supervisor";  ///< [supervisord] identifier=
  std::string message;                        ///< the result of the last action, "" for none
  std::string error;                          ///< why the table could not be read, "" if it was
  std::string generated;                      ///< when the page was made, local time text
  std::vector<PageRow> rows;                  ///< sorted by namespec, as supervisord's page
};

/// The tail page of one process's stdout log.
struct TailPage {
  std::string namespec;  ///< "" when the request named none
  std::string text;      ///< the log's tail, or what went wrong
  std::int64_t limit = 1024;  ///< bytes shown (the refresh link keeps it)
};

/// The whole status page, `<!DOCTYPE html>` included.
std::string render_status_page(const StatusPage& page);
/// The whole tail page.
std::string render_tail_page(const TailPage& page);

/// Text made safe inside HTML elements and quoted attributes (`& < > " '`).
std::string html_escape(std::string_view text);
/// A query/form component percent-encoded (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);
/// Bytes as the page shows them: `512 B`, `1.5 MiB`, `2.0 GiB`.
std::string byte_text(std::int64_t bytes);

}  // namespace zagent::http
