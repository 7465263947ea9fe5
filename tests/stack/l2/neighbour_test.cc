// The neighbour state machine over time (manual clock): resolution between
// two stacks, retries and failure, the pending queue, aging, re-probing.

#include <gtest/gtest.h>

#include "stack/core/skb_truesize.h"

#include <chrono>

#include "stack/l2/neighbour.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
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

size_t count_requests(const std::vector<Bytes>& frames, Ipv4Addr target) {
  size_t n = 0;
  for (const Bytes& f : frames) {
    const auto a = parse_arp(f);
    if (a && a->op == kArpRequest && a->tip == target) ++n;
  }
  return n;
}

// A datagram from stack 0's address to `dst` with IP ID `id`, ready for neigh_output.
Packet datagram(Net& net, Ipv4Addr dst, uint16_t id = 1) {
  Ipv4Fields f;
  f.src = kOurIp;
  f.dst = dst;
  f.id = id;
  return net.make_packet(0, ipv4(f, udp(kOurIp, dst, 7, 9, pattern(20))));
}

TEST(NeighbourResolution, FromColdBetweenTwoStacks) {
  Net net(2);
  Stack& a = net.stack(0);
  Stack& b = net.stack(1);
  neigh_output(a, datagram(net, net.addr(1)), 1, net.addr(1), net.now());
  EXPECT_EQ(a.neighbours().lookup(1, net.addr(1))->state, NeighState::kIncomplete);
  net.run();
  const auto sent = net.sent(0);
  ASSERT_GE(sent.size(), 2u);
  // First the broadcast request, then the queued packet to B's MAC.
  EXPECT_EQ(eth_dst(sent[0]), wire::kMacBroadcast);
  EXPECT_EQ(parse_arp(sent[0])->tip, net.addr(1));
  EXPECT_EQ(eth_dst(sent[1]), net.mac_of(1));
  ASSERT_TRUE(parse_ipv4(sent[1]));
  EXPECT_EQ(parse_ipv4(sent[1])->dst, net.addr(1));
  // B answered once and learned A from the request.
  const auto b_sent = net.sent(1);
  ASSERT_GE(b_sent.size(), 1u);
  EXPECT_EQ(parse_arp(b_sent[0])->op, kArpReply);
  const auto at_a = a.neighbours().lookup(1, net.addr(1));
  EXPECT_EQ(at_a->state, NeighState::kReachable);
  EXPECT_EQ(at_a->mac, net.mac_of(1));
  EXPECT_EQ(b.neighbours().lookup(1, net.addr(0))->mac, net.mac_of(0));
  EXPECT_EQ(b.stats().ip.InReceives, 1u);
  EXPECT_EQ(a.stats().ip.OutTransmits, 0u);  // ip_finish_output2's, above neigh_output
  EXPECT_EQ(a.stats().dropped(DropReason::kNeighFailed), 0u);
  // A second packet goes straight out.
  neigh_output(a, datagram(net, net.addr(1), 2), 1, net.addr(1), net.now());
  net.run();
  const auto again = net.sent(0);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(parse_ipv4(again[0])->id, 2);
  net.advance_by_steps(10s, 1s);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourResolution, ThreeRequestsOneSecondApartThenFailure) {
  Net net(1);
  Stack& s = net.stack(0);
  const Ipv4Addr dst(10, 0, 0, 50);
  const auto t0 = net.now();
  neigh_output(s, datagram(net, dst, 1), 1, dst, t0);
  neigh_output(s, datagram(net, dst, 2), 1, dst, t0);
  net.run();
  EXPECT_EQ(count_requests(net.sent(0), dst), 1u);
  EXPECT_EQ(s.next_deadline(), t0 + 1s);
  net.advance(999ms);
  EXPECT_TRUE(net.sent(0).empty());
  net.advance(1ms);  // t0 + 1 s
  EXPECT_EQ(count_requests(net.sent(0), dst), 1u);
  net.advance(1s);  // t0 + 2 s
  EXPECT_EQ(count_requests(net.sent(0), dst), 1u);
  EXPECT_EQ(s.neighbours().lookup(1, dst)->state, NeighState::kIncomplete);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 0u);
  net.advance(999ms);
  EXPECT_EQ(s.neighbours().lookup(1, dst)->state, NeighState::kIncomplete);
  net.advance(1ms);  // t0 + 3 s: no fourth request, failed
  EXPECT_TRUE(net.sent(0).empty());
  const auto e = s.neighbours().lookup(1, dst);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, NeighState::kFailed);
  EXPECT_EQ(e->queued, 0u);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 2u);
  // dst_link_failure: a host unreachable to each packet's source, here
  // ourselves, over the loopback; no socket of ours sent these packets, so
  // each error ends as InErrors (__udp4_lib_err finds no socket).
  EXPECT_EQ(s.stats().icmp.OutDestUnreachs, 2u);
  EXPECT_EQ(s.stats().icmp.InDestUnreachs, 2u);
  EXPECT_EQ(s.stats().dropped(DropReason::kIcmpBogusError), 2u);
  EXPECT_EQ(total_drops(s.stats()), 4u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourResolution, FailureIsReportedToTheSendingSocket) {
  Net net(1);
  Stack& s = net.stack(0);
  UdpSock* sk = s.udp().open();
  sk->recverr = true;
  const SockAddrIn to{kAfInet, {Ipv4Addr(10, 0, 0, 50), 9}};
  ASSERT_TRUE(udp_sendmsg(s, *sk, pattern(32), &to, SendOptions{}, net.now()).ok());
  net.advance_by_steps(3s, 500ms);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 1u);
  // How it reaches the socket (error queue entry, origin) is udp_err's business.
  ASSERT_EQ(sk->errq.size(), 1u);
  EXPECT_EQ(sk->errq.front().err, std::errc::host_unreachable);
  s.udp().close(sk);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourResolution, FailedEntryRestartsButRequestsStayAtOnePerSecond) {
  Net net(1);
  Stack& s = net.stack(0);
  const Ipv4Addr dst(10, 0, 0, 50);
  size_t requests = 0;
  // A packet every 100 ms for 10 s towards a host that never answers.
  for (int i = 0; i < 100; ++i) {
    neigh_output(s, datagram(net, dst, static_cast<uint16_t>(i)), 1, dst, net.now());
    net.advance(100ms);
    requests += count_requests(net.sent(0), dst);
  }
  EXPECT_GE(requests, 9u);
  EXPECT_LE(requests, 11u);
  net.advance_by_steps(5s, 500ms);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed) + s.stats().dropped(DropReason::kNeighQueueFull), 100u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourResolution, PendingQueueIsBoundedAndDropsTheOldest) {
  NetOptions o;
  // Room for three of these datagrams' truesize (an skb of 48 bytes: 832).
  o.config.neigh_unres_qlen_bytes = 3 * skb_truesize(48 + kSkbAllocExtra);
  Net net(1, o);
  Stack& s = net.stack(0);
  for (uint16_t id = 1; id <= 5; ++id) neigh_output(s, datagram(net, kHostIp, id), 1, kHostIp, net.now());
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighQueueFull), 2u);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 3u);
  net.run();
  net.sent(0);
  net.inject(0, arp_frame(kOurMac, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(eth_dst(sent[i]), kHostMac);
    EXPECT_EQ(parse_ipv4(sent[i])->id, 3 + i);  // 1 and 2 made room
  }
  EXPECT_EQ(total_drops(s.stats()), 2u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

// The kernel's default, unres_qlen_bytes 212992, in truesize: 256 small
// datagrams wait for one neighbour; the 257th pushes out the oldest.
TEST(NeighbourResolution, PendingQueueHoldsItsBytesOfTruesize) {
  Net net(1);
  Stack& s = net.stack(0);
  for (uint16_t id = 1; id <= 257; ++id) neigh_output(s, datagram(net, kHostIp, id), 1, kHostIp, net.now());
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 256u);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighQueueFull), 1u);
  net.run();
  net.sent(0);
  net.inject(0, arp_frame(kOurMac, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  net.run();
  EXPECT_EQ(net.sent(0).size(), 256u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourAging, ReachableThenStaleThenRemoved) {
  Net net(1);
  Stack& s = net.stack(0);
  neigh_output(s, datagram(net, kHostIp), 1, kHostIp, net.now());
  net.run();
  net.inject(0, arp_frame(kOurMac, arp_fields(kArpReply, kHostMac, kHostIp, kOurMac, kOurIp)));
  net.run();
  ASSERT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kReachable);
  net.sent(0);
  net.advance(29999ms);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kReachable);
  net.advance(1ms);  // reachable_time (30 s) without confirmation
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kStale);
  net.advance(29999ms);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kStale);
  net.advance(1ms);  // gc_stale_time (60 s) after the last use
  EXPECT_FALSE(s.neighbours().lookup(1, kHostIp));
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_FALSE(s.next_deadline());
  EXPECT_TRUE(net.sent(0).empty());  // aging sends nothing
  EXPECT_EQ(total_drops(s.stats()), 0u);
  // Nothing remembers the removed entry: the next send resolves afresh.
  neigh_output(s, datagram(net, kHostIp), 1, kHostIp, net.now());
  net.run();
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kIncomplete);
  EXPECT_EQ(net.sent(0).size(), 1u);  // the ARP request
}

