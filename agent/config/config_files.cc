// Reading the files: the main config, its [include] files, and [DEFAULT].
#include <algorithm>

#include "agent/config/loader.h"
#include "agent/config/value_parsers.h"

namespace zagent::loading {
namespace {

// supervisord compat: str.split() with no argument, on any whitespace.
std::vector<std::string> split_whitespace(std::string_view value) {
  std::vector<std::string> words;
  std::string current;
  for (const char ch : value) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f') {
      if (!current.empty()) {
        words.push_back(std::move(current));
        current.clear();
      }
    } else {
      current.push_back(ch);
    }
  }
  if (!current.empty()) {
    words.push_back(std::move(current));
  }
  return words;
}

}  // namespace

bool Loader::read_main() {
  if (!host_.exists(path_)) {
    add_error("could not find config file " + path_, nullptr, nullptr, false);
    return false;
  }
  auto text = host_.read_file(path_);
  if (!text) {
    add_error("could not read config file " + path_, nullptr, nullptr, false);
    return false;
  }
  auto parsed = parse_ini(*text, path_, doc_);
  if (!parsed) {
    add_error(parsed.error().message, nullptr, nullptr, false);
    return false;
  }
  config_.here = py_dirname(absolute_normal(cwd_, path_));
  if (config_.here.empty()) {
    config_.here = "/";
  }
  return true;
}

void Loader::read_includes() {
  const IniSection* include = doc_.find("include");
  if (include == nullptr) {
    return;
  }
  doc_.replace_here(config_.here);
  const IniOption* files = include->find("files");
  if (files == nullptr) {
    add_error(".ini file has [include] section, but no files setting", include, nullptr,
              false);
    return;
  }
  FormatNames names = base_names();
  names["host_node_name"] = host_node_name_;
  const int line = files->line;
  const std::string file = files->file;
  auto value = expand(files->value, names, "include.files");
  if (!value) {
    add_error(value.error().message, include, files, false);
    return;
  }
  // supervisord compat: patterns are joined onto the directory of the main file (not the
  // CWD); includes inside included files are not processed.
  for (const auto& raw : split_whitespace(*value)) {
    const std::string pattern = raw.starts_with('/') ? raw : config_.here + "/" + raw;
    auto matches = host_.glob(pattern);
    if (matches.empty()) {
      note(LogLevel::Warn, "No file matches via include \"" + pattern + "\"");
      continue;
    }
    std::sort(matches.begin(), matches.end());
    for (const auto& match : matches) {
      note(LogLevel::Info, "Included extra file \"" + match + "\" during parsing");
      config_.included_files.push_back(match);
      auto text = host_.read_file(match);
      if (!text) {
        // supervisord compat: an unreadable match is skipped; we at least say so.
        note(LogLevel::Warn, "Included file \"" + match + "\" (" + file + ":" +
                                 std::to_string(line) + ") could not be read and is skipped");
        continue;
      }
      auto parsed = parse_ini(*text, match, doc_);
      if (!parsed) {
        add_error(parsed.error().message, nullptr, nullptr, false);
        continue;
      }
      doc_.replace_here(py_dirname(absolute_normal(cwd_, match)));
    }
  }
}

void Loader::inherit_defaults() {
  const IniSection* defaults = doc_.find("DEFAULT");
  if (defaults == nullptr) {
    return;
  }
  const std::vector<IniOption> options = defaults->options;
  for (auto& section : doc_.sections) {
    if (section.name == "DEFAULT") {
      continue;
    }
    for (const auto& option : options) {
      if (section.find(option.key) == nullptr) {
        section.options.push_back(option);
        inherited_.emplace(section.name, option.key);
      }
    }
  }
}

}  // namespace zagent::loading
