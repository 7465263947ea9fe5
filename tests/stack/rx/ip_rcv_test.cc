// ip_rcv / ip_rcv_finish / ip_local_deliver_finish: one test per drop, each
// from hand-written bytes, asserting the exact counters and that nothing else
// was delivered or sent.

#include <gtest/gtest.h>

#include "tests/stack/rx/rx_fixture.h"

namespace xnet::stack::rxtest {
namespace {

Ip udp_like(Bytes payload = pattern(40)) {
  Ip ip;
  ip.payload = std::move(payload);
  return ip;
}

TEST_F(RxTest, ValidDatagramIsDeliveredAndCounted) {
  Ip ip = udp_like();
  inject(ip);
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(delivered()[0].payload, ip.payload);
  EXPECT_EQ(delivered()[0].chain, 0u);
  EXPECT_EQ(delivered()[0].route_type, RouteType::kLocal);
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().ip_ext.InOctets, 60u);
  EXPECT_EQ(st().ip.InHdrErrors, 0u);
  expect_only_drops({});
  EXPECT_TRUE(icmp_.empty());
}

TEST_F(RxTest, OtherHostDroppedBeforeInReceives) {
  inject(udp_like(), PacketType::kOtherHost);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InReceives, 0u);
  EXPECT_EQ(dropped(DropReason::kIpOtherHost), 1u);
  expect_only_drops({DropReason::kIpOtherHost});
}

TEST_F(RxTest, RuntShorterThanHeaderIsHdrError) {
  inject(bytes({0x45, 0, 0, 19, 0, 0, 0, 0, 64, 253, 0, 0, 10, 0, 0, 2, 10, 0, 0}));
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
  EXPECT_EQ(st().ip_ext.InCsumErrors, 0u);
  expect_only_drops({});
}

TEST_F(RxTest, BadVersionIsHdrError) {
  Ip ip = udp_like();
  ip.version = 6;
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
}

TEST_F(RxTest, IhlBelowFiveIsHdrError) {
  Ip ip = udp_like();
  ip.ihl = 4;
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
  EXPECT_EQ(st().ip_ext.InCsumErrors, 0u);
}

TEST_F(RxTest, IhlBeyondFrameIsHdrError) {
  // IHL 15 (60 bytes) in a 40-byte frame.
  Ip ip = udp_like(pattern(20));
  Bytes b = build(ip);
  b[0] = std::byte{0x4f};
  b.resize(40);
  inject(b);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
}

TEST_F(RxTest, BadChecksumCountsCsumAndHdrErrors) {
  Ip ip = udp_like();
  ip.bad_checksum = true;
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip_ext.InCsumErrors, 1u);
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
  expect_only_drops({});
}

TEST_F(RxTest, TotalLengthBeyondFrameIsTruncated) {
  Ip ip = udp_like(pattern(40));
  ip.tot_len = 61;
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip_ext.InTruncatedPkts, 1u);
  EXPECT_EQ(st().ip.InHdrErrors, 0u);
}

TEST_F(RxTest, TotalLengthBelowHeaderIsHdrError) {
  Ip ip = udp_like(pattern(40));
  ip.tot_len = 19;
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InHdrErrors, 1u);
  EXPECT_EQ(st().ip_ext.InTruncatedPkts, 0u);
}

TEST_F(RxTest, LinkPaddingIsTrimmed) {
  Ip ip = udp_like(pattern(6));
  ip.padding = 20;  // a 26-byte datagram padded to the Ethernet minimum
  inject(ip);
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(delivered()[0].payload, ip.payload);
  EXPECT_EQ(st().ip_ext.InOctets, 46u);  // IPSTATS_MIB_IN counts skb->len before the trim
}

TEST_F(RxTest, NotOursWithoutForwardingIsAddrErrorWithoutIcmp) {
  Ip ip = udp_like();
  ip.dst = Ipv4Addr(192, 168, 7, 7);
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.InAddrErrors, 1u);
  EXPECT_EQ(st().ip_ext.InNoRoutes, 0u);
  EXPECT_TRUE(icmp_.empty());
  EXPECT_TRUE(forwarded_.empty());
  // Another host on our own subnet: the same.
  ip.dst = Ipv4Addr(10, 0, 0, 9);
  inject(ip);
  EXPECT_EQ(st().ip.InAddrErrors, 2u);
  EXPECT_TRUE(icmp_.empty());
}

