#include "agent/daemon/daemon.h"
#include "agent/daemon/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "agent/config/config.h"
#include "agent/config/config_host.h"
#include "agent/crash/crash_record.h"
#include "agent/crash/crash_store.h"
#include "agent/logs/file_range.h"
#include "agent/logs/follow_registry.h"
#include "agent/logs/log_capture.h"
#include "agent/logs/main_log.h"
#include "agent/os/child_stdin.h"
#include "agent/os/oom_evidence.h"
#include "agent/daemon/gpu_setup.h"
#include "agent/health/health_monitor.h"
#include "agent/health/probes.h"
#include "agent/http/http_listener.h"
#include "agent/monitor/gpu_monitor.h"
#include "agent/monitor/resource_monitor.h"
#include "agent/os/proc_lineage.h"
#include "agent/os/smi_probe.h"
#include "agent/os/posix_spawner.h"
#include "agent/os/proc_sampler.h"
#include "agent/os/sha1.h"
#include "agent/os/snapshot_runner.h"
#include "agent/os/system_config_host.h"
#include "agent/os/system_file_probe.h"
#include "agent/process/supervisor.h"
#include "agent/rpc/methods.h"
#include "agent/rpc/server.h"
#include "common/config_search.h"
#include "common/pystr.h"

namespace zagent {
namespace {

namespace asio = boost::asio;
using namespace daemon_setup;  // NOLINT(google-build-using-namespace): the life's setup steps

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
/// How long the end of a life waits for the control connections to be answered and closed.
constexpr std::chrono::milliseconds kDrainGrace{500};


// --- one life of the agent (start .. shutdown or reload) --------------------------------------

enum class LifeEnd { Shutdown, Reload };

/// What a life's control plane needs from the agent (AgentControl), with the real OS.
class LifeControl;

class AgentLife {
 public:
  AgentLife(const AgentConfig& config, MainLog& log, Clock& clock, EnvironmentList env,
            const std::string& config_path, const ConfigOverrides& overrides, ConfigHost& host,
            int socket_fd, AccessPolicy policy, int inet_fd, AccessPolicy inet_policy);
  ~AgentLife();

  LifeEnd run() {
    wait_signal();
    // The handlers exist now: let the signals in (pending ones are delivered at once).
    const sigset_t handled = handled_signals();
    ::sigprocmask(SIG_UNBLOCK, &handled, nullptr);
    if (server_) {
      server_->start();
    }
    if (http_) {
      http_->start();
    }
    supervisor_.start();
    reap();  // a child may have exited before the signal handler was in place
    rearm_timer();
    if (!done()) {
      io_.run();
    }
    // Between two lives (reload) no handler exists: hold the signals until the next one.
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    return end_;
  }

  // ---- for LifeControl ----
  SupervisorState state() const {
    if (!supervisor_.shutting_down()) {
      return SupervisorState::Running;
    }
    return end_ == LifeEnd::Reload ? SupervisorState::Restarting : SupervisorState::Shutdown;
  }
  void request_end(LifeEnd end) {
    asio::post(io_, [this, end]() {
      if (supervisor_.shutting_down()) {
        return;
      }
      end_ = end;
      supervisor_.begin_shutdown();
      after_event();
    });
  }
  ConfigLoad reread() { return load_config(config_path_, overrides_, host_); }
  LogPaths auto_logs(const GroupConfig& group) { return create_auto_logs(supervisord_, {group}); }
  MainLog& main_log() { return log_; }
  LogCapture& capture() { return capture_; }
  ChildStdin& child_stdin() { return stdin_; }
  const CrashLog& crashes() const { return crashes_; }
  ResourceMonitor& monitor() { return monitor_; }
  GpuMonitor& gpu() { return *gpu_; }
  FollowRegistry& follows() { return follows_; }
  asio::io_context& io() { return io_; }

