// Stack: addresses and the routes they install, source selection, groups,
// dev_queue_xmit with backpressure, random(), frames returned.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "stack/l2/eth_output.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack {
namespace {

using namespace support;
using namespace std::chrono_literals;

class StackAddressTest : public ::testing::Test {
 protected:
  StackAddressTest() : net(2, no_addresses()) {}
  static NetOptions no_addresses() {
    NetOptions o;
    o.addresses = false;
    return o;
  }
  Net net;
  Stack& s = net.stack(0);
  void TearDown() override { EXPECT_EQ(net.frames_in_flight(), 0u); }
};

TEST_F(StackAddressTest, AddAddressInstallsLocalBroadcastAndConnected) {
  const Ipv4Addr a(10, 1, 2, 3);
  ASSERT_TRUE(s.add_address(1, {a, 24}, net.now()).ok());
  const auto local = s.routes().lookup(a);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->type, RouteType::kLocal);
  EXPECT_EQ(local->prefix, (wire::Ipv4Prefix{a, 32}));
  EXPECT_EQ(local->prefsrc, a);
  EXPECT_EQ(local->ifindex, 1);
  const auto bcast = s.routes().lookup(Ipv4Addr(10, 1, 2, 255));
  ASSERT_TRUE(bcast);
  EXPECT_EQ(bcast->type, RouteType::kBroadcast);
  EXPECT_EQ(bcast->prefsrc, a);
  const auto conn = s.routes().lookup(Ipv4Addr(10, 1, 2, 77));
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->type, RouteType::kUnicast);
  EXPECT_EQ(conn->prefix, (wire::Ipv4Prefix{Ipv4Addr(10, 1, 2, 0), 24}));
  EXPECT_EQ(conn->gateway, Ipv4Addr());
  EXPECT_EQ(conn->prefsrc, a);
  EXPECT_EQ(conn->ifindex, 1);
  // No route for 255.255.255.255: as in Linux, a limited broadcast leaves by
  // a default route, an interface the sender names, or its bound address's.
  EXPECT_FALSE(s.routes().lookup(wire::kIpv4Broadcast));
  EXPECT_FALSE(s.routes().lookup(Ipv4Addr(10, 1, 3, 1)));
  EXPECT_EQ(s.routes().size(), 3u);

  EXPECT_TRUE(s.is_local_address(a));
  EXPECT_EQ(s.interface_of_address(a), 1);
  EXPECT_EQ(s.interface_of_address(Ipv4Addr(10, 1, 2, 4)), 0);
  EXPECT_TRUE(s.is_broadcast_on(1, Ipv4Addr(10, 1, 2, 255)));
  EXPECT_TRUE(s.is_broadcast_on(1, wire::kIpv4Broadcast));
  EXPECT_FALSE(s.is_broadcast_on(1, Ipv4Addr(10, 1, 2, 254)));
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, AddAddressSendsNoGratuitousArpByDefault) {
  // As the kernel: `ip addr add` announces nothing (arp_notify = 0).
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(10, 0, 0, 1), 24}, net.now()).ok());
  net.run();
  EXPECT_TRUE(net.sent(0).empty());
}

TEST_F(StackAddressTest, AddAddressSendsGratuitousArpWithArpNotify) {
  const Ipv4Addr a(10, 0, 0, 1);
  s.config().arp_notify = true;
  ASSERT_TRUE(s.add_address(1, {a, 24}, net.now()).ok());
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), wire::kMacBroadcast);
  EXPECT_EQ(eth_src(sent[0]), mac(1));
  const auto g = parse_arp(sent[0]);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->op, kArpRequest);
  EXPECT_EQ(g->sha, mac(1));
  EXPECT_EQ(g->sip, a);
  EXPECT_EQ(g->tip, a);
  EXPECT_EQ(g->tha, MacAddr());
  // The peer (no address on that subnet yet) learns nothing from it.
  EXPECT_EQ(net.stack(1).neighbours().size(), 0u);
}

