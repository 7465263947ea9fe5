// Sums 16-bit words in 32-bit lanes: each lane adds the low and the high half
// of its 32-bit word separately (mask and shift), so no carry is ever lost
// and the ones'-complement wrap-around is left to the final fold. A lane
// gains at most 0xffff a block, so the lanes are widened to 64 bits every
// kChunk bytes, long before four accumulators together could reach 2^32.

#include "stack/wire/checksum_avx2.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace xnet::wire::detail {

#if defined(__x86_64__)

namespace {

constexpr size_t kChunk = size_t{1} << 20;  // 16,384 64-byte steps: lanes < 2^30 each

__attribute__((target("avx2"))) inline __m256i load(const std::byte* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

__attribute__((target("avx2"))) inline uint64_t widen(__m256i a) {
  const __m256i lo = _mm256_cvtepu32_epi64(_mm256_castsi256_si128(a));
  const __m256i hi = _mm256_cvtepu32_epi64(_mm256_extracti128_si256(a, 1));
  const __m256i s = _mm256_add_epi64(lo, hi);
  const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(t)) + static_cast<uint64_t>(_mm_extract_epi64(t, 1));
}

// One pass over up to kChunk bytes (a multiple of 32); Copy also stores each
// block to dst.
template <bool Copy>
__attribute__((target("avx2"))) uint64_t chunk(std::byte* dst, const std::byte* src, size_t n) {
  const __m256i low = _mm256_set1_epi32(0xffff);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  // Two 32-byte blocks a step, each half of a word into its own accumulator:
  // four independent add chains.
  for (; n >= 64; n -= 64, src += 64) {
    const __m256i v0 = load(src);
    const __m256i v1 = load(src + 32);
    if constexpr (Copy) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32), v1);
      dst += 64;
    }
    a0 = _mm256_add_epi32(a0, _mm256_and_si256(v0, low));
    a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v0, 16));
    a2 = _mm256_add_epi32(a2, _mm256_and_si256(v1, low));
    a3 = _mm256_add_epi32(a3, _mm256_srli_epi32(v1, 16));
  }
  if (n >= 32) {
    const __m256i v0 = load(src);
    if constexpr (Copy) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v0);
    a0 = _mm256_add_epi32(a0, _mm256_and_si256(v0, low));
    a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v0, 16));
  }
  return widen(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)));
}

template <bool Copy>
uint64_t blocks(std::byte* dst, const std::byte* src, size_t n) {
  n &= ~size_t{31};
  uint64_t sum = 0;  // < 2^32 a chunk: no 64-bit overflow below 2^32 chunks
  for (size_t off = 0; off < n; off += kChunk) {
    const size_t len = n - off < kChunk ? n - off : kChunk;
    sum += chunk<Copy>(Copy ? dst + off : nullptr, src + off, len);
  }
  return sum;
}

}  // namespace

bool cpu_has_avx2() {
  __builtin_cpu_init();  // may run before the constructors that would call it
  return __builtin_cpu_supports("avx2");
}

uint64_t sum_blocks_avx2(const std::byte* p, size_t n) { return blocks<false>(nullptr, p, n); }

uint64_t copy_sum_blocks_avx2(std::byte* dst, const std::byte* src, size_t n) {
  return blocks<true>(dst, src, n);
}

#else  // not x86-64: never chosen

bool cpu_has_avx2() { return false; }
uint64_t sum_blocks_avx2(const std::byte*, size_t) { return 0; }
uint64_t copy_sum_blocks_avx2(std::byte*, const std::byte*, size_t) { return 0; }

#endif

}  // namespace xnet::wire::detail
