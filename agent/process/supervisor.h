// The supervisor: owns the process table, feeds events to the per-process state machine and
// carries out its actions through the ports (Spawner, Clock, LogSink). No system calls of its
// own; the daemon connects it to the real OS. Runs on the event-loop thread only.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "agent/config/config.h"
#include "agent/crash/output_tail.h"
#include "agent/crash/ports.h"
#include "agent/health/health_state.h"
#include "agent/process/clock.h"
#include "agent/process/log_sink.h"
#include "agent/process/process_fsm.h"
#include "agent/process/spawn_gate.h"
#include "agent/process/spawner.h"

namespace zagent {

/// One process under supervision: its config, its state, and where its output goes.
struct ProcessEntry {
  ProcessConfig config;
  ProcessRecord record;
  std::string stdout_path;  ///< resolved log file ("" = none); AUTO already turned into a path
  std::string stderr_path;
  /// Descendants seen when a stop or kill signal went out; whichever is still alive once the
  /// process is reaped is killed, so a stop leaves no survivor (even after setsid()).
  std::vector<ProcessId> stop_descendants;
  /// The last output of each channel (crash records); shared with the log capture.
  std::shared_ptr<OutputTail> tail = std::make_shared<OutputTail>();
  OomBaseline oom_baseline;  ///< the OOM counters at the last spawn
  /// snapshot_command's output for the crash record of this stop; nullopt = it did not run.
  std::optional<std::string> snapshot_output;
  /// Spawns in this agent life; the restarts are all but the first.
  std::int64_t spawns = 0;
  /// restart_on_output's matcher, fed by the log capture (null without the key).
  std::shared_ptr<OutputWatch> output_watch;
  /// The CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES assignments of the child's environment
  /// (`K=V`), found once when the GPU monitor first needs them (the config fixes them).
  mutable std::optional<std::vector<std::string>> gpu_visibility;
  /// healthcheck: this run's status and the last checks (the health monitor's).
  HealthState health;
};

/// A restart_on_output match of one process, reported through set_output_trigger().
using OutputTrigger =
    std::function<void(const std::string& group, const std::string& name, const OutputMatch&)>;

/// supervisord's namespec of a process: `name`, or `group:name` when they differ.
std::string namespec_of(const ProcessConfig& config);

/// Where the supervisor sends what crash attribution needs; null = that part is off.
struct CrashPorts {
  OomEvidence* oom = nullptr;
  CrashSink* sink = nullptr;
  SnapshotRunner* runner = nullptr;
  ResourceSource* resources = nullptr;
  GpuStateSource* gpu = nullptr;
};

struct GroupEntry {
  std::string name;
  std::int64_t priority = 999;
  bool from_group_section = false;  ///< a [group:x] section (not a homogeneous program)
  std::vector<ProcessEntry> processes;  ///< in config order
};

/// The log file a process channel writes to: (group, process, "stdout"/"stderr") -> path.
/// The daemon creates AUTO files in childlogdir and fills this in; missing = config's path.
using LogPaths = std::map<std::tuple<std::string, std::string, std::string>, std::string>;

/// The environment of a child, layered as supervisord does (spec/states.md §7): the agent's
/// environment, then SUPERVISOR_ENABLED/SERVER_URL/PROCESS_NAME/GROUP_NAME, then
/// [supervisord] environment=, then the program's environment= (later wins).
std::vector<std::string> child_environment(const EnvironmentList& agent_env,
                                           const EnvironmentList& supervisord_env,
                                           const ProcessConfig& process,
                                           const std::string& server_url);

/// The URL children find in SUPERVISOR_SERVER_URL when their serverurl is AUTO.
std::string agent_server_url(const AgentConfig& config);

/// Whether stopping `config`'s program also kills the descendants that left its process
/// group (setsid), once the program is gone: only where the config asks for the group
/// (stopasgroup, killasgroup) or for the tree (killastree).
bool stop_takes_the_tree(const ProcessConfig& config);

/// Why add_group(), remove_group() or update_group() left the process table as it was.
enum class GroupRefusal {
  AlreadyExists,  ///< add_group: a group of that name is active
  NotFound,       ///< remove_group, update_group: no active group of that name
  NotStopped,     ///< a process to remove or replace is not in a stopped state
};
/// The table changed (a value), or why not.
using GroupChange = boost::system::result<void, GroupRefusal>;

class Supervisor {
 public:
  Supervisor(const AgentConfig& config, const LogPaths& log_paths, EnvironmentList agent_env,
             Spawner& spawner, Clock& clock, LogSink& log);

