#include "common/pyformat.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/pystr.h"

namespace zagent {

namespace {

constexpr std::int64_t kMaxWidth = std::numeric_limits<std::int64_t>::max();
constexpr int kMaxPrecision = std::numeric_limits<int>::max();
// Longest padding or number precision we build (64 MiB); see format_value.
constexpr std::int64_t kMaxLength = std::int64_t{1} << 26;

using FormatResult = boost::system::result<std::string, FormatError>;

FormatError bad_format(std::string detail) {
  return FormatError{FormatError::Kind::BadFormat, std::move(detail)};
}

bool is_continuation_byte(char ch) { return (static_cast<unsigned char>(ch) & 0xC0U) == 0x80U; }

// Python strings count characters, not bytes; widths, precisions and error indexes do too.
std::size_t char_count(std::string_view s) {
  std::size_t count = 0;
  for (const char ch : s) {
    if (!is_continuation_byte(ch)) {
      ++count;
    }
  }
  return count;
}

// The first `n` characters of s.
std::string_view char_prefix(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < s.size(); ++i) {
    if (!is_continuation_byte(s[i])) {
      if (seen == n) {
        break;
      }
      ++seen;
    }
  }
  return s.substr(0, i);
}

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;  ///< bytes taken from the text
};

// Decodes the UTF-8 character at s[i]. A byte that does not start a valid sequence decodes
// as U+DC80..U+DCFF, the lone surrogate Python's surrogateescape gives such a byte.
CodePoint decode_utf8(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U;
  };
  const unsigned b0 = byte(0);
  const CodePoint invalid{static_cast<char32_t>(0xDC00U + b0), 1};
  if (b0 < 0x80U) {
    return {static_cast<char32_t>(b0), 1};
  }
  std::size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((b0 & 0xE0U) == 0xC0U) {
    length = 2;
    value = b0 & 0x1FU;
    min = 0x80;
  } else if ((b0 & 0xF0U) == 0xE0U) {
    length = 3;
    value = b0 & 0x0FU;
    min = 0x800;
  } else if ((b0 & 0xF8U) == 0xF0U) {
    length = 4;
    value = b0 & 0x07U;
    min = 0x10000;
  } else {
    return invalid;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0U) != 0x80U) {
      return invalid;
    }
    value = (value << 6U) | (byte(k) & 0x3FU);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return invalid;
  }
  return {value, length};
}

void append_utf8(std::string& out, char32_t cp) {
  const auto put = [&](unsigned v) { out.push_back(static_cast<char>(v)); };
  const auto c = static_cast<unsigned>(cp);
  if (c < 0x80U) {
    put(c);
  } else if (c < 0x800U) {
    put(0xC0U | (c >> 6U));
    put(0x80U | (c & 0x3FU));
  } else if (c < 0x10000U) {
    put(0xE0U | (c >> 12U));
    put(0x80U | ((c >> 6U) & 0x3FU));
    put(0x80U | (c & 0x3FU));
  } else {
    put(0xF0U | (c >> 18U));
    put(0x80U | ((c >> 12U) & 0x3FU));
    put(0x80U | ((c >> 6U) & 0x3FU));
    put(0x80U | (c & 0x3FU));
  }
}

// Python's ascii(): repr() with every non-ASCII character written as \xhh, \uhhhh or
// \Uhhhhhhhh.
std::string py_ascii(std::string_view s) {
  const std::string repr = py_repr(s);
  std::string out;
  out.reserve(repr.size());
  for (std::size_t i = 0; i < repr.size();) {
    const CodePoint cp = decode_utf8(repr, i);
    i += cp.length;
    const auto c = static_cast<unsigned>(cp.value);
    if (c < 0x80U) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x100U) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c < 0x10000U) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += fmt::format("\\U{:08x}", c);
    }
  }
  return out;
}

struct Spec {
  bool left = false;   ///< '-'
  bool sign = false;   ///< '+'
  bool blank = false;  ///< ' '
  bool alt = false;    ///< '#'
  bool zero = false;   ///< '0'
  std::int64_t width = -1;
  int precision = -1;
  char32_t conversion = 0;
};

