// The endpoints built from the method table (docs/http.md): the status page and its actions,
// the tail page, /metrics, /livez and /readyz. Each gathers what it shows through
// RpcMethods::call, as zctl does over the socket, then renders it with the pure functions of
// web_page.h and metrics_text.h. Pure.
//
// Actions: the page's forms POST `processname` and `action` (form-encoded) to index.html;
// supervisord's GET links (`index.html?processname=web&action=stop`) are honoured too, so old
// bookmarks keep working. Either way the answer is a 303 redirect to
// `index.html?message=...`, as supervisord's redirect (a 301 there) to `/?message=...`.
// A HEAD request never acts.
#include "agent/http/pages.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "agent/http/http_rules.h"
#include "agent/http/metrics_text.h"
#include "agent/http/web_page.h"
#include "agent/rpc/methods.h"

namespace zagent::http {
namespace {

using rpc::Json;

// ---- requests ----

/// A form: query parameters, then the POST body's (which win, as in supervisord's web.py).
using Form = std::map<std::string, std::string>;

/// Percent-decoding with `+` as a space (application/x-www-form-urlencoded); a `%` not
/// followed by two hex digits is kept as it is.
std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

/// Adds `a=1&b=2` to `form`; `first_wins` keeps a key already there.
void parse_form(std::string_view text, Form& form, bool first_wins) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    std::string key = form_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1));
    if (first_wins) {
      form.emplace(std::move(key), std::move(value));
    } else {
      form[std::move(key)] = std::move(value);
    }
  }
}

struct Target {
  std::string path;
  Form form;
};

Target read_target(const Request& request) {
  Target t;
  const std::string_view target = request.target;
  const std::size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    query = query.substr(0, query.find('#'));
    parse_form(query, t.form, true);
  }
  if (request.method == "POST") {
    const std::string_view type = request.content_type;
    if (type.empty() || type.substr(0, 33) == "application/x-www-form-urlencoded") {
      parse_form(request.body, t.form, false);
    }
  }
  return t;
}

std::string_view field(const Form& form, const std::string& key) {
  const auto it = form.find(key);
  return it == form.end() ? std::string_view() : std::string_view(it->second);
}

Response text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response not_allowed(std::string_view allow) {
  Response r = text(405, "405 Method Not Allowed\n");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// ---- gathering ----

struct Call {
  std::string method;
  Json params = Json::array();
};
using Outcomes = std::vector<RpcOutcome>;

/// Runs `calls` one after the other (a call may answer later: a GPU read), then `done` with
/// their outcomes in order.
void gather(RpcMethods& methods, std::vector<Call> calls, std::function<void(Outcomes)> done) {
  struct State {
    RpcMethods& methods;
    std::vector<Call> calls;
    Outcomes outcomes;
    std::function<void(Outcomes)> done;
  };
  auto state = std::make_shared<State>(State{methods, std::move(calls), {}, std::move(done)});
  // A plain recursive function object: each reply starts the next call.
  struct Step {
    static void run(const std::shared_ptr<State>& s) {
      const std::size_t i = s->outcomes.size();
      if (i == s->calls.size()) {
        auto done = std::move(s->done);
        done(std::move(s->outcomes));
        return;
      }
      s->methods.call(s->calls[i].method, s->calls[i].params, [s](RpcOutcome o) {
        s->outcomes.push_back(std::move(o));
        run(s);
      });
    }
  };
  Step::run(state);
}

const Json& array_or_empty(const RpcOutcome& o) {
  static const Json kEmpty = Json::array();
  return o && o->is_array() ? *o : kEmpty;
}

template <typename T>
std::optional<T> number(const Json& j, const char* key) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return std::nullopt;
  }
  return it->get<T>();
}

std::string str(const Json& j, const char* key) {
  if (!j.is_object()) {
    return {};
  }
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string namespec(const std::string& group, const std::string& name) {
  return group == name ? name : group + ":" + name;
}

std::string utc_text(std::int64_t epoch) {
  if (epoch <= 0) {
    return {};
  }
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(epoch)));
}

/// getProcessStats rows by namespec.
std::map<std::string, const Json*> by_namespec(const Json& rows) {
  std::map<std::string, const Json*> out;
  for (const Json& r : rows) {
    out[namespec(str(r, "group"), str(r, "name"))] = &r;
  }
  return out;
}

