// Cross-shard delivery (stack/api/shard_handoff.h) on two queues of one
// device (two_queue_fixture.h); the test plays the peer 10.0.0.2.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "stack/api/shard_handoff.h"
#include "stack/api/sharded_stacks.h"
#include "stack/l2/neighbour_table.h"
#include "stack/udp/udp_table.h"
#include "tests/api/two_queue_fixture.h"
#include "tests/stack/support/frames.h"

namespace xnet::apitest {
namespace {

namespace sup = stack::support;

const wire::MacAddr kPeerMac({2, 0, 0, 0, 0, 2});
const Ipv4Addr kPeer(10, 0, 0, 2);

// An Ethernet frame from the peer carrying `ip` (an IPv4 packet).
sup::Bytes from_peer(const sup::Bytes& ip) { return sup::eth(kServerMac, kPeerMac, sup::kTypeIpv4, ip); }

sup::Bytes udp_from_peer(uint16_t sport, uint16_t dport, std::span<const std::byte> payload, uint16_t id = 1) {
  return from_peer(sup::ipv4({.src = kPeer, .dst = kA, .id = id}, sup::udp(kPeer, kA, sport, dport, payload)));
}

// A port unreachable the peer sends about our datagram sport → peer:dport.
sup::Bytes port_unreachable_from_peer(uint16_t sport, uint16_t dport) {
  const sup::Bytes quoted = sup::ipv4({.src = kA, .dst = kPeer}, sup::udp(kA, kPeer, sport, dport, bytes("q")));
  sup::Bytes icmp = {std::byte{3}, std::byte{3}, std::byte{0}, std::byte{0},
                     std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());  // IP header, UDP header, "q"
  const uint16_t c = sup::naive_checksum(icmp);
  icmp[2] = std::byte(c >> 8);
  icmp[3] = std::byte(c & 0xff);
  return from_peer(sup::ipv4({.src = kPeer, .dst = kA, .protocol = 1}, icmp));
}

class HandoffTest : public TwoQueueTest {
 protected:
  void SetUp() override {
    start(kPeerMac, 200);
    ASSERT_TRUE(stacks_->hands_over());
    // The peer asks for us on both queues: each shard learns its MAC (as
    // Linux does from a request for its address), so the port unreachables
    // leave at once instead of waiting for ARP.
    const sup::Bytes who_has =
        sup::arp_frame(wire::kMacBroadcast, sup::arp_fields(sup::kArpRequest, kPeerMac, kPeer, wire::MacAddr(), kA));
    for (unsigned k = 0; k < 2; ++k) inject(k, who_has);
    for (unsigned k = 0; k < 2; ++k) {
      ASSERT_TRUE(wait_on(k, [this, k] { return stacks_->stack(k).neighbours().lookup(1, kPeer).has_value(); }));
    }
  }

  void TearDown() override {
    // Sockets first (their queued copies go back to their shard's pool).
    for (unsigned k = 0; k < 2; ++k) {
      runtime_->run_on(k, [this, k] {
        for (stack::UdpSock* sk : socks_[k]) stacks_->stack(k).udp().close(sk);
      });
    }
    stacks_->stop_services();
    // Frame accounting after forwarding: every frame of every shard's pool is
    // back, none left in a ring or held by the other shard.
    for (unsigned k = 0; k < 2; ++k) {
      runtime_->run_on(k, [this, k] {
        stack::Link& l = *stacks_->stack(k).link(1);
        EXPECT_EQ(l.pool().in_use(), l.frames_held()) << "shard " << k << " leaked frames";
      });
    }
    const stack::Stats s = stats();
    EXPECT_EQ(s.handoff.DatagramsOut, s.handoff.DatagramsIn + s.handoff.NoFrame);
    EXPECT_EQ(s.handoff.ErrorsOut, s.handoff.ErrorsIn);
    finish();
  }

  // A raw socket of shard k's stack, bound to kA:port (closed at TearDown).
  stack::UdpSock* bind_on(unsigned k, uint16_t port) {
    return runtime_->run_on(k, [this, k, port] {
      stack::UdpSock* sk = stacks_->stack(k).udp().open();
      EXPECT_TRUE(stacks_->stack(k).udp().bind(*sk, Ipv4Addr(), port).ok());
      socks_[k].push_back(sk);
      return sk;
    });
  }

  stack::Stats stats_of(unsigned k) {
    return runtime_->run_on(k, [this, k] { return stacks_->stack(k).stats(); });
  }
  stack::Stats stats() {
    stack::Stats s = stats_of(0);
    s += stats_of(1);
    return s;
  }