// Pads a formatted number to the width: the sign and the 0x/0o prefix stay in front of
// zero padding ("-0x001f") and move with the digits when padding with spaces.
void append_number(std::string& out, const Spec& spec, bool negative, std::string_view prefix,
                   std::string_view digits) {
  std::string_view sign_text;
  if (negative) {
    sign_text = "-";
  } else if (spec.sign) {
    sign_text = "+";
  } else if (spec.blank) {
    sign_text = " ";
  }
  const auto length = static_cast<std::int64_t>(sign_text.size() + prefix.size() + digits.size());
  const std::size_t padding =
      spec.width > length ? static_cast<std::size_t>(spec.width - length) : 0;
  if (!spec.left && !spec.zero) {
    out.append(padding, ' ');
  }
  out += sign_text;
  out += prefix;
  if (!spec.left && spec.zero) {
    out.append(padding, '0');
  }
  out += digits;
  if (spec.left) {
    out.append(padding, ' ');
  }
}

// Pads text to the width with spaces; Python ignores the '0' flag for %s, %r, %a and %c.
void append_text(std::string& out, const Spec& spec, std::string_view text) {
  const auto length = static_cast<std::int64_t>(char_count(text));
  const std::size_t padding =
      spec.width > length ? static_cast<std::size_t>(spec.width - length) : 0;
  if (!spec.left) {
    out.append(padding, ' ');
  }
  out += text;
  if (spec.left) {
    out.append(padding, ' ');
  }
}

void append_integer(std::string& out, const Spec& spec, std::int64_t value) {
  const bool negative = value < 0;
  // Through unsigned so that the magnitude of INT64_MIN is representable.
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(value) + 1U : static_cast<std::uint64_t>(value);
  std::string digits;
  std::string_view prefix;
  switch (spec.conversion) {
    case 'o':
      digits = fmt::format("{:o}", magnitude);
      prefix = spec.alt ? "0o" : "";
      break;
    case 'x':
      digits = fmt::format("{:x}", magnitude);
      prefix = spec.alt ? "0x" : "";
      break;
    case 'X':
      digits = fmt::format("{:X}", magnitude);
      prefix = spec.alt ? "0X" : "";
      break;
    default:
      digits = fmt::format("{}", magnitude);
      break;
  }
  // Unlike C, Python still prints "0" for a zero value with precision 0.
  if (spec.precision > 0 && digits.size() < static_cast<std::size_t>(spec.precision)) {
    digits.insert(0, static_cast<std::size_t>(spec.precision) - digits.size(), '0');
  }
  append_number(out, spec, negative, prefix, digits);
}

// False when the text would be too long for printf.
bool append_float(std::string& out, const Spec& spec, std::int64_t value) {
  // The int becomes a double first, as Python's float() does (round to nearest even).
  const auto number = static_cast<double>(value);
  const int precision = spec.precision < 0 ? 6 : spec.precision;
  const char conversion = static_cast<char>(spec.conversion);
  const std::string format = fmt::format("%{}.*{}", spec.alt ? "#" : "", conversion);
  // glibc's printf rounds exactly, like Python's float formatting, so the digits agree.
  const int size = std::snprintf(nullptr, 0, format.c_str(), precision, std::fabs(number));
  if (size < 0) {
    return false;
  }
  std::vector<char> buffer(static_cast<std::size_t>(size) + 1);
  std::snprintf(buffer.data(), buffer.size(), format.c_str(), precision, std::fabs(number));
  append_number(out, spec, number < 0, "", std::string_view(buffer.data(), buffer.size() - 1));
  return true;
}

