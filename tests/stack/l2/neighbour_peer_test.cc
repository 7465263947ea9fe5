// Neighbour tables of several shards of one host: what a table announces to
// its observer (NeighbourTable::set_observer) and what it takes from another
// shard's table (learn_from_peer). Each "shard" here is a Net of one stack
// (10.0.0.1, ifindex 1), as the queues of one device would be.

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

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

Packet datagram(Net& net, Ipv4Addr dst, uint16_t id = 1) {
  Ipv4Fields f;
  f.src = kOurIp;
  f.dst = dst;
  f.id = id;
  return net.make_packet(0, ipv4(f, udp(kOurIp, dst, 7, 9, pattern(20))));
}

size_t count_requests(const std::vector<Bytes>& frames) {
  size_t n = 0;
  for (const Bytes& f : frames) {
    if (const auto a = parse_arp(f); a && a->op == kArpRequest) ++n;
  }
  return n;
}

Bytes unicast_reply(MacAddr from_mac, Ipv4Addr from_ip) {
  return arp_frame(kOurMac, arp_fields(kArpReply, from_mac, from_ip, kOurMac, kOurIp));
}

// Records what a table announces.
struct Recorder {
  std::vector<NeighAnnouncement> seen;
  void attach(Stack& s) {
    s.neighbours().set_observer([this](const NeighAnnouncement& a) { seen.push_back(a); });
  }
};

TEST(NeighbourPeer, LearnFromPeerCompletesAResolutionAndSendsWhatWaited) {
  Net net(1);
  Stack& s = net.stack(0);
  Recorder rec;
  rec.attach(s);
  neigh_output(s, datagram(net, kHostIp, 1), 1, kHostIp, net.now());
  neigh_output(s, datagram(net, kHostIp, 2), 1, kHostIp, net.now());
  net.run();
  EXPECT_EQ(count_requests(net.sent(0)), 1u);
  ASSERT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 2u);

  EXPECT_TRUE(s.neighbours().learn_from_peer(1, kHostIp, kHostMac, net.now()));
  const auto e = s.neighbours().lookup(1, kHostIp);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, NeighState::kReachable);
  EXPECT_EQ(e->mac, kHostMac);
  EXPECT_EQ(e->queued, 0u);
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(eth_dst(sent[i]), kHostMac);
    EXPECT_EQ(parse_ipv4(sent[i])->id, i + 1);
  }
  EXPECT_TRUE(rec.seen.empty()) << "what came from a peer is never announced back";
  // The resolution is over: no more requests, no failure.
  net.advance_by_steps(4s, 500ms);
  EXPECT_EQ(count_requests(net.sent(0)), 0u);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 0u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourPeer, LearnFromPeerCreatesTheEntrySoNoRequestIsSent) {
  Net net(1);
  Stack& s = net.stack(0);
  EXPECT_TRUE(s.neighbours().learn_from_peer(1, kHostIp, kHostMac, net.now()));
  neigh_output(s, datagram(net, kHostIp), 1, kHostIp, net.now());
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kReachable);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourPeer, LearnFromPeerRefusesWhatThisStackCannotHold) {
  Net net(1);
  NeighbourTable& t = net.stack(0).neighbours();
  EXPECT_FALSE(t.learn_from_peer(2, kHostIp, kHostMac, net.now()));       // no interface 2
  EXPECT_FALSE(t.learn_from_peer(1, kOurIp, kHostMac, net.now()));        // our own address
  EXPECT_FALSE(t.learn_from_peer(1, kHostIp, MacAddr(), net.now()));      // no MAC
  EXPECT_FALSE(t.learn_from_peer(1, kHostIp, wire::kMacBroadcast, net.now()));
  EXPECT_EQ(t.size(), 0u);
  // Information about a neighbour nobody here tracks creates nothing (arp_accept = 0).
  NeighAnnouncement unknown{1, kHostIp, kHostMac, NeighState::kReachable, false, false};
  EXPECT_FALSE(t.learn_from_peer(unknown, net.now()));
  EXPECT_EQ(t.size(), 0u);
}

