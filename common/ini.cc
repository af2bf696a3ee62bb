#include "common/ini.h"

#include <fmt/format.h>

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/pystr.h"

namespace zagent {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

bool is_continuation_byte(char ch) { return (static_cast<unsigned char>(ch) & 0xC0U) == 0x80U; }

// Byte length of the whitespace character that starts at s[i], or 0. supervisord compat:
// configparser strips with str.strip() and tests with str.isspace() / regex \s, which accept
// the ASCII separators \x1c-\x1f and the Unicode spaces (NBSP, U+2000.., U+3000), not only
// " \t\n\r\v\f"; a config copied from a web page can hold an NBSP before a ';'.
std::size_t space_len(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U;
  };
  const unsigned c0 = at(0);
  if ((c0 >= 0x09 && c0 <= 0x0D) || (c0 >= 0x1C && c0 <= 0x20)) {
    return 1;
  }
  const unsigned c1 = at(1);
  if (c0 == 0xC2 && (c1 == 0x85 || c1 == 0xA0)) {
    return 2;  // U+0085, U+00A0
  }
  const unsigned c2 = at(2);
  const bool is_space3 =
      (c0 == 0xE1 && c1 == 0x9A && c2 == 0x80) ||                  // U+1680
      (c0 == 0xE2 && c1 == 0x80 && c2 >= 0x80 && c2 <= 0x8A) ||    // U+2000..U+200A
      (c0 == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9)) ||  // U+2028, U+2029
      (c0 == 0xE2 && c1 == 0x80 && c2 == 0xAF) ||                  // U+202F
      (c0 == 0xE2 && c1 == 0x81 && c2 == 0x9F) ||                  // U+205F
      (c0 == 0xE3 && c1 == 0x80 && c2 == 0x80);                    // U+3000
  return is_space3 ? 3 : 0;
}

// Whether the character that ends just before byte `end` is whitespace.
bool space_before(std::string_view s, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && end - start < 4 && is_continuation_byte(s[start])) {
    --start;
  }
  return space_len(s, start) == end - start;
}

std::string_view lstrip(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = space_len(s, i);
    if (n == 0) {
      break;
    }
    i += n;
  }
  return s.substr(i);
}

std::string_view rstrip(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && end - start < 4 && is_continuation_byte(s[start])) {
      --start;
    }
    if (space_len(s, start) != end - start) {
      break;
    }
    end = start;
  }
  return s.substr(0, end);
}

std::string_view strip(std::string_view s) { return rstrip(lstrip(s)); }

// Characters (not bytes) before the first non-space one: configparser compares indentation
// as string indices, so an NBSP counts once.
std::size_t indent_of(std::string_view line) {
  const std::string_view rest = lstrip(line);
  std::size_t count = 0;
  for (std::size_t i = 0; i < line.size() - rest.size(); ++i) {
    if (!is_continuation_byte(line[i])) {
      ++count;
    }
  }
  return count;
}

// supervisord compat: the file is read in Python's text mode, so \r\n and a lone \r both
// end a line and show up as \n in error messages.
std::string normalize_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Python's repr() of a raw line. supervisord compat: the file is decoded as plain UTF-8, so
// a byte-order mark stays in the first line as U+FEFF, which repr() shows escaped.
std::string line_repr(std::string_view line) {
  std::string repr = py_repr(line);
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (std::size_t pos = repr.find(kBom); pos != std::string::npos; pos = repr.find(kBom, pos)) {
    repr.replace(pos, kBom.size(), "\\ufeff");
  }
  return repr;
}

