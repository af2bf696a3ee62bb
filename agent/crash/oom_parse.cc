#include "agent/crash/oom_parse.h"

#include <charconv>

namespace zagent {

namespace {

template <typename T>
std::optional<T> whole_number(std::string_view text) {
  T value{};
  if (text.empty()) {
    return std::nullopt;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// The leading decimal digits of `text`, removed from it.
std::string_view take_digits(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') {
    ++n;
  }
  const std::string_view digits = text.substr(0, n);
  text.remove_prefix(n);
  return digits;
}

}  // namespace

std::optional<KmsgRecord> parse_kmsg_record(std::string_view record) {
  const auto semi = record.find(';');
  if (semi == std::string_view::npos) {
    return std::nullopt;
  }
  // Fields after FLAGS may be added by newer kernels (`caller=T12`): they are skipped.
  std::string_view prefix = record.substr(0, semi);
  std::string_view fields[4];
  for (std::size_t i = 0; i < 4; ++i) {
    const auto comma = prefix.find(',');
    if (comma == std::string_view::npos && i < 3) {
      return std::nullopt;
    }
    fields[i] = prefix.substr(0, comma);
    prefix.remove_prefix(comma == std::string_view::npos ? prefix.size() : comma + 1);
  }
  const auto priority = whole_number<unsigned>(fields[0]);
  const auto seq = whole_number<std::uint64_t>(fields[1]);
  const auto ts = whole_number<std::uint64_t>(fields[2]);
  if (!priority || !seq || !ts || fields[3].empty()) {
    return std::nullopt;
  }
  std::string_view message = record.substr(semi + 1);
  message = message.substr(0, message.find('\n'));
  return KmsgRecord{*priority, *seq, *ts, std::string(message)};
}

std::optional<KernelKill> find_oom_kill(std::string_view message) {
  constexpr std::string_view kKilled = "Killed process ";
  // The kernel's words before it: mm/oom_kill.c prints "%s: Killed process", the %s being
  // "Out of memory" or "Memory cgroup out of memory"; kernels before 5.0 printed the line
  // without a prefix.
  constexpr std::string_view kOutOfMemory = "out of memory: ";
  constexpr std::string_view kOutOfMemoryCap = "Out of memory: ";
  const auto at = message.find(kKilled);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view before = message.substr(0, at);
  if (!before.empty() && !before.ends_with(kOutOfMemory) && !before.ends_with(kOutOfMemoryCap)) {
    return std::nullopt;
  }
  std::string_view rest = message.substr(at + kKilled.size());
  const auto pid = whole_number<pid_t>(take_digits(rest));
  if (!pid || *pid <= 0 || !rest.starts_with(" (")) {
    return std::nullopt;
  }
  rest.remove_prefix(2);
  // The command name (up to 15 bytes) may hold ')' or spaces itself; the kernel follows it
  // with ") total-vm:", so that ends it when present.
  auto close = rest.find(") total-vm:");
  if (close == std::string_view::npos) {
    close = rest.find(')');
  }
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view comm = rest.substr(0, close);
  const auto end = static_cast<std::size_t>(rest.data() + close + 1 - message.data());
  const std::string_view whole = message.substr(at, end - at);
  return KernelKill{*pid, std::string(comm), std::string(whole)};
}

std::optional<std::int64_t> counter_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      std::string_view value = line.substr(key.size() + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) {
        value.remove_suffix(1);
      }
      return whole_number<std::int64_t>(value);
    }
  }
  return std::nullopt;
}

}  // namespace zagent
