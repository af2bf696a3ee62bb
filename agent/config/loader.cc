#include "agent/config/loader.h"

#include "agent/config/program_keys.h"
#include "agent/config/value_parsers.h"
#include "common/pystr.h"

namespace zagent::loading {

void Loader::add_error(std::string message, const IniSection* section, const IniOption* option,
                       bool with_section_suffix) {
  ConfigError e;
  e.message = std::move(message);
  if (option != nullptr) {
    e.file = option->file;
    e.line = option->line;
  } else if (section != nullptr) {
    e.file = section->file;
    e.line = section->line;
  }
  if (with_section_suffix && section != nullptr) {
    e.section = section->name;
    e.file = section->file;  // supervisord names the file that defined the section
  }
  for (const auto& existing : errors_) {
    if (existing.message == e.message && existing.section == e.section &&
        existing.line == e.line && existing.file == e.file) {
      return;  // numprocs > 1 repeats per-process errors; report each once
    }
  }
  errors_.push_back(std::move(e));
}

void Loader::note(LogLevel level, std::string text) {
  notes_.push_back(ConfigNote{level, std::move(text)});
}

std::optional<std::string> Loader::expanded(const IniSection& section, std::string_view key,
                                            const FormatNames& names, bool suffix,
                                            std::string_view label) {
  const IniOption* option = section.find(key);
  if (option == nullptr) {
    return std::nullopt;
  }
  const std::string default_label = section.name + "." + std::string(key);
  auto result = expand(option->value, names, label.empty() ? default_label : label);
  if (!result) {
    add_error(result.error().message, &section, option, suffix);
    return std::nullopt;
  }
  return *result;
}

Result<std::string> Loader::expand_user(std::string_view path) {
  if (!path.starts_with('~')) {
    return std::string(path);
  }
  const auto slash = path.find('/');
  const std::string_view user = path.substr(1, slash == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : slash - 1);
  const std::string_view rest =
      slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  std::string home;
  if (user.empty()) {
    for (const auto& [k, v] : environ_) {
      if (k == "HOME") {
        home = v;
      }
    }
  } else if (auto info = host_.user_by_name(std::string(user))) {
    home = info->home;
  }
  if (home.empty()) {
    return std::string(path);  // Python leaves an unresolvable ~ as it is
  }
  if (home.size() > 1 && home.back() == '/') {
    home.pop_back();
  }
  return home + std::string(rest);
}

Result<std::string> Loader::existing_directory(std::string_view value) {
  auto expanded_path = expand_user(value);
  const std::string& p = *expanded_path;
  if (host_.is_directory(absolute_normal(cwd_, p))) {
    return p;
  }
  return fail(std::string(value) + " is not an existing directory");
}

Result<std::string> Loader::existing_dirpath(std::string_view value) {
  auto expanded_path = expand_user(value);
  const std::string& p = *expanded_path;
  const std::string dir = py_dirname(p);
  if (dir.empty() || host_.is_directory(absolute_normal(cwd_, dir))) {
    return p;
  }
  return fail("The directory named as part of the path " + std::string(value) +
              " does not exist");
}

Result<UserSpec> Loader::resolve_user(std::string_view value) {
  // supervisord compat: name_to_uid() tries the value as a uid first, then as a name.
  if (auto uid = py_int(value)) {
    if (*uid >= 0) {
      if (auto info = host_.user_by_uid(static_cast<uid_t>(*uid))) {
        return UserSpec{info->name, info->uid, info->gid};
      }
    }
    return fail("Invalid user id " + std::string(value));
  }
  if (auto info = host_.user_by_name(std::string(value))) {
    return UserSpec{info->name, info->uid, info->gid};
  }
  return fail("Invalid user name " + std::string(value));
}

FormatNames Loader::base_names() const {
  FormatNames names;
  for (const auto& [k, v] : environ_) {
    names["ENV_" + k] = v;
  }
  names["here"] = config_.here;
  return names;
}

void Loader::warn_unknown_keys(const IniSection& s, const KeySet& known) {
  for (const auto& option : s.options) {
    if (inherited_.count({s.name, option.key}) != 0) {
      continue;
    }
    if (known.count(option.key) == 0 &&
        !(s.name != "supervisord" && is_program_key(option.key))) {
      note(LogLevel::Warn, "unknown key '" + option.key + "' in [" + s.name + "] (" +
                               option.file + ":" + std::to_string(option.line) +
                               ") is ignored");
    }
  }
}

// supervisord compat: the stages run in the order of ServerOptions.realize(): read_config()
// reads [supervisord], the RPC interfaces, the groups and the servers, and only then is the
// [supervisord] user checked. supervisord stops at its first error, so the errors keep that
// order: the first one is what it would print.
ConfigLoad Loader::run() {
  cwd_ = host_.cwd();
  host_node_name_ = host_.host_node_name();
  environ_ = host_.environment();
  config_.config_file = path_;

  ConfigLoad result;
  if (!read_main()) {
    result.errors = std::move(errors_);
    return result;
  }
  doc_.replace_here(config_.here);
  read_includes();
  inherit_defaults();
  const IniSection* supervisord = doc_.find("supervisord");
  if (supervisord == nullptr) {
    add_error(".ini file does not include supervisord section", nullptr, nullptr, false);
    ConfigError& e = errors_.back();
    e.file = path_;
  } else {
    load_supervisord(*supervisord);
  }
  apply_overrides();
  load_rpcinterfaces();
  load_groups();
  load_servers();
  realize_supervisord();

  config_.notes = std::move(notes_);
  if (errors_.empty()) {
    result.config = std::move(config_);
  }
  result.errors = std::move(errors_);
  return result;
}

}  // namespace zagent::loading