 private:
  static LogPaths prepare_logs(const AgentConfig& config) {
    if (!config.supervisord.nocleanup) {
      clean_auto_logs(config.supervisord);
    }
    return create_auto_logs(config.supervisord, config.groups);
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) {
        return;
      }
      on_signal(signo);
      if (!done()) {
        wait_signal();
      }
    });
  }

  void on_signal(int signo) {
    switch (signo) {
      case SIGCHLD:
        // supervisord compat: ServerOptions.handle_signal(), a debug line before the reaping.
        log_.log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
        reap();
        break;
      case SIGTERM:
      case SIGINT:
      case SIGQUIT:
        log_.log(LogLevel::Warn,
                 fmt::format("received {} indicating exit request", signal_name(signo)));
        supervisor_.begin_shutdown();
        break;
      case SIGHUP:
        if (supervisor_.shutting_down()) {
          log_.log(LogLevel::Warn,
                   "ignored SIGHUP indicating restart request (shutdown in progress)");
        } else {
          log_.log(LogLevel::Warn, "received SIGHUP indicating restart request");
          end_ = LifeEnd::Reload;
          supervisor_.begin_shutdown();
        }
        break;
      case SIGUSR2:
        // supervisord compat: both lines go to the file being closed.
        log_.log(LogLevel::Info, "received SIGUSR2 indicating log reopen request");
        log_.log(LogLevel::Info, "supervisord logreopen");
        (void)log_.reopen();
        capture_.reopen_all();
        break;
      default:
        break;
    }
    after_event();
  }

  /// After an RPC call: only when it touched a process (a status query must not cost a pass
  /// over every process).
 public:
  void after_call() {
    if (supervisor_.take_changed() || supervisor_.shutting_down()) {
      after_event();
    }
  }

  /// After anything that may have changed a deadline or ended the life.
  void after_event() {
    rearm_timer();
    if (done()) {
      finish();
    }
  }


 private:
  /// The life is over: answer what is queued on the control socket, then leave the loop.
  void finish() {
    if (finishing_) {
      return;
    }
    finishing_ = true;
    timer_.cancel();
    // Both listeners drain at once; the loop ends when the later one is done.
    auto pending = std::make_shared<int>((server_ ? 1 : 0) + (http_ ? 1 : 0));
    if (*pending == 0) {
      io_.stop();
      return;
    }
    const auto drained = [this, pending]() {
      if (--*pending == 0) {
        io_.stop();
      }
    };
    if (server_) {
      server_->drain(kDrainGrace, drained);
    }
    if (http_) {
      http_->drain(kDrainGrace, drained);
    }
  }

  /// waitpid until nothing is left: one SIGCHLD may stand for several exits.
  void reap() {
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) {
        break;
      }
      if (snapshot_runner_.on_child_exit(pid, status)) {
        continue;  // a snapshot_command's shell
      }
      if (gpu_setup_.smi != nullptr && gpu_setup_.smi->on_child_exit(pid, status)) {
        continue;  // nvidia-smi's shell
      }
      if (health_prober_.on_child_exit(pid, status)) {
        continue;  // a cmd: health check
      }
      // What the child wrote before it died goes to its log before its exit is handled.
      capture_.drain(pid);
      stdin_.close(pid);
      if (!supervisor_.on_child_exit(pid, status)) {
        // A descendant reparented to us (we are a child subreaper) or a stray child.
        log_.log(LogLevel::Info,
                 fmt::format("reaped unknown pid {} ({})", pid,
                             describe_exit(exit_info_from_wait_status(status, {}, {}))));
      }
    }
  }

  void rearm_timer() {
    if (finishing_) {
      return;
    }
    auto next = supervisor_.next_wakeup();
    if (const auto sample = monitor_.next_wakeup(); sample && (!next || *sample < *next)) {
      next = sample;
    }
    if (const auto gpu = gpu_->next_wakeup(); gpu && (!next || *gpu < *next)) {
      next = gpu;
    }
    if (const auto check = health_->next_wakeup(); check && (!next || *check < *next)) {
      next = check;
    }
    if (!next) {
      timer_.cancel();  // nothing is due: no wake-up at all
      return;
    }
    timer_.expires_at(*next);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) {
        return;  // cancelled or re-armed
      }
      supervisor_.tick();
      monitor_.tick();
      gpu_->tick();
      health_->tick();
      after_event();
    });
  }

  bool done() const { return supervisor_.shutdown_complete(); }

  MainLog& log_;                // the main log (outlives reloads)
  std::string config_path_;     // for reloadConfig
  ConfigOverrides overrides_;   // command-line values, applied again on reloadConfig
  ConfigHost& host_;            // users, environment, files for reloadConfig
  SupervisordConfig supervisord_;  // this life's [supervisord] (AUTO log names)
  asio::io_context io_;         // the one event loop
  LogCapture capture_;          // children's output pipes -> their logs
  ChildStdin stdin_;            // children's stdin pipes (sendProcessStdin, fg)
  PosixSpawner spawner_;        // fork/exec and kill
  Supervisor supervisor_;       // the process table
  CrashLog crashes_;            // crash records (zagent.getCrashRecords)
  CrashStore crash_store_;      // records and snapshots on disk
  PosixSnapshotRunner snapshot_runner_;        // snapshot_command
  std::unique_ptr<SystemOomEvidence> oom_;     // OOM evidence (null: crash_attribution=false)
  SystemTreeSampler sampler_;   // /proc, for the resource monitor
  ResourceMonitor monitor_;     // samples, trends, resource and output guards
  SystemProcessLineage lineage_;  // /proc, for the GPU monitor's attribution
  GpuSetup gpu_setup_;          // the GPU probe (NVML, nvidia-smi or none)
  std::unique_ptr<GpuMonitor> gpu_;  // GPU readings, guards and the start gate
  AsioHealthProber health_prober_;   // HTTP, TCP and cmd: checks
  std::unique_ptr<HealthMonitor> health_;  // checks on the timer, gating, liveness restarts
  asio::signal_set signals_;    // CHLD, TERM, INT, QUIT, HUP (reload), USR2 (reopen logs)
  asio::steady_timer timer_;    // armed at the earliest deadline only
  LifeEnd end_ = LifeEnd::Shutdown;
  bool finishing_ = false;      // finish() ran: draining the control socket
  std::unique_ptr<LifeControl> control_;  // AgentControl for the methods
  std::unique_ptr<RpcMethods> methods_;   // the method table
  FollowRegistry follows_;                // tail -f / maintail -f: who follows which log
  std::unique_ptr<RpcServer> server_;     // the control socket (null without one)
  std::unique_ptr<http::HttpListener> http_;  // [inet_http_server] (null without one)
};