TEST_F(RxTest, NoRouteWhenForwardingIsNoRoutesAndNetUnreachable) {
  StackConfig cfg;
  cfg.ip_forward = true;
  make_stack(cfg);
  Ip ip = udp_like();
  ip.dst = Ipv4Addr(192, 168, 7, 7);
  const Bytes sent = build(ip);
  inject(sent);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip_ext.InNoRoutes, 1u);
  EXPECT_EQ(st().ip.InAddrErrors, 0u);
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 3);
  EXPECT_EQ(icmp_[0].icmp_code(), 0);
  const Bytes q = icmp_[0].quote();
  ASSERT_GE(q.size(), 28u);
  EXPECT_TRUE(std::equal(q.begin(), q.begin() + 28, sent.begin()));
}

TEST_F(RxTest, RoutedWhenForwardingGoesToIpForward) {
  StackConfig cfg;
  cfg.ip_forward = true;
  make_stack(cfg);
  ASSERT_TRUE(stack_->add_gateway_route({Ipv4Addr(192, 168, 0, 0), 16}, Ipv4Addr(10, 0, 0, 254), ifindex_).ok());
  Ip ip = udp_like();
  ip.dst = Ipv4Addr(192, 168, 7, 7);
  inject(ip);
  EXPECT_TRUE(delivered().empty());
  ASSERT_EQ(forwarded_.size(), 1u);
  EXPECT_EQ(forward_meta_.route_type, RouteType::kUnicast);
  EXPECT_EQ(forward_meta_.out_ifindex, ifindex_);
  EXPECT_EQ(forward_meta_.next_hop, Ipv4Addr(10, 0, 0, 254));
  EXPECT_EQ(st().ip.InAddrErrors, 0u);
  EXPECT_EQ(st().ip.InDelivers, 0u);
}

// Linux 6.18 (since 5.3): 0.0.0.0/8 but 0.0.0.0 itself is unicast; a
// datagram from 0.1.2.3 is delivered (and a closed port answered).
TEST_F(RxTest, ZeroNetSourcesOtherThanZeroAreUnicast) {
  Ip ip = udp_like();
  ip.src = Ipv4Addr(0, 1, 2, 3);
  inject(ip);
  EXPECT_EQ(delivered().size(), 1u);
  expect_only_drops({});
}

TEST_F(RxTest, MartianSourcesAreDropped) {
  const Ipv4Addr sources[] = {Ipv4Addr(),             Ipv4Addr(127, 0, 0, 1), Ipv4Addr(240, 0, 0, 1),
                              Ipv4Addr(224, 0, 0, 5), Ipv4Addr(255, 255, 255, 255),
                              Ipv4Addr(10, 0, 0, 1) /* ours */};
  for (Ipv4Addr s : sources) {
    SCOPED_TRACE(s.to_string());
    make_stack({});
    Ip ip = udp_like();
    ip.src = s;
    inject(ip);
    EXPECT_TRUE(delivered().empty());
    EXPECT_EQ(dropped(DropReason::kIpMartianSource), 1u);
    expect_only_drops({DropReason::kIpMartianSource});
    // The kernel counts martians in its rt_cache stats only: no Ip: counter.
    EXPECT_EQ(st().ip.InReceives, 1u);
    EXPECT_EQ(st().ip.InHdrErrors + st().ip.InAddrErrors + st().ip.InDelivers, 0u);
    EXPECT_TRUE(icmp_.empty());
  }
}

TEST_F(RxTest, MartianDestinationsAreDropped) {
  for (Ipv4Addr d : {Ipv4Addr(), Ipv4Addr(127, 0, 0, 1), Ipv4Addr(240, 0, 0, 1)}) {
    SCOPED_TRACE(d.to_string());
    make_stack({});
    Ip ip = udp_like();
    ip.dst = d;
    inject(ip);
    EXPECT_TRUE(delivered().empty());
    EXPECT_EQ(dropped(DropReason::kIpMartianDest), 1u);
    expect_only_drops({DropReason::kIpMartianDest});
    EXPECT_EQ(st().ip.InAddrErrors + st().ip.InDelivers, 0u);
  }
}

TEST_F(RxTest, ZeroSourceToLimitedBroadcastIsAccepted) {
  Ip ip = udp_like();
  ip.src = Ipv4Addr();
  ip.dst = Ipv4Addr(255, 255, 255, 255);
  inject(ip, PacketType::kBroadcast);
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(delivered()[0].route_type, RouteType::kBroadcast);
}