// Python's TypeError/OverflowError text when the value does not suit the conversion.
std::optional<FormatError> type_error(char conversion, const FormatValue& value) {
  const auto* text = std::get_if<std::string>(&value);
  switch (conversion) {
    case 'd':
    case 'i':
    case 'u':
      if (text != nullptr) {
        return bad_format(
            fmt::format("%{} format: a real number is required, not str", conversion));
      }
      return std::nullopt;
    case 'o':
    case 'x':
    case 'X':
      if (text != nullptr) {
        return bad_format(fmt::format("%{} format: an integer is required, not str", conversion));
      }
      return std::nullopt;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (text != nullptr) {
        return bad_format("must be real number, not str");
      }
      return std::nullopt;
    case 'c':
      if (text != nullptr) {
        if (char_count(*text) != 1) {
          return bad_format("%c requires int or char");
        }
      } else if (const std::int64_t code = std::get<std::int64_t>(value);
                 code < 0 || code > 0x10FFFF) {
        return bad_format("%c arg not in range(0x110000)");
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// Formats one value; the conversion character is known to be supported.
FormatResult format_value(const Spec& spec, const FormatValue& value) {
  const char conversion = static_cast<char>(spec.conversion);
  if (auto error = type_error(conversion, value)) {
    return *error;
  }
  // Python would try to build the text and run out of memory; we refuse early instead.
  if (spec.width > kMaxLength) {
    return bad_format("width too big");
  }
  const bool is_text = conversion == 's' || conversion == 'r' || conversion == 'a';
  if (!is_text && spec.precision > kMaxLength) {
    return bad_format("precision too big");
  }
  std::string out;
  const auto* text = std::get_if<std::string>(&value);
  const auto* integer = std::get_if<std::int64_t>(&value);
  switch (conversion) {
    case 's':
    case 'r':
    case 'a': {
      std::string shown;
      if (integer != nullptr) {
        shown = fmt::format("{}", *integer);
      } else if (conversion == 's') {
        shown = *text;
      } else if (conversion == 'r') {
        shown = py_repr(*text);
      } else {
        shown = py_ascii(*text);
      }
      std::string_view visible = shown;
      if (spec.precision >= 0) {
        visible = char_prefix(visible, static_cast<std::size_t>(spec.precision));
      }
      append_text(out, spec, visible);
      return out;
    }
    case 'c': {
      std::string ch;
      if (text != nullptr) {
        ch = *text;
      } else {
        append_utf8(ch, static_cast<char32_t>(*integer));
      }
      append_text(out, spec, ch);
      return out;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (!append_float(out, spec, *integer)) {
        return bad_format("precision too big");
      }
      return out;
    default:
      append_integer(out, spec, *integer);
      return out;
  }
}

bool is_supported(char32_t ch) {
  constexpr std::u32string_view kConversions = U"sradiuoxXeEfFgGc";
  return kConversions.find(ch) != std::u32string_view::npos;
}

bool is_digit(char32_t ch) { return ch >= '0' && ch <= '9'; }

// Python's `%` walks a list of arguments; with a mapping there is just one "current"
// argument: the mapping itself until a `%(key)` makes the looked-up value current. Each
// conversion and each '*' takes the current argument once; taking it twice is "not enough
// arguments". supervisord compat: where Python would take the mapping itself (a bare `%s`
// formats the dict's repr) we fail with "format requires a mapping".
class Formatter {
 public:
  Formatter(std::string_view text, const FormatNames& names) : text_(text), names_(names) {}

  FormatResult run() {
    std::string out;
    out.reserve(text_.size());
    while (pos_ < text_.size()) {
      const std::size_t percent = text_.find('%', pos_);
      if (percent == std::string_view::npos) {
        out += text_.substr(pos_);
        break;
      }
      out += text_.substr(pos_, percent - pos_);
      pos_ = percent + 1;
      if (pos_ < text_.size() && text_[pos_] == '%') {
        out.push_back('%');
        ++pos_;
        continue;
      }
      auto piece = conversion();
      if (!piece) {
        return piece.error();
      }
      out += *piece;
    }
    return out;
  }

 private:
  // The current argument, or an error; nullptr stands for the mapping itself.
  boost::system::result<const FormatValue*, FormatError> next_argument() {
    if (consumed_) {
      return bad_format("not enough arguments for format string");
    }
    consumed_ = true;
    return current_;
  }

  // The value of a '*' width or precision.
  boost::system::result<std::int64_t, FormatError> star_argument() {
    auto argument = next_argument();
    if (!argument) {
      return argument.error();
    }
    if (*argument == nullptr) {
      return bad_format("format requires a mapping");
    }
    const auto* number = std::get_if<std::int64_t>(*argument);
    if (number == nullptr) {
      return bad_format("* wants int");
    }
    return *number;
  }

  // Reads the next character into ch_; at the end of the text it sets exhausted_ and
  // leaves ch_ alone, as CPython's parser does.
  bool read() {
    if (pos_ >= text_.size()) {
      exhausted_ = true;
      return false;
    }
    const CodePoint cp = decode_utf8(text_, pos_);
    ch_ = cp.value;
    ch_pos_ = pos_;
    pos_ += cp.length;
    return true;
  }

  // Parses and formats one conversion starting just after its '%'. Running out of text is
  // only reported once the whole specifier has been tried, so "%(a)" fails as "incomplete
  // format" while "%(a)*" fails on the '*'.
  FormatResult conversion() {
    ch_ = 0;
    exhausted_ = false;
    if (pos_ < text_.size() && text_[pos_] == '(') {
      // Nested parentheses belong to the key: "%((a))s" looks up "(a)".
      const std::size_t key_start = pos_ + 1;
      int depth = 1;
      std::size_t i = key_start;
      for (; i < text_.size() && depth > 0; ++i) {
        if (text_[i] == ')') {
          --depth;
        } else if (text_[i] == '(') {
          ++depth;
        }
      }
      if (depth > 0) {
        return bad_format("incomplete format key");
      }
      const std::string_view key = text_.substr(key_start, i - 1 - key_start);
      const auto it = names_.find(key);
      if (it == names_.end()) {
        return FormatError{FormatError::Kind::MissingName, std::string(key)};
      }
      current_ = &it->second;
      consumed_ = false;
      ch_ = '(';
      pos_ = i;
    }

    Spec spec;
    while (read()) {
      if (ch_ == '-') {
        spec.left = true;
      } else if (ch_ == '+') {
        spec.sign = true;
      } else if (ch_ == ' ') {
        spec.blank = true;
      } else if (ch_ == '#') {
        spec.alt = true;
      } else if (ch_ == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    if (ch_ == '*') {
      auto width = star_argument();
      if (!width) {
        return width.error();
      }
      // A negative '*' width means left-justified.
      if (*width < 0) {
        spec.left = true;
      }
      spec.width = *width < 0 ? (*width == INT64_MIN ? kMaxWidth : -*width) : *width;
      read();
    } else if (is_digit(ch_)) {
      spec.width = ch_ - '0';
      while (read() && is_digit(ch_)) {
        const int digit = static_cast<int>(ch_ - '0');
        if (spec.width > (kMaxWidth - digit) / 10) {
          return bad_format("width too big");
        }
        spec.width = spec.width * 10 + digit;
      }
    }
    if (ch_ == '.') {
      spec.precision = 0;
      read();
      if (ch_ == '*') {
        auto precision = star_argument();
        if (!precision) {
          return precision.error();
        }
        if (*precision > kMaxPrecision || *precision < std::numeric_limits<int>::min()) {
          return bad_format("Python int too large to convert to C int");
        }
        spec.precision = *precision < 0 ? 0 : static_cast<int>(*precision);
        read();
      } else if (is_digit(ch_)) {
        spec.precision = static_cast<int>(ch_ - '0');
        while (read() && is_digit(ch_)) {
          const int digit = static_cast<int>(ch_ - '0');
          if (spec.precision > (kMaxPrecision - digit) / 10) {
            return bad_format("precision too big");
          }
          spec.precision = spec.precision * 10 + digit;
        }
      }
    }
    // C length modifiers are accepted and ignored ("%ld"), one of them only.
    if (!exhausted_ && (ch_ == 'h' || ch_ == 'l' || ch_ == 'L')) {
      read();
    }
    if (exhausted_) {
      return bad_format("incomplete format");
    }
    auto argument = next_argument();
    if (!argument) {
      return argument.error();
    }
    if (!is_supported(ch_)) {
      // supervisord compat: CPython's printable range starts at 31, so \x1f shows as itself.
      const bool printable = ch_ >= 0x1F && ch_ <= 0x7E;
      return bad_format(fmt::format("unsupported format character '{}' (0x{:x}) at index {}",
                                    printable ? static_cast<char>(ch_) : '?',
                                    static_cast<std::uint32_t>(ch_),
                                    char_count(text_.substr(0, ch_pos_))));
    }
    if (*argument == nullptr) {
      return bad_format("format requires a mapping");
    }
    spec.conversion = ch_;
    return format_value(spec, **argument);
  }

  std::string_view text_;
  const FormatNames& names_;
  std::size_t pos_ = 0;                   ///< next byte of text_ to read
  char32_t ch_ = 0;                       ///< last character read
  std::size_t ch_pos_ = 0;                ///< byte offset of ch_
  bool exhausted_ = false;                ///< a read ran past the end of text_
  const FormatValue* current_ = nullptr;  ///< current argument; nullptr: the mapping
  bool consumed_ = false;                 ///< whether current_ has been taken
};

}  // namespace

boost::system::result<std::string, FormatError> py_format(std::string_view format_text,
                                                          const FormatNames& names) {
  return Formatter(format_text, names).run();
}

Result<std::string> expand(std::string_view format_text, const FormatNames& names,
                           std::string_view option) {
  auto expanded = py_format(format_text, names);
  if (expanded) {
    return std::move(*expanded);
  }
  const FormatError& error = expanded.error();
  if (error.kind == FormatError::Kind::MissingName) {
    std::string available;
    for (const auto& [name, value] : names) {
      if (!available.empty()) {
        available += ", ";
      }
      available += name;
    }
    return fail(fmt::format(
        "Format string {} for {} contains names ({}) which cannot be expanded. Available "
        "names: {}",
        py_repr(format_text), py_repr(option), py_repr(error.detail), available));
  }
  return fail(fmt::format("Format string {} for {} is badly formatted: {}", py_repr(format_text),
                          py_repr(option), error.detail));
}

}  // namespace zagent
