#include "agent/monitor/sample_history.h"

#include <algorithm>

namespace zagent {

SampleRing::SampleRing(std::chrono::milliseconds window)
    : spacing_(window / static_cast<std::int64_t>(kCapacity)) {}

void SampleRing::push(const TreeSample& sample) {
  previous_ = latest_;
  latest_ = sample;
  if (count_ > 0) {
    const TreeSample& newest = at(count_ - 1);
    if (sample.at - newest.at < spacing_) {
      return;  // too close to the last kept one: only `latest` has it
    }
  }
  if (slots_.size() < kCapacity) {
    slots_.push_back(sample);
    count_ = slots_.size();
    return;
  }
  slots_[(first_ + count_) % kCapacity] = sample;
  if (count_ == kCapacity) {
    first_ = (first_ + 1) % kCapacity;
  } else {
    ++count_;
  }
}

void SampleRing::clear() {
  slots_.clear();
  first_ = 0;
  count_ = 0;
  latest_.reset();
  previous_.reset();
}

const TreeSample& SampleRing::at(std::size_t i) const {
  return slots_[(first_ + i) % slots_.size()];
}

std::vector<TreeSample> SampleRing::since(SteadyTime since) const {
  std::vector<TreeSample> out;
  for (std::size_t i = 0; i < count_; ++i) {
    if (at(i).at >= since) {
      out.push_back(at(i));
    }
  }
  if (latest_ && (out.empty() || out.back().at != latest_->at)) {
    out.push_back(*latest_);
  }
  return out;
}

std::optional<double> cpu_percent(const TreeSample& before, const TreeSample& after) {
  const double seconds = std::chrono::duration<double>(after.at - before.at).count();
  if (seconds <= 0) {
    return std::nullopt;
  }
  const double used = std::max(0.0, after.figures.cpu_seconds - before.figures.cpu_seconds);
  return used / seconds * 100.0;
}

std::optional<MemoryTrend> memory_trend(const SampleRing& ring, SteadyTime now,
                                        std::chrono::milliseconds window) {
  const std::vector<TreeSample> samples = ring.since(now - window);
  if (samples.size() < 2) {
    return std::nullopt;
  }
  // Least squares of rss (bytes) on time (hours since the first sample), in long double:
  // a few hundred points of gigabytes square to 1e21, beyond double's exact range.
  const SteadyTime t0 = samples.front().at;
  long double n = 0;
  long double sx = 0;
  long double sy = 0;
  long double sxx = 0;
  long double sxy = 0;
  for (const TreeSample& s : samples) {
    const long double x = std::chrono::duration<long double, std::ratio<3600>>(s.at - t0).count();
    const auto y = static_cast<long double>(s.figures.rss_bytes);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const long double denominator = n * sxx - sx * sx;
  if (denominator <= 0) {
    return std::nullopt;
  }
  MemoryTrend trend;
  trend.bytes_per_hour = static_cast<double>((n * sxy - sx * sy) / denominator);
  trend.span_seconds = std::chrono::duration<double>(samples.back().at - t0).count();
  trend.samples = samples.size();
  return trend;
}

std::optional<double> seconds_to_limit(std::uint64_t current, std::uint64_t limit,
                                       double bytes_per_hour) {
  if (current >= limit) {
    return 0.0;
  }
  if (bytes_per_hour <= 0) {
    return std::nullopt;
  }
  return static_cast<double>(limit - current) / bytes_per_hour * 3600.0;
}

}  // namespace zagent
