// The config family: reread, the group changes of update (add, remove, zagent's in-place
// update) and the config info of the last-read config.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config_info.h"
#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "common/process_state.h"

namespace zagent {

ConfigDiff diff_groups(const std::vector<GroupConfig>& next,
                       const std::vector<GroupConfig>& active) {
  ConfigDiff diff;
  std::map<std::string, const GroupConfig*> current;
  for (const auto& g : active) {
    current[g.name] = &g;
  }
  std::map<std::string, const GroupConfig*> wanted;
  for (const auto& g : next) {
    wanted[g.name] = &g;
  }
  for (const auto& [name, g] : wanted) {
    auto it = current.find(name);
    if (it == current.end()) {
      diff.added.push_back(name);
    } else if (!(*it->second == *g)) {
      diff.changed.push_back(name);
    }
  }
  for (const auto& [name, g] : current) {
    if (wanted.count(name) == 0) {
      diff.removed.push_back(name);
    }
  }
  return diff;
}

namespace {

using namespace methods;
using rpc::fault_error;

void get_all_config_info(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  Json out = Json::array();
  for (const auto& g : ctx.config.groups) {
    const bool inuse = ctx.supervisor.find_group(g.name) != nullptr;
    for (const auto& p : g.processes) {
      // An active process's AUTO log shows its real file, as supervisord's does.
      const ProcessEntry* entry = ctx.supervisor.find(g.name, p.name);
      const bool same = entry != nullptr && entry->config == p;
      out.push_back(process_config_info(g, p, inuse, same ? &entry->stdout_path : nullptr,
                                        same ? &entry->stderr_path : nullptr));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Json& x, const Json& y) {
    return x["name"].get<std::string>() < y["name"].get<std::string>();
  });
  reply(ok(std::move(out)));
}

void reload_config(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  ConfigLoad load = ctx.control.reread_config();
  if (!load.config) {
    RpcError e = fault_error(Fault::CantReread, load.errors.empty()
                                                    ? std::string("unknown error")
                                                    : load.errors.front().supervisord_text());
    Json errors = Json::array();
    for (const auto& err : load.errors) {
      errors.push_back(err.render());
    }
    e.data = Json{{"errors", std::move(errors)}};
    reply(std::move(e));
    return;
  }
  ctx.config = std::move(*load.config);
  std::vector<GroupConfig> active;
  for (const auto& g : ctx.supervisor.groups()) {
    active.push_back(*ctx.supervisor.group_config(g.name));
  }
  const ConfigDiff diff = diff_groups(ctx.config.groups, active);
  reply(ok(Json::array({Json::array({diff.added, diff.changed, diff.removed})})));
}

const GroupConfig* stored_group(MethodContext& ctx, const std::string& name) {
  for (const auto& g : ctx.config.groups) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}

void add_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const GroupConfig* g = stored_group(ctx, name);
  if (g == nullptr) {
    reply(fault_error(Fault::BadName, name));
    return;
  }
  if (ctx.supervisor.find_group(name) != nullptr) {
    reply(fault_error(Fault::AlreadyAdded, name));
    return;
  }
  const GroupConfig copy = *g;
  if (!ctx.supervisor.add_group(copy, ctx.control.create_auto_logs(copy))) {
    reply(fault_error(Fault::AlreadyAdded, name));
    return;
  }
  reply(ok(Json(true)));
  ctx.waiters.schedule();
}

void remove_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  if (auto removed = ctx.supervisor.remove_group(name); !removed) {
    // supervisord compat: removeProcessGroup, BAD_NAME before STILL_RUNNING.
    reply(fault_error(
        removed.error() == GroupRefusal::NotFound ? Fault::BadName : Fault::StillRunning, name));
    return;
  }
  reply(ok(Json(true)));
  ctx.waiters.schedule();
}

/// zagent.updateProcessGroup: applies the stored config of one active group, restarting
/// only the processes whose config changed (and dropping/adding the others).
void update_process_group(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const GroupConfig* wanted = stored_group(ctx, name);
  const auto active = ctx.supervisor.group_config(name);
  if (wanted == nullptr || !active) {
    reply(fault_error(Fault::BadName, name));
    return;
  }
  const GroupConfig next = *wanted;
  // The processes that must stop: changed or gone.
  std::vector<std::string> to_stop;
  for (const auto& p : active->processes) {
    const auto same = std::find(next.processes.begin(), next.processes.end(), p);
    if (same == next.processes.end()) {
      to_stop.push_back(p.name);
    }
  }
  for (const auto& p : to_stop) {
    const ProcessEntry* e = ctx.supervisor.find(name, p);
    if (e != nullptr && is_running_state(e->record.state)) {
      if (auto stopped = ctx.supervisor.stop_process(name, p); !stopped) {
        reply(fsm_fault(stopped.error(), namespec(name, p)));
        return;
      }
    }
  }
  auto apply = [&ctx, name, next, to_stop, reply]() -> bool {
    if (ctx.control.state() != SupervisorState::Running) {
      reply(fault_error(Fault::ShutdownState));
      return true;
    }
    for (const auto& p : to_stop) {
      const ProcessEntry* e = ctx.supervisor.find(name, p);
      if (e != nullptr && !is_stopped_state(e->record.state)) {
        return false;  // still stopping
      }
    }
    if (ctx.supervisor.find_group(name) == nullptr) {
      reply(fault_error(Fault::BadName, name));
      return true;
    }
    // AUTO log files only for the processes that get a fresh entry.
    GroupConfig fresh = next;
    const auto current = ctx.supervisor.group_config(name);
    std::erase_if(fresh.processes, [&](const ProcessConfig& p) {
      return std::find(current->processes.begin(), current->processes.end(), p) !=
             current->processes.end();
    });
    if (!ctx.supervisor.update_group(next, ctx.control.create_auto_logs(fresh))) {
      reply(fault_error(Fault::Failed, "could not update group " + name));
      return true;
    }
    reply(ok(Json(true)));
    return true;
  };
  // The table change must not happen inside a supervisor callback: always via the waiters.
  ctx.waiters.add(std::move(apply));
  ctx.waiters.schedule();
}

}  // namespace

void register_config_methods(MethodRegistry& r, MethodContext& c) {
  r.add({"supervisor.reloadConfig", "array", kNone,
         "Read the config files again and report [[added, changed, removed]] group names; "
         "nothing is started or stopped. Fault: CANT_REREAD.",
         with_context(c, &reload_config)});
  r.add({"supervisor.addProcessGroup", "boolean", kName,
         "Activate the group `name` from the last-read config; its processes then follow "
         "autostart. Faults: BAD_NAME, ALREADY_ADDED.",
         with_context(c, &add_process_group)});
  r.add({"supervisor.removeProcessGroup", "boolean", kName,
         "Remove an active group whose processes are all stopped. Faults: BAD_NAME, "
         "STILL_RUNNING.",
         with_context(c, &remove_process_group)});
  r.add({"supervisor.getAllConfigInfo", "array", kNone,
         "One config struct per process of the last-read config, sorted by process name.",
         with_context(c, &get_all_config_info)});
  r.add({"zagent.updateProcessGroup", "boolean", kName,
         "Apply the last-read config to one active group: only the processes whose config "
         "changed are stopped and started again; the others keep running with the same pid. "
         "Faults: BAD_NAME, FAILED.",
         with_context(c, &update_process_group)});
}

}  // namespace zagent
