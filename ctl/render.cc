#include "ctl/render.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <utility>

#include "common/faults.h"
#include "common/pystr.h"

namespace zagent::ctl {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// Characters as Python counts them: UTF-8 continuation bytes do not count.
std::size_t py_len(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

std::optional<ResultLine> error_result(std::string_view namespec, std::string_view reason) {
  ResultLine r;
  r.message = fmt::format("ERROR ({})", reason);
  r.line = fmt::format("{}: {}", namespec, r.message);
  return r;
}

std::optional<ResultLine> ok_result(std::string_view namespec, std::string_view word) {
  ResultLine r;
  r.message = std::string(word);
  r.line = fmt::format("{}: {}", namespec, word);
  r.ok = true;
  return r;
}


}  // namespace

std::string make_namespec(std::string_view group, const std::optional<std::string>& name) {
  if (!name) {
    return fmt::format("{}:None", group);
  }
  if (*name == group) {
    return *name;
  }
  return fmt::format("{}:{}", group, *name);
}

NameSpec split_namespec(std::string_view name) {
  NameSpec out;
  const auto colon = name.find(':');
  if (colon == std::string_view::npos) {
    out.group = std::string(name);
    out.process = std::string(name);
    return out;
  }
  out.group = std::string(name.substr(0, colon));
  const std::string_view process = name.substr(colon + 1);
  if (!process.empty() && process != "*") {
    out.process = std::string(process);
  }
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) {
      ++i;
    }
    if (i > begin) {
      words.emplace_back(text.substr(begin, i - begin));
    }
  }
  return words;
}

