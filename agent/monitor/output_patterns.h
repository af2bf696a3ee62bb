// restart_on_output: a Perl-compatible pattern (PCRE2, case-sensitive) or built-in named sets
// (`@cuda_oom`, `@gpu_fault`), and the line splitter that feeds a program's output to it.
// Pure (PCRE2 is a library, no system calls).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/crash/output_tail.h"
#include "common/error.h"

namespace zagent {

/// A built-in set: its name (with the `@`) and its patterns (PCRE2 syntax).
struct NamedPatternSet {
  std::string_view name;
  std::vector<std::string_view> patterns;
};
std::span<const NamedPatternSet> named_pattern_sets();

/// A compiled restart_on_output value. Copies share the compiled code.
class OutputPattern {
 public:
  /// `spec`: a pattern, or one or more set names (`@cuda_oom`, `@cuda_oom,@gpu_fault`).
  /// The error says why (an unknown set, or PCRE2's message with the offset).
  static Result<OutputPattern> compile(std::string_view spec);

  bool matches(std::string_view line) const;
  /// The value as written (trimmed): shown in the log line and the crash record.
  const std::string& spec() const { return spec_; }

 private:
  struct Code;
  OutputPattern(std::string spec, std::shared_ptr<const Code> code)
      : spec_(std::move(spec)), code_(std::move(code)) {}
  std::string spec_;
  std::shared_ptr<const Code> code_;
};

/// A matched line.
struct OutputMatch {
  OutputTail::Channel channel = OutputTail::Channel::Stdout;
  std::string line;
};

/// Splits a program's output into lines (per channel, across reads) and reports each line
/// that matches. A line longer than kMaxLine is matched on its first kMaxLine bytes.
class OutputWatch {
 public:
  static constexpr std::size_t kMaxLine = 8192;
  using OnMatch = std::function<void(const OutputMatch&)>;

  OutputWatch(OutputPattern pattern, OnMatch on_match)
      : pattern_(std::move(pattern)), on_match_(std::move(on_match)) {}

  void feed(OutputTail::Channel channel, std::string_view data);
  const OutputPattern& pattern() const { return pattern_; }

 private:
  struct Partial {
    std::string text;
    bool overlong = false;  // kMaxLine reached: the rest of the line is skipped
  };
  void line_done(OutputTail::Channel channel, std::string_view line);

  OutputPattern pattern_;
  OnMatch on_match_;
  Partial partial_[2];
};

}  // namespace zagent
