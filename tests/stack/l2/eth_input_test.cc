// eth_rcv: pkt_type, runts, 802.1Q, EtherType dispatch. Each case feeds one
// hand-written frame and checks the one counter that moved, and that nothing
// else did (no other drop, no IP counter, nothing transmitted, no frame held).

#include <gtest/gtest.h>

#include "stack/l2/eth_input.h"
#include "stack/l2/eth_output.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack {
namespace {

using namespace support;

const MacAddr kHostMac = mac(0x10);
const Ipv4Addr kHostIp(10, 0, 0, 16);

class EthInputTest : public ::testing::Test {
 protected:
  Net net{1};
  Stack& s = net.stack(0);

  // A UDP datagram from the host to us.
  Bytes ip_packet(Ipv4Addr dst = Ipv4Addr(10, 0, 0, 1)) {
    const Bytes payload = pattern(16);
    return ipv4({.src = kHostIp, .dst = dst}, udp(kHostIp, dst, 1000, 2000, payload));
  }
  // Exactly one drop of `r` and nothing else.
  void expect_only(DropReason r) {
    net.run();
    EXPECT_EQ(s.stats().dropped(r), 1u) << drop_reason_name(r);
    EXPECT_EQ(total_drops(s.stats()), 1u);
    EXPECT_EQ(s.stats().ip.InReceives, 0u);
    EXPECT_TRUE(net.sent(0).empty());
    EXPECT_EQ(s.neighbours().size(), 0u);
  }
  void TearDown() override {
    net.advance_by_steps(std::chrono::seconds(5), std::chrono::milliseconds(500));  // let any resolution started by a reply fail
    EXPECT_EQ(net.frames_in_flight(), 0u);
  }
};

TEST_F(EthInputTest, RuntFrameIsDropped) {
  net.inject(0, Bytes(13));
  expect_only(DropReason::kRuntFrame);
}

TEST_F(EthInputTest, TaggedFrameShorterThanItsTagIsARunt) {
  Bytes f = eth(mac(1), kHostMac, kTypeVlan, bytes_of({0x00}));  // 15 bytes: tag cut
  net.inject(0, f);
  expect_only(DropReason::kRuntFrame);
}

TEST_F(EthInputTest, UnicastToAnotherMacIsOtherHost) {
  net.inject(0, eth(mac(0x33), kHostMac, kTypeIpv4, ip_packet()));
  expect_only(DropReason::kOtherHost);
  EXPECT_EQ(s.stats().dropped(DropReason::kIpOtherHost), 0u);  // dropped at L2, see eth_input.cc
}

TEST_F(EthInputTest, ArpToAnotherMacIsOtherHost) {
  net.inject(0, arp_frame(mac(0x33), arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), Ipv4Addr(10, 0, 0, 1))));
  expect_only(DropReason::kOtherHost);
}

TEST_F(EthInputTest, MulticastOfAGroupNotJoinedIsDropped) {
  const Ipv4Addr group(224, 1, 2, 3);
  net.inject(0, eth(MacAddr::for_ipv4_multicast(group), kHostMac, kTypeIpv4, ip_packet(group)));
  expect_only(DropReason::kMulticastNotJoined);
}

TEST_F(EthInputTest, NonIpv4MulticastIsDropped) {
  net.inject(0, eth(MacAddr({0x33, 0x33, 0, 0, 0, 1}), kHostMac, 0x86dd, pattern(40)));
  expect_only(DropReason::kMulticastNotJoined);
}

TEST_F(EthInputTest, MulticastOfAJoinedGroupReachesIp) {
  const Ipv4Addr group(224, 1, 2, 3);
  s.join_group(1, group);
  net.inject(0, eth(MacAddr::for_ipv4_multicast(group), kHostMac, kTypeIpv4, ip_packet(group)));
  net.run();
  EXPECT_EQ(s.stats().ip.InReceives, 1u);
  EXPECT_EQ(s.stats().dropped(DropReason::kMulticastNotJoined), 0u);
  // Left again: filtered at L2 once more.
  s.leave_group(1, group);
  net.inject(0, eth(MacAddr::for_ipv4_multicast(group), kHostMac, kTypeIpv4, ip_packet(group)));
  net.run();
  EXPECT_EQ(s.stats().dropped(DropReason::kMulticastNotJoined), 1u);
  EXPECT_EQ(s.stats().ip.InReceives, 1u);
}

