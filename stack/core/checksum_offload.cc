// skb_checksum over a frame chain, and skb_checksum_help at the link boundary:
// a packet whose transport checksum was left to the device (kPartial) but
// whose Link cannot complete it.

#include "stack/core/checksum_offload.h"

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {

uint32_t datagram_checksum_partial(const Packet& head, const PacketQueue& rest, uint32_t initial) {
  uint32_t sum = wire::checksum_block_add(initial, wire::checksum_partial(head.bytes()), 0);
  size_t off = head.size();
  rest.for_each([&](const PacketMeta& m, const std::byte* frame) {
    sum = wire::checksum_block_add(sum, wire::checksum_partial({frame + m.head, m.len}), off);
    off += m.len;
  });
  return sum;
}

void checksum_help(Packet& pkt) {
  PacketMeta& m = pkt.meta();
  if (m.csum_state != ChecksumState::kPartial) return;
  const size_t end = size_t{m.head} + m.len;
  const std::byte* start = pkt.frame_start() + m.csum_start;
  // The field holds the pseudo-header sum, so summing across it includes it.
  const uint32_t sum = wire::checksum_partial({start, end - m.csum_start});
  uint16_t check = static_cast<uint16_t>(~wire::checksum_fold(sum));
  if (check == 0) check = 0xffff;  // CSUM_MANGLED_0
  wire::detail::set_be16(pkt.frame_start() + m.csum_start + m.csum_offset, check);
  m.csum_state = ChecksumState::kNone;
}

}  // namespace xnet::stack
