#include "xdp/tx_checksum.h"

#include <cstring>

namespace xnet::xdp {

bool complete_partial_checksum(std::byte* bytes, size_t len, size_t csum_start,
                               size_t csum_offset) {
  if (csum_start > len || csum_offset + 2 > len - csum_start) return false;
  uint64_t sum = 0;
  const std::byte* p = bytes + csum_start;
  size_t n = len - csum_start;
  // 16-bit words in network order; the pseudo-header seed is in the field.
  for (; n >= 2; p += 2, n -= 2) {
    sum += (std::to_integer<uint32_t>(p[0]) << 8) | std::to_integer<uint32_t>(p[1]);
  }
  if (n == 1) sum += std::to_integer<uint32_t>(p[0]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t folded = static_cast<uint16_t>(~sum);
  // UDP: a computed 0 is sent as 0xffff (0 means "no checksum"); for other
  // protocols both are the same value in one's complement.
  if (folded == 0) folded = 0xffff;
  std::byte* field = bytes + csum_start + csum_offset;
  field[0] = std::byte(folded >> 8);
  field[1] = std::byte(folded & 0xff);
  return true;
}

}  // namespace xnet::xdp
