#include "agent/rpc/method_helpers.h"

#include <algorithm>
#include <chrono>

namespace zagent {

NameSpec split_namespec(std::string_view name) {
  const auto colon = name.find(':');
  if (colon == std::string_view::npos) {
    return {std::string(name), std::string(name)};
  }
  NameSpec out{std::string(name.substr(0, colon)), std::string(name.substr(colon + 1))};
  if (out.process->empty() || *out.process == "*") {
    out.process.reset();
  }
  return out;
}

namespace methods {

using rpc::fault_error;

std::int64_t epoch_seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t epoch_seconds(const std::optional<WallTime>& t) { return t ? epoch_seconds(*t) : 0; }

std::string namespec(const std::string& group, const std::string& name) {
  return group == name ? name : group + ":" + name;
}

Json result_struct(const std::string& group, const std::string& name, const RpcOutcome& outcome) {
  Json r = Json::object();
  r["name"] = name;
  r["group"] = group;
  if (outcome) {
    r["status"] = fault_code(Fault::Success);
    r["description"] = "OK";
  } else {
    r["status"] = outcome.error().code;
    r["description"] = outcome.error().message;
  }
  return r;
}

RpcError fsm_fault(const FsmError& e, const std::string& given) {
  if (e.fault == Fault::Failed) {
    return fault_error(Fault::Failed, e.detail);
  }
  if (e.fault == Fault::ShutdownState) {
    return fault_error(Fault::ShutdownState);
  }
  return fault_error(e.fault, given);
}

std::vector<const ProcessEntry*> by_priority(const GroupEntry& group) {
  std::vector<const ProcessEntry*> out;
  for (const auto& p : group.processes) {
    out.push_back(&p);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProcessEntry* a, const ProcessEntry* b) {
    return a->config.priority < b->config.priority;
  });
  return out;
}

std::vector<std::string> group_names(const Supervisor& supervisor) {
  std::vector<std::string> names;
  for (const auto& g : supervisor.groups()) {
    names.push_back(g.name);
  }
  return names;
}

const std::string& channel_path(const ProcessEntry& p, std::string_view channel) {
  return channel == "stderr" ? p.stderr_path : p.stdout_path;
}

boost::system::result<Target, RpcError> resolve(const Supervisor& supervisor,
                                                const std::string& name) {
  const NameSpec spec = split_namespec(name);
  const GroupEntry* group = supervisor.find_group(spec.group);
  if (group == nullptr) {
    return fault_error(Fault::BadName, name);
  }
  if (!spec.process) {
    return Target{group, nullptr};
  }
  const ProcessEntry* process = supervisor.find(spec.group, *spec.process);
  if (process == nullptr) {
    return fault_error(Fault::BadName, name);
  }
  return Target{group, process};
}

boost::system::result<Target, RpcError> resolve_process(const Supervisor& supervisor,
                                                        const std::string& name) {
  auto target = resolve(supervisor, name);
  if (!target || target->process == nullptr) {
    return fault_error(Fault::BadName, name);
  }
  return target;
}

boost::system::result<std::vector<const ProcessEntry*>, RpcError> resolve_entries(
    const Supervisor& supervisor, const std::string& name) {
  std::vector<const ProcessEntry*> entries;
  if (name.empty()) {
    for (const GroupEntry& g : supervisor.groups()) {
      for (const ProcessEntry& p : g.processes) {
        entries.push_back(&p);
      }
    }
    return entries;
  }
  auto target = resolve(supervisor, name);
  if (!target) {
    return target.error();
  }
  if (target->process != nullptr) {
    entries.push_back(target->process);
  } else {
    for (const ProcessEntry& p : target->group->processes) {
      entries.push_back(&p);
    }
  }
  return entries;
}

}  // namespace methods
}  // namespace zagent
