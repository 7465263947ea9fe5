#pragma once
// The output route of a locally generated datagram (ip_route_output_flow →
// __ip_route_output_key_hash → ip_route_output_key_hash_rcu): source checks,
// the output interface, the FIB, and the route type the destination makes.

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

// The dst of a send: where the datagram goes and how.
struct ResolvedRoute {
  RouteType type = RouteType::kNone;
  uint16_t ifindex = 0;
  wire::Ipv4Addr next_hop;
  wire::Ipv4Addr prefsrc;
  uint32_t mtu = 0;
};

// ip_route_output_flow (__ip_route_output_key_hash) for a UDP send, in the
// kernel's order: source address, output interface, FIB. Errors: EINVAL (a
// source that is not ours, a 0.0.0.0/8 destination), ENODEV (no such
// interface), ENETUNREACH (no route; counted OutNoRoutes by the caller).
Result<ResolvedRoute> route_output(Stack& stack, const OutputFlow& fl);

}  // namespace xnet::stack
