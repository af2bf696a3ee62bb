// The verbs about the agent and the shell (spec/ctl.md §7, §8): version, reload, shutdown,
// open, help, quit. Each computes one result, which emit() writes as text or as JSON.
#include <fmt/format.h>

#include <cerrno>
#include <utility>

#include "common/faults.h"
#include "common/pystr.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

/// One line that is the whole answer (`Shut down`, `Restarted supervisord`).
struct MessageResult : VerbResult {
  std::optional<std::string> message;
  bool ok = true;  ///< JSON "ok"
};

std::string to_text(const MessageResult& r) {
  return r.message ? *r.message + "\n" : std::string();
}

Json to_json(const MessageResult& r) {
  if (!r.message) {
    return Json::object();
  }
  return {{"ok", r.ok}, {"message", *r.message}};
}

/// `Really ... y/N?` in the shell (and with -i); false when the verb must not go on.
bool confirmed(Session& s, VerbResult& r, std::string_view question) {
  if (!s.interactive) {
    return true;
  }
  const auto really = confirm(s, r, question);
  return really && *really;
}

MessageResult reload(Session& s, const std::vector<std::string>& words) {
  MessageResult r;
  if (!no_arguments(r, words, "reload") ||
      !confirmed(s, r, "Really restart the remote supervisord process y/N? ")) {
    return r;
  }
  auto reply = s.client->call("supervisor.restart", Json::array());
  if (!reply) {
    if (reply.error().fault() == Fault::ShutdownState) {
      r.fail("ERROR: already shutting down", exit_code::kGeneric);
    } else {
      r.unexpected(reply.error());
    }
    return r;
  }
  r.message = "Restarted supervisord";
  // The agent closes this connection when it restarts; the next command reconnects.
  s.client->reset();
  return r;
}

MessageResult shutdown(Session& s, const std::vector<std::string>& words) {
  MessageResult r;
  if (!no_arguments(r, words, "shutdown") ||
      !confirmed(s, r, "Really shut the remote supervisord process down y/N? ")) {
    return r;
  }
  auto reply = s.client->call("supervisor.shutdown", Json::array());
  if (reply) {
    r.message = "Shut down";
    s.client->reset();
  } else if (reply.error().fault() == Fault::ShutdownState) {
    // supervisord compat: reported, but the exit status stays 0.
    r.message = "ERROR: already shutting down";
    r.ok = false;
  } else if (is_transport_errno(reply, ECONNREFUSED)) {
    r.fail(fmt::format("ERROR: {} refused connection (already shut down?)", s.serverurl),
           exit_code::kGeneric);
  } else if (is_transport_errno(reply, ENOENT)) {
    r.fail(fmt::format("ERROR: {} no such file (already shut down?)", s.serverurl),
           exit_code::kGeneric);
  } else {
    r.unexpected(reply.error());
  }
  return r;
}

struct VersionResult : VerbResult {
  std::optional<std::string> version;
};

std::string to_text(const VersionResult& r) {
  return r.version ? *r.version + "\n" : std::string();
}

Json to_json(const VersionResult& r) {
  Json doc = Json::object();
  if (r.version) {
    doc["version"] = *r.version;
  }
  return doc;
}

VersionResult version(Session& s, const std::vector<std::string>& words) {
  VersionResult r;
  if (!no_arguments(r, words, "version") || !upcheck(s, r, false)) {
    return r;
  }
  auto reply = s.client->call("supervisor.getSupervisorVersion", Json::array());
  if (!reply) {
    r.unexpected(reply.error());
  } else {
    r.version = py_str(*reply);
  }
  return r;
}

struct HelpResult : VerbResult {
  std::string text;
};

std::string to_text(const HelpResult& r) { return r.text; }
Json to_json(const HelpResult& r) { return {{"help", r.text}}; }

/// Python's urlparse(url).scheme.
std::string url_scheme(std::string_view url) {
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  const std::string_view scheme = url.substr(0, colon);
  const auto is_alpha = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
  };
  if (!is_alpha(scheme.front())) {
    return {};
  }
  for (char ch : scheme) {
    if (!is_alpha(ch) && !(ch >= '0' && ch <= '9') && ch != '+' && ch != '-' && ch != '.') {
      return {};
    }
  }
  return ascii_lower(scheme);
}

/// quit, exit and EOF: an empty line, and the shell ends.
struct QuitResult : VerbResult {};

std::string to_text(const QuitResult&) { return "\n"; }
Json to_json(const QuitResult&) { return Json::object(); }

}  // namespace

Outcome verb_version(Session& s, const VerbCall& call) { return emit(s, version(s, call.words)); }
Outcome verb_reload(Session& s, const VerbCall& call) { return emit(s, reload(s, call.words)); }
Outcome verb_shutdown(Session& s, const VerbCall& call) { return emit(s, shutdown(s, call.words)); }

Outcome verb_open(Session& s, const VerbCall& call) {
  const std::string scheme = url_scheme(call.arg);
  if (scheme != "unix" && scheme != "http") {
    VerbResult r;
    r.fail("ERROR: url must be http:// or unix://", exit_code::kGeneric);
    return emit(s, r);
  }
  s.serverurl = std::string(call.arg);
  if (s.connect) {
    s.opened = s.connect(s.serverurl);
    s.client = s.opened.get();
  }
  // supervisord compat: the status's exit status is discarded.
  const std::vector<std::string> no_words;
  Outcome out = verb_status(s, VerbCall{{}, no_words, call.start});
  out.exit_code = exit_code::kSuccess;
  return out;
}

Outcome verb_help(Session& s, const VerbCall& call) {
  HelpResult r;
  r.text = call.arg.empty()
               ? help_index()
               : help_topic(call.arg).value_or(fmt::format("*** No help on {}\n", call.arg));
  return emit(s, r);
}

Outcome verb_quit(Session& s, const VerbCall&) {
  QuitResult r;
  r.quit = true;
  return emit(s, r);
}

}  // namespace zagent::ctl
