#pragma once
// An independent Internet checksum (RFC 1071, one byte pair at a time, 64-bit
// accumulator) and header readers for checking what the send path produced.
// Deliberately naive: it must not share code with stack/wire/checksum.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace xnet::stack::txtest {

inline uint16_t be16(const std::byte* p) {
  return static_cast<uint16_t>(std::to_integer<unsigned>(p[0]) * 256 + std::to_integer<unsigned>(p[1]));
}
inline uint32_t be32(const std::byte* p) { return uint32_t{be16(p)} * 65536 + be16(p + 2); }

// Ones'-complement sum of 16-bit big-endian words, odd byte padded with zero.
inline uint64_t ref_sum(std::span<const std::byte> b, uint64_t acc = 0) {
  for (size_t i = 0; i < b.size(); i += 2) {
    const unsigned hi = std::to_integer<unsigned>(b[i]);
    const unsigned lo = i + 1 < b.size() ? std::to_integer<unsigned>(b[i + 1]) : 0u;
    acc += hi * 256u + lo;
  }
  return acc;
}
inline uint16_t ref_fold(uint64_t acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// True when the IPv4 header at `ip` (IHL from the header) sums to 0xffff.
inline bool ip_header_ok(const std::byte* ip) {
  const size_t hl = (std::to_integer<unsigned>(ip[0]) & 0xf) * 4u;
  return ref_fold(ref_sum({ip, hl})) == 0xffff;
}
// UDP checksum over a complete (unfragmented) IPv4/UDP packet. A field of 0
// means "none" and is reported as such through `none`.
inline bool udp_checksum_ok(const std::byte* ip, bool* none = nullptr) {
  const size_t hl = (std::to_integer<unsigned>(ip[0]) & 0xf) * 4u;
  const std::byte* udp = ip + hl;
  const uint16_t ulen = be16(udp + 4);
  if (none) *none = be16(udp + 6) == 0;
  if (be16(udp + 6) == 0) return true;
  uint64_t acc = ref_sum({ip + 12, 8});
  acc += 17 + ulen;
  acc = ref_sum({udp, ulen}, acc);
  return ref_fold(acc) == 0xffff;
}

}  // namespace xnet::stack::txtest
