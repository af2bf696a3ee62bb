#include "agent/monitor/gpu_smi_parse.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace zagent {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// The query's fields: index, uuid, name, then these five after the name.
constexpr std::size_t kFieldsAfterName = 5;
constexpr std::size_t kGpuFields = 3 + kFieldsAfterName;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  const std::size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return lines;
}

/// The comma-separated fields of `line`, untrimmed.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t comma = line.find(',');
    fields.push_back(line.substr(0, comma));
    if (comma == std::string_view::npos) {
      return fields;
    }
    line.remove_prefix(comma + 1);
  }
}

// nvidia-smi's ways of saying it has no value: `[N/A]`, `[Not Supported]`,
// `[Insufficient Permissions]`, `[Unknown Error]` (any bracketed word), and a bare `N/A`.
bool is_unknown(std::string_view field) {
  return field.empty() || field == "N/A" || (field.front() == '[' && field.back() == ']');
}

template <typename T>
std::optional<T> parse_unsigned(std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

/// A numeric field: nullopt inside when unknown; nullopt outside when it is neither.
std::optional<std::optional<std::uint64_t>> parse_figure(std::string_view field) {
  if (is_unknown(field)) {
    return std::optional<std::uint64_t>();
  }
  const auto n = parse_unsigned<std::uint64_t>(field);
  if (!n) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::uint64_t> mib_to_bytes(std::optional<std::uint64_t> mib) {
  if (!mib || *mib > std::numeric_limits<std::uint64_t>::max() / kMiB) {
    return std::nullopt;
  }
  return *mib * kMiB;
}

void add_note(std::string& note, std::string_view text) {
  if (!note.empty()) {
    note += "; ";
  }
  note += text;
}

/// `<marker> <status>`: the status, or nullopt for any other line.
std::optional<int> end_marker(std::string_view line, std::string_view marker) {
  line = trim(line);
  if (!line.starts_with(marker)) {
    return std::nullopt;
  }
  return parse_unsigned<int>(trim(line.substr(marker.size())));
}

/// One device row, and the driver version it names; nullopt when the line is not one.
std::optional<std::pair<GpuDeviceReading, std::string>> parse_gpu_row(std::string_view line) {
  std::vector<std::string_view> f = split_fields(line);
  if (f.size() < kGpuFields) {
    return std::nullopt;
  }
  // nvidia-smi does not quote: commas beyond the query's belong to the name (the only free
  // text among the fields), so the fixed fields are taken from both ends.
  const std::size_t after = f.size() - kFieldsAfterName;
  const std::string_view name(
      f[2].data(),
      static_cast<std::size_t>(f[after - 1].data() + f[after - 1].size() - f[2].data()));
  for (std::string_view& field : f) {
    field = trim(field);
  }
  const auto index = parse_unsigned<unsigned>(f[0]);
  if (!index || is_unknown(f[1])) {
    return std::nullopt;
  }
  GpuDeviceReading d;
  d.index = *index;
  d.uuid = std::string(f[1]);
  d.name = std::string(trim(name));
  constexpr std::string_view kNames[] = {"memory.total", "memory.used", "memory.free",
                                         "utilization.gpu"};
  std::optional<std::uint64_t> figures[4];
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string_view field = f[after + i];
    const auto figure = parse_figure(field);
    if (!figure) {
      return std::nullopt;
    }
    figures[i] = *figure;
    if (!*figure) {
      add_note(d.note, fmt::format("{}: {}", kNames[i], field.empty() ? "(empty)" : field));
    }
  }
  d.total_bytes = mib_to_bytes(figures[0]);
  d.used_bytes = mib_to_bytes(figures[1]);
  d.free_bytes = mib_to_bytes(figures[2]);
  if (figures[3] && *figures[3] <= std::numeric_limits<unsigned>::max()) {
    d.utilization_percent = static_cast<unsigned>(*figures[3]);
  }
  const std::string_view driver = f[after + 4];
  return std::pair{std::move(d), is_unknown(driver) ? std::string() : std::string(driver)};
}

struct AppRow {
  std::string_view uuid;
  GpuProcessUse use;
};

std::optional<AppRow> parse_app_row(std::string_view line) {
  std::vector<std::string_view> f = split_fields(line);
  for (std::string_view& field : f) {
    field = trim(field);
  }
  if (f.size() != 3) {
    return std::nullopt;
  }
  const auto pid = parse_unsigned<pid_t>(f[1]);
  const auto used = parse_figure(f[2]);
  if (f[0].empty() || !pid || *pid <= 0 || !used) {
    return std::nullopt;
  }
  return AppRow{f[0], GpuProcessUse{*pid, mib_to_bytes(*used)}};
}

bool skipped(std::string_view line) { return line.empty() || line.starts_with("WARNING:"); }

GpuReading failed(std::string error) {
  GpuReading r;
  r.ok = false;
  r.error = std::move(error);
  return r;
}

std::string quoted(std::string_view line) { return fmt::format("'{}'", line); }

/// The compute-process part (after the device part's marker) applied to the devices.
void apply_apps(GpuReading& r, const std::vector<std::string_view>& lines, std::size_t begin) {
  std::vector<AppRow> rows;
  std::optional<std::string_view> bad;
  for (std::size_t i = begin; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    if (const auto status = end_marker(line, kSmiAppsEnd)) {
      std::string problem;
      if (*status != 0) {
        problem = fmt::format("exit status {}", *status);
        if (bad) {
          problem += fmt::format(": {}", *bad);
        }
      } else if (bad) {
        problem = fmt::format("unexpected output {}", quoted(*bad));
      }
      for (GpuDeviceReading& d : r.devices) {
        if (!problem.empty()) {
          add_note(d.note, fmt::format("processes: {}", problem));
          continue;
        }
        d.processes_known = true;
        for (const AppRow& row : rows) {
          if (row.uuid == d.uuid) {
            d.processes.push_back(row.use);
          }
        }
      }
      return;
    }
    if (skipped(line) || line == "No running processes found" || bad) {
      continue;
    }
    if (auto row = parse_app_row(line)) {
      rows.push_back(*row);
    } else {
      bad = line;
    }
  }
  // No end line: the second query did not run (or its output was cut); processes unknown.
}

}  // namespace

