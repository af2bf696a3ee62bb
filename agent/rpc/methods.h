// The control plane's methods: supervisord 4.2.5's XML-RPC API (spec/rpc.md) plus the
// `zagent.*` extensions, as functions from JSON parameters to a JSON result or a fault.
// Independent of the wire: the JSON-RPC server (rpc/server) and a later XML-RPC front call the
// same methods. No sockets and no system calls: the agent is reached through AgentControl and
// the Supervisor, so every method is tested with fakes. RpcMethods is the facade over the
// registry (rpc/registry.h), the context (rpc/context.h) and the families that fill the
// registry (rpc/method_families.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "agent/config/config.h"
#include "agent/process/command.h"
#include "agent/process/supervisor.h"
#include "agent/rpc/context.h"
#include "agent/rpc/registry.h"
#include "common/process_state.h"
#include "common/protocol.h"

namespace zagent {

class CrashLog;
class ResourceMonitor;
class GpuMonitor;

/// What the methods need from the agent besides the process table. The daemon implements it
/// with the real OS; tests with a fake.
class AgentControl {
 public:
  virtual ~AgentControl() = default;

  /// RUNNING, or SHUTDOWN / RESTARTING once a shutdown or reload has begun.
  virtual SupervisorState state() const = 0;
  /// Begin the shutdown / the reload after the current call has been answered.
  virtual void request_shutdown() = 0;
  virtual void request_restart() = 0;
  /// Reads the config file again (reloadConfig).
  virtual ConfigLoad reread_config() = 0;
  /// Creates the AUTO log files of a group that becomes active.
  virtual LogPaths create_auto_logs(const GroupConfig& group) = 0;
  /// The main log file's path; empty when there is no file (syslog).
  virtual std::string main_log_path() const = 0;
  /// Deletes and reopens the main log (clearLog).
  virtual Result<void> clear_main_log() = 0;
  /// The file system, for the command check of startProcess.
  virtual const FileProbe& file_probe() const = 0;
  /// The agent's own PATH, for the command search (nullopt when unset).
  virtual std::optional<std::string> agent_path() const = 0;
  virtual pid_t agent_pid() const = 0;
  /// Runs `work` on the loop after the current handler returns.
  virtual void post(std::function<void()> work) = 0;
  /// A call may have changed the process table or a deadline: re-arm the timer, and end
  /// the life if a shutdown has completed.
  virtual void changed() = 0;

  // ---- log files (read as they are on disk) ----
  /// The file's size; NotFound if it does not exist.
  virtual Result<std::int64_t> file_size(const std::string& path) = 0;
  /// Up to `length` bytes from `offset` (fewer at the end of the file).
  virtual Result<std::string> read_file(const std::string& path, std::int64_t offset,
                                        std::int64_t length) = 0;
  /// Empties a child's log (clearProcessLogs): the open log is deleted and reopened empty,
  /// a file no child writes now is emptied in place.
  virtual Result<void> clear_log(const std::string& path) = 0;
  /// Why the child log at `path` cannot be written now (disk full, no access), if it can't.
  virtual std::optional<std::string> log_error(const std::string& path) const = 0;

  // ---- stdin ----
  /// Queues `data` for the stdin of the child `pid` (sendProcessStdin, fg). NotFound when
  /// its stdin is closed (the child closed it, or it is gone): the method's NO_FILE.
  virtual Result<void> write_stdin(pid_t pid, std::string_view data) = 0;

  // ---- crash records ----
  /// The crash records the agent keeps (zagent.getCrashRecords); null = none kept.
  virtual const CrashLog* crash_log() const { return nullptr; }
  /// The resource monitor (zagent.getProcessStats); null = none (tests without one).
  virtual ResourceMonitor* resource_monitor() { return nullptr; }
  /// The GPU monitor (zagent.getGpuStatus); null = none (tests without one).
  virtual GpuMonitor* gpu_monitor() { return nullptr; }
};

/// `pid 42, uptime 1:02:03`, `Exited too quickly ...`, `Nov 24 02:16 PM`, `Not started`, ''
/// (spec/ctl.md §3: supervisord's _interpretProcessInfo). `now_epoch` is the agent's current
/// time in whole epoch seconds; times are shown in local time (TZ applies).
std::string process_description(ProcessState state, const std::string& name, pid_t pid,
                                 std::int64_t start_epoch, std::int64_t stop_epoch,
                                 std::int64_t now_epoch, const std::string& spawn_error);

/// Python's timedelta text for a non-negative number of seconds: `0:00:07`, `1 day, 1:01:01`.
std::string timedelta_text(std::int64_t seconds);

/// reloadConfig's comparison of the new config with the active groups: names sorted.
struct ConfigDiff {
  std::vector<std::string> added;
  std::vector<std::string> changed;
  std::vector<std::string> removed;
};
ConfigDiff diff_groups(const std::vector<GroupConfig>& next,
                       const std::vector<GroupConfig>& active);

/// A namespec split as supervisord's split_namespec: `g:p` -> (g, p); `g:*` and `g:` -> (g,
/// nullopt); `p` -> (p, p).
struct NameSpec {
  std::string group;
  std::optional<std::string> process;
};
NameSpec split_namespec(std::string_view name);

/// The methods: owns the context and the registry, and fills the registry at construction.
class RpcMethods {
 public:
  /// `config` is the config the agent started this life with (the stored, last-read one).
  RpcMethods(Supervisor& supervisor, AgentControl& control, Clock& clock, AgentConfig config);
  ~RpcMethods();
  RpcMethods(const RpcMethods&) = delete;
  RpcMethods& operator=(const RpcMethods&) = delete;

  /// Runs one method. `params` is a JSON array (positional) or object (named). `reply` is
  /// called exactly once: at once, or later for a waiting start/stop. Never throws.
  void call(std::string_view method, const Json& params, RpcReply reply);

  /// True for a method of the table (the server intercepts its own zagent.* methods first).
  bool has_method(std::string_view method) const;
  /// Every method name, sorted (system.listMethods).
  std::vector<std::string> method_names() const;

  /// The log file of `name` (a process namespec) for `channel` ("stdout"/"stderr"): faults
  /// BAD_NAME (unknown or `g:*`), NO_FILE (no log for the channel). For zagent.followProcessLog.
  boost::system::result<std::string, RpcError> process_log_path(std::string_view name,
                                                                std::string_view channel) const;

  /// Re-checks every waiting call (after a state change). Normally driven by the supervisor's
  /// observer through AgentControl::post; public for the daemon's shutdown.
  void run_waiters();
  /// Number of calls waiting for a state change.
  std::size_t waiting_calls() const { return context_.waiters.size(); }

 private:
  MethodContext context_;    // what the handlers work on
  MethodRegistry registry_;  // every method, bound to context_
};

}  // namespace zagent