std::optional<std::string> health_status(const Json& info) {
  const auto it = info.find("health");
  if (it == info.end() || !it->is_object()) {
    return std::nullopt;
  }
  const std::string status = str(*it, "status");
  return status.empty() ? std::optional<std::string>("unknown") : status;
}

// ---- readiness ----

/// Why the agent is not ready (empty: ready): the agent is not RUNNING, or an autostart
/// program of an active group is not RUNNING or its check is not passing.
std::vector<std::string> unready(const RpcOutcome& state, const RpcOutcome& config,
                                 const RpcOutcome& info) {
  std::vector<std::string> why;
  if (!state) {
    why.push_back("agent: " + state.error().message);
    return why;
  }
  if (number<int>(*state, "statecode").value_or(-1) != 1) {
    why.push_back("agent is " + str(*state, "statename"));
    return why;
  }
  if (!config || !info) {
    why.push_back("process table: " + (!config ? config.error() : info.error()).message);
    return why;
  }
  std::set<std::string> autostart;
  for (const Json& c : *config) {
    if (c.value("inuse", false) && c.value("autostart", false)) {
      autostart.insert(namespec(str(c, "group"), str(c, "name")));
    }
  }
  for (const Json& p : *info) {
    const std::string ns = namespec(str(p, "group"), str(p, "name"));
    if (autostart.count(ns) == 0) {
      continue;
    }
    const std::string statename = str(p, "statename");
    if (statename != "RUNNING") {
      why.push_back(ns + " is " + statename);
      continue;
    }
    const auto health = health_status(p);
    if (health && *health != "passing") {
      why.push_back(ns + " health is " + *health);
    }
  }
  return why;
}

std::vector<Call> readiness_calls() {
  return {{"supervisor.getState"}, {"supervisor.getAllConfigInfo"}, {"supervisor.getAllProcessInfo"}};
}

void serve_readyz(RpcMethods& methods, Respond respond) {
  gather(methods, readiness_calls(), [respond = std::move(respond)](Outcomes o) {
    const std::vector<std::string> why = unready(o[0], o[1], o[2]);
    if (why.empty()) {
      respond(text(200, "ready\n"));
      return;
    }
    std::string body = "not ready:\n";
    for (const std::string& w : why) {
      body += "  " + w + "\n";
    }
    respond(text(503, std::move(body)));
  });
}

// ---- metrics ----

MetricsFigures metrics_figures(const Outcomes& o) {
  MetricsFigures f;
  f.ready = unready(o[0], o[1], o[2]).empty();
  if (o[0]) {
    f.agent_state = number<int>(*o[0], "statecode").value_or(1);
  }
  const auto stats = by_namespec(array_or_empty(o[3]));
  std::map<std::string, std::map<std::string, std::int64_t>> causes;
  std::map<std::string, int> record_exit;  // program -> exit code of its newest record
  for (const Json& r : array_or_empty(o[4])) {
    const std::string program = str(r, "program");
    ++causes[program][str(r, "cause")];
    if (record_exit.count(program) == 0) {  // newest first
      if (const auto code = number<int>(r, "exit_code")) {
        record_exit[program] = *code;
      } else if (r.value("signal", Json()).is_string()) {
        record_exit[program] = -1;
      }
    }
  }
  for (const Json& p : array_or_empty(o[2])) {
    ProgramFigures pf;
    pf.name = str(p, "name");
    pf.group = str(p, "group");
    const std::string ns = namespec(pf.group, pf.name);
    pf.state = number<int>(p, "state").value_or(1000);
    // The process info keeps the exit code only until the next start; a process running
    // again takes it from its newest crash record.
    const bool ended = pf.state == 0 || pf.state == 30 || pf.state == 100 || pf.state == 200;
    if (ended && number<std::int64_t>(p, "stop").value_or(0) != 0) {
      pf.last_exit_code = number<int>(p, "exitstatus");
    } else if (const auto it = record_exit.find(ns); it != record_exit.end()) {
      pf.last_exit_code = it->second;
    }
    pf.health = health_status(p);
    if (const auto it = causes.find(ns); it != causes.end()) {
      pf.restarts_by_cause = it->second;
    }
    if (const auto it = stats.find(ns); it != stats.end()) {
      const Json& s = *it->second;
      pf.respawns = number<std::int64_t>(s, "restarts").value_or(0);
      if (const auto res = s.find("resources"); res != s.end() && res->is_object()) {
        pf.cpu_seconds = number<double>(*res, "cpu_seconds");
        pf.rss_bytes = number<std::int64_t>(*res, "rss_bytes");
      }
      if (const auto gpu = s.find("gpu"); gpu != s.end() && gpu->is_object()) {
        pf.gpu_bytes = number<std::int64_t>(*gpu, "memory_bytes");
      }
    }
    f.programs.push_back(std::move(pf));
  }
  if (o[5] && o[5]->is_object()) {
    for (const Json& d : o[5]->value("devices", Json::array())) {
      GpuFigures g;
      g.index = number<int>(d, "index").value_or(0);
      g.uuid = str(d, "uuid");
      g.model = str(d, "name");
      g.free_bytes = number<std::int64_t>(d, "memory_free_bytes");
      g.used_bytes = number<std::int64_t>(d, "memory_used_bytes");
      g.total_bytes = number<std::int64_t>(d, "memory_total_bytes");
      f.gpus.push_back(std::move(g));
    }
  }
  return f;
}

