#include "agent/daemon/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <functional>
#include <map>

#include "common/datatypes.h"
#include "common/pystr.h"

namespace zagent {
namespace {

struct ValueOption {
  std::string short_name;  // "-m", or empty
  std::string long_name;   // "--umask"
  std::vector<std::string> values;
  CLI::Option* option = nullptr;

  std::string shown() const { return short_name.empty() ? long_name : short_name; }
};

struct FlagOption {
  std::string short_name;
  std::string long_name;
  CLI::Option* option = nullptr;
};

// The text after `invalid value for -x 'v': ` for a value that does not convert.
template <typename T>
Result<T> checked(const ValueOption& o, Result<T> converted) {
  if (converted) {
    return converted;
  }
  return fail(fmt::format("invalid value for {} {}: {}", o.shown(), py_repr(o.values.front()),
                          converted.error().message));
}

}  // namespace

std::string_view agent_version() { return "0.1.0"; }

std::string agent_usage(std::string_view argv0) {
  return fmt::format(
      "zagent -- run a set of applications as daemons.\n"
      "\n"
      "Usage: {} [options]\n"
      "\n"
      "Options:\n"
      "-c/--configuration FILENAME -- configuration file path (searches if not given)\n"
      "-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)\n"
      "-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)\n"
      "-h/--help -- print this usage message and exit\n"
      "-v/--version -- print zagent version number and exit\n"
      "-u/--user USER -- run zagent as this user (or numeric uid)\n"
      "-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)\n"
      "-d/--directory DIRECTORY -- directory to chdir to when daemonized\n"
      "-l/--logfile FILENAME -- use FILENAME as logfile path\n"
      "-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile\n"
      "-z/--logfile_backups NUM -- number of backups to keep when max bytes reached\n"
      "-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)\n"
      "-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME\n"
      "-i/--identifier STR -- identifier used for this instance of zagent\n"
      "-q/--childlogdir DIRECTORY -- the log directory for child process logs\n"
      "-k/--nocleanup --  prevent the process from performing cleanup (removal of\n"
      "                   old automatic child log files) at startup.\n"
      "-a/--minfds NUM -- the minimum number of file descriptors for start success\n"
      "-t/--strip_ansi -- strip ansi escape codes from process output\n"
      "--minprocs NUM  -- the minimum number of processes available for start success\n"
      "--check -- validate the configuration, print a summary or every error, and exit\n"
      "--dump-config -- print the resolved configuration as JSON and exit\n",
      argv0);
}

namespace {

// What CLI11 left over (an unknown option, positional arguments) and options given twice:
// supervisord's errors for them.
Result<void> reject_leftovers_and_repeats(const CLI::App& app,
                                          const std::map<std::string, FlagOption>& flags,
                                          const std::map<std::string, ValueOption>& values) {
  std::vector<std::string> positional;
  for (const auto& extra : app.remaining()) {
    if (extra.size() > 1 && extra.front() == '-') {
      const std::string name = extra.substr(0, extra.find('='));
      return fail(fmt::format("option {} not recognized", name));
    }
    positional.push_back(extra);
  }
  if (!positional.empty()) {
    std::string list;
    for (const auto& p : positional) {
      list += (list.empty() ? "" : ", ") + py_repr(p);
    }
    return fail(fmt::format("positional arguments are not supported: [{}]", list));
  }

  for (const auto& [key, f] : flags) {
    if (f.option->count() > 1) {
      return fail(fmt::format("conflicting command line option {}",
                              py_repr(f.short_name.empty() ? f.long_name : f.short_name)));
    }
  }
  for (const auto& [key, o] : values) {
    if (o.values.size() > 1) {
      return fail(fmt::format("conflicting command line option {}", py_repr(o.shown())));
    }
  }

  return {};
}

// The value options into the overrides, each checked as its config key is.
Result<void> apply_values(std::map<std::string, ValueOption>& values, AgentCli& cli) {
  auto& ov = cli.overrides;
  const auto given = [&](const std::string& key) -> const ValueOption* {
    const ValueOption& o = values[key];
    return o.values.empty() ? nullptr : &o;
  };
  if (const auto* o = given("configuration")) cli.config_path = o->values.front();
  if (const auto* o = given("user")) ov.user = o->values.front();
  if (const auto* o = given("directory")) ov.directory = o->values.front();
  if (const auto* o = given("logfile")) ov.logfile = o->values.front();
  if (const auto* o = given("pidfile")) ov.pidfile = o->values.front();
  if (const auto* o = given("identifier")) ov.identifier = o->values.front();
  if (const auto* o = given("childlogdir")) ov.childlogdir = o->values.front();
  if (const auto* o = given("umask")) {
    auto v = checked(*o, parse_octal(o->values.front()));
    if (!v) return v.error();
    ov.umask = *v;
  }
  if (const auto* o = given("logfile_maxbytes")) {
    auto v = checked(*o, parse_byte_size(o->values.front()));
    if (!v) return v.error();
    ov.logfile_maxbytes = *v;
  }
  if (const auto* o = given("logfile_backups")) {
    auto v = checked(*o, parse_integer(o->values.front()));
    if (!v) return v.error();
    ov.logfile_backups = *v;
  }
  if (const auto* o = given("loglevel")) {
    auto v = checked(*o, parse_log_level(o->values.front()));
    if (!v) return v.error();
    ov.loglevel = *v;
  }
  if (const auto* o = given("minfds")) {
    auto v = checked(*o, parse_integer(o->values.front()));
    if (!v) return v.error();
    ov.minfds = *v;
  }
  if (const auto* o = given("minprocs")) {
    auto v = checked(*o, parse_integer(o->values.front()));
    if (!v) return v.error();
    ov.minprocs = *v;
  }
  return {};
}

}  // namespace

Result<AgentCli> parse_agent_cli(const std::vector<std::string>& args) {
  CLI::App app;
  app.allow_extras();
  app.set_help_flag();  // -h is ours, printed with supervisord's layout
  app.set_version_flag();

  std::map<std::string, ValueOption> values;
  const auto add_value = [&](const std::string& key, const std::string& short_name,
                             const std::string& long_name) {
    ValueOption& o = values[key];
    o.short_name = short_name;
    o.long_name = long_name;
    const std::string spec = short_name.empty() ? long_name : short_name + "," + long_name;
    o.option = app.add_option(spec, o.values)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                   ->allow_extra_args(false);
  };
  add_value("configuration", "-c", "--configuration");
  add_value("user", "-u", "--user");
  add_value("umask", "-m", "--umask");
  add_value("directory", "-d", "--directory");
  add_value("logfile", "-l", "--logfile");
  add_value("logfile_maxbytes", "-y", "--logfile_maxbytes");
  add_value("logfile_backups", "-z", "--logfile_backups");
  add_value("loglevel", "-e", "--loglevel");
  add_value("pidfile", "-j", "--pidfile");
  add_value("identifier", "-i", "--identifier");
  add_value("childlogdir", "-q", "--childlogdir");
  add_value("minfds", "-a", "--minfds");
  add_value("minprocs", "", "--minprocs");
  add_value("profile_options", "", "--profile_options");

  std::map<std::string, FlagOption> flags;
  const auto add_flag = [&](const std::string& key, const std::string& short_name,
                            const std::string& long_name) {
    FlagOption& f = flags[key];
    f.short_name = short_name;
    f.long_name = long_name;
    const std::string spec = short_name.empty() ? long_name : short_name + "," + long_name;
    f.option = app.add_flag(spec);
  };
  add_flag("nodaemon", "-n", "--nodaemon");
  add_flag("silent", "-s", "--silent");
  add_flag("help", "-h", "--help");
  add_flag("help2", "-?", "");
  add_flag("version", "-v", "--version");
  add_flag("nocleanup", "-k", "--nocleanup");
  add_flag("strip_ansi", "-t", "--strip_ansi");
  add_flag("check", "", "--check");
  add_flag("dump_config", "", "--dump-config");

  // CLI11 wants the arguments in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // An option that needs a value and has none.
    return fail(fmt::format("{}", e.what()));
  }

  if (auto r = reject_leftovers_and_repeats(app, flags, values); !r) {
    return r.error();
  }

  AgentCli cli;
  cli.help = flags["help"].option->count() > 0 || flags["help2"].option->count() > 0;
  cli.version = flags["version"].option->count() > 0;
  cli.check = flags["check"].option->count() > 0;
  cli.dump_config = flags["dump_config"].option->count() > 0;
  auto& ov = cli.overrides;
  if (flags["nodaemon"].option->count() > 0) ov.nodaemon = true;
  if (flags["silent"].option->count() > 0) ov.silent = true;
  if (flags["nocleanup"].option->count() > 0) ov.nocleanup = true;
  if (flags["strip_ansi"].option->count() > 0) ov.strip_ansi = true;

  if (auto r = apply_values(values, cli); !r) {
    return r.error();
  }
  return cli;
}

}  // namespace zagent
