#include "agent/config/value_parsers.h"

#include <algorithm>
#include <filesystem>

#include "common/datatypes.h"
#include "common/pystr.h"

namespace zagent {
namespace {

bool all_ascii_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string invalid_value(std::string_view key, std::string_view value, std::string_view why) {
  return "invalid value for " + std::string(key) + ": " + py_repr(value) + " (" + std::string(why) +
         ")";
}

// zagent extension: further digits are dropped. No sign, exponent or `_`: these keys are new,
// so there is no Python behaviour to copy, and a plain decimal is what a user writes.
Result<std::chrono::milliseconds> parse_seconds(std::string_view key, std::string_view value) {
  std::string_view text = py_strip(value);
  const bool negative = text.starts_with('-');
  if (negative) {
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if ((whole.empty() && fraction.empty()) || !all_ascii_digits(whole) ||
      !all_ascii_digits(fraction)) {
    return fail(invalid_value(key, value, "seconds expected"));
  }
  const std::string too_large = "at most " + std::to_string(kMaxSeconds) + " seconds";
  std::int64_t millis = 0;
  for (const char c : whole) {
    millis = millis * 10 + (c - '0');
    if (millis > kMaxSeconds) {
      return fail(invalid_value(key, value, too_large));
    }
  }
  for (std::size_t i = 0; i < 3; ++i) {
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  if (negative && millis != 0) {
    return fail(invalid_value(key, value, "must not be negative"));
  }
  if (millis > kMaxSeconds * 1000) {
    return fail(invalid_value(key, value, too_large));
  }
  return std::chrono::milliseconds(millis);
}

Result<std::int64_t> parse_integer_in(std::string_view key, std::string_view value,
                                      std::int64_t min, std::int64_t max) {
  auto number = parse_integer(value);
  if (!number) {
    return number;
  }
  if (*number < min) {
    return fail(invalid_value(key, value,
                              min == 0 ? std::string("must not be negative")
                                       : "must be at least " + std::to_string(min)));
  }
  if (*number > max) {
    return fail(invalid_value(key, value, "at most " + std::to_string(max)));
  }
  return *number;
}

std::string_view after_colon(std::string_view section) {
  const auto colon = section.find(':');
  return colon == std::string_view::npos ? std::string_view{} : section.substr(colon + 1);
}

// Everything before the last '/', trailing slashes removed unless the result is only slashes.
std::string py_dirname(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return "";
  }
  std::string head(path.substr(0, slash + 1));
  const auto not_slash = head.find_last_not_of('/');
  if (not_slash != std::string::npos) {
    head.resize(not_slash + 1);
  }
  return head;
}

std::string absolute_normal(const std::string& cwd, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) {
    p = std::filesystem::path(cwd) / p;
  }
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

}  // namespace zagent
