#pragma once
// IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP for UDP sockets (net/ipv4/igmp.c:
// ip_mc_join_group, ip_mc_leave_group, ip_mc_drop_socket). A socket's joins
// are kept on the socket (inet_sock->mc_list) and counted on the interface
// (Stack::join_group), whose first join and last leave reach the link's
// multicast filter (for AF_XDP: the steering program's map of groups).
//
// Delivery does not consult the socket's list: with IP_MULTICAST_ALL on (the
// kernel's default, and the only mode xnet has) ip_mc_sf_allow lets every
// socket bound to the port receive every group joined on the interface.
// No IGMP: xnet sends no membership reports and answers no queries.

#include <cstdint>

#include "runtime/result.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// struct ip_mreqn: the group, and the interface by index or by one of its
// addresses (both 0: the interface the route to the group leaves by).
struct McRequest {
  wire::Ipv4Addr group;
  wire::Ipv4Addr address;
  uint16_t ifindex = 0;
};

// EINVAL (not a multicast group), ENODEV (no such interface, no interface
// holds `address`, or no route to the group), EADDRINUSE (already joined on
// that interface), ENOBUFS (igmp_max_memberships joins already).
Result<void> udp_join_group(Stack& stack, UdpSock& sk, const McRequest& req);
// ENODEV (neither index nor address given and no route to the group),
// EADDRNOTAVAIL (not joined there: also for a non-multicast group or an
// unknown index, as the kernel answers).
Result<void> udp_leave_group(Stack& stack, UdpSock& sk, const McRequest& req);
// ip_mc_drop_socket: close() leaves every group the socket joined.
void udp_drop_memberships(Stack& stack, UdpSock& sk);

}  // namespace xnet::stack
