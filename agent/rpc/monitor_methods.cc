// The monitor family: zagent.getProcessStats, each process's resources as the resource
// monitor last sampled them (docs/monitoring.md), for `zctl top` and `zctl status --json`;
// zagent.getGpuStatus; zagent.getHealth (docs/health.md).
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/health/health_monitor.h"
#include "agent/monitor/gpu_monitor.h"
#include "agent/monitor/resource_monitor.h"
#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "agent/rpc/methods.h"

namespace zagent {
namespace {

using namespace methods;

Json stats_row(MethodContext& ctx, const ResourceMonitor* monitor, const GpuMonitor* gpu,
               const ProcessEntry& entry) {
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
  row["gpu"] = gpu != nullptr ? gpu->program_json(entry) : Json(nullptr);
  return row;
}

/// The rows of zagent.getProcessStats once the GPU figures are in.
void stats_reply(MethodContext& ctx, const std::string& name, const RpcReply& reply) {
  auto entries = resolve_entries(ctx.supervisor, name);
  if (!entries) {
    reply(entries.error());
    return;
  }
  ResourceMonitor* monitor = ctx.control.resource_monitor();
  if (monitor != nullptr && monitor->samples_on_request()) {
    monitor->sample_now();
  }
  const GpuMonitor* gpu = ctx.control.gpu_monitor();
  Json out = Json::array();
  for (const ProcessEntry* p : *entries) {
    out.push_back(stats_row(ctx, monitor, gpu, *p));
  }
  reply(ok(std::move(out)));
}

/// zagent.getProcessStats(name?): one row per process (all, a group with `g:*` or its name,
/// or one namespec), with the newest sample of its tree and its GPU memory. With
/// sample_interval=0 the trees are sampled for the call; the GPUs are read for it when the
/// newest reading is older than gpu_sample_interval.
void get_process_stats(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  std::string name = a[0].get<std::string>();
  GpuMonitor* gpu = ctx.control.gpu_monitor();
  if (gpu == nullptr || !gpu->enabled()) {
    stats_reply(ctx, name, reply);
    return;
  }
  // The process table may change while the GPUs are read: the rows are made afterwards.
  gpu->request(gpu->client_freshness(), [&ctx, name = std::move(name), reply = std::move(reply)] {
    stats_reply(ctx, name, reply);
  });
}

/// zagent.getHealth(name?): each process's health check and its last checks
/// (docs/health.md); `healthcheck` is null for a process without one.
void get_health(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  auto entries = resolve_entries(ctx.supervisor, a[0].get<std::string>());
  if (!entries) {
    reply(entries.error());
    return;
  }
  Json out = Json::array();
  for (const ProcessEntry* p : *entries) {
    out.push_back(health_detail_json(*p));
  }
  reply(ok(std::move(out)));
}

/// zagent.getGpuStatus(): every device, its memory and users (docs/gpu.md); read for the
/// call when the newest reading is older than a second.
void get_gpu_status(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  GpuMonitor* gpu = ctx.control.gpu_monitor();
  if (gpu == nullptr) {
    reply(ok(Json{{"backend", "off"},
                  {"ok", false},
                  {"error", "GPU monitoring is not available"},
                  {"sampled_at", nullptr},
                  {"driver_version", nullptr},
                  {"attribution", "none"},
                  {"attribution_note", nullptr},
                  {"devices", Json::array()}}));
    return;
  }
  gpu->request(std::chrono::seconds(1),
               [gpu, reply = std::move(reply)] { reply(ok(gpu->status_json())); });
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
  r.add({"zagent.getGpuStatus",
         "struct",
         {},
         "The GPUs as last read (NVML or nvidia-smi): each device's memory, utilization and "
         "the programs using it with their memory; read for the call when older than 1 s.",
         with_context(c, &get_gpu_status)});
  r.add({"zagent.getHealth",
         "array",
         {{"name", "string", Json("")}},
         "Each process's health check: its status, consecutive failures and last checks; of "
         "one process (namespec), of a group (`g:*`), or of all when name is empty. Fault: "
         "BAD_NAME.",
         with_context(c, &get_health)});
}

}  // namespace zagent