void serve_metrics(RpcMethods& methods, Respond respond) {
  std::vector<Call> calls = readiness_calls();
  calls.push_back({"zagent.getProcessStats"});
  calls.push_back({"zagent.getCrashRecords"});
  calls.push_back({"zagent.getGpuStatus"});
  gather(methods, std::move(calls), [respond = std::move(respond)](Outcomes o) {
    Response r;
    r.content_type = std::string(kMetricsContentType);
    r.body = render_metrics(metrics_figures(o));
    respond(std::move(r));
  });
}

// ---- the status page ----

std::optional<CrashSummary> crash_summary(const Json& r) {
  CrashSummary c;
  c.cause = str(r, "cause");
  c.confidence = str(r, "confidence");
  c.description = str(r, "description");
  c.ended = utc_text(number<std::int64_t>(r, "ended").value_or(0));
  c.note = str(r, "note");
  for (const Json& e : r.value("evidence", Json::array())) {
    c.evidence.push_back(str(e, "source") + ": " + str(e, "text"));
  }
  const Json output = r.value("last_output", Json::object());
  for (const char* channel : {"stderr", "stdout"}) {
    for (const Json& line : output.value(channel, Json::array())) {
      if (line.is_string()) {
        c.last_output.push_back(line.get<std::string>());
      }
    }
  }
  c.snapshot = str(r, "snapshot");
  return c;
}

StatusPage status_page(const Outcomes& o, std::string message) {
  StatusPage page;
  page.message = std::move(message);
  if (o[0] && o[0]->is_string()) {
    page.identification = o[0]->get<std::string>();
  }
  if (!o[1]) {
    page.error = "cannot read the process table: " + o[1].error().message;
    return page;
  }
  const auto stats = by_namespec(array_or_empty(o[2]));
  std::map<std::string, const Json*> last_crash;
  for (const Json& r : array_or_empty(o[3])) {
    last_crash.emplace(str(r, "program"), &r);  // newest first: the first one stays
  }
  std::int64_t now = 0;
  for (const Json& p : *o[1]) {
    PageRow row;
    row.name = str(p, "name");
    row.group = str(p, "group");
    row.state = number<int>(p, "state").value_or(1000);
    row.statename = str(p, "statename");
    row.description = str(p, "description");
    now = std::max(now, number<std::int64_t>(p, "now").value_or(0));
    row.health = health_status(p);
    if (row.health) {
      const auto h = p.find("health");
      row.health_error = str(*h, "last_error");
    }
    const std::string ns = row.namespec();
    if (const auto it = stats.find(ns); it != stats.end()) {
      const Json& s = *it->second;
      if (const auto res = s.find("resources"); res != s.end() && res->is_object()) {
        row.cpu_percent = number<double>(*res, "cpu_percent");
        row.rss_bytes = number<std::int64_t>(*res, "rss_bytes");
      }
      if (const auto gpu = s.find("gpu"); gpu != s.end() && gpu->is_object()) {
        row.gpu_bytes = number<std::int64_t>(*gpu, "memory_bytes");
        row.gpu_estimated = gpu->value("estimated", false);
      }
    }
    if (const auto it = last_crash.find(ns); it != last_crash.end()) {
      row.last_crash = crash_summary(*it->second);
    }
    page.rows.push_back(std::move(row));
  }
  // supervisord compat: StatusView sorts the rows by (group, name).
  std::sort(page.rows.begin(), page.rows.end(), [](const PageRow& a, const PageRow& b) {
    return std::tie(a.group, a.name) < std::tie(b.group, b.name);
  });
  page.generated = utc_text(now);
  return page;
}

