#pragma once
// UDP's offload callbacks (net/ipv4/udp_offload.c): software segmentation of
// a GSO datagram, reached from ip_finish_output through the protocol table's
// gso_segment, as validate_xmit_skb → skb_gso_segment reaches it in the kernel.

#include "stack/core/packet.h"

namespace xnet::stack {

// Software UDP GSO (__udp_gso_segment): a GSO datagram laid out one segment per
// frame (head frame: IPv4 + UDP header + first segment; meta().gso_size set)
// becomes one complete packet per segment in `segments`, each with its own
// total length, IP ID (the head's + index), header checksum, UDP length and
// checksum. With `device_checksum` the UDP checksums are left kPartial for the
// Link; otherwise they are computed from the per-frame sums taken during the
// copy. Consumes `datagram`.
void udp_gso_segment(PacketQueue& datagram, bool device_checksum, PacketQueue& segments);

}  // namespace xnet::stack
