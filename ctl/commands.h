// zctl's verbs (spec/ctl.md §3-§8): one function per verb over a `Client`, writing
// supervisorctl's exact text (or, with --json, one JSON document) to an `Output` and returning
// supervisorctl's exit status. Also the command-line dispatcher and the interactive shell.
// Depends on rpc_client.h (the interface only) and render.h; no sockets, no terminal.
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
  /// The time source of `fg`'s once-a-second status poll.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
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

/// The verbs, one function each; `words` are the arguments after the verb and its options.
/// Each writes to session.output and returns the outcome.
struct StartOptions {
  bool wait = true;                                  ///< --wait (default) / --no-wait
  std::optional<std::chrono::milliseconds> timeout;  ///< --timeout SECS
};
Outcome cmd_status(Session& s, const std::vector<std::string>& words);
Outcome cmd_start(Session& s, const std::vector<std::string>& words, const StartOptions& opts);
Outcome cmd_stop(Session& s, const std::vector<std::string>& words);
Outcome cmd_restart(Session& s, const std::vector<std::string>& words, const StartOptions& opts);
Outcome cmd_signal(Session& s, const std::vector<std::string>& words);
Outcome cmd_pid(Session& s, const std::vector<std::string>& words);
Outcome cmd_clear(Session& s, const std::vector<std::string>& words);
Outcome cmd_tail(Session& s, const std::vector<std::string>& words);
Outcome cmd_maintail(Session& s, const std::vector<std::string>& words);
Outcome cmd_fg(Session& s, const std::vector<std::string>& words);
Outcome cmd_reread(Session& s, const std::vector<std::string>& words);
Outcome cmd_update(Session& s, const std::vector<std::string>& words);
Outcome cmd_add(Session& s, const std::vector<std::string>& words);
Outcome cmd_remove(Session& s, const std::vector<std::string>& words);
Outcome cmd_avail(Session& s, const std::vector<std::string>& words);
Outcome cmd_version(Session& s, const std::vector<std::string>& words);
Outcome cmd_reload(Session& s, const std::vector<std::string>& words);
Outcome cmd_shutdown(Session& s, const std::vector<std::string>& words);
/// `url` is the argument text, stripped.
Outcome cmd_open(Session& s, std::string_view url);
/// `topic` is the argument text (empty: the command list).
Outcome cmd_help(Session& s, std::string_view topic);
/// quit, exit, EOF: an empty line.
Outcome cmd_quit(Session& s);

}  // namespace zagent::ctl
