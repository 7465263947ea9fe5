#pragma once
// ip_forward → (FORWARD hook) → ip_forward_finish → ip_output. Called by
// ipv4_input for packets routed to another host (meta().route_type == kUnicast
// after the input route lookup, meta().out_ifindex / next_hop set).

#include "stack/ipv4/ipv4_output.h"

namespace xnet::stack {

// Takes a received IPv4 packet (network header at data()) whose destination is
// another host. Off unless StackConfig::ip_forward; drops count in Ip counters
// (InHdrErrors for TTL expiry, FragFails for DF too big, ...) and, where the
// kernel does, answer with ICMP (time exceeded, fragmentation needed with the
// next-hop MTU, source route failed).
void ip_forward(Stack& stack, Packet pkt, TimePoint now);

}  // namespace xnet::stack
