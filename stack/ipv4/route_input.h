#pragma once
// The input route (ip_route_input_noref → ip_route_input_slow, fib_validate_source):
// decides whether a received packet is ours (local, broadcast, joined
// multicast), is to be forwarded, or is unreachable, and rejects martians.
// Writes the decision into the packet's metadata (route_type, out_ifindex,
// next_hop), as the kernel attaches a dst to the skb.

#include <cstdint>

#include "runtime/result.h"
#include "stack/core/packet.h"
#include "stack/core/stats.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// The route is set on the packet (meta().route_type ...); the value is, for
// route_type == kUnreachable, the dst error ip_error acts on (EHOSTUNREACH,
// ENETUNREACH, EINVAL, as a positive errno value), else 0. An error: the
// packet must be dropped with that reason (the kernel returns an error from
// ip_route_input_noref; no SNMP counter moves, the kernel counts martians
// only in its per-cpu rt_cache stats, which xnet does not keep).
using InputRoute = Result<int, DropReason>;

// `pkt` has its network header at data() and meta().ifindex set.
InputRoute ip_route_input_noref(Stack& stack, Packet& pkt, wire::Ipv4Addr daddr,
                                wire::Ipv4Addr saddr, uint8_t tos);

// The source checks xnet applies to every received packet (see route_input.cc).
bool ipv4_is_martian_source(wire::Ipv4Addr saddr);
bool ipv4_is_martian_dest(wire::Ipv4Addr daddr);

}  // namespace xnet::stack