TEST(NeighbourAging, UsedStaleEntryIsReprobedAndFailsWithoutAnswer) {
  Net net(1);
  Stack& s = net.stack(0);
  // Learned from a request: stale.
  net.inject(0, arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, kHostMac, kHostIp, MacAddr(), kOurIp)));
  net.run();
  net.sent(0);
  ASSERT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kStale);
  // Used: the packet leaves at once with the MAC we have.
  neigh_output(s, datagram(net, kHostIp), 1, kHostIp, net.now());
  net.run();
  auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(eth_dst(sent[0]), kHostMac);
  // 5 s later unicast probes start, 1 s apart.
  net.advance(4999ms);
  EXPECT_TRUE(net.sent(0).empty());
  for (int i = 0; i < 3; ++i) {
    net.advance(i == 0 ? 1ms : 1000ms);
    sent = net.sent(0);
    ASSERT_EQ(sent.size(), 1u) << i;
    EXPECT_EQ(eth_dst(sent[0]), kHostMac);
    EXPECT_EQ(parse_arp(sent[0])->op, kArpRequest);
    EXPECT_EQ(parse_arp(sent[0])->tip, kHostIp);
  }
  net.advance(1s);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->state, NeighState::kFailed);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourAging, ProbeAnsweredMakesTheEntryReachableAgain) {
  Net net(2);
  Stack& a = net.stack(0);
  // B asked for A: A has B stale.
  neigh_output(net.stack(1), net.make_packet(1, ipv4({.src = net.addr(1), .dst = net.addr(0)}, pattern(8))), 1,
               net.addr(0), net.now());
  net.run();
  ASSERT_EQ(a.neighbours().lookup(1, net.addr(1))->state, NeighState::kStale);
  neigh_output(a, datagram(net, net.addr(1)), 1, net.addr(1), net.now());
  net.run();
  net.advance(5s);  // the unicast probe, answered by B
  EXPECT_EQ(a.neighbours().lookup(1, net.addr(1))->state, NeighState::kReachable);
  net.advance_by_steps(10s, 1s);
  EXPECT_EQ(a.neighbours().lookup(1, net.addr(1))->state, NeighState::kReachable);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourOutput, BroadcastAndMulticastNextHopsNeedNoArp) {
  Net net(1);
  Stack& s = net.stack(0);
  neigh_output(s, datagram(net, Ipv4Addr(10, 0, 0, 255)), 1, Ipv4Addr(10, 0, 0, 255), net.now());
  neigh_output(s, datagram(net, wire::kIpv4Broadcast), 1, wire::kIpv4Broadcast, net.now());
  neigh_output(s, datagram(net, Ipv4Addr(239, 129, 2, 3)), 1, Ipv4Addr(239, 129, 2, 3), net.now());
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(eth_dst(sent[0]), wire::kMacBroadcast);
  EXPECT_EQ(eth_dst(sent[1]), wire::kMacBroadcast);
  EXPECT_EQ(eth_dst(sent[2]), MacAddr({0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}));
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourOutput, NoFrameForTheRequest) {
  NetOptions o;
  o.frames = 4;
  Net net(1, o);
  Stack& s = net.stack(0);
  std::vector<Packet> hog;
  while (true) {
    Packet p = Packet::allocate(net.link(0).pool(), 64);
    if (!p) break;
    hog.push_back(std::move(p));
  }
  // The last frame carries the datagram; none is left for the request.
  Packet last = std::move(hog.back());
  hog.pop_back();
  last.put(20);
  last.set_network_header();
  Packet spare = std::move(hog.back());
  hog.pop_back();
  spare.reset();
  Packet pkt = datagram(net, kHostIp);
  neigh_output(s, std::move(pkt), 1, kHostIp, net.now());
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighNoFrame), 1u);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 1u);
  hog.clear();
  last.reset();
  net.advance(1s);  // the retry finds a frame
  EXPECT_EQ(count_requests(net.sent(0), kHostIp), 1u);
  net.advance_by_steps(3s, 500ms);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(NeighbourTableLifetime, DestroyingTheStackFreesEveryFrame) {
  TapLink link(mac(1));
  link.set_tx_room(0);  // nothing leaves: the tx queue keeps its frames
  const auto now = Clock::now();
  {
    Stack s;
    s.add_interface(link);
    ASSERT_TRUE(s.add_address(1, {kOurIp, 24}, now).ok());
    for (uint16_t id = 0; id < 10; ++id) {
      Packet p = Packet::allocate(link.pool(), kDefaultHeadroom);
      const Bytes b = ipv4({.src = kOurIp, .dst = kHostIp}, pattern(8));
      std::copy(b.begin(), b.end(), p.put(static_cast<uint16_t>(b.size())));
      p.set_network_header();
      neigh_output(s, std::move(p), 1, kHostIp, now);
    }
    s.poll(now);
    EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 10u);
    EXPECT_EQ(s.interface(1)->txq.size(), 1u);  // the request (no gratuitous ARP: arp_notify = 0)
    EXPECT_EQ(link.pool().in_use(), 11u);
  }
  EXPECT_EQ(link.pool().in_use(), 0u);
}

TEST(NeighbourTableLifetime, FlushInterfaceDropsQueuedPackets) {
  Net net(1);
  Stack& s = net.stack(0);
  for (uint16_t id = 0; id < 10; ++id) neigh_output(s, datagram(net, kHostIp, id), 1, kHostIp, net.now());
  net.run();
  s.neighbours().flush_interface(1);
  EXPECT_EQ(s.neighbours().size(), 0u);
  EXPECT_EQ(s.stats().dropped(DropReason::kNeighFailed), 10u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
  // The flushed entry is not found again through anything that remembered it.
  neigh_output(s, datagram(net, kHostIp, 11), 1, kHostIp, net.now());
  EXPECT_EQ(s.neighbours().size(), 1u);
  EXPECT_EQ(s.neighbours().lookup(1, kHostIp)->queued, 1u);
}

}  // namespace
}  // namespace xnet::stack
