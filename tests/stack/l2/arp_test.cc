// arp_rcv from hand-written messages: answers, learning, the drops of
// ROBUSTNESS.md Link/ARP cases 1-5, locktime, probes, the table cap.

#include <gtest/gtest.h>

#include <chrono>

#include "stack/l2/neighbour.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack {
namespace {

using namespace support;
using namespace std::chrono_literals;

const MacAddr kHostMac = mac(0x10);
const Ipv4Addr kHostIp(10, 0, 0, 16);
const Ipv4Addr kOurIp(10, 0, 0, 1);
const MacAddr kOurMac = mac(1);

class ArpTest : public ::testing::Test {
 protected:
  ArpTest() : net(1, options()) {}
  static NetOptions options() {
    NetOptions o;
    o.config.neigh_gc_thresh3 = 8;
    return o;
  }
  Net net;
  Stack& s = net.stack(0);

  void receive(const Bytes& frame) {
    net.inject(0, frame);
    net.run();
  }
  void request_from(MacAddr sha, Ipv4Addr sip, Ipv4Addr tip = kOurIp) {
    receive(arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, sha, sip, MacAddr(), tip)));
  }
  // Dropped with `r`, nothing answered, nothing learned, nothing else counted.
  void expect_dropped(const Bytes& frame, DropReason r) {
    const auto before = s.stats().dropped(r);
    const auto total = total_drops(s.stats());
    const auto entries = s.neighbours().size();
    receive(frame);
    EXPECT_EQ(s.stats().dropped(r), before + 1) << drop_reason_name(r);
    EXPECT_EQ(total_drops(s.stats()), total + 1);
    EXPECT_EQ(s.neighbours().size(), entries);
    EXPECT_TRUE(net.sent(0).empty());
  }
  void TearDown() override { EXPECT_EQ(net.frames_in_flight(), 0u); }
};

TEST_F(ArpTest, RequestForUsIsAnsweredAndTheRequesterLearned) {
  request_from(kHostMac, kHostIp);
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  EXPECT_EQ(eth_src(sent[0]), kOurMac);
  const auto r = parse_arp(sent[0]);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->htype, 1);
  EXPECT_EQ(r->ptype, 0x0800);
  EXPECT_EQ(r->hlen, 6);
  EXPECT_EQ(r->plen, 4);
  EXPECT_EQ(r->op, kArpReply);
  EXPECT_EQ(r->sha, kOurMac);
  EXPECT_EQ(r->sip, kOurIp);
  EXPECT_EQ(r->tha, kHostMac);
  EXPECT_EQ(r->tip, kHostIp);
  // neigh_event_ns: learned as stale (a request proves nothing about reachability).
  const auto e = s.neighbours().lookup(1, kHostIp);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, NeighState::kStale);
  EXPECT_EQ(e->mac, kHostMac);
  EXPECT_EQ(total_drops(s.stats()), 0u);
  EXPECT_EQ(s.stats().ip.OutTransmits, 0u);  // ARP is not IP
}

TEST_F(ArpTest, UnicastRequestForUsIsAnswered) {
  receive(arp_frame(kOurMac, arp_fields(kArpRequest, kHostMac, kHostIp, kOurMac, kOurIp)));
  EXPECT_EQ(net.sent(0).size(), 1u);
}

TEST_F(ArpTest, RequestForAnotherHostIsNotForUs) {
  expect_dropped(arp_frame(wire::kMacBroadcast,
                           arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), Ipv4Addr(10, 0, 0, 99))),
                 DropReason::kArpNotForUs);
}

// Linux 6.18 (rp_filter = 0) answers a request for its address from senders
// off the interface's subnets, from 0/8 and from the network address, and
// learns each of them.
TEST_F(ArpTest, RequestFromOffTheSubnetIsAnsweredAndLearned) {
  for (const Ipv4Addr sip : {Ipv4Addr(192, 168, 9, 9), Ipv4Addr(0, 1, 2, 3), Ipv4Addr(10, 0, 0, 0)}) {
    request_from(kHostMac, sip);
    const auto sent = net.sent(0);
    ASSERT_EQ(sent.size(), 1u) << sip.to_string();
    const auto r = parse_arp(sent[0]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->op, kArpReply);
    EXPECT_EQ(r->tip, sip);
    const auto e = s.neighbours().lookup(1, sip);
    ASSERT_TRUE(e) << sip.to_string();
    EXPECT_EQ(e->state, NeighState::kStale);
  }
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

// The subnet broadcast as a sender is answered but not learned (the kernel's
// entry for it is NUD_NOARP, which no ARP message updates).
TEST_F(ArpTest, RequestFromTheSubnetBroadcastIsAnsweredNotLearned) {
  request_from(kHostMac, Ipv4Addr(10, 0, 0, 255));
  ASSERT_EQ(net.sent(0).size(), 1u);
  EXPECT_FALSE(s.neighbours().lookup(1, Ipv4Addr(10, 0, 0, 255)));
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

TEST_F(ArpTest, TruncatedIsMalformed) {
  Bytes body = arp(arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), kOurIp));
  body.resize(27);
  expect_dropped(eth(wire::kMacBroadcast, kHostMac, kTypeArp, body), DropReason::kArpMalformed);
  body.resize(7);
  expect_dropped(eth(wire::kMacBroadcast, kHostMac, kTypeArp, body), DropReason::kArpMalformed);
}

