// Broadcast and multicast destinations, from the Ethernet frame to the socket
// (issue 15, item 6). Every expectation is what Linux 6.18 did with the same
// frame on a veth (two namespaces, python sockets, /proc/net/snmp and
// /proc/net/netstat before and after: linux_bcast_mcast_probe.py next to this
// file; the Out* counters it shows after a join are the kernel's IGMP report):
//
//   to 255.255.255.255, wildcard socket   delivered; InReceives InDelivers InBcastPkts
//   to 255.255.255.255, no socket         InDelivers InBcastPkts Udp IgnoredMulti, no ICMP
//   to the subnet broadcast               as 255.255.255.255
//   to 224.0.0.1, wildcard socket         delivered; InMcastPkts (all-hosts is always joined)
//   to 224.0.0.1, no socket               InMcastPkts IgnoredMulti
//   to a group joined by another socket   delivered to every socket on the port
//   unicast for us in an L2 broadcast     delivered; no Bcast counter; no socket: NoPorts, no ICMP
//   from our subnet's broadcast address   delivered; no socket: NoPorts and a port
//                                         unreachable to the subnet broadcast (OutBcastPkts)
//   from 255.255.255.255                  InReceives only (martian)

#include <gtest/gtest.h>

#include <array>

#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_multicast.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack {
namespace {

using namespace support;
using wire::kIpv4Broadcast;

const MacAddr kHostMac = mac(0x10);
const Ipv4Addr kHostIp(10, 0, 0, 16);
const Ipv4Addr kUs(10, 0, 0, 1);
const Ipv4Addr kSubnetBcast(10, 0, 0, 255);
const Ipv4Addr kAllHosts(224, 0, 0, 1);
const Ipv4Addr kGroup(239, 1, 2, 3);
constexpr uint16_t kPort = 5000;
constexpr size_t kPayload = 5;  // "hello": 33-byte IPv4 packets, as in the probe

class BcastMcastTest : public ::testing::Test {
 protected:
  Net net{1};
  Stack& s = net.stack(0);

  void TearDown() override {
    while (!socks_.empty()) {
      s.udp().close(socks_.back());
      socks_.pop_back();
    }
    net.run();
    EXPECT_EQ(net.frames_in_flight(), 0u);
    EXPECT_EQ(net.link(0).filter_misuse(), 0u);
  }

  UdpSock* sock(Ipv4Addr addr = Ipv4Addr(), uint16_t port = kPort) {
    UdpSock* sk = s.udp().open();
    sk->reuse_addr = true;
    EXPECT_TRUE(s.udp().bind(*sk, addr, port).ok());
    socks_.push_back(sk);
    return sk;
  }
  void close(UdpSock* sk) {
    std::erase(socks_, sk);
    s.udp().close(sk);
  }

  void send(MacAddr dst_mac, Ipv4Addr src, Ipv4Addr dst, uint16_t dport = kPort) {
    const Bytes payload = pattern(kPayload);
    net.inject(0, eth(dst_mac, kHostMac, kTypeIpv4, ipv4({.src = src, .dst = dst}, udp(src, dst, 4000, dport, payload))));
    net.run();
  }

  // The next datagram on `sk`, or nullopt; counts InDatagrams as recvmsg does.
  std::optional<RecvInfo> recv(UdpSock& sk) {
    std::array<std::byte, 64> buf{};
    auto r = udp_recvmsg(s, sk, buf);
    if (!r) return std::nullopt;
    EXPECT_EQ(r->size, kPayload);
    return *r;
  }

  const Stats& st() const { return s.stats(); }
  size_t drops() const { return total_drops(s.stats()); }

  std::vector<UdpSock*> socks_;
};

TEST_F(BcastMcastTest, LimitedBroadcastReachesWildcardSockets) {
  UdpSock* a = sock();
  UdpSock* b = sock();
  UdpSock* bound = sock(kUs);  // __udp_is_mcast_sock: a bound address must equal the destination
  send(wire::kMacBroadcast, kHostIp, kIpv4Broadcast);
  auto ra = recv(*a);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->source, (Endpoint{kHostIp, 4000}));
  EXPECT_EQ(ra->info.dst_addr, kIpv4Broadcast);
  EXPECT_TRUE(recv(*b));
  EXPECT_FALSE(recv(*bound));
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.InBcastOctets, 33u);
  EXPECT_EQ(st().udp.InDatagrams, 2u);
  EXPECT_EQ(st().udp.IgnoredMulti, 0u);
  EXPECT_EQ(drops(), 0u);
  EXPECT_TRUE(net.sent(0).empty());
}

