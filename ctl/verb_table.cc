// The verb table. The help texts are supervisorctl's help_* methods, verbatim (spec/ctl.md §8);
// zctl's own verbs (why, crashes, top, gpu, wait, health) come last.
#include "ctl/verb_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "ctl/render.h"

namespace zagent::ctl {
namespace {

// clang-format off
// name, help, listed by `help`, takes start's options, handler
constexpr Verb kVerbs[] = {
    {"help",
         "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>\n",
     false, false, verb_help},
    {"EOF",
         "",
     false, false, verb_quit},
    {"quit",
         "quit\tExit the supervisor shell.\n",
     true, false, verb_quit},
    {"exit",
         "exit\tExit the supervisor shell.\n",
     true, false, verb_quit},
    {"status",
         "status <name>\t\tGet status for a single process\n"
         "status <gname>:*\tGet status for all processes in a group\n"
         "status <name> <name>\tGet status for multiple named processes\n"
         "status\t\t\tGet all process status info\n",
     true, false, verb_status},
    {"start",
         "start <name>\t\tStart a process\n"
         "start <gname>:*\t\tStart all processes in a group\n"
         "start <name> <name>\tStart multiple processes or groups\n"
         "start all\t\tStart all processes\n",
     true, true, verb_start},
    {"stop",
         "stop <name>\t\tStop a process\n"
         "stop <gname>:*\t\tStop all processes in a group\n"
         "stop <name> <name>\tStop multiple processes or groups\n"
         "stop all\t\tStop all processes\n",
     true, false, verb_stop},
    {"restart",
         "restart <name>\t\tRestart a process\n"
         "restart <gname>:*\tRestart all processes in a group\n"
         "restart <name> <name>\tRestart multiple processes or groups\n"
         "restart all\t\tRestart all processes\n"
         "Note: restart does not reread config files. For that, see reread and update.\n",
     true, true, verb_restart},
    {"signal",
         "signal <signal name> <name>\t\tSignal a process\n"
         "signal <signal name> <gname>:*\t\tSignal all processes in a group\n"
         "signal <signal name> <name> <name>\tSignal multiple processes or groups\n"
         "signal <signal name> all\t\tSignal all processes\n",
     true, false, verb_signal},
    {"pid",
         "pid\t\t\tGet the PID of supervisord.\n"
         "pid <name>\t\tGet the PID of a single child process by name.\n"
         "pid all\t\t\tGet the PID of every child process, one per line.\n",
     true, false, verb_pid},
    {"clear",
         "clear <name>\t\tClear a process' log files.\n"
         "clear <name> <name>\tClear multiple process' log files\n"
         "clear all\t\tClear all process' log files\n",
     true, false, verb_clear},
    {"tail",
         "tail [-f] <name> [stdout|stderr] (default stdout)\n"
         "Ex:\n"
         "tail -f <name>\t\tContinuous tail of named process stdout\n"
         "\t\t\tCtrl-C to exit.\n"
         "tail -100 <name>\tlast 100 *bytes* of process stdout\n"
         "tail <name> stderr\tlast 1600 *bytes* of process stderr\n",
     true, false, verb_tail},
    {"maintail",
         "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n"
         "maintail -100\tlast 100 *bytes* of supervisord main log file\n"
         "maintail\tlast 1600 *bytes* of supervisor main log file\n"
         "\n",
     true, false, verb_maintail},
    {"fg",
         "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit\n",
     true, false, verb_fg},
    {"reread",
         "reread \t\t\tReload the daemon's configuration files without add/remove\n",
     true, false, verb_reread},
    {"update",
         "update\t\t\tReload config and add/remove as necessary, and will restart affected "
         "programs\n"
         "update all\t\tReload config and add/remove as necessary, and will restart affected "
         "programs\n"
         "update <gname> [...]\tUpdate specific groups\n",
     true, false, verb_update},
    {"add",
         "add <name> [...]\tActivates any updates in config for process/group\n",
     true, false, verb_add},
    {"remove",
         "remove <name> [...]\tRemoves process/group from active config\n",
     true, false, verb_remove},
    {"avail",
         "avail\t\t\tDisplay all configured processes\n",
     true, false, verb_avail},
    {"version",
         "version\t\t\tShow the version of the remote supervisord process\n",
     true, false, verb_version},
    {"reload",
         "reload \t\tRestart the remote supervisord.\n",
     true, false, verb_reload},
    {"shutdown",
         "shutdown \tShut the remote supervisord down.\n",
     true, false, verb_shutdown},
    {"open",
         "open <url>\tConnect to a remote supervisord process.\n"
         "\t\t(for UNIX domain socket, use unix:///socket/path)\n",
     true, false, verb_open},
    // zctl's own verbs: they have help topics, but `help` keeps supervisorctl's index.
    {"why",
         "why <name>\t\tWhy a process last ended: cause, evidence, last output\n",
     false, false, verb_why},
    {"crashes",
         "crashes\t\t\tList the last 20 crashes of all processes, newest first\n"
         "crashes <name>\t\tList the last 20 crashes of a process\n"
         "crashes -n <N> [<name>]\tList the last N crashes (0: all that are kept)\n",
     false, false, verb_crashes},
    {"top",
         "top\t\t\tShow the resource use of every process: CPU, memory, threads\n"
         "top <name> [...]\tShow the resource use of the named processes or groups\n"
         "top --watch <secs>\tRedraw every <secs> seconds until Ctrl-C\n",
     false, false, verb_top},
    {"gpu",
         "gpu\t\t\tShow each GPU: memory, utilization, the programs using it\n",
     false, false, verb_gpu},
    {"wait",
         "wait <name>\t\tWait until a process is RUNNING and its health check passes\n"
         "wait <gname>:*\t\tWait for all processes in a group\n"
         "wait <name> <name>\tWait for multiple processes or groups\n"
         "wait all\t\tWait for all processes\n"
         "wait --timeout <secs> ...\tGive up after <secs> seconds (default 300, 0: look once)\n",
     false, false, verb_wait},
    {"health",
         "health\t\t\tShow the health check of every process: status, failures, last error\n"
         "health <name>\t\tShow the health check of a process and its last checks\n",
     false, false, verb_health},
};
// clang-format on

}  // namespace

std::span<const Verb> verb_table() { return kVerbs; }

const Verb* find_verb(std::string_view name) {
  const auto it = std::find_if(std::begin(kVerbs), std::end(kVerbs),
                               [&](const Verb& v) { return v.name == name; });
  return it == std::end(kVerbs) ? nullptr : &*it;
}

// The help functions of render.h: their texts are the table's.

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Verb& v : kVerbs) {
      if (v.listed) {
        out.emplace_back(v.name);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

std::string help_index() {
  constexpr std::string_view kHeader = "default commands (type help <topic>):";
  // supervisord compat: print_topics(header, cmds, 15, 80) columnizes into maxcol - 1.
  return fmt::format("\n{}\n{}\n{}\n", kHeader, std::string(kHeader.size(), '='),
                     columnize(command_names(), 79));
}

std::optional<std::string> help_topic(std::string_view topic) {
  const Verb* verb = find_verb(topic);
  if (verb == nullptr || verb->help.empty()) {
    return std::nullopt;
  }
  return std::string(verb->help);
}

}  // namespace zagent::ctl