// Only with drop_unicast_in_l2_multicast = 1; the default delivers
// (broadcast_multicast_test).
TEST_F(RxTest, LinkBroadcastWithUnicastDestinationIsDroppedWhenAsked) {
  StackConfig c;
  c.drop_unicast_in_l2_multicast = true;
  make_stack(c);
  inject(udp_like(), PacketType::kBroadcast);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(dropped(DropReason::kIpL2BroadcastUnicast), 1u);
  expect_only_drops({DropReason::kIpL2BroadcastUnicast});
  EXPECT_EQ(st().ip.InDelivers, 0u);
  EXPECT_EQ(st().ip.InAddrErrors, 0u);
}

TEST_F(RxTest, BroadcastsAreDeliveredAndCounted) {
  Ip ip = udp_like(pattern(10));
  ip.dst = Ipv4Addr(10, 0, 0, 255);
  inject(ip, PacketType::kBroadcast);
  ip.dst = Ipv4Addr(255, 255, 255, 255);
  inject(ip, PacketType::kBroadcast);
  ASSERT_EQ(delivered().size(), 2u);
  EXPECT_EQ(delivered()[0].route_type, RouteType::kBroadcast);
  EXPECT_EQ(st().ip_ext.InBcastPkts, 2u);
  EXPECT_EQ(st().ip_ext.InBcastOctets, 60u);
  EXPECT_EQ(st().ip.InDelivers, 2u);
}

TEST_F(RxTest, MulticastOnlyForJoinedGroups) {
  Ip ip = udp_like(pattern(10));
  ip.dst = Ipv4Addr(239, 1, 2, 3);
  inject(ip, PacketType::kMulticast);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(dropped(DropReason::kMulticastNotJoined), 1u);
  stack_->join_group(ifindex_, Ipv4Addr(239, 1, 2, 3));
  inject(ip, PacketType::kMulticast);
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(delivered()[0].route_type, RouteType::kMulticast);
  EXPECT_EQ(st().ip_ext.InMcastPkts, 1u);
  EXPECT_EQ(st().ip_ext.InMcastOctets, 30u);
}

TEST_F(RxTest, UnknownProtocolIsProtocolUnreachable) {
  Ip ip = udp_like();
  ip.protocol = kProtoNone;
  const Bytes sent = build(ip);
  inject(sent);
  EXPECT_EQ(st().ip.InUnknownProtos, 1u);
  EXPECT_EQ(st().ip.InDelivers, 0u);
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 3);
  EXPECT_EQ(icmp_[0].icmp_code(), 2);
  const Bytes q = icmp_[0].quote();
  ASSERT_GE(q.size(), 28u);
  EXPECT_TRUE(std::equal(q.begin(), q.begin() + 28, sent.begin()));
}

TEST_F(RxTest, UnknownProtocolToBroadcastSendsNothing) {
  Ip ip = udp_like();
  ip.protocol = kProtoNone;
  ip.dst = Ipv4Addr(10, 0, 0, 255);
  inject(ip, PacketType::kBroadcast);
  EXPECT_EQ(st().ip.InUnknownProtos, 1u);
  EXPECT_TRUE(icmp_.empty());
}

TEST_F(RxTest, TtlZeroAndOneAreDeliveredLocally) {
  Ip ip = udp_like();
  ip.ttl = 0;
  inject(ip);
  ip.ttl = 1;
  inject(ip);
  EXPECT_EQ(delivered().size(), 2u);
  EXPECT_TRUE(icmp_.empty());
}

TEST_F(RxTest, PreRoutingHookCanDrop) {
  stack_->hooks().add(HookPoint::kPreRouting, 0, [](Packet&, TimePoint) { return HookVerdict::kDrop; });
  inject(udp_like());
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(dropped(DropReason::kHookDrop), 1u);
  EXPECT_EQ(st().ip.InReceives, 1u);
}

// --- options ---

TEST_F(RxTest, ValidOptionsAreAcceptedAndIgnored) {
  const Bytes opts[] = {
      bytes({7, 7, 4, 0, 0, 0, 0, 0}),                        // record route, room for one
      bytes({68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}),          // timestamp, room for two
      bytes({68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0}),          // timestamp + address
      bytes({1, 1, 30, 4, 0, 0, 0, 0}),                       // NOPs, an unknown option, END
      bytes({148, 4, 0, 0}),                                  // router alert
      bytes({7, 7, 8, 10, 0, 0, 9, 0}),                       // record route already full
      bytes({68, 8, 9, 0x10, 0, 0, 0, 0}),                    // full timestamp, overflow 1
  };
  for (const Bytes& o : opts) {
    Ip ip = udp_like(pattern(12));
    ip.options = o;
    inject(ip);
  }
  EXPECT_EQ(delivered().size(), std::size(opts));
  for (const Delivered& d : delivered()) EXPECT_EQ(d.payload, pattern(12));
  EXPECT_EQ(st().ip.InHdrErrors, 0u);
  EXPECT_TRUE(icmp_.empty());
  expect_only_drops({});
}

