#include "agent/monitor/output_patterns.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <array>

#include "common/pystr.h"

namespace zagent {
namespace {

// The messages frameworks print when the GPU ran out of memory (PyTorch, CUDA runtime,
// cuBLAS/cuDNN, TensorFlow/JAX's XLA, ROCm).
const NamedPatternSet kCudaOom{"@cuda_oom",
                               {
                                   R"(torch\.(cuda\.)?OutOfMemoryError)",
                                   R"(CUDA out of memory)",
                                   R"(CUDA error: out of memory)",
                                   R"(CUBLAS_STATUS_ALLOC_FAILED)",
                                   R"(CUDNN_STATUS_ALLOC_FAILED)",
                                   R"(cudaErrorMemoryAllocation)",
                                   R"(RESOURCE_EXHAUSTED: Out of memory)",
                                   R"(HIP out of memory)",
                               }};

// Faults after which a CUDA context is unusable (the process must start over): illegal
// accesses, launch failures, the kernel driver's Xid reports, ECC errors, a lost device.
const NamedPatternSet kGpuFault{"@gpu_fault",
                                {
                                    R"(an illegal memory access was encountered)",
                                    R"(an illegal instruction was encountered)",
                                    R"(cudaErrorIllegalAddress)",
                                    R"(CUDA error: unspecified launch failure)",
                                    R"(CUDA error: misaligned address)",
                                    R"(CUDA error: device-side assert triggered)",
                                    R"(the launch timed out and was terminated)",
                                    R"(NVRM: Xid)",
                                    R"(uncorrectable ECC error encountered)",
                                    R"(GPU has fallen off the bus)",
                                }};

const std::array<NamedPatternSet, 2> kSets = {kCudaOom, kGpuFault};

const NamedPatternSet* find_set(std::string_view name) {
  for (const NamedPatternSet& set : kSets) {
    if (set.name == name) {
      return &set;
    }
  }
  return nullptr;
}

// The set names of `spec` (`@a,@b` or `@a @b`); an error names one that is unknown.
Result<std::string> sets_pattern(std::string_view spec) {
  std::string pattern;
  std::size_t pos = 0;
  while (pos < spec.size()) {
    const std::size_t end = spec.find_first_of(", \t", pos);
    const std::string_view token =
        spec.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? spec.size() : end + 1;
    if (token.empty()) {
      continue;
    }
    const NamedPatternSet* set = find_set(token);
    if (set == nullptr) {
      return fail(fmt::format("unknown pattern set '{}' (known: @cuda_oom, @gpu_fault)", token));
    }
    for (std::string_view p : set->patterns) {
      pattern += pattern.empty() ? "" : "|";
      pattern += "(?:";
      pattern += p;
      pattern += ")";
    }
  }
  if (pattern.empty()) {
    return fail("no pattern set named");
  }
  return pattern;
}

}  // namespace

std::span<const NamedPatternSet> named_pattern_sets() { return kSets; }

struct OutputPattern::Code {
  pcre2_code* code = nullptr;
  // Made at the first match and reused (the agent matches on its one thread).
  mutable pcre2_match_data* data = nullptr;
  ~Code() {
    pcre2_match_data_free(data);
    pcre2_code_free(code);
  }
};

Result<OutputPattern> OutputPattern::compile(std::string_view spec) {
  std::string trimmed(py_strip(spec));
  std::string pattern = trimmed;
  if (trimmed.starts_with('@')) {
    auto sets = sets_pattern(trimmed);
    if (!sets) {
      return sets.error();
    }
    pattern = *sets;
  }
  if (pattern.empty()) {
    return fail("empty pattern");
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    std::array<PCRE2_UCHAR, 256> message{};
    pcre2_get_error_message(error, message.data(), message.size());
    return fail(fmt::format("invalid pattern at offset {}: {}", offset,
                            reinterpret_cast<const char*>(message.data())));
  }
  // The JIT makes a match a few hundred nanoseconds; without it (a platform lacking it) the
  // interpreter gives the same answers.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto owned = std::make_shared<Code>();
  owned->code = code;
  return OutputPattern(std::move(trimmed), std::move(owned));
}

bool OutputPattern::matches(std::string_view line) const {
  if (code_->data == nullptr) {
    code_->data = pcre2_match_data_create_from_pattern(code_->code, nullptr);
    if (code_->data == nullptr) {
      return false;
    }
  }
  const int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0,
                             0, code_->data, nullptr);
  return rc >= 0;
}

void OutputWatch::feed(OutputTail::Channel channel, std::string_view data) {
  Partial& p = partial_[channel == OutputTail::Channel::Stdout ? 0 : 1];
  while (!data.empty()) {
    const std::size_t nl = data.find('\n');
    const std::string_view piece = data.substr(0, nl);
    if (!p.overlong) {
      const std::size_t room = kMaxLine - p.text.size();
      p.text.append(piece.substr(0, room));
      if (p.text.size() >= kMaxLine) {
        p.overlong = true;
        line_done(channel, p.text);  // matched on its first kMaxLine bytes
      }
    }
    if (nl == std::string_view::npos) {
      return;
    }
    if (!p.overlong) {
      line_done(channel, p.text);
    }
    p.text.clear();
    p.overlong = false;
    data.remove_prefix(nl + 1);
  }
}

void OutputWatch::line_done(OutputTail::Channel channel, std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (pattern_.matches(line) && on_match_) {
    on_match_(OutputMatch{channel, std::string(line)});
  }
}

}  // namespace zagent
