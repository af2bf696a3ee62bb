// The agent's immutable view of a supervisord-format config: what loading an INI document
// produces after defaults, expansion and checks (spec/config.md). Uses only common/ and the
// ConfigHost port; never starts or signals anything.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config_host.h"
#include "agent/health/check_spec.h"
#include "common/datatypes.h"
#include "common/error.h"

namespace zagent {

/// DESIGN.md: the child log caps default to 10MB (supervisord: 50MB).
inline constexpr std::int64_t kDefaultChildLogMaxBytes = 10 * 1024 * 1024;
inline constexpr std::int64_t kDefaultMainLogMaxBytes = 50 * 1024 * 1024;

struct UserSpec {
  std::string name;  ///< as resolved from the passwd database
  uid_t uid = 0;
  gid_t gid = 0;  ///< primary group

  friend bool operator==(const UserSpec&, const UserSpec&) = default;
};

/// One output channel (stdout or stderr) of a process.
struct LogChannelConfig {
  LogTarget logfile;  ///< Auto, None or Path; a deprecated `syslog` value becomes None+syslog
  std::int64_t maxbytes = kDefaultChildLogMaxBytes;
  std::int64_t backups = 10;
  std::int64_t capture_maxbytes = 0;
  bool events_enabled = false;
  bool syslog = false;

  friend bool operator==(const LogChannelConfig&, const LogChannelConfig&) = default;
};

/// memory_growth_action: what a trend over memory_growth_limit does.
enum class GrowthAction { Warn, Restart };

/// [supervisord] gpu: which probe reads the GPUs (docs/gpu.md).
enum class GpuMode { Auto, Nvml, NvidiaSmi, Off };

/// One process: a [program:x] section yields numprocs of these.
struct ProcessConfig {
  std::string name;          ///< expanded process_name
  std::string group;         ///< owning group's name
  std::string program_name;  ///< the part after "program:"
  std::int64_t process_num = 0;
  std::int64_t numprocs = 1;
  std::string command;  ///< expanded, not yet split (split at spawn time, as supervisord)
  std::optional<std::string> directory;
  std::optional<std::int64_t> umask;
  std::int64_t priority = 999;
  bool autostart = true;
  AutoRestart autorestart = AutoRestart::Unexpected;
  std::int64_t startsecs = 1;
  std::int64_t startretries = 3;
  std::vector<int> exitcodes{0};
  int stopsignal = 15;
  std::int64_t stopwaitsecs = 10;
  bool stopasgroup = false;
  bool killasgroup = false;
  std::optional<UserSpec> user;
  bool redirect_stderr = false;
  LogChannelConfig stdout_log;
  LogChannelConfig stderr_log;
  EnvironmentList environment;  ///< the program's own environment= pairs
  std::optional<std::string> serverurl;  ///< nullopt = AUTO (the agent's own URL)