  /// The autostart pass: every process with autostart=true that never ran is started, groups
  /// in ascending priority, all in this one call (no waiting for RUNNING).
  void start();

  /// A child was reaped (called by the daemon's waitpid loop). Returns false if the pid is
  /// not one of ours (the caller logs `reaped unknown pid`).
  bool on_child_exit(pid_t pid, int wait_status);

  /// Delivers DeadlineReached to every process whose wake-up time has come, and moves the
  /// ordered shutdown on. Call when the timer armed at next_wakeup() fires.
  void tick();

  /// The earliest time tick() has work to do; nullopt = nothing is timed (no wake-up).
  std::optional<SteadyTime> next_wakeup() const;

  /// Starts the ordered shutdown (spec/states.md §5): BACKOFF -> FATAL, then groups in
  /// descending priority, one group at a time. Idempotent.
  void begin_shutdown();
  bool shutting_down() const { return shutting_down_; }
  /// True once shutdown was begun and every process is in a stopped state.
  bool shutdown_complete() const;

  /// Operator start/stop of one process (RPC layer, later): the FSM's verdict.
  FsmResult<void> start_process(const std::string& group, const std::string& name);
  FsmResult<void> stop_process(const std::string& group, const std::string& name);

  /// `signal` RPC for one process: the FSM's verdict (NOT_RUNNING outside STARTING, RUNNING,
  /// STOPPING; FAILED when kill() fails).
  FsmResult<void> signal_process(const std::string& group, const std::string& name, int signo);

  /// A guardian's restart (RestartRequested): the FSM's verdict (NOT_RUNNING outside RUNNING
  /// or while a restart is under way; BAD_NAME for an unknown process).
  FsmResult<void> guardian_restart(const std::string& group, const std::string& name,
                                   const RestartRequested& request);

  /// Called after every state change (the StateChanged action), once the change is complete.
  /// The observer must not change the process table from inside the call (post the work).
  using Observer = std::function<void(const ProcessEntry&, const StateChanged&)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  /// Connects crash attribution (evidence, records, snapshot_command). Without it the causes
  /// still come from the wait status, and nothing is recorded.
  void set_crash_ports(CrashPorts ports) { crash_ = ports; }

  /// Called after each successful spawn, once the machine has the pid (the health monitor
  /// schedules the first check there). Must not change the process table.
  using SpawnListener = std::function<void(const ProcessEntry&)>;
  void set_spawn_listener(SpawnListener listener) { spawn_listener_ = std::move(listener); }

  /// The gate asked before each spawn (null = every spawn goes at once).
  void set_spawn_gate(SpawnGate* gate) { gate_ = gate; }
  /// Asks the gate again for every process whose spawn it holds (STARTING, no child): the
  /// gate's figures changed or one of its deadlines passed.
  void recheck_gates();

  /// A health check of `group:name` finished (the health monitor). Ignored (false) when the
  /// process is gone or `pid` is no longer its child; otherwise kept in the entry's health and,
  /// in STARTING, handed to the machine (HealthChecked), which may enter RUNNING.
  bool health_checked(const std::string& group, const std::string& name, pid_t pid,
                      CheckRecord check);

  /// The processes that depends_on holds, with why (`waiting for db (STARTING)`); nullopt
  /// when every dependency of `entry` is RUNNING and, if it has a check, passing.
  std::optional<std::string> dependency_wait(const ProcessEntry& entry) const;

  /// Where restart_on_output matches go. Called from the log capture's read: the receiver
  /// must not change the process table from inside the call (post the work).
  void set_output_trigger(OutputTrigger trigger) { *output_trigger_ = std::move(trigger); }

  // ---- the process table changes of reloadConfig/addProcessGroup/update (never during a
  // shutdown: the callers refuse with SHUTDOWN_STATE first) ----

