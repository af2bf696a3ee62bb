// The log verbs (spec/ctl.md §5): tail, maintail and fg. `tail`/`maintail` without -f compute
// one result; with -f, and in fg, each piece of the stream is one value written as text or as
// one JSON line as it comes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

#include "common/faults.h"
#include "common/process_state.h"
#include "common/pystr.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

using Kind = CallError::Kind;
using std::chrono::milliseconds;

constexpr std::string_view kPressCtrlC = "==> Press Ctrl-C to exit <==\n";
constexpr std::string_view kTruncated = "==> File truncated <==\n";
constexpr int kTailBytes = 1600;
constexpr int kFollowBytes = 1024;
constexpr milliseconds kFgPollInterval{1000};

// ---------------------------------------------------------------------------------------------
// The pieces of a stream

/// Log data pushed by zagent.logData.
struct LogChunk {
  std::string data;
  bool truncated = false;  ///< the file was truncated before this data
};

std::string to_text(const LogChunk& c) {
  return c.truncated ? std::string(kTruncated) + c.data : c.data;
}
Json to_json(const LogChunk& c) { return {{"data", c.data}, {"truncated", c.truncated}}; }

/// The end of an fg session.
struct FgExit {
  std::string text;    ///< the text lines, without the last `\n`
  std::string reason;  ///< JSON {"exit": reason}
};

std::string to_text(const FgExit& e) { return e.text + "\n"; }
Json to_json(const FgExit& e) { return {{"exit", e.reason}}; }

/// Writes one piece of a stream and flushes.
template <typename Piece>
void write_piece(Session& s, const Piece& piece) {
  s.output->out(s.json ? rpc::encode_line(to_json(piece)) : to_text(piece));
  s.output->flush();
}

/// Text-only lines of a stream (the Ctrl-C banner, the newline after Ctrl-C).
void write_text_only(Session& s, std::string_view text) {
  if (!s.json) {
    s.output->out(text);
  }
  s.output->flush();
}

/// supervisord compat: the HTTP handler's 404 for a log it cannot read, on stderr; the verb
/// still exits 0.
void write_unreadable(Session& s, std::string_view url_path) {
  const std::string text = fmt::format("{}{} Cannot read, status code 404", s.serverurl, url_path);
  if (s.json) {
    s.output->out(rpc::encode_line({{"error", text}}));
  } else {
    s.output->err(text + "\n");
  }
}

/// Follows a log through zagent.followProcessLog / followMainLog until Ctrl-C or the
/// connection closes (spec/ctl.md §5.1, the HTTP /logtail stream of supervisorctl).
Outcome follow(Session& s, std::string_view method, Json params, std::string_view url_path) {
  VerbResult r;
  write_text_only(s, kPressCtrlC);
  auto reply = s.client->call(method, std::move(params));
  if (!reply) {
    const auto fault = reply.error().fault();
    if (fault == Fault::BadName || fault == Fault::NoFile) {
      write_unreadable(s, url_path);
    } else if (reply.error().kind == Kind::Interrupted) {
      write_text_only(s, "\n");
    } else {
      r.unexpected(reply.error());
      write_stream_failure(s, r);
    }
    s.output->flush();
    return r.outcome();
  }
  for (;;) {
    auto event = s.client->wait_event(-1, std::nullopt);
    if (!event) {
      r.unexpected(event.error());
      write_stream_failure(s, r);
      break;
    }
    if (event->kind == Event::Kind::Interrupted) {
      write_text_only(s, "\n");
      break;
    }
    if (event->kind == Event::Kind::Closed) {
      break;
    }
    if (event->kind == Event::Kind::Notification && event->method == "zagent.logData") {
      write_piece(
          s, LogChunk{str_field(event->params, "data"), bool_field(event->params, "truncated")});
    }
  }
  // The follow stays registered on this connection; a shell continues on a fresh one.
  s.client->reset();
  s.output->flush();
  return r.outcome();
}

// ---------------------------------------------------------------------------------------------
// tail / maintail without -f

struct LogResult : VerbResult {
  std::optional<std::string> data;  ///< the bytes read
  std::string name;                 ///< tail: the process (JSON "name"); empty for maintail
  std::string channel;              ///< tail: stdout or stderr
};

std::string to_text(const LogResult& r) { return r.data ? *r.data + "\n" : std::string(); }

Json to_json(const LogResult& r) {
  Json doc = Json::object();
  if (r.data) {
    if (!r.name.empty()) {
      doc["name"] = r.name;
      doc["channel"] = r.channel;
    }
    doc["data"] = *r.data;
  }
  return doc;
}