TEST(NeighbourPeer, ConfirmedAndUpdatedEntriesAreAnnounced) {
  Net net(2);
  Recorder at_a, at_b;
  at_a.attach(net.stack(0));
  at_b.attach(net.stack(1));
  neigh_output(net.stack(0), datagram(net, net.addr(1)), 1, net.addr(1), net.now());
  net.run();
  // A resolved B (a unicast reply: reachable); B learned A from the request (stale).
  ASSERT_EQ(at_a.seen.size(), 1u);
  EXPECT_EQ(at_a.seen[0].ifindex, 1);
  EXPECT_EQ(at_a.seen[0].ip, net.addr(1));
  EXPECT_EQ(at_a.seen[0].mac, net.mac_of(1));
  EXPECT_EQ(at_a.seen[0].state, NeighState::kReachable);
  EXPECT_TRUE(at_a.seen[0].known);
  ASSERT_EQ(at_b.seen.size(), 1u);
  EXPECT_EQ(at_b.seen[0].ip, net.addr(0));
  EXPECT_EQ(at_b.seen[0].state, NeighState::kStale);
  EXPECT_TRUE(at_b.seen[0].known);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourPeer, ReconfirmationIsAnnouncedAtMostOncePerRetransTime) {
  Net net(1);
  Stack& s = net.stack(0);
  Recorder rec;
  rec.attach(s);
  neigh_output(s, datagram(net, kHostIp), 1, kHostIp, net.now());
  net.run();
  net.inject(0, unicast_reply(kHostMac, kHostIp));
  net.run();
  ASSERT_EQ(rec.seen.size(), 1u);  // incomplete → reachable
  for (int i = 0; i < 5; ++i) {
    net.advance(100ms);
    net.inject(0, unicast_reply(kHostMac, kHostIp));
    net.run();
  }
  EXPECT_EQ(rec.seen.size(), 1u);  // the same MAC, the same state, within 1 s
  net.advance(600ms);
  net.inject(0, unicast_reply(kHostMac, kHostIp));
  net.run();
  EXPECT_EQ(rec.seen.size(), 2u);  // a second later: passed on (the peers' copies age)
  // A new MAC is a change: announced at once (past locktime).
  net.advance(1100ms);
  net.inject(0, unicast_reply(mac(0x11), kHostIp));
  net.run();
  ASSERT_EQ(rec.seen.size(), 3u);
  EXPECT_EQ(rec.seen[2].mac, mac(0x11));
  net.sent(0);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

// The multi-queue case: shard B asked, the device gave the reply to shard A,
// which has no entry: A passes it on as unknown, B completes its resolution.
TEST(NeighbourPeer, AReplyForAnotherShardsRequestReachesIt) {
  Net shard_a(1), shard_b(1);
  Stack& a = shard_a.stack(0);
  Stack& b = shard_b.stack(0);
  Recorder rec;
  rec.attach(a);
  neigh_output(b, datagram(shard_b, kHostIp), 1, kHostIp, shard_b.now());
  shard_b.run();
  EXPECT_EQ(count_requests(shard_b.sent(0)), 1u);

  shard_a.inject(0, unicast_reply(kHostMac, kHostIp));
  shard_a.run();
  EXPECT_FALSE(a.neighbours().lookup(1, kHostIp)) << "arp_accept = 0: A creates nothing";
  EXPECT_EQ(total_drops(a.stats()), 0u);  // a reply to us: no drop counted
  ASSERT_EQ(rec.seen.size(), 1u);
  EXPECT_FALSE(rec.seen[0].known);
  EXPECT_EQ(rec.seen[0].state, NeighState::kReachable);  // unicast reply

  EXPECT_TRUE(b.neighbours().learn_from_peer(rec.seen[0], shard_b.now()));
  shard_b.run();
  const auto sent = shard_b.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  EXPECT_EQ(b.neighbours().lookup(1, kHostIp)->state, NeighState::kReachable);
  shard_b.advance_by_steps(4s, 500ms);
  EXPECT_EQ(b.stats().dropped(DropReason::kNeighFailed), 0u);
  EXPECT_EQ(shard_a.frames_in_flight(), 0u);
  EXPECT_EQ(shard_b.frames_in_flight(), 0u);
}

TEST(NeighbourPeer, UnknownAnnouncementsRespectLocktimeOnAValidEntry) {
  Net net(1);
  Stack& s = net.stack(0);
  ASSERT_TRUE(s.neighbours().learn_from_peer(1, kHostIp, kHostMac, net.now()));
  NeighAnnouncement other{1, kHostIp, mac(0x11), NeighState::kReachable, false, false};
  EXPECT_FALSE(s.neighbours().learn_from_peer(other, net.now() + 100ms));  // within locktime
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->mac, kHostMac);
  other.garp = true;  // gratuitous: overrides at once
  EXPECT_TRUE(s.neighbours().learn_from_peer(other, net.now() + 100ms));
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->mac, mac(0x11));
}

TEST(NeighbourPeer, UnknownAnnouncementsAreBounded) {
  Net net(1);
  Stack& s = net.stack(0);
  Recorder rec;
  rec.attach(s);
  for (uint8_t i = 0; i < 40; ++i) {
    net.inject(0, unicast_reply(mac(static_cast<uint8_t>(0x20 + i)), Ipv4Addr(10, 0, 0, static_cast<uint8_t>(100 + i))));
  }
  net.run();
  EXPECT_EQ(rec.seen.size(), kNeighForeignAnnounceBudget);
  net.advance(1s);
  net.inject(0, unicast_reply(kHostMac, kHostIp));
  net.run();
  EXPECT_EQ(rec.seen.size(), kNeighForeignAnnounceBudget + 1);
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

// Two tables feeding each other synchronously (what the shard layer does
// through posts): every change crosses once, nothing comes back.
TEST(NeighbourPeer, TwoTablesFeedingEachOtherDoNotLoop) {
  Net shard_a(1), shard_b(1);
  Stack& a = shard_a.stack(0);
  Stack& b = shard_b.stack(0);
  size_t from_a = 0, from_b = 0;
  a.neighbours().set_observer([&](const NeighAnnouncement& x) {
    ++from_a;
    b.neighbours().learn_from_peer(x, shard_b.now());
  });
  b.neighbours().set_observer([&](const NeighAnnouncement& x) {
    ++from_b;
    a.neighbours().learn_from_peer(x, shard_a.now());
  });
  neigh_output(a, datagram(shard_a, kHostIp), 1, kHostIp, shard_a.now());
  shard_a.run();
  shard_a.inject(0, unicast_reply(kHostMac, kHostIp));
  shard_a.run();
  EXPECT_EQ(from_a, 1u);
  EXPECT_EQ(from_b, 0u);
  EXPECT_EQ(b.neighbours().lookup(1, kHostIp)->mac, kHostMac);
  // B sends without asking.
  neigh_output(b, datagram(shard_b, kHostIp), 1, kHostIp, shard_b.now());
  shard_b.run();
  EXPECT_EQ(count_requests(shard_b.sent(0)), 0u);
  a.neighbours().set_observer(nullptr);
  b.neighbours().set_observer(nullptr);
  shard_a.sent(0);
  EXPECT_EQ(shard_a.frames_in_flight(), 0u);
  EXPECT_EQ(shard_b.frames_in_flight(), 0u);
}

}  // namespace
}  // namespace xnet::stack
