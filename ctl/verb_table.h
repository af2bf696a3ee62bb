// The one list of zctl's verbs: name, help text, options and handler of each. The dispatcher,
// `help` and the help texts printed after usage errors all read it. Internal to ctl/.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/commands.h"

namespace zagent::ctl {

/// zctl's options of start and restart.
struct StartOptions {
  bool wait = true;                                  ///< --wait (default) / --no-wait
  std::optional<std::chrono::milliseconds> timeout;  ///< --timeout SECS
};

/// One command line, after the verb and its options.
struct VerbCall {
  std::string_view arg;                   ///< the rest of the line, stripped (help, open)
  const std::vector<std::string>& words;  ///< `arg` split into words
  const StartOptions& start;              ///< start/restart's options; defaults for the others
};

struct Verb {
  std::string_view name;
  /// supervisorctl's help_<name> text, every line ending in `\n`; empty: no help topic.
  std::string_view help;
  /// Shown by `help` (supervisorctl lists the do_* methods that have a help_* method, but
  /// neither `help` nor `EOF`).
  bool listed = false;
  /// Takes --wait, --no-wait and --timeout SECS after the verb.
  bool start_options = false;
  Outcome (*run)(Session&, const VerbCall&) = nullptr;
};

/// Every verb, in the order of spec/ctl.md.
std::span<const Verb> verb_table();
/// The verb named `name` exactly; null when there is none.
const Verb* find_verb(std::string_view name);

// The handlers, one family per file.
// verbs_process.cc
Outcome verb_status(Session& s, const VerbCall& call);
Outcome verb_start(Session& s, const VerbCall& call);
Outcome verb_stop(Session& s, const VerbCall& call);
Outcome verb_restart(Session& s, const VerbCall& call);
Outcome verb_signal(Session& s, const VerbCall& call);
Outcome verb_pid(Session& s, const VerbCall& call);
Outcome verb_clear(Session& s, const VerbCall& call);
// verbs_logs.cc
Outcome verb_tail(Session& s, const VerbCall& call);
Outcome verb_maintail(Session& s, const VerbCall& call);
Outcome verb_fg(Session& s, const VerbCall& call);
// verbs_config.cc
Outcome verb_reread(Session& s, const VerbCall& call);
Outcome verb_update(Session& s, const VerbCall& call);
Outcome verb_add(Session& s, const VerbCall& call);
Outcome verb_remove(Session& s, const VerbCall& call);
Outcome verb_avail(Session& s, const VerbCall& call);
// verbs_agent.cc
Outcome verb_version(Session& s, const VerbCall& call);
Outcome verb_reload(Session& s, const VerbCall& call);
Outcome verb_shutdown(Session& s, const VerbCall& call);
Outcome verb_open(Session& s, const VerbCall& call);
Outcome verb_help(Session& s, const VerbCall& call);
Outcome verb_quit(Session& s, const VerbCall& call);
// verbs_crash.cc
Outcome verb_why(Session& s, const VerbCall& call);
Outcome verb_crashes(Session& s, const VerbCall& call);
// verbs_top.cc
Outcome verb_top(Session& s, const VerbCall& call);
// verbs_gpu.cc
Outcome verb_gpu(Session& s, const VerbCall& call);
// verbs_health.cc
Outcome verb_wait(Session& s, const VerbCall& call);
Outcome verb_health(Session& s, const VerbCall& call);

}  // namespace zagent::ctl
