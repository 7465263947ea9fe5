#pragma once
// LatencyHistogram: HdrHistogram-style log-linear buckets over nanoseconds.
// Every power of two is split into 128 linear sub-buckets, so a recorded value
// is reported with at most 1/128 (< 0.8%) relative error, in fixed memory, and
// recording is a few instructions (no allocation per sample).

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace xnet {

class LatencyHistogram {
 public:
  void record(uint64_t ns) {
    counts_[index_of(ns)]++;
    ++total_;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }
  uint64_t count() const { return total_; }
  uint64_t min() const { return total_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }

  // The value below which a fraction `q` (0..1) of the samples lie: the upper
  // edge of the bucket holding that rank, clamped to the observed range.
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(total_) + 0.5));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(upper_edge(i), min_, max_);
    }
    return max_;
  }

  LatencyHistogram& operator+=(const LatencyHistogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    return *this;
  }

  // For CDF plots: calls fn(upper_edge_ns, cumulative_fraction) per non-empty bucket.
  template <typename Fn>
  void for_each_bucket(Fn&& fn) const {
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] == 0) continue;
      seen += counts_[i];
      fn(upper_edge(i), static_cast<double>(seen) / static_cast<double>(total_));
    }
  }

 private:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  // Values below 128 map one to one; above, (exponent, top 7 bits after the leading one).
  static size_t index_of(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const uint64_t sub = (v >> shift) - kSub;  // 0..127
    return static_cast<size_t>((shift + 1) * kSub + sub);
  }
  static uint64_t upper_edge(size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>(i / kSub) - 1;
    const uint64_t sub = i % kSub;
    return ((kSub + sub + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace xnet
