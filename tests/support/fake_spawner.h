// A Spawner that records what the supervisor asked for and hands out fake pids; tests decide
// which spawns fail and report exits themselves (STYLE.md §7).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/process/spawner.h"

namespace zagent::test {

class FakeSpawner final : public Spawner {
 public:
  struct Signal {
    pid_t pid;
    int signo;
    bool to_group;
    friend bool operator==(const Signal&, const Signal&) = default;
  };

  Result<pid_t> spawn(const SpawnSpec& spec) override {
    spawned.push_back(spec);
    if (auto it = fail_next.find(spec.name); it != fail_next.end()) {
      std::string message = it->second;
      fail_next.erase(it);
      return fail(message);
    }
    const pid_t pid = next_pid++;
    pid_of[spec.name] = pid;
    return pid;
  }

  Result<void> send_signal(pid_t pid, int signo, bool to_group) override {
    signals.push_back({pid, signo, to_group});
    return {};
  }

  std::vector<ProcessId> descendants(pid_t root) override {
    auto it = descendants_of.find(root);
    return it == descendants_of.end() ? std::vector<ProcessId>{} : it->second;
  }

  bool signal_if_alive(const ProcessId& process, int signo) override {
    if (alive.count(process.pid) == 0) {
      return false;
    }
    signals.push_back({process.pid, signo, false});
    alive.erase(process.pid);
    return true;
  }

  std::map<pid_t, std::vector<ProcessId>> descendants_of;  ///< what descendants() reports
  std::set<pid_t> alive;  ///< descendants that signal_if_alive() finds alive
  std::vector<SpawnSpec> spawned;             ///< every spawn request, in order
  std::vector<Signal> signals;                ///< every signal sent, in order
  std::map<std::string, std::string> fail_next;  ///< name -> spawn error for its next spawn
  std::map<std::string, pid_t> pid_of;        ///< name -> pid of its latest spawn
  pid_t next_pid = 1000;
};

}  // namespace zagent::test