TEST_F(ArpTest, BadHeaderFieldsAreMalformed) {
  auto with = [&](auto mutate) {
    ArpFields f = arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), kOurIp);
    mutate(f);
    return arp_frame(wire::kMacBroadcast, f);
  };
  expect_dropped(with([](ArpFields& f) { f.htype = 6; }), DropReason::kArpMalformed);
  expect_dropped(with([](ArpFields& f) { f.ptype = 0x86dd; }), DropReason::kArpMalformed);
  expect_dropped(with([](ArpFields& f) { f.hlen = 8; }), DropReason::kArpMalformed);
  expect_dropped(with([](ArpFields& f) { f.plen = 16; }), DropReason::kArpMalformed);
  expect_dropped(with([](ArpFields& f) { f.op = 3; }), DropReason::kArpMalformed);
  expect_dropped(with([](ArpFields& f) { f.op = 0; }), DropReason::kArpMalformed);
}

TEST_F(ArpTest, BogusSendersAreDropped) {
  auto from = [&](MacAddr sha, Ipv4Addr sip) {
    return arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, sha, sip, MacAddr(), kOurIp));
  };
  expect_dropped(from(wire::kMacBroadcast, kHostIp), DropReason::kArpBogusSender);
  expect_dropped(from(MacAddr({0x01, 0x00, 0x5e, 0, 0, 1}), kHostIp), DropReason::kArpBogusSender);
  expect_dropped(from(kHostMac, Ipv4Addr(224, 0, 0, 1)), DropReason::kArpBogusSender);
  expect_dropped(from(kHostMac, Ipv4Addr(255, 255, 255, 255)), DropReason::kArpBogusSender);
  expect_dropped(from(kHostMac, Ipv4Addr(127, 0, 0, 1)), DropReason::kArpBogusSender);
  expect_dropped(from(kHostMac, Ipv4Addr(240, 0, 0, 1)), DropReason::kArpBogusSender);
  expect_dropped(from(kHostMac, kOurIp), DropReason::kArpBogusSender);  // claims our address
}

TEST_F(ArpTest, RequestForMulticastOrLoopbackTargetIsNotForUs) {
  expect_dropped(arp_frame(wire::kMacBroadcast,
                           arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), Ipv4Addr(224, 0, 0, 5))),
                 DropReason::kArpNotForUs);
  expect_dropped(arp_frame(wire::kMacBroadcast,
                           arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), Ipv4Addr(127, 0, 0, 1))),
                 DropReason::kArpNotForUs);
}

TEST_F(ArpTest, ProbeForOurAddressIsAnsweredButNotCached) {
  receive(arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, kHostMac, Ipv4Addr(), MacAddr(), kOurIp)));
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  const auto r = parse_arp(sent[0]);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, kArpReply);
  EXPECT_EQ(r->sip, kOurIp);
  EXPECT_EQ(r->tha, kHostMac);
  EXPECT_EQ(r->tip, Ipv4Addr());
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

TEST_F(ArpTest, ProbeForAnotherAddressIsNotForUs) {
  expect_dropped(arp_frame(wire::kMacBroadcast,
                           arp_fields(kArpRequest, kHostMac, Ipv4Addr(), MacAddr(), Ipv4Addr(10, 0, 0, 77))),
                 DropReason::kArpNotForUs);
}

TEST_F(ArpTest, GratuitousArpForUnknownAddressCreatesNoEntry) {
  const Ipv4Addr ip(10, 0, 0, 20);
  expect_dropped(arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, kHostMac, ip, MacAddr(), ip)),
                 DropReason::kArpNotForUs);
  expect_dropped(arp_frame(wire::kMacBroadcast, arp_fields(kArpReply, kHostMac, ip, kHostMac, ip)),
                 DropReason::kArpNotForUs);
  EXPECT_FALSE(s.neighbours().lookup(1, ip));
}