TEST_F(StackAddressTest, AddAddressErrors) {
  const Ipv4Addr a(10, 1, 2, 3);
  ASSERT_TRUE(s.add_address(1, {a, 24}, net.now()).ok());
  EXPECT_EQ(s.add_address(1, {a, 24}, net.now()).error(), std::errc::file_exists);
  EXPECT_EQ(s.add_address(1, {a, 16}, net.now()).error(), std::errc::file_exists);
  EXPECT_EQ(s.add_address(7, {Ipv4Addr(10, 9, 9, 9), 24}, net.now()).error(), std::errc::no_such_device);
  EXPECT_EQ(s.add_address(0, {Ipv4Addr(10, 9, 9, 9), 24}, net.now()).error(), std::errc::no_such_device);
  for (Ipv4Addr bad : {Ipv4Addr(224, 0, 0, 1), Ipv4Addr(127, 0, 0, 1),
                       Ipv4Addr(240, 0, 0, 1), wire::kIpv4Broadcast, Ipv4Addr()}) {
    EXPECT_EQ(s.add_address(1, {bad, 24}, net.now()).error(), std::errc::invalid_argument) << bad.to_string();
  }
  EXPECT_EQ(s.add_address(1, {Ipv4Addr(10, 9, 9, 9), 33}, net.now()).error(), std::errc::invalid_argument);
  // Linux 6.18 takes 0.1.2.3/8 like any unicast address (0/8 is, since 5.3).
  EXPECT_TRUE(s.add_address(1, {Ipv4Addr(0, 1, 2, 3), 8}, net.now()).ok());
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, PointToPointPrefixesHaveNoSubnetBroadcast) {
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(10, 5, 0, 0), 31}, net.now()).ok());
  const auto r = s.routes().lookup(Ipv4Addr(10, 5, 0, 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, RouteType::kUnicast);
  EXPECT_FALSE(s.is_broadcast_on(1, Ipv4Addr(10, 5, 0, 1)));
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(10, 6, 0, 1), 32}, net.now()).ok());
  EXPECT_EQ(s.routes().lookup(Ipv4Addr(10, 6, 0, 1))->type, RouteType::kLocal);
  EXPECT_FALSE(s.routes().lookup(Ipv4Addr(10, 6, 0, 2)));
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, RemoveAddressRemovesItsRoutes) {
  const Ipv4Addr a(10, 1, 2, 3);
  ASSERT_TRUE(s.add_address(1, {a, 24}, net.now()).ok());
  ASSERT_TRUE(s.remove_address(1, {a, 24}).ok());
  EXPECT_FALSE(s.routes().lookup(a));
  EXPECT_FALSE(s.routes().lookup(Ipv4Addr(10, 1, 2, 255)));
  EXPECT_FALSE(s.routes().lookup(Ipv4Addr(10, 1, 2, 9)));
  EXPECT_FALSE(s.routes().lookup(wire::kIpv4Broadcast));
  EXPECT_EQ(s.routes().size(), 0u);
  EXPECT_FALSE(s.is_local_address(a));
  EXPECT_EQ(s.remove_address(1, {a, 24}).error(), std::errc::address_not_available);
  EXPECT_EQ(s.remove_address(5, {a, 24}).error(), std::errc::no_such_device);
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, SecondaryKeepsTheSubnetWhenThePrimaryGoes) {
  const Ipv4Addr p(10, 1, 2, 3), q(10, 1, 2, 4);
  ASSERT_TRUE(s.add_address(1, {p, 24}, net.now()).ok());
  ASSERT_TRUE(s.add_address(1, {q, 24}, net.now()).ok());
  EXPECT_EQ(s.routes().lookup(Ipv4Addr(10, 1, 2, 9))->prefsrc, p);
  EXPECT_EQ(s.select_source(1, Ipv4Addr(10, 1, 2, 9)), p);  // the primary
  ASSERT_TRUE(s.remove_address(1, {p, 24}).ok());
  EXPECT_EQ(s.routes().lookup(Ipv4Addr(10, 1, 2, 9))->prefsrc, q);
  EXPECT_EQ(s.routes().lookup(Ipv4Addr(10, 1, 2, 255))->type, RouteType::kBroadcast);
  EXPECT_EQ(s.routes().lookup(q)->type, RouteType::kLocal);
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, SelectSource) {
  EXPECT_EQ(s.select_source(1, Ipv4Addr(8, 8, 8, 8)), Ipv4Addr());  // no address at all
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(10, 1, 0, 1), 24}, net.now()).ok());
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(192, 168, 7, 1), 24}, net.now()).ok());
  EXPECT_EQ(s.select_source(1, Ipv4Addr(192, 168, 7, 20)), Ipv4Addr(192, 168, 7, 1));
  EXPECT_EQ(s.select_source(1, Ipv4Addr(10, 1, 0, 20)), Ipv4Addr(10, 1, 0, 1));
  EXPECT_EQ(s.select_source(1, Ipv4Addr(8, 8, 8, 8)), Ipv4Addr(10, 1, 0, 1));  // the primary
  EXPECT_EQ(s.select_source(9, Ipv4Addr(8, 8, 8, 8)), Ipv4Addr(10, 1, 0, 1));  // any of ours
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, GatewayRoutes) {
  ASSERT_TRUE(s.add_address(1, {Ipv4Addr(10, 1, 0, 1), 24}, net.now()).ok());
  ASSERT_TRUE(s.add_gateway_route({Ipv4Addr(), 0}, Ipv4Addr(10, 1, 0, 254), 1).ok());
  const auto r = s.routes().lookup(Ipv4Addr(8, 8, 8, 8));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, RouteType::kUnicast);
  EXPECT_EQ(r->gateway, Ipv4Addr(10, 1, 0, 254));
  EXPECT_EQ(r->ifindex, 1);
  // The connected route still wins for its subnet.
  EXPECT_EQ(s.routes().lookup(Ipv4Addr(10, 1, 0, 7))->gateway, Ipv4Addr());
  EXPECT_EQ(s.add_gateway_route({Ipv4Addr(172, 16, 0, 0), 12}, Ipv4Addr(10, 2, 0, 1), 1).error(),
            std::errc::network_unreachable);
  EXPECT_EQ(s.add_gateway_route({Ipv4Addr(172, 16, 0, 0), 12}, Ipv4Addr(10, 1, 0, 254), 4).error(),
            std::errc::no_such_device);
  net.run();
  net.sent(0);
}

