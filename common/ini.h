// The INI dialect of supervisord's config files (Python's RawConfigParser with
// inline_comment_prefixes=(';','#') and strict=False; spec/config.md §2), with the file and
// line of every section and option kept for error messages. Pure: text in, document out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zagent {

struct IniOption {
  std::string key;    ///< lower-cased option name
  std::string value;  ///< after comment stripping and continuation joining (lines joined by \n)
  std::string file;   ///< the file it was read from, as given to parse_ini
  int line = 0;       ///< 1-based line of the `key = value` line
};

struct IniSection {
  std::string name;  ///< verbatim text between the first '[' and the last ']'
  std::string file;  ///< the file that first defined the section
  int line = 0;      ///< line of the first `[name]` header
  std::vector<IniOption> options;  ///< in first-definition order; a repeated key is replaced

  /// The option with this (lower-case) key, or nullptr.
  const IniOption* find(std::string_view key) const;
};

struct IniDocument {
  std::vector<IniSection> sections;  ///< in first-definition order; repeats are merged

  const IniSection* find(std::string_view name) const;
  IniSection* find(std::string_view name);

  /// supervisord compat: after each file is read, the literal text `%(here)s` in every value
  /// read so far is replaced by `here` (the file's absolute directory).
  void replace_here(std::string_view here);
};

/// Parses `text` (the contents of `file`) and merges it into `doc`: a repeated section
/// merges into the first, a repeated option overwrites (keeping its first position, taking
/// the new value, file and line). Errors use Python's texts, with `file` shown as given:
///   File contains no section headers.\nfile: '<file>', line: 1\n'<line>\n'
///   Source contains parsing errors: '<file>'\n\t[line  2]: 'foo\n'   (one line per bad line)
/// On error `doc` may hold part of the file.
Result<void> parse_ini(std::string_view text, std::string_view file, IniDocument& doc);

/// A piece of a file's text: whole lines, the first of them line `first_line` (1-based).
struct IniChunk {
  int first_line = 1;
  std::string_view text;
};

/// As parse_ini(), for a file of which only these pieces are read (in order, apart): each
/// piece ends the value being read, as the section header that follows it in the file does.
/// Line numbers in errors and in `doc` are the file's.
Result<void> parse_ini_chunks(const std::vector<IniChunk>& chunks, std::string_view file,
                              IniDocument& doc);

}  // namespace zagent
