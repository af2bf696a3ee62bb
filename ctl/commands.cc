// The dispatcher (supervisorctl's onecmd over the verb table) and the interactive shell.
#include "ctl/commands.h"

#include <fmt/format.h>

#include <cstdint>
#include <utility>

#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

using std::chrono::milliseconds;

bool is_identchar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/// Takes zctl's options off the front of `arg` (`--json` for every verb; `--wait`,
/// `--no-wait` and `--timeout SECS` for start/restart). Error: the usage message.
Result<std::string> take_verb_options(std::string_view arg, bool start_like, bool& json,
                                      StartOptions& opts) {
  std::string_view rest = strip(arg);
  for (;;) {
    const auto end = rest.find_first_of(" \t\n\r\v\f");
    const std::string_view word = rest.substr(0, end);
    std::string_view after = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (word == "--json") {
      json = true;
    } else if (start_like && word == "--wait") {
      opts.wait = true;
    } else if (start_like && word == "--no-wait") {
      opts.wait = false;
    } else if (start_like && (word == "--timeout" || word.starts_with("--timeout="))) {
      std::string value;
      if (word == "--timeout") {
        after = strip(after);
        const auto value_end = after.find_first_of(" \t\n\r\v\f");
        value = std::string(after.substr(0, value_end));
        after = value_end == std::string_view::npos ? std::string_view() : after.substr(value_end);
      } else {
        value = std::string(word.substr(10));
      }
      const auto seconds = parse_seconds(value, /*allow_zero=*/false);
      if (!seconds) {
        return fail("--timeout requires a number of seconds");
      }
      opts.timeout = milliseconds(static_cast<std::int64_t>(*seconds * 1000.0 + 0.5));
    } else {
      return std::string(rest);
    }
    rest = strip(after);
  }
}

Outcome unknown_syntax(Session& s, std::string_view line) {
  VerbResult r;
  r.fail(fmt::format("*** Unknown syntax: {}", line), exit_code::kGeneric);
  return emit(s, r);
}

}  // namespace

Outcome run_line(Session& session, std::string_view raw_line) {
  // supervisord compat: cmd.Cmd.parseline + Controller.onecmd.
  std::string line(strip(raw_line));
  if (line.empty()) {
    return {};
  }
  if (line.front() == '?') {
    line = "help " + line.substr(1);
  } else if (line.front() == '!') {
    return unknown_syntax(session, line);
  }
  std::size_t i = 0;
  while (i < line.size() && is_identchar(line[i])) {
    ++i;
  }
  const std::string verb = line.substr(0, i);
  const std::string arg(strip(std::string_view(line).substr(i)));
  if (verb.empty()) {
    return unknown_syntax(session, line);
  }
  const Verb* found = find_verb(verb);
  if (found == nullptr) {
    return unknown_syntax(session, line);
  }
  bool json = session.json;
  StartOptions opts;
  auto rest = take_verb_options(arg, found->start_options, json, opts);
  const bool saved_json = session.json;
  session.json = json;
  Outcome out;
  if (!rest) {
    VerbResult r;
    r.fail(fmt::format("Error: {}", rest.error().message), exit_code::kInvalidArgs);
    out = emit(session, r);
  } else {
    const std::vector<std::string> words = split_words(*rest);
    out = found->run(session, VerbCall{*rest, words, opts});
  }
  session.json = saved_json;
  return out;
}

int run_shell(Session& session, std::string_view prompt) {
  // supervisord compat: exec_cmdloop queues `status`, then cmdloop; KeyboardInterrupt anywhere
  // prints an empty line and leaves; the exit status is always 0.
  if (run_line(session, "status").interrupted) {
    session.output->out("\n");
    session.output->flush();
    return exit_code::kSuccess;
  }
  for (;;) {
    session.output->out(fmt::format("{}> ", prompt));
    session.output->flush();
    std::optional<std::string> line;
    if (session.input != nullptr) {
      line = session.input->read_line();
    }
    if (!line) {
      if (session.input != nullptr && session.input->interrupted()) {
        session.output->out("\n");
        session.output->flush();
        return exit_code::kSuccess;
      }
      line = "EOF";
    }
    const Outcome out = run_line(session, *line);
    if (out.interrupted) {
      session.output->out("\n");
      session.output->flush();
      return exit_code::kSuccess;
    }
    if (out.quit) {
      return exit_code::kSuccess;
    }
  }
}

CommandResult run_captured(Session& session, std::string_view line) {
  CapturingOutput capture;
  Output* saved = session.output;
  session.output = &capture;
  const Outcome out = run_line(session, line);
  session.output = saved;
  return {out.exit_code, std::move(capture.out_), std::move(capture.err_)};
}

}  // namespace zagent::ctl