  /// Adds a group (its processes STOPPED, never started), in (priority, name) order, then
  /// runs the autostart pass for it. `log_paths` holds its AUTO files. Refused with
  /// AlreadyExists if a group of that name is active.
  GroupChange add_group(const GroupConfig& group, const LogPaths& log_paths);
  /// Removes a group whose processes are all in a stopped state. Refused with NotFound if
  /// there is no such group, NotStopped if one of its processes is not stopped.
  GroupChange remove_group(const std::string& name);
  /// Replaces a group's config in place (zagent's update): a process whose config is
  /// unchanged keeps its entry (state, pid, logs); a changed or new one gets a fresh entry
  /// with the paths in `log_paths`; a removed one goes. Changed and removed processes must be
  /// in a stopped state (NotStopped otherwise, and nothing changes); NotFound if no such group
  /// is active. Then the autostart pass runs for the group.
  GroupChange update_group(const GroupConfig& group, const LogPaths& log_paths);
  /// The group's config as active now (for reloadConfig's comparison).
  std::optional<GroupConfig> group_config(const std::string& name) const;

  /// True if an event was delivered or the table changed since the last call (then the
  /// caller re-arms its timer); cheap, unlike next_wakeup() with many processes.
  bool take_changed() { return std::exchange(changed_, false); }

  const std::vector<GroupEntry>& groups() const { return groups_; }
  /// The environment `entry`'s child gets (child_environment()).
  std::vector<std::string> environment_of(const ProcessEntry& entry) const {
    return child_environment(agent_env_, supervisord_.environment, entry.config, server_url_);
  }
  const GroupEntry* find_group(const std::string& name) const;
  const ProcessEntry* find(const std::string& group, const std::string& name) const;

 private:
  /// Runs one event through the FSM and carries out the actions (spawning feeds its result
  /// back as a further event).
  FsmResult<void> deliver(ProcessEntry& entry, const Event& event);
  FsmResult<void> deliver_now(ProcessEntry& entry, const Event& event);
  void perform(ProcessEntry& entry, const Action& action);
  void spawn(ProcessEntry& entry);
  void spawn_now(ProcessEntry& entry);
  void remember_descendants(ProcessEntry& entry, pid_t pid);
  void kill_leftovers(ProcessEntry& entry);
  void record_crash(ProcessEntry& entry, const RecordCrash& crash);
  void run_snapshot_command(ProcessEntry& entry, pid_t pid);
  void advance_shutdown();
  void plan_shutdown();
  void report_dying();
  void after_deliver();
  ProcessEntry make_entry(const GroupConfig& group, const ProcessConfig& process,
                          const LogPaths& log_paths) const;
  GroupEntry make_group(const GroupConfig& group, const LogPaths& log_paths) const;
  void autostart(GroupEntry& group);
  void reindex();
  Now now() const;

  SupervisordConfig supervisord_;        // [supervisord] values (environment, identifier)
  std::string server_url_;               // default SUPERVISOR_SERVER_URL
  EnvironmentList agent_env_;            // the agent's own environment at startup
  Spawner& spawner_;                     // forks and signals children
  Clock& clock_;                         // the only source of time
  LogSink& log_;                         // the main log
  std::vector<GroupEntry> groups_;       // ascending (priority, name), as the config
  std::map<pid_t, ProcessEntry*> by_pid_;  // live children -> their entry (see reindex())
  Observer observer_;                    // state changes, for RPC waiters
  SpawnListener spawn_listener_;         // new children (health checks)
  CrashPorts crash_;                     // crash attribution (all null = off)
  SpawnGate* gate_ = nullptr;            // asked before each spawn (null = none)
  // restart_on_output matches; shared with every entry's OutputWatch
  std::shared_ptr<OutputTrigger> output_trigger_ = std::make_shared<OutputTrigger>();
  bool changed_ = false;                 // see take_changed()
  bool signal_request_ = false;          // inside signal_process()
  std::optional<std::string> signal_error_;  // kill() failure seen inside signal_process()
  bool shutting_down_ = false;           // begin_shutdown() was called
  std::optional<SteadyTime> next_die_report_;  // next `waiting for ... to die` line
  // The shutdown's waves (set once): each is stopped once every earlier one is down. Without
  // depends_on a wave is a group, in descending priority; a dependent's wave comes before
  // its dependencies' (plan_shutdown()).
  std::vector<std::vector<ProcessEntry*>> shutdown_waves_;
  std::size_t shutdown_cursor_ = 0;  // first wave not yet down
  bool has_dependencies_ = false;    // some process has depends_on (see reindex())
  int delivering_ = 0;               // deliver() calls under way (nested)
  bool recheck_pending_ = false;     // a dependency may have become ready: recheck_gates()
  bool rechecking_ = false;          // inside recheck_gates()
};

}  // namespace zagent
