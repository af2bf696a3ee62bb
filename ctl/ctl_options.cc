#include "ctl/ctl_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "common/config_search.h"
#include "common/pyformat.h"
#include "common/pystr.h"

namespace zagent::ctl {
namespace {

std::string normalize_path(std::string_view path, std::string_view cwd, std::string_view home) {
  std::string p(path);
  if (p == "~" || p.starts_with("~/")) {
    p = std::string(home) + p.substr(1);
  }
  std::filesystem::path fp(p);
  if (fp.is_relative()) {
    fp = std::filesystem::path(cwd) / fp;
  }
  std::string out = fp.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

}  // namespace

std::vector<IniChunk> supervisorctl_sections(std::string_view text) {
  std::vector<IniChunk> out;
  // Text before the first header belongs to no section: it is kept, parse_ini reports it.
  bool keep = true;
  std::size_t start = 0;  // of the piece being kept
  int start_line = 1;
  // Line numbers are counted only up to the headers that start a kept piece: with a thousand
  // [program:x] sections the scan jumps from one header line to the next.
  int counted_line = 1;
  std::size_t counted_to = 0;
  const auto line_at = [&](std::size_t pos) {
    counted_line += static_cast<int>(
        std::count(text.begin() + static_cast<std::ptrdiff_t>(counted_to),
                   text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    counted_to = pos;
    return counted_line;
  };
  const auto close_piece = [&](std::size_t end) {
    if (end > start) {
      out.push_back(IniChunk{start_line, text.substr(start, end - start)});
    }
  };
  // Every line that starts with '[' is a header. A '[' is rarer than a line end, so the scan
  // looks for the bracket and checks what precedes it.
  const auto next_header = [&](std::size_t from) {
    for (std::size_t at = text.find('[', from); at != std::string_view::npos;
         at = text.find('[', at + 1)) {
      if (at == 0 || text[at - 1] == '\n') {
        return at;
      }
    }
    return std::string_view::npos;
  };
  std::size_t pos = next_header(0);
  while (pos != std::string_view::npos) {
    // The name runs to the line's first ']'. Neither wanted name holds a ']' or a line end,
    // so the name is one of them exactly when the line starts with it and its ']'.
    const std::string_view rest = text.substr(pos);
    const bool wanted = rest.starts_with("[supervisorctl]") || rest.starts_with("[DEFAULT]");
    if (wanted && !keep) {
      start = pos;
      start_line = line_at(pos);
    } else if (!wanted && keep) {
      close_piece(pos);
    }
    keep = wanted;
    pos = next_header(pos + 1);
  }
  if (keep) {
    close_piece(text.size());
  }
  return out;
}

Result<CtlArgs> parse_ctl_args(const std::vector<std::string>& argv) {
  CtlArgs out;
  // A copy: a cluster of flags (`-ih`) is taken one flag at a time, as getopt does.
  std::vector<std::string> args = argv;
  // supervisorctl's options come before the action; everything from the first non-option
  // word on is the command line.
  size_t i = 0;
  const auto needs_value = [&](const std::string& name) -> Result<std::string> {
    if (i + 1 >= args.size()) {
      return fail(fmt::format("option {} requires argument", name));
    }
    return args[++i];
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a.front() != '-' || a == "-") {
      break;
    }
    if (a == "--") {
      ++i;
      break;
    }
    std::string name = a;
    std::optional<std::string> inline_value;
    if (a.starts_with("--")) {
      if (const auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        inline_value = a.substr(eq + 1);
      }
    } else if (a.size() > 2) {
      name = a.substr(0, 2);
      inline_value = a.substr(2);
    }
    const auto value = [&]() -> Result<std::string> {
      if (inline_value) {
        return *inline_value;
      }
      return needs_value(name);
    };
    const auto next_flag_in_cluster = [&] {
      if (inline_value && !name.starts_with("--")) {
        args[i] = "-" + *inline_value;
        --i;
      }
    };
    // supervisord compat: `-?` is a second name of `-h` (Options.add(None, None, "?", ...)).
    if (name == "-h" || name == "-?" || name == "--help") {
      out.help = true;
      next_flag_in_cluster();
    } else if (name == "-i" || name == "--interactive") {
      out.interactive = true;
      next_flag_in_cluster();
    } else if (name == "--json") {
      out.json = true;
    } else if (name == "-c" || name == "--configuration") {
      auto v = value();
      if (!v) return v.error();
      out.config_path = *v;
    } else if (name == "-s" || name == "--serverurl") {
      auto v = value();
      if (!v) return v.error();
      if (auto ok = check_url(*v); !ok) {
        return fail(fmt::format("invalid value for {} {}: {}", name, py_repr(*v),
                                ok.error().message));
      }
      out.serverurl = *v;
    } else if (name == "-u" || name == "--username") {
      auto v = value();
      if (!v) return v.error();
      out.username = *v;
    } else if (name == "-p" || name == "--password") {
      auto v = value();
      if (!v) return v.error();
      out.password = *v;
    } else if (name == "-r" || name == "--history-file" || name == "--history_file") {
      auto v = value();
      if (!v) return v.error();
      out.history_file = *v;
    } else {
      return fail(fmt::format("option {} not recognized", name));
    }
  }
  out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(std::min(i, args.size())),
                     args.end());
  return out;
}

std::string effective_serverurl(const CtlSettings& settings, unsigned uid,
                                std::string_view xdg_runtime_dir) {
  if (settings.serverurl) {
    return *settings.serverurl;
  }
  return "unix://" + default_socket_path(uid, xdg_runtime_dir);
}

Result<void> check_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0 ||
      scheme_end + 3 >= url.size()) {
    return fail(fmt::format("value {} is not a URL", py_repr(url)));
  }
  return {};
}

