#pragma once
// The input route (ip_route_input_noref → ip_route_input_slow, fib_validate_source):
// decides whether a received packet is ours (local, broadcast, joined
// multicast), is to be forwarded, or is unreachable, and rejects martians.
// Writes the decision into the packet's metadata (route_type, out_ifindex,
// next_hop), as the kernel attaches a dst to the skb.

#include <cstdint>

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
// One integer rather than a Result<int, DropReason>: GCC built that variant
// in memory with two narrow stores and returned it with one wide load, a
// store-forwarding stall that was 70% of this function in recv_bench.
class InputRoute {
 public:
  InputRoute(int dst_error) : v_(static_cast<uint32_t>(dst_error)) {}  // NOLINT: routed
  InputRoute(DropReason r) : v_(kDropped | static_cast<uint32_t>(r)) {}  // NOLINT: dropped
  explicit operator bool() const { return (v_ & kDropped) == 0; }
  int operator*() const { return static_cast<int>(v_); }
  DropReason error() const { return static_cast<DropReason>(v_ & 0xffffu); }

 private:
  static constexpr uint32_t kDropped = 1u << 31;
  uint32_t v_;
};

// `pkt` has its network header at data() and meta().ifindex set.
InputRoute ip_route_input_noref(Stack& stack, Packet& pkt, wire::Ipv4Addr daddr,
                                wire::Ipv4Addr saddr, uint8_t tos);

// The source checks xnet applies to every received packet (see route_input.cc).
bool ipv4_is_martian_source(wire::Ipv4Addr saddr);
bool ipv4_is_martian_dest(wire::Ipv4Addr daddr);

}  // namespace xnet::stack
