#pragma once
// The IPv4 receive path: ip_rcv → (PRE_ROUTING) → ip_rcv_finish (options,
// input route) → dst_input → ip_local_deliver (reassembly) → (LOCAL_IN) →
// ip_local_deliver_finish (protocol demux), or ip_forward.

#include <chrono>

#include "stack/packet.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// data() at the IPv4 header; meta().ifindex and pkt_type set by eth_rcv.
void ip_rcv(Stack& stack, Packet pkt, TimePoint now);

// ip_local_deliver_finish for a whole datagram: `head` with data() at the
// transport header (network header set), `rest` the other fragments' frames
// (data() at their payload) when it was reassembled. Dispatches to udp_rcv /
// icmp_rcv, or answers protocol unreachable (InUnknownProtos). Counts InDelivers.
void ip_local_deliver_finish(Stack& stack, Packet head, PacketQueue rest, TimePoint now);

}  // namespace xnet::stack
