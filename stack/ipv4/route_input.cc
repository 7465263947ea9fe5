// ip_route_input_noref: the kernel's ip_route_input_rcu / ip_route_input_slow
// order of checks, on xnet's address list and FIB.
//
// Decided against the kernel (the brief asks for it; each is a DropReason):
// - class E (240/4) sources and destinations are martians; Linux 6.x lets them
//   through route input (it stopped treating 240/4 as bogus).
//
// The ingress interface's subnet broadcast as a source is not a martian, as in
// Linux with rp_filter = 0 (fib_validate_source only rejects our own
// addresses): Linux 6.18 delivered 10.98.0.255 -> 10.98.0.2 to the socket, and
// without one counted NoPorts and sent the port unreachable to 10.98.0.255.

#include "stack/ipv4/route_input.h"

#include <cerrno>

#include "stack/core/stack.h"

namespace xnet::stack {
namespace {

using wire::Ipv4Addr;

constexpr uint8_t kIpProtoIgmp = 2;

bool is_local_multicast(Ipv4Addr a) { return (a.value() & 0xffffff00u) == 0xe0000000u; }

InputRoute drop(DropReason r) { return r; }

// fib_validate_source with rp_filter = 0 and accept_local = 0: a packet
// claiming to come from one of our addresses is a martian.
bool source_valid(const Stack& stack, Ipv4Addr saddr) {
  return !stack.is_local_address(saddr);
}

void set_local(Packet& pkt, RouteType type) {
  pkt.meta().route_type = type;
  pkt.meta().out_ifindex = 0;
  pkt.meta().next_hop = Ipv4Addr();
}

InputRoute unreachable(Packet& pkt, int err) {
  set_local(pkt, RouteType::kUnreachable);
  return err;
}

}  // namespace

bool ipv4_is_martian_source(Ipv4Addr s) {
  return s.is_multicast() || s.is_broadcast() || s.is_unspecified() || s.is_loopback() ||
         s.is_class_e();
}

bool ipv4_is_martian_dest(Ipv4Addr d) { return d.is_unspecified() || d.is_loopback() || d.is_class_e(); }

InputRoute ip_route_input_noref(Stack& stack, Packet& pkt, Ipv4Addr daddr, Ipv4Addr saddr,
                                uint8_t /*tos*/) {
  const uint16_t ifindex = pkt.meta().ifindex;

  // ip_route_input_rcu: multicast destinations never reach the FIB.
  if (daddr.is_multicast()) {
    if (!stack.is_joined(ifindex, daddr)) return drop(DropReason::kMulticastNotJoined);
    // ip_mc_validate_source
    if (saddr.is_multicast() || saddr.is_broadcast() || saddr.is_loopback() || saddr.is_class_e()) {
      return drop(DropReason::kIpMartianSource);
    }
    if (saddr.is_unspecified()) {
      const uint8_t proto = std::to_integer<uint8_t>(pkt.network_header()[9]);
      if (!is_local_multicast(daddr) && proto != kIpProtoIgmp) return drop(DropReason::kIpMartianSource);
    } else if (!source_valid(stack, saddr)) {
      return drop(DropReason::kIpMartianSource);
    }
    set_local(pkt, RouteType::kMulticast);
    return 0;  // routed, no dst error
  }

  // ip_route_input_slow: "the most weird martians", before the FIB.
  if (saddr.is_multicast() || saddr.is_broadcast()) return drop(DropReason::kIpMartianSource);

  const bool limited_bcast = daddr.is_broadcast() || (saddr.is_unspecified() && daddr.is_unspecified());
  if (!limited_bcast) {
    // 0.0.0.0 is accepted only towards the limited broadcast (DHCP); the rest
    // of 0.0.0.0/8 is unicast like any other address (Linux since 5.3).
    if (saddr.is_unspecified()) return drop(DropReason::kIpMartianSource);
    if (daddr.is_unspecified()) return drop(DropReason::kIpMartianDest);
    // route_localnet = 0
    if (daddr.is_loopback()) return drop(DropReason::kIpMartianDest);
    if (saddr.is_loopback()) return drop(DropReason::kIpMartianSource);
    if (daddr.is_class_e()) return drop(DropReason::kIpMartianDest);
    if (saddr.is_class_e()) return drop(DropReason::kIpMartianSource);

    if (stack.is_local_address(daddr)) {  // RTN_LOCAL
      if (!source_valid(stack, saddr)) return drop(DropReason::kIpMartianSource);
      set_local(pkt, RouteType::kLocal);
      return 0;  // routed, no dst error
    }
  }

  const std::optional<Route> rt = limited_bcast ? std::nullopt : stack.routes().lookup(daddr);
  if (limited_bcast || stack.is_broadcast_on(ifindex, daddr) ||
      (rt && rt->type == RouteType::kBroadcast)) {
    // brd_input (bc_forwarding = 0: broadcasts are always delivered locally)
    if (!saddr.is_unspecified() && !source_valid(stack, saddr)) {
      return drop(DropReason::kIpMartianSource);
    }
    set_local(pkt, RouteType::kBroadcast);
    return 0;  // routed, no dst error
  }
  if (rt && rt->type == RouteType::kLocal) {  // a local route without an address (rare)
    if (!source_valid(stack, saddr)) return drop(DropReason::kIpMartianSource);
    set_local(pkt, RouteType::kLocal);
    return 0;  // routed, no dst error
  }

  // Not ours. Without forwarding the kernel builds an unreachable dst with
  // EHOSTUNREACH whatever the FIB says; ip_error then counts InAddrErrors.
  if (!stack.config().ip_forward) return unreachable(pkt, EHOSTUNREACH);
  if (!rt) return unreachable(pkt, ENETUNREACH);  // fib_lookup failed
  switch (rt->type) {
    case RouteType::kUnicast:
      break;
    case RouteType::kUnreachable:
      return unreachable(pkt, EHOSTUNREACH);
    case RouteType::kBlackhole:
      return unreachable(pkt, EINVAL);
    default:
      return drop(DropReason::kIpMartianDest);  // res->type != RTN_UNICAST
  }
  // __mkroute_input validates the source against the egress side as well.
  if (!source_valid(stack, saddr)) return drop(DropReason::kIpMartianSource);
  pkt.meta().route_type = RouteType::kUnicast;
  pkt.meta().out_ifindex = rt->ifindex;
  pkt.meta().next_hop = rt->gateway.is_unspecified() ? daddr : rt->gateway;
  // __mkroute_input: out where it came in, from a sender fib_validate_source
  // finds on that link (its route has no gateway; shared_media = 1), which
  // could have reached the next hop itself.
  if (rt->ifindex == ifindex && stack.config().send_redirects) {
    const std::optional<Route> back = stack.routes().lookup(saddr);
    pkt.meta().do_redirect = back && back->type == RouteType::kUnicast && back->ifindex == ifindex &&
                             back->gateway.is_unspecified();
  }
  return 0;  // routed, no dst error
}

}  // namespace xnet::stack
