// The sum runs over native-endian 64-bit words: ones'-complement addition is
// byte-order independent (RFC 1071 §2(B)), so a little-endian host sums the
// byte-swapped words and swaps the folded result once at the end instead of
// swapping every word.

#include "stack/wire/checksum.h"

#include "stack/wire/checksum_avx2.h"

#include <bit>
#include <cstring>

namespace xnet::wire {
namespace {

inline uint64_t load64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One ones'-complement step on 64-bit words: the carry out wraps around.
// Written so the compiler emits add + adc.
inline uint64_t add_carry(uint64_t a, uint64_t b) {
  uint64_t s;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + carry;
}

// The last 1-7 bytes of a block as one word, zero-padded in memory order,
// which is the "odd byte padded with zero" rule for either host byte order.
// When the block holds 8 bytes, one load of the 8 that end with it, shifted:
// a copy through memory would stall the load behind its byte stores (11 ns
// of a 1500-byte sum, //benchmarks/wire:checksum_bench).
inline uint64_t load_tail(const std::byte* p, size_t n, bool block_has_8) {
  if constexpr (std::endian::native == std::endian::little) {
    if (block_has_8) return load64(p + n - 8) >> (64 - 8 * n);
  }
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

// Folds a native-order 64-bit sum to 16 bits and turns it into the
// big-endian-word sum the API promises.
inline uint32_t finish(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  uint16_t s = checksum_fold(static_cast<uint32_t>(acc));
  if constexpr (std::endian::native == std::endian::little) {
    s = static_cast<uint16_t>((s >> 8) | (s << 8));
  }
  return s;
}

// Blocks this long or longer take the AVX2 loop where the CPU has it; below,
// its set-up and final reduction cost more than they save.
constexpr size_t kWideMin = 128;
const bool kWide = detail::cpu_has_avx2();

inline uint32_t add_initial(uint32_t s, uint32_t initial) {
  const uint64_t t = uint64_t{s} + initial;
  return static_cast<uint32_t>((t & 0xffffffffu) + (t >> 32));
}

template <bool Wide>
uint32_t sum(const std::byte* p, size_t n, uint32_t initial) {
  const bool has_8 = n >= 8;
  // Four independent chains so consecutive adc's do not wait on each other.
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  if (Wide && n >= kWideMin) {
    a0 = detail::sum_blocks_avx2(p, n);
    const size_t done = n & ~size_t{31};
    p += done;
    n -= done;
  }
  for (; n >= 32; n -= 32, p += 32) {
    a0 = add_carry(a0, load64(p));
    a1 = add_carry(a1, load64(p + 8));
    a2 = add_carry(a2, load64(p + 16));
    a3 = add_carry(a3, load64(p + 24));
  }
  for (; n >= 8; n -= 8, p += 8) a0 = add_carry(a0, load64(p));
  if (n != 0) a1 = add_carry(a1, load_tail(p, n, has_8));
  const uint64_t acc = add_carry(add_carry(a0, a1), add_carry(a2, a3));
  return add_initial(finish(acc), initial);
}

template <bool Wide>
uint32_t copy_sum(std::byte* dst, const std::byte* src, size_t n) {
  const bool has_8 = n >= 8;
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  if (Wide && n >= kWideMin) {
    a0 = detail::copy_sum_blocks_avx2(dst, src, n);
    const size_t done = n & ~size_t{31};
    src += done;
    dst += done;
    n -= done;
  }
  for (; n >= 32; n -= 32, src += 32, dst += 32) {
    // A fixed-size memcpy becomes two 16-byte moves: half the stores of
    // storing the summed words, and the loads below hit the same lines.
    std::memcpy(dst, src, 32);
    a0 = add_carry(a0, load64(src));
    a1 = add_carry(a1, load64(src + 8));
    a2 = add_carry(a2, load64(src + 16));
    a3 = add_carry(a3, load64(src + 24));
  }
  for (; n >= 8; n -= 8, src += 8, dst += 8) {
    const uint64_t w = load64(src);
    std::memcpy(dst, &w, 8);
    a0 = add_carry(a0, w);
  }
  if (n != 0) {
    std::memcpy(dst, src, n);
    a1 = add_carry(a1, load_tail(src, n, has_8));
  }
  return finish(add_carry(add_carry(a0, a1), add_carry(a2, a3)));
}

}  // namespace

uint32_t checksum_partial(std::span<const std::byte> data, uint32_t initial) {
  return kWide ? sum<true>(data.data(), data.size(), initial) : sum<false>(data.data(), data.size(), initial);
}

uint32_t checksum_copy(std::byte* dst, const std::byte* src, size_t n) {
  return kWide ? copy_sum<true>(dst, src, n) : copy_sum<false>(dst, src, n);
}

namespace detail {

uint32_t checksum_partial_scalar(const std::byte* p, size_t n, uint32_t initial) {
  return sum<false>(p, n, initial);
}

uint32_t checksum_copy_scalar(std::byte* dst, const std::byte* src, size_t n) {
  return copy_sum<false>(dst, src, n);
}

}  // namespace detail

uint16_t checksum(std::span<const std::byte> data) {
  return static_cast<uint16_t>(~checksum_fold(checksum_partial(data)));
}

}  // namespace xnet::wire