/// `-N` of tail/maintail: the byte count, nullopt when Python's int() would fail.
std::optional<std::int64_t> modifier_bytes(std::string_view what) {
  auto n = py_int(what);
  if (n && *n == std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return n;
}

/// The reply of a read*Log call; `who` names the log in the error lines.
void read_into(LogResult& r, const CallResult<Json>& reply, std::string_view who) {
  if (reply) {
    r.data = py_str(*reply);
    return;
  }
  const auto fault = reply.error().fault();
  if (fault == Fault::NoFile) {
    r.fail(fmt::format("{}: ERROR (no log file)", who), exit_code::kGeneric);
  } else if (fault == Fault::Failed) {
    r.fail(fmt::format("{}: ERROR (unknown error reading log)", who), exit_code::kGeneric);
  } else if (fault == Fault::BadName && who != "supervisord") {
    r.fail(fmt::format("{}: ERROR (no such process name)", who), exit_code::kGeneric);
  } else {
    r.unexpected(reply.error());
  }
}

/// tail's words: `[-f|-N] NAME [stdout|stderr]`. False, with the failure, on a usage error.
bool parse_tail_words(LogResult& r, std::vector<std::string> args,
                      std::optional<std::string>& modifier) {
  if (args.empty()) {
    r.fail("Error: too few arguments", exit_code::kGeneric, "tail");
    return false;
  }
  if (args.size() > 3) {
    r.fail("Error: too many arguments", exit_code::kGeneric, "tail");
    return false;
  }
  if (args.front().starts_with('-')) {
    modifier = args.front();
    args.erase(args.begin());
  }
  r.channel = "stdout";
  if (args.size() == 1) {
    r.name = args.back();
  } else if (!args.empty()) {
    r.name = args.front();
    r.channel = ascii_lower(args.back());
    if (r.channel != "stdout" && r.channel != "stderr") {
      r.fail(fmt::format("Error: bad channel {}", py_repr(r.channel)), exit_code::kGeneric);
      return false;
    }
  } else {
    r.fail("Error: tail requires process name", exit_code::kGeneric);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// fg

class Foreground {
 public:
  Foreground(Session& s, VerbResult& r, std::string name) : s_(s), r_(r), name_(std::move(name)) {}

  void run() {
    write_text_only(s_, kPressCtrlC);
    auto follows = s_.client->call_all(
        {{"zagent.followProcessLog", Json::array({name_, "stdout", kFollowBytes})},
         {"zagent.followProcessLog", Json::array({name_, "stderr", kFollowBytes})}});
    for (std::size_t i = 0; i < follows.size(); ++i) {
      if (follows[i]) {
        continue;
      }
      const auto fault = follows[i].error().fault();
      if (fault == Fault::BadName || fault == Fault::NoFile) {
        // supervisord compat: the /logtail/NAME/stderr handler's 404 (e.g. redirect_stderr).
        write_unreadable(s_, fmt::format("/logtail/{}/{}", name_, i == 0 ? "stdout" : "stderr"));
        continue;
      }
      if (follows[i].error().kind == Kind::Interrupted) {
        finish("Exiting foreground", "interrupted");
        return;
      }
      fail(follows[i].error());
      return;
    }
    last_poll_ = s_.now();
    while (!done_) {
      turn();
    }
    s_.client->reset();
  }

 private:
  /// One wait for the user's lines, log data or the next status poll.
  void turn() {
    if (s_.input != nullptr && s_.input->has_line()) {
      take_lines();
      return;
    }
    if (s_.input != nullptr && s_.input->at_eof()) {
      finish("Exiting foreground", "end of input");
      return;
    }
    const auto since = std::chrono::duration_cast<milliseconds>(s_.now() - last_poll_);
    const milliseconds wait = std::max(milliseconds(0), kFgPollInterval - since);
    auto event = s_.client->wait_event(s_.input != nullptr ? s_.input->fd() : -1, wait);
    if (!event) {
      fail(event.error());
      return;
    }
    switch (event->kind) {
      case Event::Kind::Notification:
        if (event->method == "zagent.logData") {
          write_piece(s_, LogChunk{str_field(event->params, "data"),
                                   bool_field(event->params, "truncated")});
        }
        break;
      case Event::Kind::InputReady:
        take_lines();
        break;
      case Event::Kind::Timeout:
        break;
      case Event::Kind::Interrupted:
        finish("Exiting foreground", "interrupted");
        break;
      case Event::Kind::Closed:
        finish("Exiting foreground", "connection closed");
        break;
    }
    if (!done_ && s_.now() - last_poll_ >= kFgPollInterval) {
      check_running();
    }
  }

  /// Sends the lines the user typed; the end of the input ends the session.
  void take_lines() {
    std::vector<std::string> lines;
    const bool more = s_.input != nullptr && s_.input->read_available(lines);
    send_lines(lines);
    if (!more && !done_) {
      finish("Exiting foreground", "end of input");
    }
  }

  void finish(std::string text, std::string reason) {
    write_piece(s_, FgExit{std::move(text), std::move(reason)});
    done_ = true;
  }

  void fail(const CallError& e) {
    r_.unexpected(e);
    if (r_.interrupted) {
      finish("Exiting foreground", "interrupted");
      return;
    }
    write_stream_failure(s_, r_);
    done_ = true;
  }

  void send_lines(const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      if (done_) {
        return;
      }
      auto r = s_.client->call("supervisor.sendProcessStdin", Json::array({name_, line + "\n"}));
      if (!r) {
        const auto fault = r.error().fault();
        if (fault == Fault::NotRunning) {
          finish("Process got killed\nExiting foreground", "process got killed");
          return;
        }
        if (fault) {  // supervisorctl compat: do_fg(), every other fault ends it
          finish(fmt::format("ERROR: {}\nExiting foreground",
                             fault_repr(fault_code(*fault), r.error().fault_string())),
                 "error");
          return;
        }
        fail(r.error());
        return;
      }
      check_running();
    }
  }

  void check_running() {
    last_poll_ = s_.now();
    auto info = s_.client->call("supervisor.getProcessInfo", Json::array({name_}));
    if (!info && !info.error().fault()) {
      fail(info.error());
      return;
    }
    if (!info || int_field(*info, "state", -1) != static_cast<int>(ProcessState::Running)) {
      finish("Process got killed\nExiting foreground", "process got killed");
    }
  }

  Session& s_;
  VerbResult& r_;                                      ///< the verb's exit status and Ctrl-C
  std::string name_;                                   ///< the process in the foreground
  std::chrono::steady_clock::time_point last_poll_{};  ///< of the last getProcessInfo
  bool done_ = false;                                  ///< the session has ended
};

/// fg's checks before it takes over the terminal; false with the failure set.
bool fg_ready(Session& s, VerbResult& r, const std::vector<std::string>& words) {
  if (!upcheck(s, r, false)) {
    return false;
  }
  if (words.empty()) {
    r.fail("ERROR: no process name supplied", exit_code::kGeneric, "fg");
    return false;
  }
  if (words.size() > 1) {
    r.fail("ERROR: too many process names supplied", exit_code::kGeneric);
    return false;
  }
  auto info = s.client->call("supervisor.getProcessInfo", Json::array({words[0]}));
  if (!info) {
    const auto fault = info.error().fault();
    if (fault == Fault::BadName) {
      r.fail("ERROR: bad process name supplied", exit_code::kGeneric);
    } else if (fault) {
      // supervisord compat: printed, but the exit status is left alone.
      r.fail(fmt::format("ERROR: {}", fault_repr(fault_code(*fault), info.error().fault_string())),
             r.exit_code);
    } else {
      r.unexpected(info.error());
    }
    return false;
  }
  if (int_field(*info, "state", -1) != static_cast<int>(ProcessState::Running)) {
    r.fail("ERROR: process not running", exit_code::kGeneric);
    return false;
  }
  return true;
}

}  // namespace

Outcome verb_tail(Session& s, const VerbCall& call) {
  LogResult r;
  std::optional<std::string> modifier;
  if (!upcheck(s, r, false) || !parse_tail_words(r, call.words, modifier)) {
    return emit(s, r);
  }
  std::int64_t bytes = kTailBytes;
  if (modifier) {
    const std::string what = modifier->substr(1);
    if (what == "f") {
      return follow(s, "zagent.followProcessLog", Json::array({r.name, r.channel, kFollowBytes}),
                    fmt::format("/logtail/{}/{}", r.name, r.channel));
    }
    const auto n = modifier_bytes(what);
    if (!n) {
      r.fail(fmt::format("Error: bad argument {}", *modifier), exit_code::kGeneric);
      return emit(s, r);
    }
    bytes = *n;
  }
  const char* method =
      r.channel == "stdout" ? "supervisor.readProcessStdoutLog" : "supervisor.readProcessStderrLog";
  read_into(r, s.client->call(method, Json::array({r.name, -bytes, 0})), r.name);
  return emit(s, r);
}

Outcome verb_maintail(Session& s, const VerbCall& call) {
  LogResult r;
  if (!upcheck(s, r, false)) {
    return emit(s, r);
  }
  std::int64_t bytes = kTailBytes;
  if (call.words.size() > 1) {
    r.fail("Error: too many arguments", exit_code::kGeneric, "maintail");
    return emit(s, r);
  }
  if (call.words.size() == 1) {
    const std::string& arg = call.words.front();
    if (!arg.starts_with('-')) {
      r.fail(fmt::format("Error: bad argument {}", arg), exit_code::kGeneric);
      return emit(s, r);
    }
    const std::string what = arg.substr(1);
    if (what == "f") {
      return follow(s, "zagent.followMainLog", Json::array({kFollowBytes}), "/mainlogtail");
    }
    const auto n = modifier_bytes(what);
    if (!n) {
      r.fail(fmt::format("Error: bad argument {}", arg), exit_code::kGeneric);
      return emit(s, r);
    }
    bytes = *n;
  }
  read_into(r, s.client->call("supervisor.readLog", Json::array({-bytes, 0})), "supervisord");
  return emit(s, r);
}

Outcome verb_fg(Session& s, const VerbCall& call) {
  VerbResult r;
  if (!fg_ready(s, r, call.words)) {
    return emit(s, r);
  }
  Foreground(s, r, call.words[0]).run();
  s.output->flush();
  return r.outcome();
}

}  // namespace zagent::ctl
