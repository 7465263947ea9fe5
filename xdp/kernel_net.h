#pragma once
// What the kernel knows about an interface, read for shared mode (the kernel
// keeps the address and xnet follows its configuration): the IPv4 addresses
// on it, and the routes through gateways that leave by it. Read once, when
// xnet starts; rtnetlink (libmnl) for the routes.

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/addr.h"
#include "xdp/error.h"

namespace xnet::xdp {

// The IPv4 addresses the kernel holds on `ifname`, with their prefix
// lengths, primary first. ENOENT with a message when there are none.
XdpResult<std::vector<wire::Ipv4Prefix>> kernel_addresses(const std::string& ifname);

struct KernelRoute {
  wire::Ipv4Prefix prefix;  // 0.0.0.0/0 for the default route
  wire::Ipv4Addr gateway;
};

// The main table's unicast IPv4 routes through a gateway whose output
// interface is `ifindex` (connected routes come with the addresses).
XdpResult<std::vector<KernelRoute>> kernel_gateway_routes(uint32_t ifindex);

// One RTM_NEWROUTE / RTM_DELROUTE message as such a route, or nullopt when it
// is not one (another table, interface or family; no gateway).
std::optional<KernelRoute> parse_gateway_route(const nlmsghdr* m, uint32_t ifindex);

}  // namespace xnet::xdp
