// The nvidia-smi fallback of the GPU probe, its pure half: the one shell command of a reading
// and the parser of its output into a GpuReading. No OS: agent/os/smi_probe runs the command.
#pragma once

#include <string>
#include <string_view>

#include "agent/monitor/gpu_probe.h"

namespace zagent {

/// The line that ends the device part of the output: `<marker> <exit status of nvidia-smi>`.
inline constexpr std::string_view kSmiGpusEnd = "@zagent-smi-gpus-exit";
/// The line that ends the compute-process part, the same way.
inline constexpr std::string_view kSmiAppsEnd = "@zagent-smi-apps-exit";

/// The `/bin/sh -c` text of one reading: `--query-gpu=index,uuid,name,memory.total,memory.used,
/// memory.free,utilization.gpu,driver_version`, the kSmiGpusEnd line, then
/// `--query-compute-apps=gpu_uuid,pid,used_memory` and the kSmiAppsEnd line, both
/// `--format=csv,noheader,nounits` with stderr joined to stdout (2>&1 per part), so that an
/// error message reaches the parser. `nvidia_smi_path` is quoted for the shell.
std::string smi_command(std::string_view nvidia_smi_path);

/// The reading in the output of smi_command().
///
/// Memory in nounits is MiB (times 1048576 here). A field that nvidia-smi cannot fill
/// (`[N/A]`, `N/A`, `[Not Supported]`, `[Insufficient Permissions]`, any `[...]`, empty) is
/// unknown: nullopt, never 0, and named in the device's `note`. Spaces around fields and blank
/// lines are ignored; a name holding commas is what is left between the uuid and the five
/// fields after it. `No devices were found` is ok with no devices. Lines starting with
/// `WARNING:` (nvidia-smi's infoROM and similar notices) are skipped.
///
/// ok=false (with no devices and `error` quoting the first line that is not a device row)
/// when the device query failed (a non-zero exit: `nvidia-smi failed (exit status 9): text`),
/// printed something else (`nvidia-smi: unexpected output: 'text'`), or the output ends
/// before the kSmiGpusEnd line.
///
/// Compute processes: with the kSmiAppsEnd line present and status 0, every device has
/// processes_known=true and the rows for its uuid (rows for other uuids are ignored; an
/// unreadable used_memory is nullopt; `No running processes found` is no rows). Without that
/// line, processes_known=false. With a non-zero status or a row that is not one, also false,
/// and the device's note says `processes: <first such line>`; the devices are still ok.
GpuReading parse_smi_output(std::string_view output);

}  // namespace zagent
