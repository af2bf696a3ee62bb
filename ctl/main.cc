// zctl: arguments -> settings (from -c or the search path) -> command. Exit codes are
// supervisorctl's (spec/ctl.md §1.2).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/config_search.h"
#include "common/ini.h"
#include "ctl/commands.h"
#include "ctl/ctl_options.h"
#include "ctl/rpc_client.h"
#include "ctl/terminal.h"

extern char** environ;

namespace {

constexpr int kExitInvalidArgs = 2;

int usage_error(const std::string& argv0, const std::string& message) {
  fmt::print(stderr, "Error: {}\nFor help, use {} -h\n", message, argv0);
  return kExitInvalidArgs;
}

std::string usage(const std::string& argv0) {
  return fmt::format(
      "zctl -- control applications run by zagent from the cmd line.\n"
      "\n"
      "Usage: {} [options] [action [arguments]]\n"
      "\n"
      "Options:\n"
      "-c/--configuration FILENAME -- configuration file path (searches if not given)\n"
      "-h/--help -- print usage message and exit\n"
      "-i/--interactive -- start an interactive shell after executing commands\n"
      "-s/--serverurl URL -- URL on which zagent server is listening\n"
      "     (default: unix:// + zagent's per-user socket, see docs/zctl.md).\n"
      "-u/--username USERNAME -- username to use for authentication with server\n"
      "-p/--password PASSWORD -- password to use for authentication with server\n"
      "-r/--history-file -- keep a readline history (if readline is available)\n"
      "--json -- machine-readable output\n"
      "\n"
      "action [arguments] -- see below\n"
      "\n"
      "Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is\n"
      "specified on the command line, a \"shell\" interpreting actions typed\n"
      "interactively is started.  Use the action \"help\" to find out about available\n"
      "actions.\n",
      argv0);
}

/// A file's bytes: a large regular file is mapped (a config with a thousand programs is
/// hundreds of KiB, of which zctl wants one section: a mapping, populated at once, costs no
/// page fault where a read costs one per page of the buffer, and the copy), anything else is
/// read with one allocation and no initialisation of the buffer.
class FileText {
 public:
  FileText() = default;
  FileText(FileText&& other) noexcept
      : data_(std::move(other.data_)),
        mapped_(std::exchange(other.mapped_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  FileText& operator=(FileText&&) = delete;
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  ~FileText() {
    if (mapped_ != nullptr) {
      ::munmap(mapped_, size_);
    }
  }

  std::string_view view() const {
    return {mapped_ != nullptr ? static_cast<const char*>(mapped_) : data_.get(), size_};
  }

  /// The whole file, or nullopt when it cannot be opened. Plain read(2) or mmap(2): no
  /// iostream, whose locale set-up costs a process that lives a millisecond more than the
  /// reading.
  static std::optional<FileText> read(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return std::nullopt;
    }
    struct stat st {};
    const bool have_size = ::fstat(fd, &st) == 0 && st.st_size > 0;
    FileText out;
    if (have_size && S_ISREG(st.st_mode) && st.st_size >= kMapFrom) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                       MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        ::close(fd);
        out.mapped_ = p;
        out.size_ = static_cast<std::size_t>(st.st_size);
        return out;
      }
    }
    // The file's size plus one byte, to see the end in the same read.
    std::size_t capacity =
        have_size ? static_cast<std::size_t>(st.st_size) + 1 : std::size_t{64 * 1024};
    out.data_ = std::make_unique_for_overwrite<char[]>(capacity);
    for (;;) {
      if (out.size_ == capacity) {
        auto bigger = std::make_unique_for_overwrite<char[]>(capacity * 2);
        std::memcpy(bigger.get(), out.data_.get(), out.size_);
        out.data_ = std::move(bigger);
        capacity *= 2;
      }
      const ssize_t n = ::read(fd, out.data_.get() + out.size_, capacity - out.size_);
      if (n > 0) {
        out.size_ += static_cast<std::size_t>(n);
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    ::close(fd);
    return out;
  }

 private:
  static constexpr off_t kMapFrom = 32 * 1024;  // smaller files are read

  std::unique_ptr<char[]> data_;  // read: the bytes, size_ of them valid
  void* mapped_ = nullptr;        // mapped: the mapping, size_ bytes
  std::size_t size_ = 0;
};

std::string self_path(const std::string& argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? argv0 : p.string();
}

int run(int argc, char** argv) {
  const std::string argv0 = argc > 0 ? argv[0] : "zctl";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto parsed = zagent::ctl::parse_ctl_args(args);
  if (!parsed) {
    return usage_error(argv0, parsed.error().message);
  }
  if (parsed->help) {
    fmt::print("{}", usage(argv0));
    return 0;
  }

  std::optional<std::string> path = parsed->config_path;
  if (!path) {
    // supervisord compat: the CLI searches the same list and does not fail when nothing
    // is found.
    path = zagent::find_first(zagent::config_search_paths(self_path(argv0)),
                              [](const std::string& p) { return std::filesystem::exists(p); });
  }
  zagent::ctl::CtlSettings settings;
  if (path) {
    const std::optional<FileText> text = FileText::read(*path);
    if (!text) {
      return usage_error(argv0, "could not find config file " + *path);
    }
    zagent::IniDocument doc;
    if (auto ok =
            zagent::parse_ini_chunks(zagent::ctl::supervisorctl_sections(text->view()), *path, doc);
        !ok) {
      return usage_error(argv0, ok.error().message);
    }
    const std::string cwd = std::filesystem::current_path().string();
    const std::string here =
        std::filesystem::absolute(*path).lexically_normal().parent_path().string();
    zagent::EnvironmentList env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (const auto eq = entry.find('='); eq != std::string::npos) {
        env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
      }
    }
    auto from_config = zagent::ctl::settings_from_config(doc, here, cwd, env);
    if (!from_config) {
      return usage_error(argv0, from_config.error().message);
    }
    settings = *from_config;
  }
  settings = zagent::ctl::apply_args(settings, *parsed);

  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  const std::string serverurl =
      zagent::ctl::effective_serverurl(settings, ::getuid(), xdg == nullptr ? "" : xdg);

