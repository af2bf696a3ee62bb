#include "agent/logs/log_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace zagent {

std::string format_record(WallTime time, LogLevel level, std::string_view text) {
  // supervisord compat: LogRecord.asdict() prints `'%03d' % msecs` of a float, which
  // truncates. floor (not a cast toward zero) keeps times before 1970 right as well.
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time - seconds).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm local{};
  ::localtime_r(&t, &local);
  char stamp[64];
  const std::size_t len = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
  char ms[8];
  std::snprintf(ms, sizeof ms, ",%03d ", static_cast<int>(millis));

  const std::string_view tag = log_level_tag(level);
  std::string out;
  out.reserve(len + 5 + tag.size() + 1 + text.size() + 1);
  out.append(stamp, len);
  out.append(ms);
  out.append(tag);
  out.push_back(' ');
  out.append(text);
  out.push_back('\n');
  return out;
}

bool level_enabled(LogLevel configured, LogLevel level) {
  return static_cast<int>(level) >= static_cast<int>(configured);
}

std::vector<ConfigNote> startup_notes_in_log_order(std::vector<ConfigNote> notes) {
  // supervisord compat: ServerOptions keeps parse_criticals, parse_warnings and parse_infos
  // apart, and make_logger() writes the three lists one after the other.
  std::stable_sort(notes.begin(), notes.end(), [](const ConfigNote& a, const ConfigNote& b) {
    return static_cast<int>(a.level) > static_cast<int>(b.level);
  });
  return notes;
}

std::vector<std::string_view> syslog_lines(std::string_view text) {
  // supervisord compat: SyslogHandler.emit() does message.rstrip('\n').split('\n').
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  std::vector<std::string_view> lines;
  for (;;) {
    const std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string strip_ansi_escapes(std::string_view data) {
  constexpr std::string_view kBegin = "\x1b[";
  constexpr std::string_view kTerminators = "HfABCDRsuJKhlpm";
  std::string out;
  std::size_t i = 0;
  while (i < data.size()) {
    const std::size_t begin = data.find(kBegin, i);
    if (begin == std::string_view::npos) {
      out.append(data.substr(i));
      break;
    }
    out.append(data.substr(i, begin - i));
    // supervisord compat: the search for the terminator starts at the '['.
    const std::size_t end = data.find_first_of(kTerminators, begin + 1);
    if (end == std::string_view::npos) {
      break;
    }
    i = end + 1;
  }
  return out;
}

}  // namespace zagent
