#pragma once
// Big-endian bytes and header offsets for tests that write and read frames by
// hand, apart from stack/wire's views, so that a bug in the views cannot hide
// itself in the tests that check them.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xnet::stack::rawbytes {

inline uint16_t load_be16(const std::byte* p) {
  return static_cast<uint16_t>((std::to_integer<uint16_t>(p[0]) << 8) | std::to_integer<uint16_t>(p[1]));
}
inline void store_be16(std::byte* p, uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}
inline uint32_t load_be32(const std::byte* p) {
  return (uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}
inline void store_be32(std::byte* p, uint32_t v) {
  store_be16(p, static_cast<uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<uint16_t>(v));
}

// IPv4 header offsets (RFC 791).
inline constexpr size_t kIpVerIhl = 0, kIpTos = 1, kIpTotLen = 2, kIpId = 4, kIpFragOff = 6,
                        kIpTtl = 8, kIpProto = 9, kIpCsum = 10, kIpSrc = 12, kIpDst = 16;
inline constexpr uint16_t kIpDf = 0x4000, kIpMf = 0x2000, kIpOffsetMask = 0x1fff;
// UDP header offsets (RFC 768).
inline constexpr size_t kUdpSport = 0, kUdpDport = 2, kUdpLen = 4, kUdpCsum = 6;
inline constexpr uint16_t kUdpHeaderLen = 8;
inline constexpr uint8_t kIpProtoUdp = 17;

}  // namespace xnet::stack::rawbytes