class LifeControl final : public AgentControl {
 public:
  explicit LifeControl(AgentLife& life) : life_(life) {}

  SupervisorState state() const override { return life_.state(); }
  void request_shutdown() override { life_.request_end(LifeEnd::Shutdown); }
  void request_restart() override { life_.request_end(LifeEnd::Reload); }
  ConfigLoad reread_config() override { return life_.reread(); }
  LogPaths create_auto_logs(const GroupConfig& group) override { return life_.auto_logs(group); }
  std::string main_log_path() const override {
    const std::string& p = life_.main_log().path();
    return p == kSyslogTarget ? std::string() : p;
  }
  Result<void> clear_main_log() override {
    auto cleared = life_.main_log().clear();
    if (cleared) {
      life_.follows().publish_truncated(life_.main_log().path());
    }
    return cleared;
  }
  const FileProbe& file_probe() const override { return probe_; }
  std::optional<std::string> agent_path() const override {
    const char* p = std::getenv("PATH");
    return p != nullptr ? std::optional<std::string>(p) : std::nullopt;
  }
  pid_t agent_pid() const override { return ::getpid(); }
  void post(std::function<void()> work) override { asio::post(life_.io(), std::move(work)); }
  void changed() override { life_.after_call(); }

  Result<std::int64_t> file_size(const std::string& path) override {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
      return errno_error("stat " + path, errno);
    }
    return static_cast<std::int64_t>(st.st_size);
  }
  Result<std::string> read_file(const std::string& path, std::int64_t offset,
                                std::int64_t length) override {
    return read_file_range(path, offset, length);
  }
  Result<void> clear_log(const std::string& path) override {
    return life_.capture().clear(path);
  }
  std::optional<std::string> log_error(const std::string& path) const override {
    if (auto error = life_.capture().error_of(path)) {
      return error->message;
    }
    return std::nullopt;
  }
  Result<void> write_stdin(pid_t pid, std::string_view data) override {
    return life_.child_stdin().write(pid, data);
  }
  const CrashLog* crash_log() const override { return &life_.crashes(); }
  ResourceMonitor* resource_monitor() override { return &life_.monitor(); }
  GpuMonitor* gpu_monitor() override { return &life_.gpu(); }

 private:
  AgentLife& life_;
  SystemFileProbe probe_;
};