void serve_status(RpcMethods& methods, std::string message, Respond respond) {
  gather(methods,
         {{"supervisor.getIdentification"},
          {"supervisor.getAllProcessInfo"},
          {"zagent.getProcessStats"},
          {"zagent.getCrashRecords"}},
         [message = std::move(message), respond = std::move(respond)](Outcomes o) {
           Response r;
           r.content_type = "text/html; charset=utf-8";
           r.body = render_status_page(status_page(o, message));
           respond(std::move(r));
         });
}

// ---- actions ----

/// The message of a failed process action: supervisord's words for the start faults
/// (StatusView.make_callback), the fault string for the others.
std::string action_error(std::string_view action, const std::string& ns, const RpcError& e) {
  const auto fault = e.fault();
  if (fault == Fault::BadName) {
    return "No such process named " + ns;
  }
  if (action == "start" && fault) {
    switch (*fault) {
      case Fault::NoFile:
        return "ERROR: Process " + ns + ": no such file";
      case Fault::NotExecutable:
        return "ERROR: Process " + ns + ": file not executable";
      case Fault::AlreadyStarted:
        return "ERROR: Process " + ns + ": already started";
      case Fault::SpawnError:
        return "ERROR: Process " + ns + ": spawn error";
      case Fault::AbnormalTermination:
        return "ERROR: Process " + ns + ": abnormal termination";
      default:
        break;
    }
  }
  return "ERROR: Process " + ns + ": " + e.message;
}

Response redirect(const std::string& message) {
  Response r = text(303, "See Other\n");
  r.headers.emplace_back("Location", "index.html?message=" + url_encode(message));
  return r;
}

using Done = std::function<void(std::string)>;

void act_on_process(RpcMethods& methods, const std::string& action, const std::string& ns,
                    Done done) {
  const auto simple = [&](const char* method, const Json& params, std::string success) {
    methods.call(method, params,
                 [action, ns, success = std::move(success), done = std::move(done)](RpcOutcome o) {
                   done(o ? success : action_error(action, ns, o.error()));
                 });
  };
  if (action == "start") {
    simple("supervisor.startProcess", Json::array({ns}), "Process " + ns + " started");
  } else if (action == "stop") {
    simple("supervisor.stopProcess", Json::array({ns}), "Process " + ns + " stopped");
  } else if (action == "clearlog") {
    simple("supervisor.clearProcessLogs", Json::array({ns}), "Log for " + ns + " cleared");
  } else {  // restart: stop (a process that is not running is fine), then start
    methods.call("supervisor.stopProcess", Json::array({ns}),
                 [&methods, ns, done = std::move(done)](RpcOutcome stopped) {
                   if (!stopped && stopped.error().fault() != Fault::NotRunning) {
                     done(action_error("restart", ns, stopped.error()));
                     return;
                   }
                   methods.call("supervisor.startProcess", Json::array({ns}),
                                [ns, done](RpcOutcome started) {
                                  done(started ? "Process " + ns + " restarted"
                                               : action_error("start", ns, started.error()));
                                });
                 });
  }
}

/// Failures of an "all" call: its result structs whose status is not SUCCESS (80).
std::string all_failures(const RpcOutcome& o) {
  if (!o) {
    return o.error().message;
  }
  std::string out;
  for (const Json& r : array_or_empty(o)) {
    if (number<int>(r, "status").value_or(80) != 80) {
      out += (out.empty() ? "" : "; ") + namespec(str(r, "group"), str(r, "name")) + ": " +
             str(r, "description");
    }
  }
  return out;
}

