#pragma once
// Path MTU discovery's route side (net/ipv4/route.c): an ICMP "fragmentation
// needed" about one of our datagrams lowers the MTU of the path to its
// destination (__ipv4_sk_update_pmtu → __ip_rt_update_pmtu), as an exception
// of the next hop the route takes there (stack/core/pmtu_cache.h). The
// transport decides whether its socket accepts it (ip_sk_accept_pmtu).

#include <chrono>
#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
struct ResolvedRoute;

// __ipv4_sk_update_pmtu: the output route of the quoted datagram (`saddr` →
// `daddr`, the socket's bound interface `oif`) learns `mtu`. Nothing happens
// without a unicast route.
void ipv4_update_pmtu(Stack& stack, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint16_t oif, uint32_t mtu,
                      std::chrono::steady_clock::time_point now);

// __ip_rt_update_pmtu on a resolved route to `daddr`, whose device MTU is
// `dev_mtu`: never raises the path MTU (an ICMP above the current one is
// ignored), clamps below min_pmtu to min_pmtu and locks it, and refreshes an
// unchanged MTU only in the second half of its life (mtu_expires / 2).
void ip_rt_update_pmtu(Stack& stack, const ResolvedRoute& rt, uint32_t dev_mtu, wire::Ipv4Addr daddr, uint32_t mtu,
                       std::chrono::steady_clock::time_point now);

}  // namespace xnet::stack