// Where a comment starts in `line`, or npos. supervisord compat (configparser quirk): the
// inline prefixes are searched in rounds: round k looks only at the k-th occurrence of each
// of ';' and '#', and the first round with a qualifying hit (at the line start or after
// whitespace) decides, even when a later round would find an earlier position.
std::size_t comment_start(std::string_view line) {
  if (const std::string_view stripped = strip(line);
      !stripped.empty() && (stripped.front() == ';' || stripped.front() == '#')) {
    return 0;
  }
  std::size_t next_semicolon = 0;
  std::size_t next_hash = 0;
  bool semicolon_left = true;
  bool hash_left = true;
  while (semicolon_left || hash_left) {
    std::size_t found = std::string_view::npos;
    const auto search = [&](char prefix, std::size_t& from, bool& left) {
      if (!left) {
        return;
      }
      const std::size_t index = line.find(prefix, from);
      if (index == std::string_view::npos) {
        left = false;
        return;
      }
      from = index + 1;
      if ((index == 0 || space_before(line, index)) && index < found) {
        found = index;
      }
    };
    search(';', next_semicolon, semicolon_left);
    search('#', next_hash, hash_left);
    if (found != std::string_view::npos) {
      return found;
    }
  }
  return std::string_view::npos;
}

// The `[name]` header in a comment-stripped line: from the first '[' (which must start the
// line) to the last ']', with at least one character between; text after it is ignored.
std::optional<std::string_view> section_header(std::string_view value) {
  if (value.empty() || value.front() != '[') {
    return std::nullopt;
  }
  const std::size_t close = value.rfind(']');
  if (close == std::string_view::npos || close < 2) {
    return std::nullopt;
  }
  return value.substr(1, close - 1);
}

class IniReader {
 public:
  IniReader(std::string_view file, IniDocument& doc) : file_(file), doc_(doc) {
    for (std::size_t i = 0; i < doc_.sections.size(); ++i) {
      section_index_.emplace(doc_.sections[i].name, i);
    }
  }

  Result<void> read(const std::vector<IniChunk>& chunks) {
    for (const IniChunk& chunk : chunks) {
      const std::string normalized = normalize_newlines(chunk.text);
      const std::string_view all = normalized;
      int lineno = chunk.first_line - 1;
      for (std::size_t pos = 0; pos < all.size();) {
        std::size_t end = all.find('\n', pos);
        end = end == std::string_view::npos ? all.size() : end + 1;
        const std::string_view line = all.substr(pos, end - pos);
        pos = end;
        ++lineno;
        if (auto r = read_line(line, lineno); !r) {
          return r;
        }
      }
      finish_option();
    }
    if (!errors_.empty()) {
      return fail(std::move(errors_), ErrorCode::Config);
    }
    return {};
  }

 private:
  Result<void> read_line(std::string_view line, int lineno) {
    const std::size_t comment = comment_start(line);
    const std::string_view value = strip(line.substr(0, comment));
    if (value.empty()) {
      // supervisord compat: a blank line belongs to the value being read (trailing ones are
      // dropped when the value ends); a comment-only line does not.
      if (comment == std::string_view::npos && option_ != kNone) {
        current_option().value.push_back('\n');
      }
      return {};
    }
    const std::size_t indent = indent_of(line);
    if (option_ != kNone && indent > indent_level_) {
      IniOption& option = current_option();
      option.value.push_back('\n');
      option.value.append(value);
      return {};
    }
    indent_level_ = indent;
    if (const auto name = section_header(value)) {
      finish_option();
      enter_section(*name, lineno);
      return {};
    }
    if (section_ == kNone) {
      return fail(fmt::format("File contains no section headers.\nfile: {}, line: {}\n{}",
                              py_repr(file_), lineno, line_repr(line)),
                  ErrorCode::Config);
    }
    const std::size_t delimiter = value.find_first_of("=:");
    if (delimiter == std::string_view::npos) {
      // supervisord compat: a bad line does not end the value before it, so deeper-indented
      // lines after it still continue that value.
      add_error(line, lineno);
      return {};
    }
    finish_option();
    const std::string key = ascii_lower(rstrip(value.substr(0, delimiter)));
    if (key.empty()) {
      // supervisord compat: configparser reports the line but still stores the option under
      // the empty name; it never takes continuation lines.
      add_error(line, lineno);
    }
    const std::size_t index = set_option(key, strip(value.substr(delimiter + 1)), lineno);
    option_ = key.empty() ? kNone : index;
    return {};
  }

