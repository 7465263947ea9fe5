#pragma once
// Transmit checksum helpers of the output path: combining per-frame partial
// sums (csum_block_add/sub), and skb_checksum_help — completing a
// CHECKSUM_PARTIAL packet in software at the link boundary when the Link does
// not advertise LinkFeatures::tx_checksum.

#include <cstddef>
#include <cstdint>

#include "stack/packet.h"

namespace xnet::stack {

// Folds a 32-bit partial ones'-complement sum to 16 bits (not complemented).
inline uint16_t csum_fold16(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Adds `part`, the sum of a block that starts `offset` bytes into the summed
// region, to `sum`: a block at an odd offset has its bytes in swapped lanes.
inline uint32_t csum_block_add(uint32_t sum, uint32_t part, size_t offset) {
  uint32_t p = csum_fold16(part);
  if (offset & 1) p = ((p & 0xff) << 8) | (p >> 8);
  const uint64_t s = uint64_t{sum} + p;
  return static_cast<uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// Removes such a block again (ones'-complement subtraction adds the complement).
inline uint32_t csum_block_sub(uint32_t sum, uint32_t part, size_t offset) {
  uint32_t p = csum_fold16(part);
  if (offset & 1) p = ((p & 0xff) << 8) | (p >> 8);
  const uint64_t s = uint64_t{sum} + (~p & 0xffff);
  return static_cast<uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// skb_checksum_help: for a kPartial packet, sums from csum_start to the end of
// the packet (the field already holds the pseudo-header sum), stores the
// complemented result at csum_start + csum_offset (0 sent as 0xFFFF, as UDP
// requires) and marks the packet kNone. No-op for other states.
void checksum_help(Packet& pkt);

}  // namespace xnet::stack