AgentLife::AgentLife(const AgentConfig& config, MainLog& log, Clock& clock, EnvironmentList env,
                     const std::string& config_path, const ConfigOverrides& overrides,
                     ConfigHost& host, int socket_fd, AccessPolicy policy, int inet_fd,
                     AccessPolicy inet_policy)
    : log_(log),
      config_path_(config_path),
      overrides_(overrides),
      host_(host),
      supervisord_(config.supervisord),
      capture_(io_, log, config.supervisord.strip_ansi),
      stdin_(io_),
      spawner_([this](const SpawnSpec& spec, pid_t pid, const PosixSpawner::Pipes& pipes) {
        capture_.attach(spec, pid, pipes.stdout_fd, pipes.stderr_fd);
        stdin_.attach(pid, pipes.stdin_fd);
      }),
      supervisor_(config, prepare_logs(config), std::move(env), spawner_, clock, log),
      crash_store_(io_, crashes_, log,
                   CrashStore::Options{config.supervisord.crash_dir,
                                       static_cast<std::size_t>(config.supervisord.crash_keep)}),
      snapshot_runner_(io_),
      monitor_(MonitorOptions{config.supervisord.sample_interval,
                              config.supervisord.memory_trend_window},
               supervisor_, sampler_, clock, log),
      health_prober_(io_),
      signals_(io_, SIGCHLD, SIGTERM, SIGINT),
      timer_(io_) {
  for (const int signo : {SIGQUIT, SIGHUP, SIGUSR2}) {
    signals_.add(signo);
  }
  const char* path_env = std::getenv("PATH");
  gpu_setup_ = open_gpu_probe(io_, config.supervisord, path_env != nullptr ? path_env : "", log);
  gpu_ = std::make_unique<GpuMonitor>(
      GpuOptions{config.supervisord.gpu_sample_interval}, gpu_setup_.probe.get(),
      gpu_setup_.off_reason, supervisor_, lineage_, spawner_, clock, log,
      [this]() { after_event(); });
  supervisor_.set_spawn_gate(gpu_.get());
  health_ = std::make_unique<HealthMonitor>(supervisor_, health_prober_, clock, log,
                                            [this]() { after_event(); });
  supervisor_.set_spawn_listener([this](const ProcessEntry& entry) { health_->on_spawned(entry); });
  if (config.supervisord.crash_attribution) {
    crash_store_.load();
    OomEvidenceOptions oom;
    oom.use_cgroups = ::geteuid() == 0;
    oom_ = std::make_unique<SystemOomEvidence>(oom);
    log_.log(LogLevel::Debug, "crash evidence: " + oom_->describe());
    supervisor_.set_crash_ports(
        {oom_.get(), &crash_store_, &snapshot_runner_, &monitor_, gpu_.get()});
  }
  // restart_on_output: a match is acted on after the read that found it (never inside it).
  supervisor_.set_output_trigger(
      [this](const std::string& group, const std::string& name, const OutputMatch& match) {
        asio::post(io_, [this, group, name, match]() {
          monitor_.on_output_match(group, name, match);
          after_event();
        });
      });
  control_ = std::make_unique<LifeControl>(*this);
  methods_ = std::make_unique<RpcMethods>(supervisor_, *control_, clock, config);
  if (socket_fd >= 0) {
    server_ = std::make_unique<RpcServer>(io_, socket_fd, *methods_, std::move(policy), follows_,
                                          [this]() { return control_->main_log_path(); });
  }
  if (inet_fd >= 0) {
    http_ = std::make_unique<http::HttpListener>(io_, inet_fd, *methods_, std::move(inet_policy),
                                                 follows_,
                                                 [this]() { return control_->main_log_path(); });
  }
  if (server_ || http_) {
    // tail -f and maintail -f: data is pushed as it is written, never polled.
    capture_.set_listeners(
        [this](const std::string& path, std::string_view data) { follows_.publish(path, data); },
        [this](const std::string& path) { follows_.publish_truncated(path); });
    log_.set_listener([this](std::string_view record) { follows_.publish(log_.path(), record); });
  }
}

AgentLife::~AgentLife() {
  supervisor_.set_spawn_listener({});
  log_.set_listener({});
  capture_.set_listeners({}, {});
  http_.reset();
  server_.reset();
  methods_.reset();
}

}  // namespace