std::string smi_command(std::string_view nvidia_smi_path) {
  std::string quoted_path = "'";
  for (const char c : nvidia_smi_path) {
    if (c == '\'') {
      quoted_path += "'\\''";
    } else {
      quoted_path += c;
    }
  }
  quoted_path += '\'';
  return fmt::format(
      "{0} --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,"
      "driver_version --format=csv,noheader,nounits 2>&1; echo \"{1} $?\"; "
      "{0} --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits 2>&1; "
      "echo \"{2} $?\"",
      quoted_path, kSmiGpusEnd, kSmiAppsEnd);
}

GpuReading parse_smi_output(std::string_view output) {
  const std::vector<std::string_view> lines = split_lines(output);
  GpuReading r;
  std::optional<std::string_view> bad;  // the first line that is not a device row
  bool no_devices = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    if (const auto status = end_marker(line, kSmiGpusEnd)) {
      if (no_devices && !bad) {
        // nvidia-smi exits 6 here; no devices is a reading all the same.
        return GpuReading{true, {}, {}, {}};
      }
      if (*status != 0) {
        return failed(bad ? fmt::format("nvidia-smi failed (exit status {}): {}", *status, *bad)
                          : fmt::format("nvidia-smi failed (exit status {})", *status));
      }
      if (bad) {
        return failed(fmt::format("nvidia-smi: unexpected output: {}", quoted(*bad)));
      }
      r.ok = true;
      apply_apps(r, lines, i + 1);
      return r;
    }
    if (skipped(line) || bad) {
      continue;
    }
    if (line == "No devices were found") {
      no_devices = true;
      continue;
    }
    if (auto row = parse_gpu_row(line)) {
      if (r.driver_version.empty()) {
        r.driver_version = std::move(row->second);
      }
      r.devices.push_back(std::move(row->first));
    } else {
      bad = line;
    }
  }
  // The device part never ended: the shell did not run the command, or the output was cut.
  if (bad) {
    return failed(fmt::format("nvidia-smi: unexpected output: {}", quoted(*bad)));
  }
  return failed(r.devices.empty() && !no_devices ? "nvidia-smi: no output"
                                                 : "nvidia-smi: the output ended early");
}

}  // namespace zagent
