// ARP between two stacks over a MemoryLink pair: resolution from cold, and
// resolution when the first requests are lost (seeded fault injection).

#include <gtest/gtest.h>

#include <chrono>

#include "stack/l2/neighbour.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/mem_net.h"

namespace xnet::stack {
namespace {

using namespace support;
using namespace std::chrono_literals;

Packet datagram(MemNet& net, uint16_t id) {
  Ipv4Fields f;
  f.src = net.addr(0);
  f.dst = net.addr(1);
  f.id = id;
  const Bytes b = ipv4(f, udp(f.src, f.dst, 7, 9, pattern(20)));
  Packet p = Packet::allocate(net.link(0).pool(), kDefaultHeadroom);
  std::copy(b.begin(), b.end(), p.put(static_cast<uint16_t>(b.size())));
  p.set_network_header();
  return p;
}

TEST(MemoryLinkArp, ResolutionFromCold) {
  MemNet net;
  neigh_output(net.stack(0), datagram(net, 1), 1, net.addr(1), net.now());
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(parse_arp(sent[0])->op, kArpRequest);
  EXPECT_EQ(eth_dst(sent[1]), net.mac_of(1));
  EXPECT_EQ(net.stack(0).neighbours().lookup(1, net.addr(1))->state, NeighState::kReachable);
  EXPECT_EQ(net.stack(1).stats().ip.InReceives, 1u);
  net.advance_by_steps(5s, 500ms);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(MemoryLinkArp, InjectedRequestIsAnswered) {
  MemNet net;
  ASSERT_TRUE(net.inject(0, arp_frame(wire::kMacBroadcast, arp_fields(kArpRequest, net.mac_of(1), net.addr(1),
                                                                     MacAddr(), net.addr(0)))));
  net.run();
  const auto sent = net.sent(0);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(parse_arp(sent[0])->op, kArpReply);
  EXPECT_TRUE(net.sent(1).empty());  // the injection is not B's traffic
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST(MemoryLinkArp, LostRequestsAreRetried) {
  MemNet net;
  MemoryLinkFaults drop_all;
  drop_all.drop = 1.0;
  net.link(0).set_tx_faults(drop_all);
  neigh_output(net.stack(0), datagram(net, 1), 1, net.addr(1), net.now());
  net.run();
  net.advance(1s);  // the second request is lost as well
  net.link(0).set_tx_faults(MemoryLinkFaults{});
  net.advance(1s);  // the third gets through
  EXPECT_EQ(net.stack(0).neighbours().lookup(1, net.addr(1))->state, NeighState::kReachable);
  EXPECT_EQ(net.stack(1).stats().ip.InReceives, 1u);
  EXPECT_EQ(net.stack(0).stats().dropped(DropReason::kNeighFailed), 0u);
  EXPECT_EQ(net.link(0).fault_counters().dropped, 2u);
  net.advance_by_steps(5s, 500ms);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

}  // namespace
}  // namespace xnet::stack