  std::array<std::vector<stack::UdpSock*>, 2> socks_;
};

// A socket on shard 1 gets what lands on both queues; nothing is NoPorts.
TEST_F(HandoffTest, DatagramsOnEitherQueueReachTheSocketsShard) {
  stack::UdpSock* sk = bind_on(1, 5000);
  for (int i = 0; i < 10; ++i) {
    inject(0, udp_from_peer(40000, 5000, bytes("on queue 0")));
    inject(1, udp_from_peer(40000, 5000, bytes("on queue 1")));
  }
  ASSERT_TRUE(wait_on(1, [sk] { return sk->rxq.size() == 20; }));
  const size_t from0 = runtime_->run_on(1, [sk] {
    size_t n = 0;
    for (size_t i = 0; i < sk->rxq.size(); ++i) {
      const stack::RxDatagram& d = sk->rxq[i];
      n += text(d.head.bytes()) == "on queue 0";
    }
    return n;
  });
  EXPECT_EQ(from0, 10u);
  const stack::Stats s0 = stats_of(0), s1 = stats_of(1);
  EXPECT_EQ(s0.handoff.DatagramsOut, 10u);
  EXPECT_EQ(s1.handoff.DatagramsIn, 10u);
  EXPECT_EQ(s0.udp.NoPorts + s1.udp.NoPorts, 0u);
  EXPECT_EQ(s0.icmp.OutDestUnreachs + s1.icmp.OutDestUnreachs, 0u);
}

// The same the other way round: a socket on shard 0, datagrams on queue 1.
TEST_F(HandoffTest, AndTheReverse) {
  stack::UdpSock* sk = bind_on(0, 5001);
  for (int i = 0; i < 5; ++i) inject(1, udp_from_peer(40001, 5001, bytes("x")));
  ASSERT_TRUE(wait_on(0, [sk] { return sk->rxq.size() == 5; }));
  EXPECT_EQ(stats_of(1).handoff.DatagramsOut, 5u);
}

// No socket on any shard: NoPorts and one port unreachable, where it landed.
TEST_F(HandoffTest, NoSocketAnywhereIsNoPortsOnce) {
  inject(0, udp_from_peer(40002, 5002, bytes("nobody")));
  ASSERT_TRUE(wait_on(0, [this] { return stacks_->stack(0).stats().udp.NoPorts == 1; }));
  const stack::Stats s = stats();
  EXPECT_EQ(s.udp.NoPorts, 1u);
  EXPECT_EQ(s.icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(s.handoff.DatagramsOut, 0u);
}

// Shard 1 has a socket on the port that does not match (connected to another
// peer): the datagram is tried there, and the miss there is the only NoPorts.
TEST_F(HandoffTest, ASocketThatDoesNotMatchAnswersOnce) {
  stack::UdpSock* sk = bind_on(1, 5003);
  runtime_->run_on(1, [this, sk] { EXPECT_TRUE(stacks_->stack(1).udp().connect(*sk, Ipv4Addr(10, 0, 0, 9), 7).ok()); });
  inject(0, udp_from_peer(40003, 5003, bytes("not yours")));
  ASSERT_TRUE(wait_on(1, [this] { return stacks_->stack(1).stats().udp.NoPorts == 1; }));
  const stack::Stats s = stats();
  EXPECT_EQ(s.udp.NoPorts, 1u);
  EXPECT_EQ(s.icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(s.handoff.DatagramsOut, 1u);
  EXPECT_EQ(runtime_->run_on(1, [sk] { return sk->rxq.size(); }), 0u);
}

// An ICMP error quoting a datagram a socket of shard 1 sent reaches it from queue 0.
TEST_F(HandoffTest, IcmpErrorQuotingAnotherShardsSocketReachesIt) {
  stack::UdpSock* sk = bind_on(1, 5004);
  runtime_->run_on(1, [this, sk] {
    EXPECT_TRUE(stacks_->stack(1).udp().connect(*sk, kPeer, 9).ok());
    sk->recverr = true;
  });
  inject(0, port_unreachable_from_peer(5004, 9));
  ASSERT_TRUE(wait_on(1, [sk] { return sk->sk_err == std::errc::connection_refused; }));
  // IP_RECVERR: the entry carries the quoted payload, copied across shards.
  const std::vector<std::byte> payload = runtime_->run_on(1, [sk] {
    return sk->errq.empty() ? std::vector<std::byte>() : sk->errq.front().payload;
  });
  EXPECT_EQ(text(payload), "q");
  const stack::Stats s0 = stats_of(0);
  EXPECT_EQ(s0.handoff.ErrorsOut, 1u);
  EXPECT_EQ(s0.icmp.InErrors, 0u) << "not an error nobody sent";
}

// An error quoting a port no shard has is counted once, where it landed.
TEST_F(HandoffTest, IcmpErrorForNoSocketIsCountedOnce) {
  inject(0, port_unreachable_from_peer(5005, 9));
  ASSERT_TRUE(wait_on(0, [this] { return stacks_->stack(0).stats().icmp.InErrors == 1; }));
  EXPECT_EQ(stats().dropped(stack::DropReason::kIcmpBogusError), 1u);
  EXPECT_EQ(stats().handoff.ErrorsOut, 0u);
}

// A datagram reassembled from three fragments on shard 0 reaches shard 1 whole.
TEST_F(HandoffTest, ReassembledDatagramIsHandedOverWhole) {
  stack::UdpSock* sk = bind_on(1, 5006);
  const sup::Bytes payload = sup::pattern(3500, 7);
  const sup::Bytes dgram = sup::udp(kPeer, kA, 40006, 5006, payload);
  for (size_t off = 0; off < dgram.size(); off += 1480) {
    const size_t n = std::min<size_t>(1480, dgram.size() - off);
    const bool more = off + n < dgram.size();
    const auto frag = static_cast<uint16_t>((more ? 0x2000 : 0) | (off / 8));
    inject(0, from_peer(sup::ipv4({.src = kPeer, .dst = kA, .id = 77, .frag = frag},
                                  std::span(dgram).subspan(off, n))));
  }
  ASSERT_TRUE(wait_on(1, [sk] { return sk->rxq.size() == 1; }));
  const sup::Bytes got = runtime_->run_on(1, [sk] {
    sup::Bytes out;
    const stack::RxDatagram& d = sk->rxq[0];
    out.insert(out.end(), d.head.bytes().begin(), d.head.bytes().end());
    d.rest.for_each([&](const stack::PacketMeta& m, const std::byte* f) { out.insert(out.end(), f + m.head, f + m.head + m.len); });
    return out;
  });
  EXPECT_EQ(got, payload);
}

// A pair whose ring is full drops what does not fit and counts it; nothing is
// retried, nothing leaks. One thread drives both shards' stacks by hand.
TEST(HandoffRing, AFullRingDropsAndCounts) {
  rt::Reactor reactor;
  std::array<std::unique_ptr<MemoryLink>, 2> near, far;
  std::array<std::unique_ptr<stack::Stack>, 2> st;
  for (unsigned k = 0; k < 2; ++k) {
    stack::MemoryLinkConfig n, f;
    n.name = "eth0";
    n.mac = kServerMac;
    f.mac = kPeerMac;
    auto [a, b] = MemoryLink::make_pair(n, f);
    near[k] = std::move(a);
    far[k] = std::move(b);
    st[k] = make_server(*near[k], 200 + k);
  }
  {
    HandoffHub hub({&reactor, &reactor}, /*capacity=*/2);
    ShardHandoff h0(hub, 0, *st[0]), h1(hub, 1, *st[1]);
    stack::UdpSock* sk = st[1]->udp().open();
    ASSERT_TRUE(st[1]->udp().bind(*sk, Ipv4Addr(), 6000).ok());
    stack::PacketQueue q;
    for (int i = 0; i < 5; ++i) {
      const sup::Bytes f = udp_from_peer(41000, 6000, bytes("d"), static_cast<uint16_t>(i + 1));
      stack::Packet p = stack::Packet::allocate(far[0]->pool(), stack::kDefaultHeadroom);
      std::memcpy(p.put(static_cast<uint16_t>(f.size())), f.data(), f.size());
      q.push_back(std::move(p));
    }
    ASSERT_EQ(far[0]->tx_burst(q), 5u);
    st[0]->poll(rt::Reactor::now());
    EXPECT_EQ(st[0]->stats().handoff.DatagramsOut, 2u);
    EXPECT_EQ(st[0]->stats().handoff.RingFull, 3u);
    EXPECT_EQ(near[0]->pool().in_use(), near[0]->frames_held() + 2) << "two frames out to shard 1";
    EXPECT_TRUE(h1.poll());
    EXPECT_EQ(sk->rxq.size(), 2u);
    EXPECT_TRUE(h0.poll());  // the originals come home
    EXPECT_EQ(near[0]->pool().in_use(), near[0]->frames_held());
    st[1]->udp().close(sk);
    h0.stop_handing_over();
    h1.stop_handing_over();
  }
  for (unsigned k = 0; k < 2; ++k) {
    st[k].reset();
    EXPECT_EQ(near[k]->pool().in_use(), near[k]->frames_held());
  }
}

}  // namespace
}  // namespace xnet::apitest