Result<CtlSettings> settings_from_config(const IniDocument& doc, std::string_view here,
                                         std::string_view cwd, const EnvironmentList& env) {
  const IniSection* s = doc.find("supervisorctl");
  if (s == nullptr) {
    return fail(".ini file does not include supervisorctl section");
  }
  std::string home;
  for (const auto& [k, v] : env) {
    if (k == "HOME") {
      home = v;
    }
  }
  // Built on the first value that has a `%` in it: a value without one expands to itself,
  // and zctl is started for every command.
  std::optional<FormatNames> names;
  CtlSettings out;
  // supervisord compat: every [supervisorctl] value is expanded with here and ENV_*.
  const auto value = [&](std::string_view key, std::string& into) -> Result<void> {
    const IniOption* option = s->find(key);
    if (option == nullptr) {
      return {};
    }
    if (option->value.find('%') == std::string::npos) {
      into = option->value;
      return {};
    }
    if (!names) {
      names.emplace();
      for (const auto& [k, v] : env) {
        (*names)["ENV_" + k] = v;
      }
      (*names)["here"] = std::string(here);
    }
    auto expanded = expand(option->value, *names, "supervisorctl." + std::string(key));
    if (!expanded) {
      return expanded.error();
    }
    into = *expanded;
    return {};
  };
  if (s->find("serverurl") != nullptr) {
    out.serverurl.emplace();
    if (auto ok = value("serverurl", *out.serverurl); !ok) {
      return ok.error();
    }
  }
  for (const auto& [key, field] :
       {std::pair<std::string_view, std::string*>{"username", &out.username},
        {"password", &out.password},
        {"prompt", &out.prompt},
        {"history_file", &out.history_file}}) {
    if (auto ok = value(key, *field); !ok) {
      return ok.error();
    }
  }
  // supervisord compat: a unix:// path from the config is normalised against the CWD.
  if (out.serverurl && out.serverurl->starts_with("unix://")) {
    out.serverurl = "unix://" + normalize_path(out.serverurl->substr(7), cwd, home);
  }
  if (!out.history_file.empty()) {
    out.history_file = normalize_path(out.history_file, cwd, home);
  }
  return out;
}

CtlSettings apply_args(CtlSettings settings, const CtlArgs& args) {
  if (args.serverurl) settings.serverurl = *args.serverurl;
  if (args.username) settings.username = *args.username;
  if (args.password) settings.password = *args.password;
  if (args.history_file) settings.history_file = *args.history_file;
  return settings;
}

}  // namespace zagent::ctl
