#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Partial sums are 32-bit values that are neither folded nor complemented, so
// callers can add sums of separate blocks (pseudo-header, header, payload in
// several frames) and fold once at the end. Values are host order; the caller
// stores the final 16-bit result big-endian.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "stack/wire/addr.h"

namespace xnet::wire {

// Ones'-complement sum of `data` read as big-endian 16-bit words (an odd
// trailing byte is padded with zero), plus `initial`. Any 32-bit value whose
// 16-bit fold is the sum may be returned.
uint32_t checksum_partial(std::span<const std::byte> data, uint32_t initial = 0);

// Copies n bytes src→dst and returns checksum_partial of them, in one pass so
// the payload is read once (the send path's copy into the frame).
uint32_t checksum_copy(std::byte* dst, const std::byte* src, size_t n);

// Folds a partial sum to 16 bits (not complemented).
constexpr uint16_t checksum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Adds `part`, the sum of a block that starts `offset` bytes into the summed
// region, to `sum` (csum_block_add): a block at an odd offset has its bytes in
// swapped lanes. Lets the send path sum each frame of a datagram on its own.
constexpr uint32_t checksum_block_add(uint32_t sum, uint32_t part, size_t offset) {
  uint32_t p = checksum_fold(part);
  if (offset & 1) p = ((p & 0xff) << 8) | (p >> 8);
  const uint64_t s = uint64_t{sum} + p;
  return static_cast<uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// Removes such a block again (csum_block_sub: ones'-complement subtraction
// adds the complement).
constexpr uint32_t checksum_block_sub(uint32_t sum, uint32_t part, size_t offset) {
  uint32_t p = checksum_fold(part);
  if (offset & 1) p = ((p & 0xff) << 8) | (p >> 8);
  const uint64_t s = uint64_t{sum} + (~p & 0xffff);
  return static_cast<uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// The Internet checksum of `data`: the value to store in a checksum field.
uint16_t checksum(std::span<const std::byte> data);

// checksum_partial of a block whose length is a multiple of 4 (an IPv4 or UDP
// header), inline: for 8-20 bytes the call and the set-up of the general sum
// cost more than the sum (rx_bench: ~15% of the receive path).
inline uint32_t checksum_words(const std::byte* p, size_t len) {
  uint64_t s = 0;
  for (size_t i = 0; i < len; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, sizeof w);
    s += w;
  }
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  uint16_t f = checksum_fold(static_cast<uint32_t>(s));
  // Native-order words: on a little-endian host the folded sum has its bytes
  // swapped (RFC 1071 §2(B)).
  if constexpr (std::endian::native == std::endian::little) f = static_cast<uint16_t>((f >> 8) | (f << 8));
  return f;
}

// ip_fast_csum: the checksum of an IPv4 header (20-60 bytes, a multiple of 4);
// 0 when verifying a header that carries its checksum.
inline uint16_t ip_fast_csum(std::span<const std::byte> header) {
  return static_cast<uint16_t>(~checksum_fold(checksum_words(header.data(), header.size())));
}

// Sum of the UDP/TCP pseudo-header over IPv4 (RFC 768 / RFC 793).
constexpr uint32_t pseudo_header_sum(Ipv4Addr saddr, Ipv4Addr daddr, uint8_t protocol,
                                     uint16_t length) {
  return (saddr.value() >> 16) + (saddr.value() & 0xffff) + (daddr.value() >> 16) +
         (daddr.value() & 0xffff) + protocol + length;
}

// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the stored checksum `check` after one
// 16-bit word of the summed data changed from old_word to new_word. Eqn. 3
// rather than eqn. 2 so that the result is never a spurious -0 (0xffff where
// a full recomputation gives 0).
constexpr uint16_t checksum_update16(uint16_t check, uint16_t old_word, uint16_t new_word) {
  const uint32_t sum = uint32_t{static_cast<uint16_t>(~check)} +
                       uint32_t{static_cast<uint16_t>(~old_word)} + new_word;
  return static_cast<uint16_t>(~checksum_fold(sum));
}

// Same for a 32-bit field (an address), as two adjacent 16-bit words.
constexpr uint16_t checksum_update32(uint16_t check, uint32_t old_value, uint32_t new_value) {
  const uint32_t sum = uint32_t{static_cast<uint16_t>(~check)} +
                       uint32_t{static_cast<uint16_t>(~(old_value >> 16))} +
                       uint32_t{static_cast<uint16_t>(~old_value)} + (new_value >> 16) +
                       (new_value & 0xffff);
  return static_cast<uint16_t>(~checksum_fold(sum));
}

}  // namespace xnet::wire
