// The log family: the main log and the process logs, read, tailed and cleared as they are
// on disk (through AgentControl), with supervisord's offset rules (spec/rpc.md §4.4).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "agent/rpc/method_families.h"
#include "agent/rpc/method_helpers.h"

namespace zagent {
namespace {

using namespace methods;
using rpc::fault_error;

/// An offset or length argument of the log methods. JSON integers reach 64 bits where
/// XML-RPC's stop at 32, so they are clamped far beyond any file size: the sums and negations
/// of supervisord's rules then cannot overflow.
std::int64_t log_arg(const Json& value) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 61;
  return std::clamp(value.get<std::int64_t>(), -kLimit, kLimit);
}

/// supervisord's readFile() offset/length rules (spec/rpc.md §4.4).
RpcOutcome read_log_file(MethodContext& ctx, const std::string& path, std::int64_t offset,
                         std::int64_t length) {
  if (offset < 0) {
    if (length != 0) {
      return fault_error(Fault::BadArguments);
    }
    auto size = ctx.control.file_size(path);
    if (!size) {
      return fault_error(Fault::Failed);
    }
    const std::int64_t pos = std::max<std::int64_t>(0, *size + offset);
    auto data = ctx.control.read_file(path, pos, -offset);
    if (!data) {
      return fault_error(Fault::Failed);
    }
    return ok(Json(std::move(*data)));
  }
  if (length < 0) {
    return fault_error(Fault::BadArguments);
  }
  auto data = ctx.control.read_file(path, offset, length == 0 ? -1 : length);
  if (!data) {
    return fault_error(Fault::Failed);
  }
  return ok(Json(std::move(*data)));
}

void read_main_log(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string path = ctx.control.main_log_path();
  if (path.empty() || !ctx.control.file_size(path)) {
    reply(fault_error(Fault::NoFile, path.empty() ? "None" : path));
    return;
  }
  reply(read_log_file(ctx, path, log_arg(a[0]), log_arg(a[1])));
}

void clear_main_log(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  const std::string path = ctx.control.main_log_path();
  if (path.empty() || !ctx.control.file_size(path)) {
    reply(fault_error(Fault::NoFile));
    return;
  }
  if (!ctx.control.clear_main_log()) {
    reply(fault_error(Fault::Failed));
    return;
  }
  reply(ok(Json(true)));
}

void read_process_log(MethodContext& ctx, const MethodArgs& a, RpcReply reply,
                      std::string_view channel) {
  const std::string name = a[0].get<std::string>();
  auto target = resolve_process(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  const std::string& path = channel_path(*target->process, channel);
  if (path.empty() || !ctx.control.file_size(path)) {
    reply(fault_error(Fault::NoFile, path.empty() ? "None" : path));
    return;
  }
  reply(read_log_file(ctx, path, log_arg(a[1]), log_arg(a[2])));
}
void read_stdout(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  read_process_log(ctx, a, std::move(reply), "stdout");
}
void read_stderr(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  read_process_log(ctx, a, std::move(reply), "stderr");
}

/// supervisord's tailFile() (spec/rpc.md §4.4): at most the last `length` bytes.
void tail_process_log(MethodContext& ctx, const MethodArgs& a, RpcReply reply,
                      std::string_view channel) {
  const std::string name = a[0].get<std::string>();
  auto target = resolve_process(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  std::int64_t offset = log_arg(a[1]);
  std::int64_t length = log_arg(a[2]);
  const std::string& path = channel_path(*target->process, channel);
  auto size_or = path.empty() ? Result<std::int64_t>(fail("no file")) : ctx.control.file_size(path);
  if (!size_or) {
    reply(ok(Json::array({"", 0, false})));
    return;
  }
  const std::int64_t size = *size_or;
  bool overflow = false;
  if (size > offset + length) {
    overflow = true;
    offset = size - 1;
  }
  if (offset + length > size) {
    if (offset > size - 1) {
      length = 0;
    }
    offset = size - length;
  }
  offset = std::max<std::int64_t>(offset, 0);
  length = std::max<std::int64_t>(length, 0);
  std::string data;
  if (length > 0) {
    auto read = ctx.control.read_file(path, offset, length);
    if (!read) {
      reply(ok(Json::array({"", offset, false})));
      return;
    }
    data = std::move(*read);
  }
  reply(ok(Json::array({std::move(data), size, overflow})));
}
void tail_stdout(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  tail_process_log(ctx, a, std::move(reply), "stdout");
}
void tail_stderr(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  tail_process_log(ctx, a, std::move(reply), "stderr");
}

RpcOutcome clear_one(MethodContext& ctx, const ProcessEntry& p, const std::string& given) {
  for (const std::string* path : {&p.stdout_path, &p.stderr_path}) {
    if (!path->empty() && ctx.control.file_size(*path)) {
      if (!ctx.control.clear_log(*path)) {
        return fault_error(Fault::Failed, given);
      }
    }
  }
  return ok(Json(true));
}
void clear_process_logs(MethodContext& ctx, const MethodArgs& a, RpcReply reply) {
  const std::string name = a[0].get<std::string>();
  auto target = resolve_process(ctx.supervisor, name);
  if (!target) {
    reply(target.error());
    return;
  }
  reply(clear_one(ctx, *target->process, name));
}
void clear_all_process_logs(MethodContext& ctx, const MethodArgs&, RpcReply reply) {
  Json results = Json::array();
  for (const auto& g : ctx.supervisor.groups()) {
    for (const ProcessEntry* p : by_priority(g)) {
      results.push_back(result_struct(g.name, p->config.name,
                                      clear_one(ctx, *p, namespec(g.name, p->config.name))));
    }
  }
  reply(ok(std::move(results)));
}

}  // namespace

void register_log_methods(MethodRegistry& r, MethodContext& c) {
  const std::vector<MethodParam> offset_length{{"offset", "int", std::nullopt},
                                               {"length", "int", std::nullopt}};
  r.add({"supervisor.readLog", "string", offset_length,
         "Read the main log: the last -offset bytes (offset < 0, length 0), or length bytes from "
         "offset (length 0: to the end). Faults: NO_FILE, BAD_ARGUMENTS, FAILED.",
         with_context(c, &read_main_log)});
  r.add({"supervisor.readMainLog", "string", offset_length, "Alias of supervisor.readLog.",
         with_context(c, &read_main_log)});
  r.add({"supervisor.clearLog", "boolean", kNone,
         "Delete and reopen the agent's main log. Faults: NO_FILE, FAILED.",
         with_context(c, &clear_main_log)});
  r.add({"supervisor.readProcessLog", "string", kNameOffsetLength,
         "Alias of supervisor.readProcessStdoutLog.", with_context(c, &read_stdout)});
  r.add({"supervisor.readProcessStdoutLog", "string", kNameOffsetLength,
         "Read a process's stdout log, with the offset rules of supervisor.readLog.",
         with_context(c, &read_stdout)});
  r.add({"supervisor.readProcessStderrLog", "string", kNameOffsetLength,
         "Read a process's stderr log, with the offset rules of supervisor.readLog.",
         with_context(c, &read_stderr)});
  r.add({"supervisor.tailProcessLog", "array", kNameOffsetLength,
         "Alias of supervisor.tailProcessStdoutLog.", with_context(c, &tail_stdout)});
  r.add({"supervisor.tailProcessStdoutLog", "array", kNameOffsetLength,
         "[bytes, offset, overflow]: at most the last `length` bytes of the stdout log written "
         "since `offset`; the returned offset is the file size.",
         with_context(c, &tail_stdout)});
  r.add({"supervisor.tailProcessStderrLog", "array", kNameOffsetLength,
         "Like supervisor.tailProcessStdoutLog, for stderr.", with_context(c, &tail_stderr)});
  r.add({"supervisor.clearProcessLogs", "boolean", kName,
         "Empty the stdout and stderr logs of one process. Faults: BAD_NAME, FAILED.",
         with_context(c, &clear_process_logs)});
  r.add({"supervisor.clearProcessLog", "boolean", kName, "Alias of supervisor.clearProcessLogs.",
         with_context(c, &clear_process_logs)});
  r.add({"supervisor.clearAllProcessLogs", "array", kNone,
         "Empty the stdout and stderr logs of every process; one result struct per process.",
         with_context(c, &clear_all_process_logs)});
}

}  // namespace zagent