TEST_F(BcastMcastTest, LimitedBroadcastWithoutSocketIsIgnoredMulti) {
  send(wire::kMacBroadcast, kHostIp, kIpv4Broadcast, 5001);
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 1u);
  EXPECT_EQ(st().udp.IgnoredMulti, 1u);
  EXPECT_EQ(st().udp.NoPorts, 0u);
  EXPECT_EQ(st().dropped(DropReason::kUdpBroadcastNoPort), 1u);
  EXPECT_EQ(drops(), 1u);
  EXPECT_TRUE(net.sent(0).empty());  // no port unreachable about a broadcast
}

TEST_F(BcastMcastTest, SubnetBroadcastReachesWildcardSockets) {
  UdpSock* a = sock();
  send(wire::kMacBroadcast, kHostIp, kSubnetBcast);
  auto r = recv(*a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->info.dst_addr, kSubnetBcast);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(drops(), 0u);
}

TEST_F(BcastMcastTest, AllHostsIsJoinedFromTheStart) {
  EXPECT_TRUE(s.is_joined(1, kAllHosts));
  EXPECT_EQ(net.link(0).multicast_filter(), std::vector<Ipv4Addr>{kAllHosts});
  UdpSock* a = sock();
  send(MacAddr::for_ipv4_multicast(kAllHosts), kHostIp, kAllHosts);
  auto r = recv(*a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->info.dst_addr, kAllHosts);
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.InMcastOctets, 33u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 0u);
  // No socket on the port: IgnoredMulti, as for a broadcast.
  send(MacAddr::for_ipv4_multicast(kAllHosts), kHostIp, kAllHosts, 5001);
  EXPECT_EQ(st().ip_ext.InMcastPkts, 2u);
  EXPECT_EQ(st().ip.InDelivers, 2u);
  EXPECT_EQ(st().udp.IgnoredMulti, 1u);
  EXPECT_EQ(drops(), 1u);
  EXPECT_TRUE(net.sent(0).empty());
}

TEST_F(BcastMcastTest, JoinedGroupReachesEverySocketOnThePortUntilLeft) {
  const MacAddr group_mac = MacAddr::for_ipv4_multicast(kGroup);
  UdpSock* member = sock(Ipv4Addr(), kPort);
  UdpSock* other = sock(Ipv4Addr(), kPort);
  // Not joined: the device's filter drops it before ip_rcv.
  send(group_mac, kHostIp, kGroup);
  EXPECT_EQ(st().dropped(DropReason::kMulticastNotJoined), 1u);
  EXPECT_EQ(st().ip.InReceives, 0u);

  ASSERT_TRUE(udp_join_group(s, *member, {kGroup, Ipv4Addr(), 1}).ok());
  EXPECT_TRUE(s.is_joined(1, kGroup));
  EXPECT_EQ(net.link(0).multicast_filter(), (std::vector<Ipv4Addr>{kAllHosts, kGroup}));
  send(group_mac, kHostIp, kGroup);
  // IP_MULTICAST_ALL (on by default): the socket that did not join gets it too.
  EXPECT_TRUE(recv(*member));
  EXPECT_TRUE(recv(*other));
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().udp.InDatagrams, 2u);

  // A second socket's join keeps the group when the first leaves.
  ASSERT_TRUE(udp_join_group(s, *other, {kGroup, kUs, 0}).ok());
  ASSERT_TRUE(udp_leave_group(s, *member, {kGroup, Ipv4Addr(), 1}).ok());
  EXPECT_TRUE(s.is_joined(1, kGroup));
  // close() leaves the other's (ip_mc_drop_socket): the filter forgets the group.
  close(other);
  EXPECT_FALSE(s.is_joined(1, kGroup));
  EXPECT_EQ(net.link(0).multicast_filter(), std::vector<Ipv4Addr>{kAllHosts});
  send(group_mac, kHostIp, kGroup);
  EXPECT_EQ(st().dropped(DropReason::kMulticastNotJoined), 2u);
  EXPECT_FALSE(recv(*member));
}

TEST_F(BcastMcastTest, JoinedGroupInAnEthernetBroadcastIsMulticast) {
  // Linux 6.18: 239.1.2.3 in an ff:ff:.. frame, joined: delivered, InMcastPkts.
  UdpSock* a = sock();
  ASSERT_TRUE(udp_join_group(s, *a, {kGroup, Ipv4Addr(), 1}).ok());
  send(wire::kMacBroadcast, kHostIp, kGroup);
  EXPECT_TRUE(recv(*a));
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 0u);
  // Not joined: route input drops it after InReceives, no SNMP drop counter.
  send(wire::kMacBroadcast, kHostIp, Ipv4Addr(239, 9, 9, 9));
  EXPECT_EQ(st().ip.InReceives, 2u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().dropped(DropReason::kMulticastNotJoined), 1u);
}

