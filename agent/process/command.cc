#include "agent/process/command.h"

#include "common/datatypes.h"
#include "common/pystr.h"

namespace zagent {

namespace {

// Python's os.path.join(dir, name) for a name without '/': an empty entry means the name
// alone (relative to the agent's cwd), as supervisord's PATH search does.
std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') {
    out += '/';
  }
  out += name;
  return out;
}

}  // namespace

// supervisord compat: Subprocess.get_execv_args() and ServerOptions.check_execv_args().
Result<ResolvedCommand> resolve_command(std::string_view command, std::string_view search_path,
                                        const FileProbe& probe) {
  auto words = split_command(command);
  if (!words) {
    return fail("can't parse command " + py_repr(command) + ": " + words.error().message);
  }
  if (words->empty()) {
    return fail("command is empty");
  }
  const std::string& program = words->front();

  std::string filename = program;
  FileStatus st;
  if (program.find('/') != std::string::npos) {
    st = probe.stat(filename);
  } else {
    // The first entry where the name exists wins; whether it can run is checked below.
    std::string_view rest = search_path;
    while (true) {
      const auto colon = rest.find(':');
      std::string candidate = join_path(rest.substr(0, colon), program);
      st = probe.stat(candidate);
      if (st.exists) {
        filename = std::move(candidate);
        break;
      }
      if (colon == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(colon + 1);
    }
  }

  if (!st.exists) {
    return fail("can't find command " + py_repr(filename), ErrorCode::NotFound);
  }
  if (st.is_directory) {
    return fail("command at " + py_repr(filename) + " is a directory");
  }
  if (!st.any_execute_bit) {
    return fail("command at " + py_repr(filename) + " is not executable");
  }
  if (!probe.can_execute(filename)) {
    return fail("no permission to run command " + py_repr(filename));
  }
  return ResolvedCommand{std::move(filename), std::move(*words)};
}

std::string choose_search_path(const std::vector<std::string>& child_environment,
                               std::optional<std::string_view> agent_path) {
  constexpr std::string_view kKey = "PATH=";
  for (const auto& entry : child_environment) {
    if (std::string_view(entry).starts_with(kKey)) {
      if (entry.size() > kKey.size()) {
        return entry.substr(kKey.size());
      }
      break;
    }
  }
  if (agent_path && !agent_path->empty()) {
    return std::string(*agent_path);
  }
  return std::string(kDefaultSearchPath);
}

CommandFault command_fault(const Error& error) {
  return error.code == ErrorCode::NotFound ? CommandFault::NoFile : CommandFault::NotExecutable;
}

}  // namespace zagent