std::string_view strip(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string ljust(std::string_view text, std::size_t width) {
  std::string out(text);
  const std::size_t len = py_len(text);
  if (len < width) {
    out.append(width - len, ' ');
  }
  return out;
}

std::string status_table(const std::vector<StatusRow>& rows) {
  // supervisord compat: _show_statuses, '%(namespec)-<maxlen+3>s%(state)-10s%(desc)s' with
  // maxlen starting at 30.
  std::size_t maxlen = 30;
  for (const StatusRow& row : rows) {
    maxlen = std::max(maxlen, py_len(row.namespec));
  }
  std::string out;
  for (const StatusRow& row : rows) {
    out += ljust(row.namespec, maxlen + 3);
    out += ljust(row.statename, 10);
    out += row.description;
    out += '\n';
  }
  return out;
}

std::optional<ResultLine> start_result(std::string_view namespec, int code) {
  switch (code) {
    case fault_code(Fault::BadName):
      return error_result(namespec, "no such process");
    case fault_code(Fault::NoFile):
      return error_result(namespec, "no such file");
    case fault_code(Fault::NotExecutable):
      return error_result(namespec, "file is not executable");
    case fault_code(Fault::AlreadyStarted):
      return error_result(namespec, "already started");
    case fault_code(Fault::SpawnError):
      return error_result(namespec, "spawn error");
    case fault_code(Fault::AbnormalTermination):
      return error_result(namespec, "abnormal termination");
    case fault_code(Fault::Success):
      return ok_result(namespec, "started");
    default:
      return std::nullopt;
  }
}

std::optional<ResultLine> signal_result(std::string_view namespec, int code,
                                        std::string_view description, std::string_view success) {
  switch (code) {
    case fault_code(Fault::BadName):
      return error_result(namespec, "no such process");
    case fault_code(Fault::BadSignal):
      return error_result(namespec, "bad signal name");
    case fault_code(Fault::NotRunning):
      return error_result(namespec, "not running");
    case fault_code(Fault::Success):
      return ok_result(namespec, success);
    case fault_code(Fault::Failed): {
      // supervisord compat: _signalresult returns the fault string itself for FAILED.
      ResultLine r;
      r.line = std::string(description);
      r.message = std::string(description);
      return r;
    }
    default:
      return std::nullopt;
  }
}

std::optional<ResultLine> clear_result(std::string_view namespec, int code) {
  switch (code) {
    case fault_code(Fault::BadName):
      return error_result(namespec, "no such process");
    case fault_code(Fault::Failed):
      return error_result(namespec, "failed");
    case fault_code(Fault::Success):
      return ok_result(namespec, "cleared");
    default:
      return std::nullopt;
  }
}

std::string unknown_result_code(int code, std::string_view namespec) {
  return python_error("ValueError", fmt::format("Unknown result code {} for {}", code, namespec));
}

std::string avail_line(std::string_view namespec, bool inuse, bool autostart,
                       std::string_view group_prio, std::string_view process_prio) {
  return fmt::format("{} {} {} {}:{}", ljust(namespec, 32), ljust(inuse ? "in use" : "avail", 9),
                     ljust(autostart ? "auto" : "manual", 9), group_prio, process_prio);
}

std::string reread_text(const std::vector<std::string>& added,
                        const std::vector<std::string>& changed,
                        const std::vector<std::string>& removed) {
  // supervisord compat: _formatChanges builds one dict in the order added, changed, dropped,
  // so a later list wins for a name in several, then sorts the names.
  std::map<std::string, std::string> changes;
  for (const auto& [names, word] :
       std::array<std::pair<const std::vector<std::string>*, const char*>, 3>{
           {{&added, "available"}, {&changed, "changed"}, {&removed, "disappeared"}}}) {
    for (const std::string& name : *names) {
      changes[name] = word;
    }
  }
  if (changes.empty()) {
    return "No config updates to processes\n";
  }
  std::string out;
  for (const auto& [name, word] : changes) {
    out += fmt::format("{}: {}\n", name, word);
  }
  return out;
}

std::string columnize(const std::vector<std::string>& items, std::size_t width) {
  // A port of Python 3's cmd.Cmd.columnize.
  if (items.empty()) {
    return "<empty>\n";
  }
  const std::size_t size = items.size();
  if (size == 1) {
    return items[0] + "\n";
  }
  std::size_t nrows = 1;
  std::size_t ncols = 1;
  std::vector<std::size_t> colwidths;
  bool fits = false;
  for (nrows = 1; nrows < size; ++nrows) {
    ncols = (size + nrows - 1) / nrows;
    colwidths.clear();
    long totwidth = -2;
    for (std::size_t col = 0; col < ncols; ++col) {
      std::size_t colwidth = 0;
      for (std::size_t row = 0; row < nrows; ++row) {
        const std::size_t i = row + nrows * col;
        if (i >= size) {
          break;
        }
        colwidth = std::max(colwidth, py_len(items[i]));
      }
      colwidths.push_back(colwidth);
      totwidth += static_cast<long>(colwidth) + 2;
      if (totwidth > static_cast<long>(width)) {
        break;
      }
    }
    if (totwidth <= static_cast<long>(width)) {
      fits = true;
      break;
    }
  }
  if (!fits) {
    nrows = size;
    ncols = 1;
    colwidths = {0};
  }
  std::string out;
  for (std::size_t row = 0; row < nrows; ++row) {
    std::vector<std::string> texts;
    for (std::size_t col = 0; col < ncols; ++col) {
      const std::size_t i = row + nrows * col;
      texts.push_back(i >= size ? std::string() : items[i]);
    }
    while (!texts.empty() && texts.back().empty()) {
      texts.pop_back();
    }
    for (std::size_t col = 0; col < texts.size(); ++col) {
      if (col > 0) {
        out += "  ";
      }
      out += ljust(texts[col], colwidths[col]);
    }
    out += '\n';
  }
  return out;
}

std::string uptime_text(double seconds) {
  const std::int64_t total = seconds > 0 ? static_cast<std::int64_t>(seconds) : 0;
  const std::int64_t days = total / 86400;
  const std::int64_t rest = total % 86400;
  const std::string clock = fmt::format("{}:{:02}:{:02}", rest / 3600, (rest / 60) % 60, rest % 60);
  if (days == 0) {
    return clock;
  }
  return fmt::format("{} day{}, {}", days, days == 1 ? "" : "s", clock);
}

std::string utc_time_text(std::int64_t epoch) {
  using namespace std::chrono;
  const sys_seconds at{seconds(epoch)};
  const sys_days day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{at - day};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

std::string column_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], py_len(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += i + 1 == row.size() ? row[i] : ljust(row[i], widths[i] + 2);
    }
    out += '\n';
  }
  return out;
}