TEST_F(RxTest, MalformedOptionsAnswerParameterProblemWithPointer) {
  struct Case {
    Bytes opts;
    uint8_t pointer;
  };
  const Case cases[] = {
      {bytes({1, 1, 1, 7}), 23},                               // a length octet missing
      {bytes({7, 2, 0, 0}), 21},                               // record route too short
      {bytes({7, 7, 3, 0, 0, 0, 0, 0}), 22},                   // record route pointer < 4
      {bytes({7, 9, 4, 0, 0, 0, 0, 0}), 20},                   // length beyond the header
      {bytes({68, 0, 0, 0}), 20},                              // length 0
      {bytes({68, 12, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 22},     // timestamp pointer < 5
      {bytes({68, 12, 13, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0}), 23},  // overflow counter full
      {bytes({68, 8, 5, 1, 0, 0, 0, 0}), 22},                  // ts+addr without room for the pair
      {bytes({7, 3, 4, 7, 3, 4, 0, 0}), 23},                   // two record routes
      {bytes({131, 7, 4, 0, 0, 0, 0, 137, 3, 2, 0, 0}), 29},   // ssrr pointer < 4
  };
  uint8_t host = 10;
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.pointer));
    make_stack({});
    Ip ip = udp_like(pattern(12));
    ip.options = c.opts;
    ip.src = Ipv4Addr(10, 0, 0, host++);
    const Bytes sent = build(ip);
    inject(sent);
    EXPECT_TRUE(delivered().empty());
    EXPECT_EQ(st().ip.InHdrErrors, 1u);
    EXPECT_EQ(dropped(DropReason::kIpOptionsBad), 1u);
    ASSERT_EQ(icmp_.size(), 1u);
    EXPECT_EQ(icmp_[0].icmp_type(), 12);
    EXPECT_EQ(icmp_[0].icmp_code(), 0);
    EXPECT_EQ(icmp_[0].icmp_byte(4), c.pointer);
    const Bytes q = icmp_[0].quote();
    ASSERT_GE(q.size(), 20u);
    EXPECT_TRUE(std::equal(q.begin(), q.begin() + 20, sent.begin()));
  }
}

TEST_F(RxTest, SourceRoutedPacketsAreDropped) {
  for (int type : {131, 137}) {
    make_stack({});
    Ip ip = udp_like();
    ip.options = bytes({type, 7, 4, 10, 0, 0, 9, 0});
    inject(ip);
    EXPECT_TRUE(delivered().empty());
    EXPECT_EQ(dropped(DropReason::kIpSourceRouted), 1u);
    expect_only_drops({DropReason::kIpSourceRouted});
    EXPECT_EQ(st().ip.InHdrErrors, 0u);
    EXPECT_TRUE(icmp_.empty());
  }
}

TEST_F(RxTest, MartianCheckComesBeforeOptions) {
  Ip ip = udp_like();
  ip.src = Ipv4Addr(127, 0, 0, 1);
  ip.options = bytes({7, 2, 0, 0});
  inject(ip);
  EXPECT_EQ(dropped(DropReason::kIpMartianSource), 1u);
  EXPECT_EQ(st().ip.InHdrErrors, 0u);
  EXPECT_TRUE(icmp_.empty());
}

// The whole path to udp_rcv: a closed port answers port unreachable quoting
// the datagram from its IPv4 header.
TEST_F(RxTest, UdpToClosedPortThroughTheReceivePath) {
  Ip ip;
  ip.protocol = 17;
  ip.payload = bytes({0x30, 0x39, 0x13, 0x88, 0, 12, 0, 0, 1, 2, 3, 4});  // checksum 0: none
  const Bytes sent = build(ip);
  inject(sent);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_EQ(st().udp.NoPorts, 1u);
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 3);
  EXPECT_EQ(icmp_[0].icmp_code(), 3);
  const Bytes q = icmp_[0].quote();
  ASSERT_GE(q.size(), 28u);
  EXPECT_TRUE(std::equal(q.begin(), q.begin() + 28, sent.begin()));
}

}  // namespace
}  // namespace xnet::stack::rxtest