TEST_F(ArpTest, UnsolicitedReplyToUsCreatesNoEntry) {
  receive(arp_frame(kOurMac, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_TRUE(net.sent(0).empty());
  EXPECT_EQ(total_drops(s.stats()), 0u);  // it was for us: consumed
}

TEST_F(ArpTest, UpdateWithinLocktimeIsIgnored) {
  request_from(kHostMac, kHostIp);  // learned now (stale, kHostMac)
  net.sent(0);
  const MacAddr attacker = mac(0x66);
  // A reply claiming another MAC half a second later: ignored (first one wins).
  net.advance(500ms);
  receive(arp_frame(kOurMac, arp_fields(kArpReply, attacker, kHostIp, kOurMac, kOurIp)));
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->mac, kHostMac);
  // A request for someone else carrying the other MAC: ignored as well.
  receive(arp_frame(wire::kMacBroadcast,
                    arp_fields(kArpRequest, attacker, kHostIp, MacAddr(), Ipv4Addr(10, 0, 0, 99))));
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->mac, kHostMac);
  // After locktime the kernel accepts the new address (override).
  net.advance(600ms);
  receive(arp_frame(kOurMac, arp_fields(kArpReply, attacker, kHostIp, kOurMac, kOurIp)));
  const auto e = s.neighbours().lookup(1, kHostIp);
  EXPECT_EQ(e->mac, attacker);
  EXPECT_EQ(e->state, NeighState::kReachable);
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

TEST_F(ArpTest, GratuitousArpUpdatesAnExistingEntryEvenWithinLocktime) {
  // arp_process: override = locktime passed || is_garp.
  request_from(kHostMac, kHostIp);
  net.sent(0);
  const MacAddr moved = mac(0x11);
  receive(arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, moved, kHostIp, MacAddr(), kHostIp)));
  const auto e = s.neighbours().lookup(1, kHostIp);
  EXPECT_EQ(e->mac, moved);
  EXPECT_EQ(e->state, NeighState::kStale);  // a broadcast proves nothing
}

TEST_F(ArpTest, ReplyToOurRequestMakesTheEntryReachable) {
  const Bytes pkt = ipv4({.src = kOurIp, .dst = kHostIp}, udp(kOurIp, kHostIp, 1, 2, pattern(10)));
  neigh_output(s, net.make_packet(0, pkt), 1, kHostIp, net.now());
  net.run();
  auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  const auto req = parse_arp(sent[0]);
  ASSERT_TRUE(req);
  EXPECT_EQ(eth_dst(sent[0]), wire::kMacBroadcast);
  EXPECT_EQ(req->op, kArpRequest);
  EXPECT_EQ(req->sha, kOurMac);
  EXPECT_EQ(req->sip, kOurIp);  // the waiting packet's source
  EXPECT_EQ(req->tha, MacAddr());
  EXPECT_EQ(req->tip, kHostIp);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kIncomplete);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 1u);

  receive(arp_frame(kOurMac, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  const auto e = s.neighbours().lookup(1, kHostIp);
  EXPECT_EQ(e->state, NeighState::kReachable);
  EXPECT_EQ(e->mac, kHostMac);
  EXPECT_EQ(e->queued, 0u);
  sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  EXPECT_EQ(eth_type(sent[0]), kTypeIpv4);
  EXPECT_EQ(Bytes(sent[0].begin() + 14, sent[0].end()), pkt);
  EXPECT_EQ(total_drops(s.stats()), 0u);
}

TEST_F(ArpTest, BroadcastReplyOnlyMakesTheEntryStale) {
  neigh_output(s, net.make_packet(0, ipv4({.src = kOurIp, .dst = kHostIp}, pattern(8))), 1, kHostIp, net.now());
  net.run();
  net.sent(0);
  receive(arp_frame(wire::kMacBroadcast, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kStale);
  EXPECT_EQ(net.sent(0).size(), 1u);  // the waiting packet left anyway
}

TEST_F(ArpTest, TableFullOfStaleEntriesEvictsTheOldest) {
  for (uint8_t i = 0; i < 9; ++i) {
    request_from(mac(static_cast<uint8_t>(0x20 + i)), Ipv4Addr(10, 0, 0, static_cast<uint8_t>(20 + i)));
    net.advance(10ms);
  }
  EXPECT_EQ(s.neighbours().size(), 8u);
  EXPECT_FALSE(s.neighbours().lookup(1, Ipv4Addr(10, 0, 0, 20)));  // the least recently used
  EXPECT_TRUE(s.neighbours().lookup(1, Ipv4Addr(10, 0, 0, 28)));
  EXPECT_EQ(net.sent(0).size(), 9u);  // everyone answered
  EXPECT_EQ(s.stats().dropped(DropReason::kArpTableFull), 0u);
}

TEST_F(ArpTest, TableFullOfResolvingEntriesRefusesNewOnes) {
  for (uint8_t i = 0; i < 8; ++i) {
    const Ipv4Addr dst(10, 0, 0, static_cast<uint8_t>(100 + i));
    neigh_output(s, net.make_packet(0, ipv4({.src = kOurIp, .dst = dst}, pattern(8))), 1, dst, net.now());
  }
  net.run();
  EXPECT_EQ(net.sent(0).size(), 8u);
  EXPECT_EQ(s.neighbours().size(), 8u);
  // A ninth destination: refused, counted, nothing sent.
  const Ipv4Addr ninth(10, 0, 0, 120);
  neigh_output(s, net.make_packet(0, ipv4({.src = kOurIp, .dst = ninth}, pattern(8))), 1, ninth, net.now());
  EXPECT_EQ(s.stats().dropped(DropReason::kArpTableFull), 1u);
  // A request from a new host cannot be learned: no entry, no reply (neigh_event_ns failed).
  expect_dropped(arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), kOurIp)),
                 DropReason::kArpTableFull);
  net.advance_by_steps(std::chrono::seconds(4), 100ms);  // all fail; their packets are freed
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 8u);
}

}  // namespace
}  // namespace xnet::stack