int run_daemon(const std::string& config_path, const AgentCli& cli, const std::string& argv0) {
  const sigset_t handled = handled_signals();
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  // A log write past a file size limit must fail with EFBIG (reported, output dropped), and
  // one to a pipe nobody reads with EPIPE, instead of killing the agent. Children get the
  // default dispositions back before exec.
  ::signal(SIGXFSZ, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  SystemClock clock;
  SystemConfigHost host;
  const EnvironmentList agent_env = host.environment();
  std::unique_ptr<MainLog> log;
  bool daemonized = false;

  for (bool first_life = true;; first_life = false) {
    auto load = load_config(config_path, cli.overrides, host);
    if (!load.config) {
      for (const auto& e : load.errors) {
        fmt::print(stderr, "Error: {}\n", e.render());
      }
      fmt::print(stderr, "For help, use {} -h\n", argv0);
      return kExitUsage;
    }
    const AgentConfig config = std::move(*load.config);
    const auto& sd = config.supervisord;

    auto setup = process_setup(sd, first_life, host);
    if (!setup) {
      return usage_error(argv0, setup.error().message);
    }
    std::vector<ConfigNote> notes = std::move(*setup);
    notes.insert(notes.end(), config.notes.begin(), config.notes.end());

    MainLogOptions log_options;
    log_options.path = sd.logfile;
    log_options.maxbytes = sd.logfile_maxbytes;
    log_options.backups = sd.logfile_backups;
    log_options.level = sd.loglevel;
    log_options.also_stdout = sd.nodaemon && !sd.silent && !daemonized;
    if (log) {
      log.reset();  // reload: reopened (appended), with this life's settings
    }
    auto opened = MainLog::open(log_options, clock, std::move(notes));
    if (!opened) {
      return usage_error(argv0, opened.error().message);
    }
    log = std::move(*opened);

    const auto log_interfaces = [&]() {
      for (const auto& name : config.rpcinterfaces) {
        log->log(LogLevel::Info, fmt::format("RPC interface '{}' initialized", name));
      }
    };
    // supervisord compat: make_http_servers opens [inet_http_server] before
    // [unix_http_server], and logs the interfaces and the missing login after each.
    int inet_fd = -1;
    AccessPolicy inet_policy;
    if (config.inet_http_server) {
      auto fd = http::open_inet_socket(*config.inet_http_server);
      if (!fd) {
        return usage_error(argv0, fd.error().message);
      }
      inet_fd = *fd;
      log_interfaces();
      inet_policy.username = config.inet_http_server->username;
      inet_policy.password = config.inet_http_server->password;
      inet_policy.sha1_hex = sha1_hex;
      if (inet_policy.username.empty()) {
        log->log(LogLevel::Critical,
                 "Server 'inet_http_server' running without any HTTP authentication checking");
      }
    }
    if (!config.inet_http_server || config.unix_http_server) {
      log_interfaces();
    }
    const UnixHttpServerConfig server = control_socket_config(config);
    int socket_fd = -1;
    {
      auto fd = open_control_socket(server);
      if (!fd) {
        if (inet_fd >= 0) {
          ::close(inet_fd);
        }
        return usage_error(argv0, fd.error().message);
      }
      socket_fd = *fd;
      if (config.unix_http_server && server.username.empty()) {
        log->log(LogLevel::Critical,
                 "Server 'unix_http_server' running without any HTTP authentication checking");
      }
    }
    AccessPolicy policy = access_policy(server);

    if (!sd.nodaemon && !daemonized) {
      if (auto d = daemonize(sd, *log); !d) {
        log->log(LogLevel::Critical, d.error().message);
        return kExitRuntime;
      }
      daemonized = true;
    }
    // Descendants that escape their process group are reparented to us, not to init, so
    // that they can be reaped and found.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (!write_pidfile(sd.pidfile)) {
      log->log(LogLevel::Critical, "could not write pidfile " + sd.pidfile);
    }
    log->log(LogLevel::Info, fmt::format("supervisord started with pid {}", ::getpid()));

    LifeEnd end;
    {
      // The control socket stays bound (so a second agent is refused) while this life runs.
      AgentLife life(config, *log, clock, agent_env, config_path, cli.overrides, host, socket_fd,
                     std::move(policy), inet_fd, std::move(inet_policy));
      end = life.run();
    }
    if (inet_fd >= 0) {
      ::close(inet_fd);
    }
    if (socket_fd >= 0) {
      ::close(socket_fd);
      ::unlink(server.file.c_str());
    }
    ::unlink(sd.pidfile.c_str());
    if (end == LifeEnd::Shutdown) {
      return kExitOk;
    }
  }
}

}  // namespace zagent
