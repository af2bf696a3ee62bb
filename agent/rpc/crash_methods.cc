// The crash family: zagent.getCrashRecords over the records the agent keeps (docs/crashes.md).
#include <algorithm>
#include <string>
#include <utility>

#include "agent/crash/crash_record.h"
#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"
#include "agent/rpc/methods.h"

namespace zagent {
namespace {

using namespace methods;
using rpc::fault_error;

/// zagent.getCrashRecords(name?, limit?): the newest `limit` records (0 = all kept), newest
/// first, of one process (its namespec), of a group (`g:*` or its name), or of all.
void get_crash_records(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  const std::int64_t limit = a[1].get<std::int64_t>();
  if (limit < 0) {
    reply(fault_error(Fault::BadArguments, "limit must be >= 0"));
    return;
  }
  const CrashLog* log = ctx.control.crash_log();
  std::vector<CrashRecord> records;
  if (name.empty()) {
    if (log != nullptr) {
      records = log->newest("", static_cast<std::size_t>(limit));
    }
  } else if (log != nullptr && log->has(name)) {
    // A program with records, even one no longer in the config.
    records = log->newest(name, static_cast<std::size_t>(limit));
  } else {
    auto target = resolve(ctx.supervisor, name);
    if (!target) {
      reply(target.error());
      return;
    }
    if (log != nullptr) {
      std::vector<std::string> programs;
      if (target->process != nullptr) {
        programs.push_back(namespec(target->group->name, target->process->config.name));
      } else {
        for (const auto& p : target->group->processes) {
          programs.push_back(namespec(target->group->name, p.config.name));
        }
      }
      for (const auto& r : log->newest("", 0)) {
        if (std::find(programs.begin(), programs.end(), r.program) != programs.end()) {
          if (limit != 0 && records.size() == static_cast<std::size_t>(limit)) {
            break;
          }
          records.push_back(r);
        }
      }
    }
  }
  Json out = Json::array();
  for (const auto& r : records) {
    out.push_back(crash_record_json(r));
  }
  reply(ok(std::move(out)));
}

}  // namespace

void register_crash_methods(MethodRegistry& r, MethodContext& c) {
  r.add({"zagent.getCrashRecords", "array",
         {{"name", "string", Json("")}, {"limit", "int", Json(0)}},
         "Crash records, newest first: of one process (namespec), of a group (`g:*`), or of "
         "all when name is empty; at most `limit` (0 = all kept, up to 50 per program). "
         "Faults: BAD_NAME, BAD_ARGUMENTS.",
         with_context(c, &get_crash_records)});
}

}  // namespace zagent
