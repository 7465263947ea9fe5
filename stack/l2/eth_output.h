#pragma once
// The link layer's transmit side: the Ethernet header in front of a packet
// (eth_header, what dev_hard_header calls for an Ethernet device).

#include <cstdint>

#include "stack/l2/ethernet.h"
#include "stack/core/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// Pushes an Ethernet header in front of data() and sets the MAC header.
void eth_push_header(Packet& pkt, const wire::MacAddr& dst, const wire::MacAddr& src, uint16_t ethertype);
// The same 14 bytes at `h` (a header built outside a packet).
void eth_write_header(std::byte* h, const wire::MacAddr& dst, const wire::MacAddr& src, uint16_t ethertype);

}  // namespace xnet::stack
