// Pure text of zctl's output: namespecs, the status table, result lines per fault code, `avail`
// lines, `reread` changes, the help index and the `error:` lines (spec/ctl.md, spec/rpc.md §5).
// No I/O and no RPC: everything here is a function of its arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zagent::ctl {

/// supervisord's make_namespec: `group:name`, or `name` when both are equal. A missing name
/// prints as `None` (supervisorctl's `clear grp:*` quirk: `grp:None`).
std::string make_namespec(std::string_view group, const std::optional<std::string>& name);

/// A command-line name split on its first `:` (supervisord's split_namespec).
struct NameSpec {
  std::string group;
  /// nullopt for a group reference (`g:` or `g:*`); a plain `x` is group x, process x.
  std::optional<std::string> process;
};
NameSpec split_namespec(std::string_view name);

/// Python's str.split() with no argument: words separated by runs of ASCII whitespace.
std::vector<std::string> split_words(std::string_view text);

/// Python's str.strip() of ASCII whitespace.
std::string_view strip(std::string_view text);

/// Python's `%-Ns`: `text` padded with spaces to `width` characters (UTF-8 code points).
std::string ljust(std::string_view text, std::size_t width);

/// One row of the status table, from a process info struct.
struct StatusRow {
  std::string namespec;
  std::string statename;
  std::string description;  ///< computed by the agent (spec/ctl.md §3)
};

/// The status table: `<namespec padded to W><statename padded to 10><description>\n` per row,
/// W = max(30, longest namespec) + 3. Trailing spaces are kept. Empty for no rows.
std::string status_table(const std::vector<StatusRow>& rows);

/// A formatted result of a control command for one process.
struct ResultLine {
  std::string line;     ///< the output line, without `\n`
  std::string message;  ///< the part after `NAME: ` (`started`, `ERROR (no such process)`);
                        ///< for the raw FAILED string of stop/signal, that string
  bool ok = false;      ///< the code was SUCCESS (80)
};

/// start's text for a result code (`_startresult`). nullopt for a code supervisorctl cannot
/// format (FAILED, SHUTDOWN_STATE, ...): it raises `ValueError: Unknown result code`.
std::optional<ResultLine> start_result(std::string_view namespec, int code);
/// stop's / signal's text (`_signalresult`): `success` is `stopped` or `signalled`; FAILED
/// prints `description` (the fault string) as the whole line. nullopt as above.
std::optional<ResultLine> signal_result(std::string_view namespec, int code,
                                        std::string_view description, std::string_view success);
/// clear's text (`_clearresult`): BAD_NAME, FAILED, SUCCESS; nullopt otherwise.
std::optional<ResultLine> clear_result(std::string_view namespec, int code);

/// `ValueError: Unknown result code <code> for <namespec>` as supervisorctl raises it.
std::string unknown_result_code(int code, std::string_view namespec);

/// One `avail` line: `%-32s %-9s %-9s %s` of namespec, `in use`/`avail`, `auto`/`manual`,
/// `<group priority>:<process priority>`.
std::string avail_line(std::string_view namespec, bool inuse, bool autostart,
                       std::string_view group_prio, std::string_view process_prio);

/// reread's lines: `NAME: available|changed|disappeared` sorted by name (a name in several
/// lists shows the last: disappeared over changed over available), or
/// `No config updates to processes`. Each line ends in `\n`.
std::string reread_text(const std::vector<std::string>& added,
                        const std::vector<std::string>& changed,
                        const std::vector<std::string>& removed);

/// Python's cmd.Cmd.columnize: `items` in as few rows as fit `width` columns, column-major,
/// two spaces between columns, every column (the last too) padded. Each line ends in `\n`.
std::string columnize(const std::vector<std::string>& items, std::size_t width);

/// A duration as Python's str(timedelta) of whole seconds (supervisord's uptime): `0:00:05`,
/// `1:02:44`, `1 day, 0:00:05`, `3 days, 4:05:06`. Fractions are dropped; negative is 0.
std::string uptime_text(double seconds);

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS` in UTC (no zone suffix).
std::string utc_time_text(std::int64_t epoch);

/// Rows of cells as left-aligned columns, the first row being the header: every column but the
/// last is padded to its widest cell (UTF-8 code points) plus two spaces. Each line ends in
/// `\n`; empty for no rows.
std::string column_table(const std::vector<std::vector<std::string>>& rows);

/// A byte count in 1024-based units with one decimal: `512B`, `1.5K`, `12.0M`, `1.2G`, `1.0T`
/// (whole bytes below 1 KiB; T is the largest unit). A value that would round to 1024.0 of a
/// unit is shown in the next one (`1.0M`, not `1024.0K`). Negative is 0.
std::string human_size(double bytes);

/// human_size of the magnitude with its sign: `+12.0M`, `-1.5M`; whatever rounds to 0 bytes is
/// `+0B`.
std::string signed_human_size(double bytes);

/// A duration as `H:MM:SS` with the hours not wrapped into days (`51:04:05`). Fractions are
/// dropped; negative is 0.
std::string hours_uptime_text(double seconds);

/// One process of `zctl top` (docs/zctl.md "top"): nullopt prints `-`.
struct TopRow {
  std::string namespec;
  std::string statename;
  std::int64_t pid = 0;  ///< 0: not running (`-`, and no uptime)
  std::optional<double> cpu_percent;
  std::optional<double> rss_bytes;
  std::optional<double> pss_bytes;
  std::optional<double> gpu_bytes;  ///< the row's `gpu.memory_bytes`: null = no GPU use known
  bool gpu_estimated = false;       ///< `gpu.estimated`: printed with a trailing `~`
  std::optional<std::int64_t> threads;
  std::optional<double> trend_bytes_per_hour;  ///< memory trend
  std::optional<double> uptime_seconds;
  std::optional<std::int64_t> restarts;
};

/// `top`'s table: the header `NAME  STATE  PID  CPU%  RSS  PSS  GPU  THREADS  TREND/H  UPTIME
/// RESTARTS`, then one line per row, as column_table() lays them out. GPU is human_size() of
/// the GPU memory, with `~` after it when the agent estimated it (`1.5G~`: it matched the
/// program to GPU processes by other means than their pids).
std::string top_table(const std::vector<TopRow>& rows);

