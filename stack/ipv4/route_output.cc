#include "stack/ipv4/route_output.h"

#include <optional>

#include "stack/core/stack.h"

namespace xnet::stack {

wire::Ipv4Addr this_host(const Stack& stack, wire::Ipv4Addr saddr, uint16_t oif) {
  return !saddr.is_unspecified() ? saddr : stack.select_source(oif, wire::Ipv4Addr());
}

Result<ResolvedRoute> route_output(Stack& stack, OutputFlow& fl) {
  if (!fl.saddr.is_unspecified()) {
    if (fl.saddr.is_multicast() || fl.saddr.is_broadcast()) return std::errc::invalid_argument;
    // A source that is not ours has no route (Linux 6.18: IP_PKTINFO with
    // 10.99.9.9, with the peer's address or with 0.1.2.3 is ENETUNREACH and
    // OutNoRoutes; 224.0.0.1 and 255.255.255.255 are EINVAL).
    if (!stack.is_local_address(fl.saddr)) return std::errc::network_unreachable;
  }
  if (fl.daddr.is_unspecified()) {
    fl.daddr = this_host(stack, fl.saddr, fl.oif);
    if (fl.daddr.is_unspecified()) return std::errc::network_unreachable;  // no address at all
  }
  if (fl.daddr.is_loopback()) return std::errc::network_unreachable;  // no lo (see the header)
  auto on_link = [&](uint16_t ifindex) {
    ResolvedRoute r;
    r.type = fl.daddr.is_broadcast()   ? RouteType::kBroadcast
             : fl.daddr.is_multicast() ? RouteType::kMulticast
                                       : RouteType::kUnicast;
    r.ifindex = ifindex;
    r.next_hop = fl.daddr;
    return r;
  };
  // A source of ours names the way for a limited broadcast or a group when
  // no interface does (the kernel's "special hack": __ip_dev_find(saddr)).
  if (fl.oif == 0 && !fl.saddr.is_unspecified() && (fl.daddr.is_broadcast() || fl.daddr.is_multicast())) {
    if (const auto own = stack.routes().exact(wire::Ipv4Prefix{fl.saddr, 32}); own) return on_link(own->ifindex);
  }
  if (fl.oif != 0) {
    const Interface* ifc = stack.interface(fl.oif);
    if (ifc == nullptr || ifc->link == nullptr) return std::errc::no_such_device;
    if (!ifc->up || ifc->addrs.empty()) return std::errc::network_unreachable;
    // Limited broadcast and link-local multicast (224.0.0.0/24) with an
    // interface need no lookup: out of that interface.
    if (fl.daddr.is_broadcast() || (fl.daddr.value() & 0xffffff00u) == 0xe0000000u) {
      return on_link(fl.oif);
    }
  }
  const std::optional<Route> rt = stack.routes().lookup(fl.daddr);
  if (fl.oif != 0 && (!rt || rt->ifindex != fl.oif)) {
    // The lookup is bound to the interface; when no route through it matches,
    // the kernel assumes the destination is on that link.
    return on_link(fl.oif);
  }
  if (!rt || rt->type == RouteType::kUnreachable || rt->type == RouteType::kBlackhole) {
    return std::errc::network_unreachable;
  }
  // MSG_DONTROUTE / SO_DONTROUTE (RTO_ONLINK): link scope only, no gateway.
  if (fl.only_link && !rt->gateway.is_unspecified()) return std::errc::network_unreachable;
  if (rt->type == RouteType::kLocal) {
    ResolvedRoute r;
    r.type = RouteType::kLocal;
    r.ifindex = rt->ifindex;
    r.next_hop = fl.daddr;
    r.prefsrc = fl.daddr;  // the kernel's source for local routes: the destination itself
    r.mtu = kLoopbackMtu;
    return r;
  }
  ResolvedRoute r;
  r.type = rt->type;
  r.ifindex = rt->ifindex;
  r.next_hop = rt->gateway.is_unspecified() ? fl.daddr : rt->gateway;
  r.prefsrc = rt->prefsrc;
  r.mtu = rt->mtu;
  // __mkroute_output: the destination, not the route, makes it a broadcast or
  // multicast route (and such a datagram goes to its broadcast or group MAC,
  // not a gateway's: the kernel drops the route's nexthop for them).
  if (fl.daddr.is_broadcast() || fl.daddr.is_multicast()) {
    r.type = fl.daddr.is_broadcast() ? RouteType::kBroadcast : RouteType::kMulticast;
    r.next_hop = fl.daddr;
  }
  if (r.type == RouteType::kUnicast) {
    if (const PmtuException* e = stack.pmtu().find(r.ifindex, r.next_hop, fl.daddr)) {
      r.pmtu = e->mtu;
      r.pmtu_locked = e->locked;
      r.pmtu_expires = e->expires;
    }
  }
  return r;
}

}  // namespace xnet::stack
