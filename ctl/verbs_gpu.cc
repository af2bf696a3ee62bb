// The `gpu` verb (a zctl extension, docs/zctl.md "gpu"): the agent's last GPU reading
// (zagent.getGpuStatus) per device, with the programs matched to its compute processes.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/faults.h"
#include "ctl/exit_codes.h"
#include "ctl/render.h"
#include "ctl/verb_support.h"
#include "ctl/verb_table.h"

namespace zagent::ctl {
namespace {

constexpr std::string_view kMethod = "zagent.getGpuStatus";

struct GpuResult : VerbResult {
  std::optional<Json> status;  ///< the agent's object, once read
};

/// A string member; "" when missing or null.
std::string text_field(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json& array_field(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

GpuDeviceRow device_row(const Json& d) {
  GpuDeviceRow row;
  row.index = int_field(d, "index");
  row.uuid = text_field(d, "uuid");
  row.name = text_field(d, "name");
  row.total_bytes = number_field(d, "memory_total_bytes");
  row.used_bytes = number_field(d, "memory_used_bytes");
  row.free_bytes = number_field(d, "memory_free_bytes");
  row.utilization_percent = number_field(d, "utilization_percent");
  row.processes_known = bool_field(d, "processes_known");
  row.note = text_field(d, "note");
  for (const Json& p : array_field(d, "programs")) {
    if (!p.is_object()) {
      continue;
    }
    GpuProgramRow program;
    program.namespec = text_field(p, "namespec");
    if (program.namespec.empty()) {
      program.namespec = namespec_of(p);
    }
    program.memory_bytes = number_field(p, "memory_bytes");
    for (const Json& pid : array_field(p, "pids")) {
      if (pid.is_number_integer()) {
        program.pids.push_back(pid.get<std::int64_t>());
      }
    }
    program.estimated = bool_field(p, "estimated");
    row.programs.push_back(std::move(program));
  }
  for (const Json& o : array_field(d, "other_processes")) {
    if (o.is_object()) {
      row.others.push_back({int_field(o, "pid"), number_field(o, "memory_bytes")});
    }
  }
  return row;
}

GpuStatus gpu_status(const Json& j) {
  GpuStatus s;
  s.backend = text_field(j, "backend");
  s.ok = bool_field(j, "ok");
  s.error = text_field(j, "error");
  s.driver_version = text_field(j, "driver_version");
  s.sampled_at = number_field(j, "sampled_at");
  s.attribution = text_field(j, "attribution");
  s.attribution_note = text_field(j, "attribution_note");
  for (const Json& d : array_field(j, "devices")) {
    if (d.is_object()) {
      s.devices.push_back(device_row(d));
    }
  }
  return s;
}

std::string to_text(const GpuResult& r) { return r.status ? gpu_text(gpu_status(*r.status)) : ""; }

/// --json: the agent's object as it came.
Json to_json(const GpuResult& r) { return r.status ? *r.status : Json::object(); }

/// The connection check and the call in one round trip (both only read).
GpuResult gpu(Session& s) {
  GpuResult r;
  const auto replies =
      s.client->call_all({get_version_call(), {std::string(kMethod), Json::object()}});
  if (!upcheck_reply(s, r, replies.front(), /*for_status=*/false)) {
    return r;
  }
  const CallResult<Json>& reply = replies[1];
  if (!reply) {
    const CallError& e = reply.error();
    if (is_unknown_method(e)) {
      r.fail(fmt::format("Error: the agent does not serve {} (supervisord, or a zagent without "
                         "GPU monitoring)",
                         kMethod),
             exit_code::kGeneric);
    } else {
      r.unexpected(e);
    }
    return r;
  }
  if (!reply->is_object() || !reply->contains("backend") ||
      (reply->contains("devices") && !(*reply)["devices"].is_array())) {
    r.bad_reply(kMethod);
    return r;
  }
  r.status = *reply;
  // A script can test it: 1 when nothing is monitored or nothing could be read.
  const GpuStatus status = gpu_status(*reply);
  if (status.backend == "off" || (!status.ok && status.devices.empty())) {
    r.exit_code = exit_code::kGeneric;
  }
  return r;
}

}  // namespace

Outcome verb_gpu(Session& s, const VerbCall& call) {
  VerbResult usage;
  if (!no_arguments(usage, call.words, "gpu")) {
    return emit(s, usage);
  }
  return emit(s, gpu(s));
}

}  // namespace zagent::ctl
