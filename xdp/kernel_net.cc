#include "xdp/kernel_net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <bit>
#include <vector>

#include "xdp/rtnl_socket.h"

namespace xnet::xdp {

XdpResult<std::vector<wire::Ipv4Prefix>> kernel_addresses(const std::string& ifname) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return errno_error(errno, "getifaddrs failed");
  std::vector<wire::Ipv4Prefix> out;
  // getifaddrs lists an interface's addresses in the kernel's order: the
  // primary first. An address with a label ("eth1:0") is named by it.
  auto on_interface = [&](const char* name) {
    const std::string n = name;
    return n == ifname || n.rfind(ifname + ":", 0) == 0;
  };
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || !on_interface(a->ifa_name)) continue;
    const uint32_t addr = ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
    uint8_t len = 32;
    if (a->ifa_netmask != nullptr) {
      len = static_cast<uint8_t>(
          std::popcount(ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr)));
    }
    out.push_back(wire::Ipv4Prefix{wire::Ipv4Addr(addr), len});
  }
  freeifaddrs(list);
  if (out.empty()) {
    return make_error(std::errc::no_such_file_or_directory,
                      "the kernel has no IPv4 address on " + ifname +
                          " to share; give it one (`ip addr add 10.0.0.1/24 dev " + ifname +
                          "`), or run xnet with an address of its own (--addr) instead of --shared");
  }
  return out;
}

XdpResult<std::vector<KernelRoute>> kernel_gateway_routes(uint32_t ifindex) {
  auto nl = RtnlSocket::open();
  if (!nl) return nl.take_error();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  std::vector<KernelRoute> out;
  auto r = nl.value().request(
      nlh,
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWROUTE) return;
        if (auto r = parse_gateway_route(m, ifindex)) out.push_back(*r);
      },
      "reading the kernel's routes (RTM_GETROUTE)");
  if (!r) return r.take_error();
  return out;
}

std::optional<KernelRoute> parse_gateway_route(const nlmsghdr* m, uint32_t ifindex) {
  const auto* rt = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
  if (rt->rtm_family != AF_INET || rt->rtm_type != RTN_UNICAST) return std::nullopt;
  const nlattr* a[RTA_MAX + 1];
  rtnl_attrs(m, sizeof(rtmsg), a);
  const uint32_t table = a[RTA_TABLE] != nullptr ? mnl_attr_get_u32(a[RTA_TABLE]) : rt->rtm_table;
  const uint32_t oif = a[RTA_OIF] != nullptr ? mnl_attr_get_u32(a[RTA_OIF]) : 0;
  if (table != RT_TABLE_MAIN || oif != ifindex || a[RTA_GATEWAY] == nullptr) return std::nullopt;
  const uint32_t dst = a[RTA_DST] != nullptr ? ntohl(mnl_attr_get_u32(a[RTA_DST])) : 0;
  return KernelRoute{wire::Ipv4Prefix{wire::Ipv4Addr(dst), rt->rtm_dst_len},
                     wire::Ipv4Addr(ntohl(mnl_attr_get_u32(a[RTA_GATEWAY])))};
}

}  // namespace xnet::xdp
