// The monitor family: zagent.getProcessStats, each process's resources as the resource
// monitor last sampled them (docs/monitoring.md), for `zctl top` and `zctl status --json`.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/monitor/resource_monitor.h"
#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "agent/rpc/methods.h"

namespace zagent {
namespace {

using namespace methods;

Json stats_row(MethodContext& ctx, const ResourceMonitor* monitor, const ProcessEntry& entry) {
  const ProcessRecord& rec = entry.record;
  const bool alive = rec.pid != 0;
  double uptime = 0;
  if (alive && rec.last_start) {
    uptime = std::chrono::duration<double>(ctx.clock.steady_now() - *rec.last_start).count();
  }
  Json row = Json::object();
  row["name"] = entry.config.name;
  row["group"] = entry.config.group;
  row["namespec"] = namespec_of(entry.config);
  row["state"] = static_cast<int>(rec.state);
  row["statename"] = std::string(state_name(rec.state));
  row["pid"] = rec.pid;
  row["uptime_seconds"] = uptime;
  row["restarts"] = std::max<std::int64_t>(entry.spawns - 1, 0);
  row["resources"] = monitor != nullptr ? monitor->resources_json(entry) : Json(nullptr);
  return row;
}

/// zagent.getProcessStats(name?): one row per process (all, a group with `g:*` or its name,
/// or one namespec), with the newest sample of its tree. With sample_interval=0 the trees are
/// sampled for the call.
void get_process_stats(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  std::vector<const ProcessEntry*> entries;
  if (name.empty()) {
    for (const GroupEntry& g : ctx.supervisor.groups()) {
      for (const ProcessEntry& p : g.processes) {
        entries.push_back(&p);
      }
    }
  } else {
    auto target = resolve(ctx.supervisor, name);
    if (!target) {
      reply(target.error());
      return;
    }
    if (target->process != nullptr) {
      entries.push_back(target->process);
    } else {
      for (const ProcessEntry& p : target->group->processes) {
        entries.push_back(&p);
      }
    }
  }
  ResourceMonitor* monitor = ctx.control.resource_monitor();
  if (monitor != nullptr && monitor->samples_on_request()) {
    monitor->sample_now();
  }
  Json out = Json::array();
  for (const ProcessEntry* p : entries) {
    out.push_back(stats_row(ctx, monitor, *p));
  }
  reply(ok(std::move(out)));
}

}  // namespace

void register_monitor_methods(MethodRegistry& r, MethodContext& c) {
  r.add({"zagent.getProcessStats",
         "array",
         {{"name", "string", Json("")}},
         "Resources of each process's tree (CPU, RSS, PSS, threads, fds, memory trend), its "
         "uptime and restarts: of one process (namespec), of a group (`g:*`), or of all when "
         "name is empty. Fault: BAD_NAME.",
         with_context(c, &get_process_stats)});
}

}  // namespace zagent