TEST_F(BcastMcastTest, JoinAndLeaveErrorsAreTheKernels) {
  // Linux 6.18 (IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP with struct ip_mreqn,
  // 10.98.0.2/24 on the interface, no default route).
  UdpSock* a = sock();
  auto join = [&](McRequest r) { return udp_join_group(s, *a, r); };
  auto leave = [&](McRequest r) { return udp_leave_group(s, *a, r); };
  EXPECT_EQ(join({Ipv4Addr(10, 1, 2, 3), {}, 1}).error(), std::errc::invalid_argument);
  EXPECT_EQ(join({kIpv4Broadcast, {}, 1}).error(), std::errc::invalid_argument);
  EXPECT_EQ(join({kGroup, {}, 9}).error(), std::errc::no_such_device);
  EXPECT_EQ(join({kGroup, Ipv4Addr(10, 0, 0, 77), 0}).error(), std::errc::no_such_device);
  EXPECT_EQ(join({kGroup, {}, 0}).error(), std::errc::no_such_device);  // no route to 239/8
  EXPECT_EQ(join({Ipv4Addr(224, 0, 0, 9), {}, 0}).error(), std::errc::no_such_device);
  ASSERT_TRUE(join({kGroup, kUs, 0}).ok());
  EXPECT_EQ(join({kGroup, {}, 1}).error(), std::errc::address_in_use);  // the same interface
  EXPECT_TRUE(join({kAllHosts, {}, 1}).ok());  // a socket may join all-hosts too

  EXPECT_EQ(leave({Ipv4Addr(239, 9, 9, 9), {}, 1}).error(), std::errc::address_not_available);
  EXPECT_EQ(leave({kGroup, {}, 9}).error(), std::errc::address_not_available);
  EXPECT_EQ(leave({Ipv4Addr(10, 1, 2, 3), {}, 1}).error(), std::errc::address_not_available);
  EXPECT_EQ(leave({kGroup, {}, 0}).error(), std::errc::no_such_device);  // nothing given, no route
  EXPECT_TRUE(leave({kGroup, kUs, 0}).ok());
  EXPECT_EQ(leave({kGroup, {}, 1}).error(), std::errc::address_not_available);
  // The socket's all-hosts join left; the interface's own stays.
  EXPECT_TRUE(leave({kAllHosts, {}, 1}).ok());
  EXPECT_TRUE(s.is_joined(1, kAllHosts));

  // With a default route, the group's route names the interface.
  ASSERT_TRUE(s.add_gateway_route({Ipv4Addr(), 0}, Ipv4Addr(10, 0, 0, 254), 1).ok());
  ASSERT_TRUE(join({kGroup, {}, 0}).ok());
  EXPECT_EQ(a->mc_list.at(0).ifindex, 1);
  EXPECT_TRUE(leave({kGroup, {}, 0}).ok());

  // igmp_max_memberships (20): ENOBUFS for the 21st.
  for (uint8_t i = 0; i < 20; ++i) ASSERT_TRUE(join({Ipv4Addr(239, 2, 0, i), {}, 1}).ok()) << int(i);
  EXPECT_EQ(join({Ipv4Addr(239, 2, 0, 20), {}, 1}).error(), std::errc::no_buffer_space);
  EXPECT_EQ(net.link(0).multicast_filter().size(), 21u);
  close(a);
  EXPECT_EQ(net.link(0).multicast_filter(), std::vector<Ipv4Addr>{kAllHosts});
}

TEST_F(BcastMcastTest, UnicastInEthernetBroadcastIsDelivered) {
  UdpSock* a = sock();
  send(wire::kMacBroadcast, kHostIp, kUs);
  auto r = recv(*a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->info.dst_addr, kUs);
  // In a multicast frame too (the all-hosts MAC passes the filter).
  send(MacAddr::for_ipv4_multicast(kAllHosts), kHostIp, kUs);
  EXPECT_TRUE(recv(*a));
  EXPECT_EQ(st().ip.InReceives, 2u);
  EXPECT_EQ(st().ip.InDelivers, 2u);
  EXPECT_EQ(st().ip_ext.InBcastPkts + st().ip_ext.InMcastPkts, 0u);
  EXPECT_EQ(drops(), 0u);
  // No socket: NoPorts, and no port unreachable (not PACKET_HOST).
  send(wire::kMacBroadcast, kHostIp, kUs, 5009);
  EXPECT_EQ(st().udp.NoPorts, 1u);
  EXPECT_EQ(st().ip.InDelivers, 3u);
  EXPECT_EQ(st().icmp.OutMsgs, 0u);
  EXPECT_TRUE(net.sent(0).empty());
}

TEST_F(BcastMcastTest, SubnetBroadcastSourceIsDelivered) {
  UdpSock* a = sock();
  send(net.link(0).mac(), kSubnetBcast, kUs);
  auto r = recv(*a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->source, (Endpoint{kSubnetBcast, 4000}));
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 0u);
  EXPECT_EQ(drops(), 0u);
  // To a broadcast from it: delivered as a broadcast.
  send(wire::kMacBroadcast, kSubnetBcast, kIpv4Broadcast);
  EXPECT_TRUE(recv(*a));
  EXPECT_EQ(st().ip_ext.InBcastPkts, 1u);
}

