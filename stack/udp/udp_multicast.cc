#include "stack/udp/udp_multicast.h"

#include <algorithm>
#include <optional>

#include "stack/core/stack.h"

namespace xnet::stack {
namespace {

// ip_mc_find_dev: the interface by index, else the one holding the address,
// else the one the FIB sends the group out of. 0: none.
uint16_t find_dev(const Stack& stack, const McRequest& req) {
  if (req.ifindex != 0) return stack.interface(req.ifindex) != nullptr ? req.ifindex : 0;
  if (!req.address.is_unspecified()) return stack.interface_of_address(req.address);
  const std::optional<Route> rt = stack.routes().lookup(req.group);
  if (!rt || rt->type == RouteType::kUnreachable || rt->type == RouteType::kBlackhole) return 0;
  return rt->ifindex;
}

}  // namespace

Result<void> udp_join_group(Stack& stack, UdpSock& sk, const McRequest& req) {
  if (!req.group.is_multicast()) return std::errc::invalid_argument;
  const uint16_t ifindex = find_dev(stack, req);
  if (ifindex == 0) return std::errc::no_such_device;
  for (const UdpMembership& m : sk.mc_list) {
    if (m.group == req.group && m.ifindex == ifindex) return std::errc::address_in_use;
  }
  if (sk.mc_list.size() >= stack.config().igmp_max_memberships) return std::errc::no_buffer_space;
  sk.mc_list.push_back(UdpMembership{req.group, req.address, ifindex});
  stack.join_group(ifindex, req.group);
  return {};
}

Result<void> udp_leave_group(Stack& stack, UdpSock& sk, const McRequest& req) {
  const uint16_t dev = find_dev(stack, req);
  if (req.ifindex == 0 && req.address.is_unspecified() && dev == 0) return std::errc::no_such_device;
  // The kernel matches by the index it was given or found, else by address.
  const uint16_t ifindex = req.ifindex != 0 ? req.ifindex : dev;
  auto it = std::find_if(sk.mc_list.begin(), sk.mc_list.end(), [&](const UdpMembership& m) {
    if (m.group != req.group) return false;
    if (ifindex != 0) return m.ifindex == ifindex;
    return req.address.is_unspecified() || req.address == m.address;
  });
  if (it == sk.mc_list.end()) return std::errc::address_not_available;
  const uint16_t joined_on = it->ifindex;
  sk.mc_list.erase(it);
  stack.leave_group(joined_on, req.group);
  return {};
}

void udp_drop_memberships(Stack& stack, UdpSock& sk) {
  for (const UdpMembership& m : sk.mc_list) stack.leave_group(m.ifindex, m.group);
  sk.mc_list.clear();
}

}  // namespace xnet::stack