std::string human_size(double bytes) {
  constexpr std::array<char, 4> kUnits{'K', 'M', 'G', 'T'};
  const double value = bytes > 0 ? bytes : 0;
  if (std::llround(value) < 1024) {
    return fmt::format("{}B", std::llround(value));
  }
  double scaled = value / 1024;
  std::size_t unit = 0;
  // 1023.96K prints as 1024.0K with one decimal: that is 1.0M.
  while (unit + 1 < kUnits.size() && scaled >= 1023.95) {
    scaled /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f}{}", scaled, kUnits[unit]);
}

std::string signed_human_size(double bytes) {
  const std::string magnitude = human_size(std::fabs(bytes));
  return (bytes < 0 && magnitude != "0B" ? "-" : "+") + magnitude;
}

std::string hours_uptime_text(double seconds) {
  const std::int64_t total = seconds > 0 ? static_cast<std::int64_t>(seconds) : 0;
  return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
}

std::string top_table(const std::vector<TopRow>& rows) {
  const auto or_dash = [](const auto& value, const auto& text) -> std::string {
    return value ? text(*value) : "-";
  };
  const auto integer = [](std::int64_t n) { return std::to_string(n); };
  std::vector<std::vector<std::string>> cells{{"NAME", "STATE", "PID", "CPU%", "RSS", "PSS", "GPU",
                                               "THREADS", "TREND/H", "UPTIME", "RESTARTS"}};
  for (const TopRow& row : rows) {
    const bool running = row.pid != 0;
    // `~` (about) rather than `*`: it reads as "roughly this much" next to a size.
    const auto gpu = [&row](double bytes) {
      return human_size(bytes) + (row.gpu_estimated ? "~" : "");
    };
    cells.push_back({row.namespec, row.statename, running ? std::to_string(row.pid) : "-",
                     or_dash(row.cpu_percent, [](double p) { return fmt::format("{:.1f}", p); }),
                     or_dash(row.rss_bytes, human_size), or_dash(row.pss_bytes, human_size),
                     or_dash(row.gpu_bytes, gpu), or_dash(row.threads, integer),
                     or_dash(row.trend_bytes_per_hour, signed_human_size),
                     running ? or_dash(row.uptime_seconds, hours_uptime_text) : "-",
                     or_dash(row.restarts, integer)});
  }
  return column_table(cells);
}

std::string top_title(double seconds, std::string_view clock) {
  return fmt::format("zctl top - every {}s - {}", seconds, clock);
}

