#pragma once
// skb_checksum_help: completing a CHECKSUM_PARTIAL packet in software at the
// link boundary when the Link does not advertise LinkFeatures::tx_checksum.
// The arithmetic itself is stack/wire/checksum.h's, the only one in the tree.

#include "stack/core/packet.h"

namespace xnet::stack {

// skb_checksum over a datagram that spans frames: the partial sum (added to
// `initial`) of `head` from data() and of each frame of `rest` in order, each
// block placed at its byte offset in the whole (odd offsets swap lanes).
uint32_t datagram_checksum_partial(const Packet& head, const PacketQueue& rest, uint32_t initial = 0);

// skb_checksum_help: for a kPartial packet, sums from csum_start to the end of
// the packet (the field already holds the pseudo-header sum), stores the
// complemented result at csum_start + csum_offset (0 sent as 0xFFFF, as UDP
// requires) and marks the packet kNone. No-op for other states.
void checksum_help(Packet& pkt);

}  // namespace xnet::stack