TEST_F(EthInputTest, UnknownEtherTypeIsDropped) {
  net.inject(0, eth(mac(1), kHostMac, 0x86dd, pattern(40)));
  expect_only(DropReason::kUnknownEtherType);
}

TEST_F(EthInputTest, VlanTaggedFrameIsDropped) {
  net.inject(0, eth_vlan(mac(1), kHostMac, /*tci=*/0x2005, kTypeIpv4, ip_packet()));
  expect_only(DropReason::kVlanTagged);
}

TEST_F(EthInputTest, QinQIsDropped) {
  Bytes f = eth(mac(1), kHostMac, 0x88a8, bytes_of({0x00, 0x00, 0x08, 0x00}));
  net.inject(0, f);
  expect_only(DropReason::kVlanTagged);
}

TEST_F(EthInputTest, StackedPriorityTagsAreDropped) {
  // Priority tag whose inner type is another tag.
  net.inject(0, eth_vlan(mac(1), kHostMac, 0x0000, kTypeVlan, bytes_of({0x00, 0x05, 0x08, 0x00})));
  expect_only(DropReason::kVlanTagged);
}

TEST_F(EthInputTest, PriorityTagIsStripped) {
  // VLAN id 0, priority 5: an ARP request for us behind it is answered.
  net.inject(0, eth_vlan(mac(1), kHostMac, 0xa000, kTypeArp,
                         arp(arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), Ipv4Addr(10, 0, 0, 1)))));
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  const auto reply = parse_arp(sent[0]);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->op, kArpReply);
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

TEST_F(EthInputTest, PriorityTaggedIpv4ReachesIp) {
  net.inject(0, eth_vlan(mac(1), kHostMac, 0x0000, kTypeIpv4, ip_packet()));
  net.run();
  EXPECT_EQ(s.stats().ip.InReceives, 1u);
  EXPECT_EQ(s.stats().dropped(DropReason::kVlanTagged), 0u);
}

TEST_F(EthInputTest, UnicastAndBroadcastReachIpWithTheirPacketType) {
  PacketType seen[2] = {PacketType::kOutgoing, PacketType::kOutgoing};
  int n = 0;
  s.hooks().add(HookPoint::kPreRouting, 0, [&](Packet& p, Clock::time_point) {
    if (n < 2) seen[n++] = p.meta().pkt_type;
    return HookVerdict::kAccept;
  });
  net.inject(0, eth(mac(1), kHostMac, kTypeIpv4, ip_packet()));
  net.inject(0, eth(wire::kMacBroadcast, kHostMac, kTypeIpv4, ip_packet(Ipv4Addr(10, 0, 0, 255))));
  net.run();
  EXPECT_EQ(s.stats().ip.InReceives, 2u);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(seen[0], PacketType::kHost);
  EXPECT_EQ(seen[1], PacketType::kBroadcast);
}

TEST(EthPushHeader, WritesDstSrcType) {
  FramePool pool(2048, 4);
  {
    Packet p = Packet::allocate(pool, 64);
    p.put(4);
    eth_push_header(p, mac(7), mac(8), 0x0806);
    ASSERT_EQ(p.size(), 18u);
    const Bytes f(p.data(), p.data() + p.size());
    EXPECT_EQ(eth_dst(f), mac(7));
    EXPECT_EQ(eth_src(f), mac(8));
    EXPECT_EQ(eth_type(f), 0x0806);
    EXPECT_EQ(p.mac_header(), p.data());
  }
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace xnet::stack
