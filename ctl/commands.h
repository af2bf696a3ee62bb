// Running zctl's command lines (spec/ctl.md §3-§8) over a `Client`: the dispatcher, which finds
// the verb in the verb table (verb_table.h; the verbs live in verbs_*.cc), and the interactive
// shell. Each verb writes supervisorctl's exact text (or, with --json, one JSON document) to an
// `Output` and returns supervisorctl's exit status. Depends on rpc_client.h (the interface
// only); no sockets, no terminal.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/rpc_client.h"

namespace zagent::ctl {

/// Where commands write. Streaming verbs (tail -f, maintail -f, fg) call flush() after each
/// chunk; the others write their text and return.
class Output {
 public:
  virtual ~Output() = default;
  virtual void out(std::string_view text) = 0;
  virtual void err(std::string_view text) = 0;
  virtual void flush() {}
};

/// Output kept in two strings (tests, and callers that want CommandResult).
class CapturingOutput final : public Output {
 public:
  void out(std::string_view text) override { out_ += text; }
  void err(std::string_view text) override { err_ += text; }
  std::string out_;
  std::string err_;
};

/// Where the shell and `fg` read the user's lines.
class Input {
 public:
  virtual ~Input() = default;
  /// One line without its `\n`, blocking; nullopt at EOF or on Ctrl-C (see interrupted()).
  virtual std::optional<std::string> read_line() = 0;
  /// The fd `fg` polls next to the socket; -1 when there is none (a fake).
  virtual int fd() const = 0;
  /// True when a complete line is already buffered.
  virtual bool has_line() const = 0;
  /// After the fd became readable: reads what is there and appends the complete lines;
  /// false at EOF (the lines read before EOF are still appended).
  virtual bool read_available(std::vector<std::string>& lines) = 0;
  /// read_line() returned nullopt because of Ctrl-C.
  virtual bool interrupted() const = 0;
  /// The end of the input was seen and every buffered line was taken.
  virtual bool at_eof() const = 0;
};

/// Opens a client for a server URL (`open URL`).
using ClientFactory = std::function<std::unique_ptr<Client>(const std::string& serverurl)>;

/// State shared by the commands of one zctl run (several in the shell).
struct Session {
  std::string serverurl;           ///< effective URL, printed in connection errors
  bool interactive = false;        ///< the shell: shutdown/reload ask first
  bool json = false;               ///< --json given before the verb
  Client* client = nullptr;        ///< the current connection; never null while running commands
  Output* output = nullptr;        ///< never null while running commands
  Input* input = nullptr;          ///< the user's lines; null: confirmations read as "no", no fg
  ClientFactory connect;           ///< for `open`; empty: `open` cannot switch servers
  std::unique_ptr<Client> opened;  ///< a client made by `open` (owned here)
  /// The time source of `fg`'s once-a-second status poll and of `top --watch`'s refreshes.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  /// The wall clock, for display only (the time of day on a `top --watch` screen).
  std::function<std::chrono::system_clock::time_point()> wall_now = [] {
    return std::chrono::system_clock::now();
  };
  /// stdout is a terminal: `top --watch` redraws the screen instead of appending tables.
  bool terminal = false;
  /// Called with true when a verb starts redrawing until it is stopped (`top --watch`): from
  /// then on SIGTERM ends its waits as Ctrl-C does; called with false when it ends. Empty:
  /// SIGTERM keeps its default action.
  std::function<void(bool)> catch_sigterm;
};

/// The result of one command line.
struct Outcome {
  int exit_code = 0;         ///< supervisorctl's exit status for this line (§1.2)
  bool quit = false;         ///< quit / exit / EOF: the shell ends
  bool interrupted = false;  ///< Ctrl-C during a call: the shell ends, a one-shot run dies
};

/// Runs one command line as supervisorctl's onecmd does: strips it, splits the verb off
/// (`?` is `help`), accepts `--json` (and start/restart's `--wait`, `--no-wait`,
/// `--timeout SECS`) right after the verb, and runs the verb. An empty line does nothing.
Outcome run_line(Session& session, std::string_view line);

/// The interactive shell (spec/ctl.md §1.1): `status`, then `<prompt>> ` and one command per
/// line until EOF, quit/exit or Ctrl-C. Always returns 0.
int run_shell(Session& session, std::string_view prompt);

/// Captured text and exit code of one command line (for tests and simple callers): runs
/// run_line with a CapturingOutput in place of session.output.
struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};
CommandResult run_captured(Session& session, std::string_view line);

}  // namespace zagent::ctl