void act(RpcMethods& methods, const std::string& action, const std::string& ns, Done done) {
  if (action == "refresh") {
    done("Page refreshed");
  } else if (action == "stopall") {
    methods.call("supervisor.stopAllProcesses", Json::array(), [done](RpcOutcome o) {
      const std::string failed = all_failures(o);
      done(failed.empty() ? "All stopped" : "ERROR: stop all: " + failed);
    });
  } else if (action == "restartall") {
    methods.call("supervisor.stopAllProcesses", Json::array(), [&methods, done](RpcOutcome o) {
      if (!o) {
        done("ERROR: restart all: " + o.error().message);
        return;
      }
      methods.call("supervisor.startAllProcesses", Json::array(), [done](RpcOutcome s) {
        const std::string failed = all_failures(s);
        done(failed.empty() ? "All restarted" : "ERROR: restart all: " + failed);
      });
    });
  } else {
    act_on_process(methods, action, ns, std::move(done));
  }
}

bool known_action(std::string_view a) {
  return a == "start" || a == "stop" || a == "restart" || a == "clearlog" || a == "refresh" ||
         a == "stopall" || a == "restartall";
}

bool needs_process(std::string_view a) {
  return a == "start" || a == "stop" || a == "restart" || a == "clearlog";
}

// ---- the tail page ----

void serve_tail(RpcMethods& methods, const Form& form, Respond respond) {
  TailPage page;
  page.namespec = std::string(field(form, "processname"));
  // supervisord compat: TailView shows at least 1024 bytes; a limit that is not a number is
  // 1024.
  const std::string_view limit = field(form, "limit");
  if (!limit.empty() && limit.size() <= 12 &&
      std::all_of(limit.begin(), limit.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    page.limit = std::max<std::int64_t>(1024, std::stoll(std::string(limit)));
  }
  const auto html = [](const TailPage& p) {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_tail_page(p);
    return r;
  };
  if (page.namespec.empty()) {
    page.text = "No process name found";
    respond(html(page));
    return;
  }
  methods.call("supervisor.readProcessStdoutLog", Json::array({page.namespec, -page.limit, 0}),
               [page, html, respond = std::move(respond)](RpcOutcome o) mutable {
                 if (o && o->is_string()) {
                   page.text = o->get<std::string>();
                 } else if (!o && o.error().fault() == Fault::NoFile) {
                   page.text = "No file for " + page.namespec;
                 } else if (!o) {
                   page.text = fmt::format("ERROR: unexpected rpc fault [{}] {}",
                                           o.error().code, o.error().message);
                 }
                 respond(html(page));
               });
}

}  // namespace

bool is_page(std::string_view path) {
  return path == "/" || path == "/index.html" || path == "/tail.html" || path == "/metrics" ||
         path == "/livez" || path == "/readyz";
}

void serve_page(RpcMethods& methods, const Request& request, Respond respond) {
  const Target t = read_target(request);
  const bool head = request.method == "HEAD";
  const bool page = t.path == "/" || t.path == "/index.html" || t.path == "/tail.html";
  if (request.method != "GET" && !head && !(request.method == "POST" && page)) {
    respond(not_allowed(page ? "GET, HEAD, POST" : "GET, HEAD"));
    return;
  }
  if (t.path == "/livez") {
    respond(text(200, "ok\n"));
  } else if (t.path == "/readyz") {
    serve_readyz(methods, std::move(respond));
  } else if (t.path == "/metrics") {
    serve_metrics(methods, std::move(respond));
  } else if (t.path == "/tail.html") {
    serve_tail(methods, t.form, std::move(respond));
  } else if (t.path == "/" || t.path == "/index.html") {
    const std::string action(field(t.form, "action"));
    if (action.empty() || head) {
      serve_status(methods, std::string(field(t.form, "message")), std::move(respond));
      return;
    }
    if (!known_action(action)) {
      respond(text(400, fmt::format("index.html: unknown action '{}' (start, stop, restart, "
                                    "clearlog, refresh, stopall, restartall)\n",
                                    action)));
      return;
    }
    const std::string ns(field(t.form, "processname"));
    if (needs_process(action) && ns.empty()) {
      respond(text(400, fmt::format("index.html: action '{}' needs a processname\n", action)));
      return;
    }
    act(methods, action, ns,
        [respond = std::move(respond)](std::string message) { respond(redirect(message)); });
  } else {
    respond(text(404, "404 Not Found\n"));
  }
}

}  // namespace zagent::http
