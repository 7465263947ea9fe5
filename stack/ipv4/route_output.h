#pragma once
// The output route of a locally generated datagram (ip_route_output_flow →
// __ip_route_output_key_hash → ip_route_output_key_hash_rcu): source checks,
// the output interface, the FIB, and the route type the destination makes.

#include <chrono>
#include <cstdint>

#include "runtime/result.h"
#include "stack/core/route.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// The keys of the lookup (the parts of flowi4 it reads).
struct OutputFlow {
  wire::Ipv4Addr saddr;  // 0.0.0.0: any of ours
  wire::Ipv4Addr daddr;
  uint16_t oif = 0;        // 0: any interface
  bool only_link = false;  // MSG_DONTROUTE / SO_DONTROUTE (RTO_ONLINK)
};

// The loopback device's MTU: datagrams to our own addresses are never
// fragmented (the kernel's lo has 65536).
inline constexpr uint32_t kLoopbackMtu = 65536;

// The dst of a send: where the datagram goes and how.
struct ResolvedRoute {
  RouteType type = RouteType::kNone;
  uint16_t ifindex = 0;
  wire::Ipv4Addr next_hop;
  wire::Ipv4Addr prefsrc;
  uint32_t mtu = 0;  // the route's MTU (0: the device's)
  // The PMTU exception of this next hop and destination (pmtu 0: none), as
  // the kernel's rtable carries rt_pmtu, rt_mtu_locked and dst.expires.
  uint32_t pmtu = 0;
  bool pmtu_locked = false;
  std::chrono::steady_clock::time_point pmtu_expires{};
};

// ipv4_mtu: the learned path MTU while it has not expired, else the route's,
// else the device's `dev_mtu` (kLoopbackMtu for a local route); never above
// the device's. (Not reproduced: a connected kernel socket whose cached route
// carried a locked PMTU via a gateway reads 576 after the expiry until
// anything looks the destination up again; 6.18 read IP_MTU 576, then 68
// once `ip route get` had flushed the exception, then 1500 after a send.
// Here it is the route's MTU at once.)
inline uint32_t dst_mtu(const ResolvedRoute& rt, uint32_t dev_mtu, std::chrono::steady_clock::time_point now) {
  uint32_t mtu = rt.mtu;
  if (rt.pmtu != 0 && now < rt.pmtu_expires) mtu = rt.pmtu;
  return mtu != 0 && mtu < dev_mtu ? mtu : dev_mtu;
}

// ip_mtu_locked: a learned MTU clamped to min_pmtu, while it lasts ("want"
// mode stops setting DF, and no ICMP lowers it further).
inline bool dst_mtu_locked(const ResolvedRoute& rt, std::chrono::steady_clock::time_point now) {
  return rt.pmtu != 0 && rt.pmtu_locked && now < rt.pmtu_expires;
}

// ip_route_output_flow (__ip_route_output_key_hash) for a UDP send, in the
// kernel's order: source address, output interface, FIB. A unicast route
// carries the PMTU exception of its next hop for the destination
// (find_exception in __mkroute_output). Errors: EINVAL (a
// multicast or limited-broadcast source, a 0.0.0.0/8 destination other than
// 0.0.0.0), ENODEV (no such interface), ENETUNREACH (a source that is not
// ours, or no route; counted OutNoRoutes by the caller).
//
// Our own addresses route kLocal (the loopback device: mtu kLoopbackMtu,
// ifindex the interface that owns the address, as the kernel's rt_iif). As in
// the kernel, 0.0.0.0 means this host: `fl.daddr` becomes the source address,
// or when none is given the stack's first address (the kernel uses 127.0.0.1
// on lo). xnet has no loopback device: 127.0.0.0/8 is unreachable
// (ENETUNREACH, what the kernel answers while lo is down), never sent out.
Result<ResolvedRoute> route_output(Stack& stack, OutputFlow& fl);

// The destination 0.0.0.0 means this host: `saddr` when given, else the
// stack's source for `oif` (route_output and connect both resolve it so).
wire::Ipv4Addr this_host(const Stack& stack, wire::Ipv4Addr saddr, uint16_t oif);

}  // namespace xnet::stack