  // zagent extensions (docs/config.md); their defaults keep supervisord's behaviour exactly.
  /// Wait before autorestarting a process that exited from RUNNING; 0 = at once.
  std::chrono::milliseconds restart_delay{0};
  /// Above restart_delay: each consecutive autorestart doubles the delay up to this cap; the
  /// sequence starts over after a run that lasted at least this long. 0 = no growth.
  std::chrono::milliseconds restart_delay_max{0};
  /// More autorestarts than this within crashloop_window_secs -> FATAL; 0 = no limit.
  std::int64_t crashloop_max_restarts = 0;
  std::int64_t crashloop_window_secs = 60;  ///< seconds; at least 1
  /// After a stop, kill the descendants that left the process group too (as stopasgroup and
  /// killasgroup already do), without signalling the group.
  bool killastree = false;
  /// Run before the agent itself ends the process (a stop's SIGKILL, a guardian restart),
  /// with `%(pid)s` replaced by its pid; the output goes into the crash snapshot. "" = none.
  std::string snapshot_command;
  std::int64_t snapshot_timeout = 10;  ///< seconds snapshot_command may take; at least 1
  /// Sets PYTHONFAULTHANDLER=1 for the program (a Python traceback on a fatal signal).
  bool python_faulthandler = false;
  // resource guards (docs/monitoring.md); all off by default
  std::int64_t memory_limit = 0;  ///< bytes of the tree's RSS; 0 = off
  std::chrono::milliseconds memory_limit_for{0};  ///< how long it must stay over
  std::int64_t memory_growth_limit = 0;  ///< bytes per hour of the RSS trend; 0 = off
  GrowthAction memory_growth_action = GrowthAction::Warn;
  double cpu_limit = 0;  ///< % of one core, summed over the tree; 0 = off
  std::chrono::milliseconds cpu_limit_for{60'000};
  std::string restart_on_output;  ///< a PCRE2 pattern or @sets (checked at load); "" = off
  /// The trend window of this program; nullopt = [supervisord] memory_trend_window.
  std::optional<std::chrono::milliseconds> memory_trend_window;
  // GPU guardian (docs/gpu.md); all off by default
  /// gpu_devices: indices (`0`) and UUIDs (`GPU-…`, `MIG-…`) as written; empty = auto
  /// (CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES of the program, else every device).
  std::vector<std::string> gpu_devices;
  std::int64_t gpu_min_free = 0;  ///< bytes free on each device; 0 = off
  std::chrono::milliseconds gpu_min_free_for{10'000};
  std::int64_t gpu_start_min_free = 0;  ///< bytes free before each spawn; 0 = off
  std::chrono::milliseconds gpu_start_timeout{300'000};
  std::int64_t gpu_memory_limit = 0;  ///< bytes of the program's own GPU memory; 0 = off
  // health checks (docs/health.md); off by default
  std::optional<HealthCheckSpec> healthcheck;  ///< nullopt = no check
  std::chrono::milliseconds healthcheck_interval{10'000};  ///< between checks once RUNNING
  std::chrono::milliseconds healthcheck_timeout{5'000};    ///< one check's bound
  std::int64_t healthcheck_retries = 3;  ///< failures in a row that restart a RUNNING process
  /// From the spawn: no passing check by then is a failed start.
  std::chrono::milliseconds healthcheck_start_timeout{300'000};
  /// Programs or groups that must be RUNNING (and passing their checks) before this one
  /// spawns; checked against the whole config when it is loaded.
  std::vector<std::string> depends_on;

  friend bool operator==(const ProcessConfig&, const ProcessConfig&) = default;
};

/// A process group: one [program:x] (homogeneous) or one [group:g].
struct GroupConfig {
  std::string name;
  std::int64_t priority = 999;
  bool from_group_section = false;  ///< true for [group:g]
  std::vector<ProcessConfig> processes;

  friend bool operator==(const GroupConfig&, const GroupConfig&) = default;
};

struct SupervisordConfig {
  std::string logfile;  ///< absolute path, or "syslog"
  std::int64_t logfile_maxbytes = kDefaultMainLogMaxBytes;
  std::int64_t logfile_backups = 10;
  LogLevel loglevel = LogLevel::Info;
  std::string pidfile;  ///< absolute path
  std::int64_t umask = 022;
  bool nodaemon = false;
  bool silent = false;
  std::int64_t minfds = 1024;
  std::int64_t minprocs = 200;
  bool nocleanup = false;
  std::string childlogdir;
  std::optional<std::string> user;  ///< name or uid as written; checked when dropping privileges
  std::optional<std::string> directory;
  bool strip_ansi = false;
  EnvironmentList environment;
  std::string identifier = "supervisor";
  // zagent extensions (docs/crashes.md)
  /// Crash snapshots and the records kept on disk; "" = NONE (records in memory only, no
  /// snapshots). Default: `crashes` in childlogdir.
  std::string crash_dir;
  std::int64_t crash_keep = 20;   ///< snapshot files kept per program
  std::int64_t crash_lines = 200; ///< last lines of each channel in a snapshot
  bool crash_env_values = false;  ///< snapshots show environment values, not only names
  /// Off: no OOM evidence, records, snapshots or crash lines (the cause from the wait status
  /// stays, in the status only).
  bool crash_attribution = true;
  // resource sampling (docs/monitoring.md)
  /// Every program's tree is sampled this often; 0 = only when a client asks.
  std::chrono::milliseconds sample_interval{10'000};
  std::chrono::milliseconds memory_trend_window{1'800'000};  ///< the trend's default window
  // the GPU guardian (docs/gpu.md)
  GpuMode gpu = GpuMode::Auto;
  std::string gpu_library;  ///< an explicit NVML library (absolute); "" = the search
  /// The devices are read this often while a program uses a GPU key; 0 = only on request.
  std::chrono::milliseconds gpu_sample_interval{5'000};
};

struct UnixHttpServerConfig {
  std::string file;  ///< absolute socket path
  std::int64_t chmod = 0700;
  std::optional<uid_t> chown_uid;  ///< nullopt: no chown= at all
  std::optional<gid_t> chown_gid;  ///< nullopt: group left as created (chown=user alone)
  std::string username;
  std::string password;  ///< plain text, or {SHA} + hex digest
};

struct InetHttpServerConfig {
  InetAddress address;
  std::string username;
  std::string password;
};

/// A parse-time message that the agent logs once its main log is open (spec/states.md §6).
struct ConfigNote {
  LogLevel level = LogLevel::Info;
  std::string text;
};

struct AgentConfig {
  std::string config_file;  ///< as given (-c or found by the search)
  std::string here;         ///< absolute directory of config_file
  SupervisordConfig supervisord;
  std::optional<UnixHttpServerConfig> unix_http_server;
  std::optional<InetHttpServerConfig> inet_http_server;
  std::vector<std::string> rpcinterfaces;  ///< names of [rpcinterface:x] sections
  std::vector<GroupConfig> groups;         ///< sorted by (priority, name)
  std::vector<std::string> included_files;  ///< absolute, in reading order
  std::vector<ConfigNote> notes;            ///< warnings and infos, in the order found

  /// The process with this (group, name), or nullptr.
  const ProcessConfig* find_process(std::string_view group, std::string_view name) const;
  std::size_t process_count() const;
};

/// One problem found while loading, with the place it was found.
struct ConfigError {
  std::string message;  ///< supervisord's text without any section/file suffix
  std::string section;  ///< set where supervisord adds ` in section '<s>' (file: '<f>')`
  std::string file;     ///< file of the offending line (empty if none)
  int line = 0;         ///< 1-based, 0 if the error has no single line

  /// Exactly what supervisord would print after `Error: ` (and what CANT_REREAD carries).
  std::string supervisord_text() const;
  /// supervisord's text with the line added to its file suffix:
  /// `<msg> in section 'program:a' (file: 'F', line 4)`, or `<msg> (file: 'F', line 7)`.
  std::string render() const;
};

/// Values given on the agent's command line; each overrides the config key of the same name.
struct ConfigOverrides {
  std::optional<bool> nodaemon;
  std::optional<bool> silent;
  std::optional<std::string> user;
  std::optional<std::int64_t> umask;
  std::optional<std::string> directory;
  std::optional<std::string> logfile;
  std::optional<std::int64_t> logfile_maxbytes;
  std::optional<std::int64_t> logfile_backups;
  std::optional<LogLevel> loglevel;
  std::optional<std::string> pidfile;
  std::optional<std::string> identifier;
  std::optional<std::string> childlogdir;
  std::optional<bool> nocleanup;
  std::optional<std::int64_t> minfds;
  std::optional<bool> strip_ansi;
  std::optional<std::int64_t> minprocs;
};

/// Everything loading found: a config when there were no errors, and every error otherwise.
struct ConfigLoad {
  std::optional<AgentConfig> config;
  std::vector<ConfigError> errors;
};

/// Reads `path` (as given by the user), its includes, and builds the AgentConfig. All errors
/// are collected (not only the first). Never throws; never touches anything but `host`.
ConfigLoad load_config(const std::string& path, const ConfigOverrides& overrides,
                       ConfigHost& host);

}  // namespace zagent
