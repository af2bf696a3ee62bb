// The OOM evidence port over the real OS: the kernel log (/dev/kmsg), the machine's
// /proc/vmstat counter, and one cgroup v2 leaf per program (memory.events). Adapter; the
// parsing is agent/crash/oom_parse's. Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "agent/crash/ports.h"

namespace zagent {

/// Where the sources are; tests point them at files in a temp dir.
struct OomEvidenceOptions {
  std::string kmsg_path = "/dev/kmsg";
  std::string vmstat_path = "/proc/vmstat";
  std::string self_cgroup_path = "/proc/self/cgroup";  ///< gives the agent's `0::/path`
  /// cgroup v2 mounts, tried in order: the first where the agent's cgroup has the memory
  /// controller is used.
  std::vector<std::string> cgroup_mounts = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
  /// Whether to make cgroup leaves at all (the daemon: only when running as root).
  bool use_cgroups = false;
  std::string leaf_prefix = "zagent-";  ///< the leaves are `<agent cgroup>/<prefix><name>`
};

class SystemOomEvidence final : public OomEvidence {
 public:
  /// Probes every source once: opens the kernel log at its end (kills logged before the agent
  /// started are not looked at), and with use_cgroups enables the memory controller for the
  /// agent's cgroup's children, moving the agent itself into `<prefix>agent` when the
  /// cgroup's "no internal processes" rule asks for it. Never fails: a source that is not
  /// available gives no evidence. Makes no other system call until asked.
  explicit SystemOomEvidence(OomEvidenceOptions options = {});
  ~SystemOomEvidence() override;
  SystemOomEvidence(const SystemOomEvidence&) = delete;
  SystemOomEvidence& operator=(const SystemOomEvidence&) = delete;

  /// Creates the program's leaf on first use; "" when cgroups are off or mkdir failed.
  std::string cgroup_procs_for(const std::string& program) override;
  OomBaseline at_spawn(const std::string& program) override;
  OomFacts at_exit(const std::string& program, const std::vector<pid_t>& pids,
                   const OomBaseline& baseline) override;
  /// Removes the program's leaf (left in place while a process is still in it).
  void forget(const std::string& program) override;

  /// What the probing found, one line for the daemon's debug log, e.g.
  /// `cgroup v2 leaves under /sys/fs/cgroup/x; kmsg open; vmstat readable`.
  std::string describe() const { return description_; }

  /// The leaf's directory name for a namespec: the prefix, then the name with every byte
  /// outside [A-Za-z0-9._-] written as %XX (so two names never share a leaf).
  static std::string leaf_name(const std::string& prefix, const std::string& program);

 private:
  struct SeenKill {
    KernelKill kill;
    std::uint64_t ts_usec = 0;
  };

  void probe_cgroups();
  void read_kmsg();
  void take_kmsg_line(std::string_view line);

  OomEvidenceOptions options_;  // the paths, as given
  int kmsg_fd_ = -1;            // /dev/kmsg, non-blocking, at its end; -1 when not open
  std::string kmsg_partial_;    // a line not yet ended (a regular file read in pieces)
  std::deque<SeenKill> kills_;  // the newest kernel OOM kills read, oldest first
  bool vmstat_readable_ = false;
  std::string cgroup_dir_;  // the agent's cgroup, where the leaves go; "" = cgroups off
  std::map<std::string, std::string> leaves_;  // program -> its leaf directory
  std::string description_;                    // describe()
};

}  // namespace zagent