TEST_F(StackAddressTest, Groups) {
  const Ipv4Addr g(239, 1, 1, 1);
  EXPECT_FALSE(s.is_joined(1, g));
  // ip_mc_up: all-hosts from the start.
  EXPECT_TRUE(s.is_joined(1, Ipv4Addr(224, 0, 0, 1)));
  s.join_group(1, g);
  s.join_group(1, g);
  EXPECT_TRUE(s.is_joined(1, g));
  EXPECT_EQ(s.interface(1)->groups.size(), 2u);
  EXPECT_FALSE(s.is_joined(2, g));
  // Two users: the first leave keeps the group.
  EXPECT_TRUE(s.leave_group(1, g));
  EXPECT_TRUE(s.is_joined(1, g));
  EXPECT_TRUE(s.leave_group(1, g));
  EXPECT_FALSE(s.is_joined(1, g));
  EXPECT_FALSE(s.leave_group(1, g));
  s.join_group(1, Ipv4Addr(10, 0, 0, 9));  // not a group: ignored
  EXPECT_EQ(s.interface(1)->groups.size(), 1u);
}

// A complete frame from the link's pool: Ethernet + `ip_len` bytes of type `type`.
Packet frame(TapLink& link, uint16_t type, uint16_t ip_len = 28) {
  Packet p = Packet::allocate(link.pool(), kDefaultHeadroom);
  std::memset(p.put(ip_len), 0, ip_len);
  eth_push_header(p, mac(2), link.mac(), type);
  return p;
}

TEST(StackTxQueue, BackpressureKeepsFramesQueuedAndAFullQueueDrops) {
  NetOptions o;
  o.config.txqueuelen = 4;
  Net net(1, o);
  Stack& s = net.stack(0);
  TapLink& link = net.link(0);
  link.set_tx_room(0);  // a link that takes nothing
  for (int i = 0; i < 6; ++i) s.dev_queue_xmit(1, frame(link, kTypeIpv4));
  EXPECT_EQ(s.stats().dropped(DropReason::kTxQueueFull), 2u);
  EXPECT_EQ(total_drops(s.stats()), 2u);
  EXPECT_EQ(s.stats().ip.OutTransmits, 0u);  // counted above, in ip_finish_output2
  EXPECT_EQ(s.stats().ip.OutDiscards, 0u);
  EXPECT_EQ(s.poll(net.now()), 0u);
  EXPECT_EQ(s.interface(1)->txq.size(), 4u);
  EXPECT_TRUE(link.sent().empty());
  EXPECT_EQ(net.frames_in_flight(), 4u);  // held by the stack, not lost
  link.set_tx_room(1);
  EXPECT_EQ(s.poll(net.now()), 1u);
  EXPECT_EQ(s.interface(1)->txq.size(), 3u);
  link.set_tx_room(std::nullopt);
  EXPECT_EQ(s.flush_tx(), 3u);
  EXPECT_EQ(net.sent(0).size(), 4u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(StackTxQueue, TheDeviceQueueCountsNoIpTransmits) {
  // OutTransmits/OutOctets are ip_finish_output2's (before the neighbour
  // layer, as Linux 6.18 counts a packet whose ARP never completes), not the
  // device queue's; ARP frames are never IP transmits.
  Net net(1);
  Stack& s = net.stack(0);
  s.dev_queue_xmit(1, frame(net.link(0), kTypeArp));
  s.dev_queue_xmit(1, frame(net.link(0), kTypeIpv4, 100));
  EXPECT_EQ(s.stats().ip.OutTransmits, 0u);
  EXPECT_EQ(s.stats().ip_ext.OutOctets, 0u);
  net.run();
  EXPECT_EQ(net.sent(0).size(), 2u);
}

TEST(StackPoll, ReturnsFramesMovedAndRespectsTheBudget) {
  Net net(1);
  Stack& s = net.stack(0);
  for (int i = 0; i < 5; ++i) net.inject(0, eth(mac(0x33), mac(0x10), kTypeIpv4, pattern(40)));
  EXPECT_EQ(s.poll(net.now(), 2), 2u);
  EXPECT_EQ(s.poll(net.now(), 2), 2u);
  EXPECT_EQ(s.poll(net.now(), 2), 1u);
  EXPECT_EQ(s.poll(net.now(), 2), 0u);
  EXPECT_EQ(s.stats().dropped(DropReason::kOtherHost), 5u);
  EXPECT_FALSE(s.next_deadline());
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(StackRandom, SeededIsDeterministic) {
  StackConfig c;
  c.seed = 42;
  Stack a(c), b(c);
  c.seed = 43;
  Stack d(c);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.random();
    EXPECT_EQ(x, b.random());
    differs |= x != d.random();
  }
  EXPECT_TRUE(differs);
  Stack r1, r2;  // seed 0: from random_device
  EXPECT_NE(r1.random(), r2.random());
}

}  // namespace
}  // namespace xnet::stack