  void enter_section(std::string_view name, int lineno) {
    const auto [it, inserted] = section_index_.try_emplace(std::string(name), doc_.sections.size());
    if (inserted) {
      doc_.sections.push_back(IniSection{std::string(name), std::string(file_), lineno, {}});
    }
    section_ = it->second;
  }

  // Stores key=value in the current section and returns the option's index there.
  std::size_t set_option(const std::string& key, std::string_view value, int lineno) {
    auto& index = option_index_[section_];
    auto& options = doc_.sections[section_].options;
    if (index.empty()) {
      for (std::size_t i = 0; i < options.size(); ++i) {
        index.emplace(options[i].key, i);
      }
    }
    const auto [it, inserted] = index.try_emplace(key, options.size());
    if (inserted) {
      options.push_back(IniOption{key, std::string(value), std::string(file_), lineno});
    } else {
      IniOption& option = options[it->second];
      option.value = std::string(value);
      option.file = std::string(file_);
      option.line = lineno;
    }
    return it->second;
  }

  IniOption& current_option() { return doc_.sections[section_].options[option_]; }

  // A value ends when another option or section starts; blank lines at its end are dropped.
  void finish_option() {
    if (option_ != kNone) {
      std::string& value = current_option().value;
      while (!value.empty() && value.back() == '\n') {
        value.pop_back();
      }
    }
    option_ = kNone;
  }

  void add_error(std::string_view line, int lineno) {
    if (errors_.empty()) {
      errors_ = "Source contains parsing errors: " + py_repr(file_);
    }
    errors_ += fmt::format("\n\t[line {:2}]: {}", lineno, line_repr(line));
  }

  std::string_view file_;
  IniDocument& doc_;
  std::unordered_map<std::string, std::size_t> section_index_;  ///< name -> doc_ index
  /// section index -> (key -> option index), built on first use of the section
  std::unordered_map<std::size_t, std::unordered_map<std::string, std::size_t>> option_index_;
  std::size_t section_ = kNone;   ///< section being read in this file
  std::size_t option_ = kNone;    ///< option that continuation lines extend
  std::size_t indent_level_ = 0;  ///< indentation of the last option or header line
  std::string errors_;            ///< the ParsingError text so far, empty when none
};

}  // namespace

const IniOption* IniSection::find(std::string_view key) const {
  for (const IniOption& option : options) {
    if (option.key == key) {
      return &option;
    }
  }
  return nullptr;
}

const IniSection* IniDocument::find(std::string_view name) const {
  for (const IniSection& section : sections) {
    if (section.name == name) {
      return &section;
    }
  }
  return nullptr;
}

IniSection* IniDocument::find(std::string_view name) {
  for (IniSection& section : sections) {
    if (section.name == name) {
      return &section;
    }
  }
  return nullptr;
}

void IniDocument::replace_here(std::string_view here) {
  constexpr std::string_view kHere = "%(here)s";
  for (IniSection& section : sections) {
    for (IniOption& option : section.options) {
      std::string& value = option.value;
      for (std::size_t pos = value.find(kHere); pos != std::string::npos;
           pos = value.find(kHere, pos + here.size())) {
        value.replace(pos, kHere.size(), here);
      }
    }
  }
}

Result<void> parse_ini(std::string_view text, std::string_view file, IniDocument& doc) {
  return IniReader(file, doc).read({IniChunk{1, text}});
}

Result<void> parse_ini_chunks(const std::vector<IniChunk>& chunks, std::string_view file,
                              IniDocument& doc) {
  return IniReader(file, doc).read(chunks);
}

}  // namespace zagent