  // A reader that went away (`zctl status | head -1`) must not kill zctl with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  const int interrupt_fd = zagent::ctl::install_interrupt_pipe();
  const auto connect = [&settings, interrupt_fd](const std::string& url) {
    return std::make_unique<zagent::ctl::SocketClient>(zagent::ctl::SocketClient::Options{
        url, settings.username, settings.password, interrupt_fd});
  };
  std::unique_ptr<zagent::ctl::Client> client = connect(serverurl);
  zagent::ctl::FdOutput output(STDOUT_FILENO, STDERR_FILENO);
  zagent::ctl::FdInput input(STDIN_FILENO, interrupt_fd);

  zagent::ctl::Session session;
  session.serverurl = serverurl;
  // supervisord compat: -i makes shutdown/reload ask even when an action is given.
  session.interactive = parsed->interactive || parsed->command.empty();
  session.json = parsed->json;
  session.client = client.get();
  session.output = &output;
  session.input = &input;
  session.connect = connect;
  session.terminal = ::isatty(STDOUT_FILENO) == 1;
  session.catch_sigterm = [](bool on) { zagent::ctl::catch_sigterm_in_interrupt_pipe(on); };

  if (parsed->command.empty()) {
    return zagent::ctl::run_shell(session, settings.prompt);
  }
  std::string line;
  for (const std::string& word : parsed->command) {
    line += line.empty() ? word : " " + word;
  }
  const zagent::ctl::Outcome outcome = zagent::ctl::run_line(session, line);
  output.flush();
  if (outcome.interrupted) {
    // Ctrl-C during a call: die of SIGINT, as Python does for an uncaught KeyboardInterrupt.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
  return outcome.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
