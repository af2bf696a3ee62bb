// Command resolution at spawn time: split a program's command line and find the file to exec,
// with supervisord 4.2.5's spawnerr texts (spec/config.md §6). Pure: the file system is reached
// only through FileProbe, so the rules are tested without touching disk.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zagent {

/// The search path used when neither the program nor the agent sets a non-empty PATH.
inline constexpr std::string_view kDefaultSearchPath = "/bin:/usr/bin:/usr/local/bin";

/// What resolution needs to know about one path (stat() follows symlinks, as Python's does).
struct FileStatus {
  bool exists = false;
  bool is_directory = false;
  bool any_execute_bit = false;  ///< mode & 0111 != 0
};

/// The file-system questions command resolution asks. os/system_file_probe.h asks the real OS.
class FileProbe {
 public:
  virtual ~FileProbe() = default;
  /// stat(path); `exists` is false when stat fails for any reason.
  virtual FileStatus stat(const std::string& path) const = 0;
  /// access(path, X_OK) == 0 for the agent's real uid.
  virtual bool can_execute(const std::string& path) const = 0;
};

struct ResolvedCommand {
  std::string path;               ///< the file to exec (as found; relative if given relative)
  std::vector<std::string> argv;  ///< the split command; argv[0] is the word as written
};

/// Which RPC fault a resolution error becomes (supervisord's startProcess).
enum class CommandFault {
  NoFile,         ///< `can't find command ...` -> NO_FILE
  NotExecutable,  ///< every other resolution error -> NOT_EXECUTABLE
};

/// Splits `command` (POSIX shlex) and finds the program. A first word containing '/' is used
/// as given; otherwise each entry of `search_path` (':'-separated) is tried in order and the
/// first one that EXISTS wins, even if it is not executable. Errors (Error::message), with
/// Python reprs for the quoted names:
///   `can't parse command '<command>': No closing quotation`   (Invalid)
///   `command is empty`                                        (Invalid)
///   `can't find command '<word or path>'`                     (NotFound)
///   `command at '<path>' is a directory`                      (Invalid)
///   `command at '<path>' is not executable`                   (Invalid)
///   `no permission to run command '<path>'`                   (Invalid)
Result<ResolvedCommand> resolve_command(std::string_view command, std::string_view search_path,
                                        const FileProbe& probe);

/// The PATH to search (supervisord compat): the child's PATH if `child_environment` (KEY=value
/// entries; the first PATH=, as getenv() in the child sees it) is non-empty, else `agent_path`
/// if non-empty, else kDefaultSearchPath.
std::string choose_search_path(const std::vector<std::string>& child_environment,
                               std::optional<std::string_view> agent_path);

/// The fault for an error returned by resolve_command.
CommandFault command_fault(const Error& error);

/// True for `can't find command ...` (fault NO_FILE).
inline bool is_not_found_error(const Error& error) {
  return command_fault(error) == CommandFault::NoFile;
}

}  // namespace zagent