std::string gpu_size(double bytes) {
  constexpr std::array<std::string_view, 3> kUnits{"KiB", "MiB", "GiB"};
  const double value = bytes > 0 ? bytes : 0;
  if (std::llround(value) < 1024) {
    return fmt::format("{} B", std::llround(value));
  }
  double scaled = value / 1024;
  std::size_t unit = 0;
  while (unit + 1 < kUnits.size() && scaled >= 1023.95) {
    scaled /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", scaled, kUnits[unit]);
}

namespace {

std::string size_or_unknown(const std::optional<double>& bytes) {
  return bytes ? gpu_size(*bytes) : "?";
}

std::string pid_list(const std::vector<std::int64_t>& pids) {
  if (pids.empty()) {
    return {};
  }
  return fmt::format("{} {}", pids.size() == 1 ? "pid" : "pids", fmt::join(pids, ","));
}

/// The program and other-process rows of one device: labels padded to the widest, sizes
/// right-aligned to the widest, then the pids.
std::string gpu_process_rows(const GpuDeviceRow& d) {
  struct Line {
    std::string label;
    std::string size;
    std::string rest;
  };
  std::vector<Line> lines;
  for (const GpuProgramRow& p : d.programs) {
    std::string rest = pid_list(p.pids);
    if (p.estimated) {
      rest += rest.empty() ? "(estimated)" : "  (estimated)";
    }
    lines.push_back({p.namespec, size_or_unknown(p.memory_bytes), std::move(rest)});
  }
  for (const GpuOtherRow& o : d.others) {
    lines.push_back({"other", size_or_unknown(o.memory_bytes), pid_list({o.pid})});
  }
  std::size_t label_width = 0;
  std::size_t size_width = 0;
  for (const Line& l : lines) {
    label_width = std::max(label_width, py_len(l.label));
    size_width = std::max(size_width, l.size.size());
  }
  std::string out;
  for (const Line& l : lines) {
    out += fmt::format("  {}{:>{}}", ljust(l.label, label_width + 2), l.size, size_width);
    out += l.rest.empty() ? "\n" : fmt::format("  {}\n", l.rest);
  }
  return out;
}

}  // namespace

std::string gpu_text(const GpuStatus& status) {
  if (status.backend == "off") {
    return status.error.empty() ? "GPU monitoring is off (gpu=off)\n"
                                : fmt::format("GPU monitoring is off: {}\n", status.error);
  }
  std::string out;
  if (!status.ok) {
    out += fmt::format("GPU reading failed: {}\n",
                       status.error.empty() ? std::string("(no reason given)") : status.error);
  }
  std::string summary = status.backend;
  if (!status.driver_version.empty()) {
    summary += fmt::format(", driver {}", status.driver_version);
  }
  if (status.sampled_at) {
    summary +=
        fmt::format(", sampled {} UTC",
                    utc_time_text(static_cast<std::int64_t>(std::floor(*status.sampled_at))));
  }
  if (status.ok || !status.devices.empty()) {
    out += summary + "\n";
  }
  if (!status.devices.empty() && !status.attribution.empty() && status.attribution != "pids") {
    out += fmt::format("attribution: {}{}\n", status.attribution,
                       status.attribution_note.empty()
                           ? std::string()
                           : fmt::format(" ({})", status.attribution_note));
  }
  if (status.ok && status.devices.empty()) {
    out += "no GPU devices found\n";
  }
  for (const GpuDeviceRow& d : status.devices) {
    out += fmt::format("GPU {}  {}  {}\n", d.index, d.name, d.uuid);
    out += fmt::format(
        "  memory  {} used / {} total, {} free   utilization {}\n", size_or_unknown(d.used_bytes),
        size_or_unknown(d.total_bytes), size_or_unknown(d.free_bytes),
        d.utilization_percent ? fmt::format("{}%", std::llround(*d.utilization_percent))
                              : std::string("?"));
    if (!d.note.empty()) {
      out += fmt::format("  note: {}\n", d.note);
    }
    if (!d.processes_known) {
      out += "  processes: unknown\n";
    } else if (d.programs.empty() && d.others.empty()) {
      out += "  processes: none\n";
    } else {
      out += gpu_process_rows(d);
    }
  }
  return out;
}

std::string python_error(std::string_view cls, std::string_view value) {
  return fmt::format("error: <class '{}'>, {}: file: zctl line: 0", cls, value);
}

std::string fault_repr(int code, std::string_view fault_string) {
  return fmt::format("<Fault {}: {}>", code, py_repr(fault_string));
}

std::string no_such_file_text(std::string_view serverurl) {
  return fmt::format("{} no such file", serverurl);
}

std::string refused_connection_text(std::string_view serverurl) {
  return fmt::format("{} refused connection", serverurl);
}

std::string unknown_namespace_text() {
  return "Sorry, supervisord responded but did not recognize the supervisor namespace commands "
         "that supervisorctl uses to control it.  Please check that the "
         "[rpcinterface:supervisor] section is enabled in the configuration file "
         "(see sample.conf).";
}

std::string api_version_text(std::string_view remote_version) {
  return fmt::format(
      "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, "
      "but the remote version is {}.",
      remote_version);
}

}  // namespace zagent::ctl