/// The first line of a `top --watch` screen: `zctl top - every 2s - 14:03:07`. `seconds` is
/// printed in its shortest form (`2`, `0.5`); `clock` is the local time of day.
std::string top_title(double seconds, std::string_view clock);

/// A byte count for `zctl gpu`: 1024-based with one decimal and a spaced unit, up to GiB:
/// `512 B`, `1.5 KiB`, `12.0 MiB`, `139.7 GiB`, `2048.0 GiB`. A value that would round to
/// 1024.0 of a unit is shown in the next one. Negative is 0.
std::string gpu_size(double bytes);

/// A program's use of one device in `zctl gpu` (docs/zctl.md "gpu").
struct GpuProgramRow {
  std::string namespec;
  std::optional<double> memory_bytes;  ///< nullopt: unknown (`?`)
  std::vector<std::int64_t> pids;
  bool estimated = false;  ///< matched by estimate: `(estimated)` after the line
};

/// A GPU process of no program.
struct GpuOtherRow {
  std::int64_t pid = 0;
  std::optional<double> memory_bytes;
};

/// One device of `zctl gpu`; nullopt figures print `?`.
struct GpuDeviceRow {
  std::int64_t index = 0;
  std::string uuid;
  std::string name;
  std::optional<double> total_bytes;
  std::optional<double> used_bytes;
  std::optional<double> free_bytes;
  std::optional<double> utilization_percent;
  bool processes_known = false;  ///< false: `  processes: unknown` instead of the rows
  std::string note;              ///< printed as `  note: ...`; empty: none
  std::vector<GpuProgramRow> programs;
  std::vector<GpuOtherRow> others;
};

/// The result of zagent.getGpuStatus() for `zctl gpu`.
struct GpuStatus {
  std::string backend;  ///< `nvml`, `nvidia-smi`, `off`
  bool ok = false;
  std::string error;                 ///< "": none
  std::string driver_version;        ///< "": unknown
  std::optional<double> sampled_at;  ///< epoch seconds
  std::string attribution;           ///< `pids`, `estimated`, `none`
  std::string attribution_note;      ///< "": none
  std::vector<GpuDeviceRow> devices;
};

/// `zctl gpu`'s text: a summary line (`nvidia-smi, driver 550.54.15, sampled 2025-11-24
/// 16:00:00 UTC`), the attribution line unless it is by pids, then one block per device:
/// `GPU 0  NAME  UUID`, the memory line, the note, then the program rows and a row per other
/// process, aligned per device (`processes: unknown` or `processes: none` instead). Off:
/// `GPU monitoring is off (gpu=off)` (or with the agent's error as the reason); a failed
/// reading: `GPU reading failed: ERROR` first. Each line ends in `\n`.
std::string gpu_text(const GpuStatus& status);

/// The help texts are the verb table's (ctl/verb_table.cc, where these three are defined).
///
/// The names `help` lists, sorted.
const std::vector<std::string>& command_names();

/// `help` without a topic: an empty line, the header, its ruler, the columnized command
/// names and an empty line (spec/ctl.md §8).
std::string help_index();

/// The text of `help <topic>` (also printed after usage errors), every line ending in `\n`;
/// nullopt for a topic without help (`*** No help on <topic>`).
std::optional<std::string> help_topic(std::string_view topic);

/// supervisorctl's line for an unexpected exception:
/// `error: <class '<cls>'>, <value>: file: zctl line: 0`.
std::string python_error(std::string_view cls, std::string_view value);

/// Python's repr of an xmlrpc Fault: `<Fault 6: 'SHUTDOWN_STATE'>`.
std::string fault_repr(int code, std::string_view fault_string);

/// The upcheck's texts (spec/ctl.md §1.3).
std::string no_such_file_text(std::string_view serverurl);
std::string refused_connection_text(std::string_view serverurl);
std::string unknown_namespace_text();
std::string api_version_text(std::string_view remote_version);

}  // namespace zagent::ctl
