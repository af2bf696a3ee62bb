// What the verb families share: reading loosely typed replies, the result every verb returns
// (its failure and exit status), the connection check, and writing a result as supervisorctl's
// text or as one JSON document. Internal to ctl/; depends on commands.h and rpc_client.h only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/faults.h"
#include "ctl/commands.h"
#include "ctl/rpc_client.h"

namespace zagent::ctl {

// ---------------------------------------------------------------------------------------------
// Reading replies. A field of the wrong type reads as empty/0, as Python's `%s` would still
// print something; shape errors that make a reply unusable are protocol errors.

/// Python's str() of a JSON scalar (`True`, `None`, numbers); other values as JSON.
std::string py_str(const Json& j);
std::string str_field(const Json& j, const char* key);
std::int64_t int_field(const Json& j, const char* key, std::int64_t fallback = 0);
bool bool_field(const Json& j, const char* key);
/// A number field (integer or not); nullopt when missing, null or not a number.
std::optional<double> number_field(const Json& j, const char* key);
/// A string field; nullopt when missing, null or not a string.
std::optional<std::string> string_field(const Json& j, const char* key);
/// The info struct's state is one of the stopped states.
bool is_stopped(const Json& info);
/// `group:name` of an info or result struct.
std::string namespec_of(const Json& info);
bool contains(const std::vector<std::string>& words, std::string_view word);
/// `r` failed on the transport with errno `err`.
bool is_transport_errno(const CallResult<Json>& r, int err);
/// The agent does not know the method: supervisord's UNKNOWN_METHOD fault or JSON-RPC's
/// -32601 (supervisord, or a zagent without the feature).
bool is_unknown_method(const CallError& e);

// ---------------------------------------------------------------------------------------------
// Results

/// What ends a verb early: a usage error, a fault it formats, or anything unexpected.
struct Failure {
  std::string text;   ///< the text-mode line(s), without the last `\n`
  std::string error;  ///< the JSON document's "error"
  std::string help;   ///< a help topic printed after `text` (text mode only); empty: none
};

/// The part of every verb's result that is not the verb's own data. Each verb's result type
/// derives from it and has `to_text` and `to_json` overloads; emit() picks one of them.
struct VerbResult {
  int exit_code = 0;               ///< supervisorctl's exit status (spec/ctl.md §1.2)
  bool interrupted = false;        ///< Ctrl-C during a call: nothing more is printed
  bool quit = false;               ///< the shell ends
  std::optional<Failure> failure;  ///< printed after the verb's data

  /// True while no failure and no Ctrl-C ended the verb.
  bool ok() const { return !failure && !interrupted; }
  /// A failure whose line is also its JSON "error"; sets the exit status.
  void fail(std::string text, int code, std::string help = {});
  /// supervisorctl's generic handling of anything it did not expect: one `error:` line,
  /// exit 1 (spec/ctl.md §1.3); 401 prints the authentication lines (§1.4); Ctrl-C marks the
  /// result interrupted and prints nothing.
  void unexpected(const CallError& e);
  /// A reply of the wrong shape.
  void bad_reply(std::string_view method);
  /// supervisorctl's set_exitstatus_from_xmlrpc_fault: `ignored` leaves the status alone.
  void exit_from_fault(int code, std::optional<Fault> ignored);
  Outcome outcome() const { return {exit_code, quit, interrupted}; }
};

/// A result with no data of its own (only a failure, or nothing).
inline std::string to_text(const VerbResult&) { return {}; }
inline Json to_json(const VerbResult&) { return Json::object(); }

/// Text mode: `body`, then the failure's text and help. Flushes.
void write_text(Session& s, const VerbResult& r, std::string_view body);
/// JSON mode: `doc` with the failure's "error", as one line; nothing after Ctrl-C. Flushes.
void write_json(Session& s, const VerbResult& r, Json doc);

/// Writes a finished verb's result, as text or as JSON, and returns its outcome.
template <typename R>
Outcome emit(Session& s, const R& r) {
  if (s.json) {
    write_json(s, r, to_json(r));
  } else {
    write_text(s, r, to_text(r));
  }
  return r.outcome();
}

/// For the streaming verbs (tail -f, maintail -f, fg), which write as they go: a failure
/// right away, as its text line or as a JSON line (`{}` after Ctrl-C).
void write_stream_failure(Session& s, const VerbResult& r);

/// A name that matched nothing: `NAME: ERROR (no such process)`.
struct NameError {
  std::string name;   ///< the process name as given, or the group of a group reference
  std::string error;  ///< "no such process", "no such group"
};
/// The error of a name the agent answered BAD_NAME for: a group reference (`g:*`) is
/// `g: ERROR (no such group)`, anything else `NAME: ERROR (no such process)`.
NameError no_such_name(const std::string& name);
/// `NAME: ERROR (no such process)`, without `\n`.
std::string name_error_line(const NameError& e);
/// One name_error_line() per error, each ending in `\n`.
std::string name_errors_text(const std::vector<NameError>& errors);
/// `[{"name": ..., "error": ...}]`.
Json name_errors_json(const std::vector<NameError>& errors);

// ---------------------------------------------------------------------------------------------
// Steps several verbs take

/// The connection check of spec/ctl.md §1.3 (supervisor.getVersion); false, with `r`'s failure
/// set, when it failed. `for_status` picks status's exit codes.
bool upcheck(Session& s, VerbResult& r, bool for_status);
/// The same check on a getVersion reply that came in a batch.
bool upcheck_reply(Session& s, VerbResult& r, const CallResult<Json>& reply, bool for_status);
/// The getVersion call of the check, for batches.
Call get_version_call();

/// `Error: <verb> requires a process name` and the verb's help when `names` is empty.
bool require_names(VerbResult& r, const std::vector<std::string>& names, std::string_view verb,
                   int exit_status);
/// `Error: <verb> accepts no arguments` and the verb's help when `words` is not empty.
bool no_arguments(VerbResult& r, const std::vector<std::string>& words, std::string_view verb);

/// A number of seconds given to an option (`--timeout`, `--watch`): finite, at most 1e9, above
/// 0 (or 0 too with `allow_zero`); nullopt otherwise.
std::optional<double> parse_seconds(const std::string& text, bool allow_zero);

/// When words[i] is `OPTION VALUE` or `OPTION=VALUE`: VALUE ("" when it is missing), with `i`
/// moved to the last word used; nullopt (and `i` unchanged) for any other word.
std::optional<std::string> take_option_value(const std::vector<std::string>& words, std::size_t& i,
                                             std::string_view option);

/// The words of a verb without `--json`, which may also follow the names of the verbs that take
/// it there (`wait web --json`); sets `s.json` when one was there.
std::vector<std::string> take_json_words(Session& s, const std::vector<std::string>& words);

/// Waits on the connection until `deadline` (s.now()'s clock), so that Ctrl-C (and SIGTERM
/// while caught) end the wait: false when they did. Notifications are skipped; a closed
/// connection or a failed wait ends it early (true): the next call reconnects or reports the
/// connection error.
bool wait_on_connection(Session& s, std::chrono::steady_clock::time_point deadline);

/// `HH:MM:SS` of a wall-clock time in the local time zone (display only).
std::string local_clock_text(std::chrono::system_clock::time_point at);

/// Asks a y/N question on the output and reads the answer: true only for an answer starting
/// with y/Y; nullopt, with `r`'s failure or Ctrl-C set, when nothing could be read.
std::optional<bool> confirm(Session& s, VerbResult& r, std::string_view question);

}  // namespace zagent::ctl