TEST_F(BcastMcastTest, SubnetBroadcastSourceWithoutSocketIsAnsweredByBroadcast) {
  send(net.link(0).mac(), kSubnetBcast, kUs, 5009);
  EXPECT_EQ(st().udp.NoPorts, 1u);
  EXPECT_EQ(st().icmp.OutMsgs, 1u);
  EXPECT_EQ(st().icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(st().ip_ext.OutBcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.OutBcastOctets, 61u);  // 20 + 8 + the 33-byte quote
  const std::vector<Bytes> out = net.sent(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(eth_dst(out[0]), wire::kMacBroadcast);
  const auto ip = parse_ipv4(out[0]);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->dst, kSubnetBcast);
  EXPECT_EQ(ip->src, kUs);
  EXPECT_EQ(ip->protocol, 1);
  // Like Linux, its own broadcast comes back in too (ip_mc_output): InReceives
  // 2, and the looped error to a broadcast is Icmp InErrors 1.
  EXPECT_EQ(st().ip.InReceives, 2u);
  EXPECT_EQ(st().icmp.InErrors, 1u);
}

// Linux 6.18: a socket's broadcast comes back to the sockets on the port
// (the sender's stack included), whole: a 3000-byte one moved InReceives and
// InBcastPkts once, OutTransmits for its 3 fragments on the wire.
TEST_F(BcastMcastTest, BroadcastsWeSendComeBackWhole) {
  UdpSock* r = sock();
  UdpSock* snd = s.udp().open();
  socks_.push_back(snd);
  udp_set_broadcast(*snd, true);
  const std::vector<std::byte> data(3000, std::byte{7});
  const SockAddrIn to{kAfInet, {kSubnetBcast, kPort}};
  ASSERT_TRUE(udp_sendmsg(s, *snd, data, &to, {}, net.now()).ok());
  net.run();
  std::array<std::byte, 4000> buf{};
  auto got = udp_recvmsg(s, *r, buf);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, 3000u);
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 1u);
  EXPECT_EQ(st().ip.OutTransmits, 3u);
  EXPECT_EQ(st().ip_ext.OutBcastPkts, 3u);
  EXPECT_EQ(net.sent(0).size(), 3u);
}

// IP_MULTICAST_LOOP (on by default): a datagram to a group the interface
// joined comes back to the local members; to a group nobody here joined, it
// only leaves.
TEST_F(BcastMcastTest, MulticastWeSendLoopsBackToLocalMembers) {
  UdpSock* member = sock();
  ASSERT_TRUE(udp_join_group(s, *member, {kGroup, Ipv4Addr(), 1}).ok());
  UdpSock* snd = s.udp().open();
  socks_.push_back(snd);
  udp_set_multicast_if(*snd, Ipv4Addr(), 1);  // no route to the group: IP_MULTICAST_IF names the way
  const std::vector<std::byte> data(kPayload, std::byte{1});
  const SockAddrIn to{kAfInet, {kGroup, kPort}};
  ASSERT_TRUE(udp_sendmsg(s, *snd, data, &to, {}, net.now()).ok());
  net.run();
  EXPECT_TRUE(recv(*member));
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  const SockAddrIn elsewhere{kAfInet, {Ipv4Addr(239, 9, 9, 9), kPort}};
  ASSERT_TRUE(udp_sendmsg(s, *snd, data, &elsewhere, {}, net.now()).ok());
  net.run();
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.OutMcastPkts, 2u);
}

TEST_F(BcastMcastTest, LimitedBroadcastSourceIsAMartian) {
  UdpSock* a = sock();
  send(net.link(0).mac(), kIpv4Broadcast, kUs);
  EXPECT_FALSE(recv(*a));
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 0u);
  EXPECT_EQ(st().dropped(DropReason::kIpMartianSource), 1u);
}

TEST_F(BcastMcastTest, DropUnicastInL2MulticastWhenAsked) {
  s.config().drop_unicast_in_l2_multicast = true;
  UdpSock* a = sock();
  send(wire::kMacBroadcast, kHostIp, kUs);
  EXPECT_FALSE(recv(*a));
  EXPECT_EQ(st().dropped(DropReason::kIpL2BroadcastUnicast), 1u);
  EXPECT_EQ(st().ip.InDelivers, 0u);
  // Broadcast destinations are not affected.
  send(wire::kMacBroadcast, kHostIp, kIpv4Broadcast);
  EXPECT_TRUE(recv(*a));
}

}  // namespace
}  // namespace xnet::stack
