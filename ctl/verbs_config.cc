// The configuration verbs (spec/ctl.md §6): reread, update, add, remove, avail. Each computes
// one result, which emit() writes as supervisorctl's text or as JSON.
#include <fmt/format.h>

#include <cstdint>
#include <set>
#include <utility>

#include "common/faults.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

/// reloadConfig's `[[added, changed, removed]]`.
struct Changes {
  std::vector<std::string> added, changed, removed;
};

std::optional<Changes> parse_changes(const Json& r) {
  if (!r.is_array() || r.empty() || !r[0].is_array() || r[0].size() != 3) {
    return std::nullopt;
  }
  Changes out;
  std::vector<std::string>* lists[] = {&out.added, &out.changed, &out.removed};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!r[0][i].is_array()) {
      return std::nullopt;
    }
    for (const Json& name : r[0][i]) {
      lists[i]->push_back(py_str(name));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// reread

struct RereadResult : VerbResult {
  std::optional<Changes> changes;
};

std::string to_text(const RereadResult& r) {
  return r.changes ? reread_text(r.changes->added, r.changes->changed, r.changes->removed)
                   : std::string();
}

Json to_json(const RereadResult& r) {
  if (!r.changes) {
    return Json::object();
  }
  return {{"added", r.changes->added},
          {"changed", r.changes->changed},
          {"removed", r.changes->removed}};
}

RereadResult reread(Session& s, const std::vector<std::string>& words) {
  RereadResult r;
  if (!no_arguments(r, words, "reread")) {
    return r;
  }
  auto reply = s.client->call("supervisor.reloadConfig", Json::array());
  if (!reply) {
    const auto fault = reply.error().fault();
    if (fault == Fault::ShutdownState) {
      r.fail("ERROR: supervisor shutting down", exit_code::kGeneric);
    } else if (fault == Fault::CantReread) {
      r.fail(fmt::format("ERROR: {}", reply.error().fault_string()), exit_code::kGeneric);
    } else {
      r.unexpected(reply.error());
    }
    return r;
  }
  r.changes = parse_changes(*reply);
  if (!r.changes) {
    r.bad_reply("supervisor.reloadConfig");
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// update

/// One step of `update` on a group: `g: <message>`.
struct UpdateStep {
  std::string group;
  std::string message;  ///< "stopped", "added process group", ...
  std::string action;   ///< JSON "action"; empty: a text-only step (`stopped`)
  bool ok = true;
};

struct UpdateResult : VerbResult {
  bool listed = false;               ///< reloadConfig answered (JSON has both lists)
  std::vector<std::string> unknown;  ///< named groups that do not exist, printed first
  std::vector<UpdateStep> steps;

  void step(const std::string& group, std::string message, std::string action, bool ok = true) {
    steps.push_back({group, std::move(message), std::move(action), ok});
  }
};

std::string to_text(const UpdateResult& r) {
  std::string out;
  for (const std::string& g : r.unknown) {
    out += fmt::format("ERROR: no such group: {}\n", g);
  }
  for (const UpdateStep& step : r.steps) {
    out += fmt::format("{}: {}\n", step.group, step.message);
  }
  return out;
}

Json to_json(const UpdateResult& r) {
  Json doc = Json::object();
  if (r.listed) {
    doc["groups"] = Json::array();
    for (const UpdateStep& step : r.steps) {
      if (!step.action.empty()) {
        doc["groups"].push_back({{"name", step.group}, {"action", step.action}, {"ok", step.ok}});
      }
    }
    doc["errors"] = Json::array();
    for (const std::string& g : r.unknown) {
      doc["errors"].push_back({{"name", g}, {"error", "no such group"}});
    }
  }
  return doc;
}

/// update of one changed group: zagent.updateProcessGroup, or supervisorctl's
/// stop/remove/add when the agent does not have it.
bool update_changed_group(Session& s, UpdateResult& r, const std::string& g) {
  auto reply = s.client->call("zagent.updateProcessGroup", Json::array({g}));
  if (reply) {
    r.step(g, "stopped", "");
    r.step(g, "updated process group", "updated");
    return true;
  }
  if (reply.error().fault() == Fault::UnknownMethod) {
    auto stopped = s.client->call("supervisor.stopProcessGroup", Json::array({g, true}));
    if (!stopped) {
      r.unexpected(stopped.error());
      return false;
    }
    r.step(g, "stopped", "");
    for (const char* method : {"supervisor.removeProcessGroup", "supervisor.addProcessGroup"}) {
      auto done = s.client->call(method, Json::array({g}));
      if (!done) {
        r.unexpected(done.error());
        return false;
      }
    }
    r.step(g, "updated process group", "updated");
    return true;
  }
  if (reply.error().fault() == Fault::Failed) {
    // The agent stopped the group but could not finish (supervisorctl would fail on the
    // remove after printing `stopped`).
    r.step(g, "stopped", "");
  }
  r.unexpected(reply.error());
  return false;
}

/// update of one removed group: stop it, then remove it unless a process failed to stop.
bool update_removed_group(Session& s, UpdateResult& r, const std::string& g) {
  auto stopped = s.client->call("supervisor.stopProcessGroup", Json::array({g, true}));
  if (!stopped) {
    r.unexpected(stopped.error());
    return false;
  }
  r.step(g, "stopped", "");
  bool failed = false;
  if (stopped->is_array()) {
    for (const Json& res : *stopped) {
      failed = failed || int_field(res, "status") == fault_code(Fault::Failed);
    }
  }
  if (failed) {
    r.step(g, "has problems; not removing", "not removed", false);
    r.exit_code = exit_code::kGeneric;
    return true;
  }
  auto removed = s.client->call("supervisor.removeProcessGroup", Json::array({g}));
  if (!removed) {
    r.unexpected(removed.error());
    return false;
  }
  r.step(g, "removed process group", "removed");
  return true;
}

/// The groups named on the command line that neither run nor were just added.
bool find_unknown_groups(Session& s, UpdateResult& r, const Changes& changes,
                         const std::vector<std::string>& only) {
  auto infos = s.client->call("supervisor.getAllProcessInfo", Json::array());
  if (!infos) {
    r.unexpected(infos.error());
    return false;
  }
  if (!infos->is_array()) {
    r.bad_reply("supervisor.getAllProcessInfo");
    return false;
  }
  std::set<std::string> groups(changes.added.begin(), changes.added.end());
  for (const Json& info : *infos) {
    groups.insert(str_field(info, "group"));
  }
  for (const std::string& g : only) {
    if (groups.count(g) == 0) {
      r.unknown.push_back(g);
      r.exit_code = exit_code::kGeneric;
    }
  }
  return true;
}

UpdateResult update(Session& s, const std::vector<std::string>& words) {
  UpdateResult r;
  auto reply = s.client->call("supervisor.reloadConfig", Json::array());
  if (!reply) {
    if (reply.error().fault() == Fault::ShutdownState) {
      r.fail("ERROR: already shutting down", exit_code::kGeneric);
    } else {
      // supervisord compat: CANT_REREAD is not formatted here (an `error:` line).
      r.unexpected(reply.error());
    }
    return r;
  }
  const auto changes = parse_changes(*reply);
  if (!changes) {
    r.bad_reply("supervisor.reloadConfig");
    return r;
  }
  r.listed = true;
  // Named groups in argument order, once each; `all` means every group.
  std::vector<std::string> only;
  for (const std::string& w : words) {
    if (!contains(only, w)) {
      only.push_back(w);
    }
  }
  if (contains(only, "all")) {
    only.clear();
  }
  if (!only.empty() && !find_unknown_groups(s, r, *changes, only)) {
    return r;
  }
  const auto wanted = [&](const std::string& g) { return only.empty() || contains(only, g); };
  for (const std::string& g : changes->removed) {
    if (wanted(g) && !update_removed_group(s, r, g)) {
      return r;
    }
  }
  for (const std::string& g : changes->changed) {
    if (wanted(g) && !update_changed_group(s, r, g)) {
      return r;
    }
  }
  for (const std::string& g : changes->added) {
    if (!wanted(g)) {
      continue;
    }
    auto added = s.client->call("supervisor.addProcessGroup", Json::array({g}));
    if (!added) {
      r.unexpected(added.error());
      return r;
    }
    r.step(g, "added process group", "added");
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// add / remove

struct GroupChange {
  std::string name;     ///< as given
  bool ok = false;      ///< the call succeeded
  int status = 0;       ///< SUCCESS or the fault's code
  std::string message;  ///< the text line
};

struct AddRemoveResult : VerbResult {
  std::string action;  ///< "add" or "remove" (JSON)
  std::vector<GroupChange> changes;
};

std::string to_text(const AddRemoveResult& r) {
  std::string out;
  for (const GroupChange& c : r.changes) {
    out += c.message;
    out += '\n';
  }
  return out;
}

Json to_json(const AddRemoveResult& r) {
  Json doc = {{"results", Json::array()}};
  for (const GroupChange& c : r.changes) {
    doc["results"].push_back({{"action", r.action},
                              {"name", c.name},
                              {"ok", c.ok},
                              {"status", c.status},
                              {"message", c.message}});
  }
  return doc;
}

AddRemoveResult add_or_remove(Session& s, const std::vector<std::string>& names, bool add) {
  AddRemoveResult r;
  r.action = add ? "add" : "remove";
  for (const std::string& name : names) {
    auto reply = s.client->call(
        add ? "supervisor.addProcessGroup" : "supervisor.removeProcessGroup", Json::array({name}));
    GroupChange c{name, true, fault_code(Fault::Success), {}};
    if (reply) {
      c.message = fmt::format("{}: {} process group", name, add ? "added" : "removed");
      r.changes.push_back(std::move(c));
      continue;
    }
    const auto fault = reply.error().fault();
    if (add && fault == Fault::ShutdownState) {
      c.message = "ERROR: shutting down";
      r.exit_code = exit_code::kGeneric;
    } else if (add && fault == Fault::AlreadyAdded) {
      // supervisord compat: not an error for the exit status.
      c.message = "ERROR: process group already active";
    } else if (!add && fault == Fault::StillRunning) {
      c.message = fmt::format("ERROR: process/group still running: {}", name);
      r.exit_code = exit_code::kGeneric;
    } else if (fault == Fault::BadName) {
      c.message = fmt::format("ERROR: no such process/group: {}", name);
      r.exit_code = exit_code::kGeneric;
    } else {
      r.unexpected(reply.error());
      return r;
    }
    c.ok = false;
    c.status = fault_code(*fault);
    r.changes.push_back(std::move(c));
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// avail

/// One configured process (supervisor.getAllConfigInfo).
struct AvailRow {
  std::string namespec;
  std::string group;
  std::string process;
  bool inuse = false;
  bool autostart = false;
  std::int64_t group_prio = 0;
  std::int64_t process_prio = 0;
  /// The priorities as Python's `%s` prints whatever the reply holds.
  std::string group_prio_text;
  std::string process_prio_text;
};

struct AvailResult : VerbResult {
  bool listed = false;  ///< the reply was read (JSON has "processes")
  std::vector<AvailRow> rows;
};

std::string to_text(const AvailResult& r) {
  std::string out;
  for (const AvailRow& row : r.rows) {
    out += avail_line(row.namespec, row.inuse, row.autostart, row.group_prio_text,
                      row.process_prio_text);
    out += '\n';
  }
  return out;
}

Json to_json(const AvailResult& r) {
  Json doc = Json::object();
  if (r.listed) {
    doc["processes"] = Json::array();
    for (const AvailRow& row : r.rows) {
      doc["processes"].push_back({{"name", row.namespec},
                                  {"group", row.group},
                                  {"process", row.process},
                                  {"inuse", row.inuse},
                                  {"autostart", row.autostart},
                                  {"group_prio", row.group_prio},
                                  {"process_prio", row.process_prio}});
    }
  }
  return doc;
}

AvailResult avail(Session& s, const std::vector<std::string>& words) {
  AvailResult r;
  if (!no_arguments(r, words, "avail")) {
    return r;
  }
  auto reply = s.client->call("supervisor.getAllConfigInfo", Json::array());
  if (!reply) {
    if (reply.error().fault() == Fault::ShutdownState) {
      r.fail("ERROR: supervisor shutting down", exit_code::kGeneric);
    } else {
      r.unexpected(reply.error());
    }
    return r;
  }
  if (!reply->is_array()) {
    r.bad_reply("supervisor.getAllConfigInfo");
    return r;
  }
  r.listed = true;
  for (const Json& info : *reply) {
    r.rows.push_back({namespec_of(info), str_field(info, "group"), str_field(info, "name"),
                      bool_field(info, "inuse"), bool_field(info, "autostart"),
                      int_field(info, "group_prio"), int_field(info, "process_prio"),
                      str_field(info, "group_prio"), str_field(info, "process_prio")});
  }
  return r;
}

}  // namespace

Outcome verb_reread(Session& s, const VerbCall& call) { return emit(s, reread(s, call.words)); }
Outcome verb_update(Session& s, const VerbCall& call) { return emit(s, update(s, call.words)); }
Outcome verb_add(Session& s, const VerbCall& call) {
  return emit(s, add_or_remove(s, call.words, true));
}
Outcome verb_remove(Session& s, const VerbCall& call) {
  return emit(s, add_or_remove(s, call.words, false));
}
Outcome verb_avail(Session& s, const VerbCall& call) { return emit(s, avail(s, call.words)); }

}  // namespace zagent::ctl
