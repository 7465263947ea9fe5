// ip_forward over three stacks A–R–B (R forwards between its two links):
// off by default, TTL expiry, DF too big with the next-hop MTU, fragmentation
// by R, TTL decrement with a valid header checksum.

#include <gtest/gtest.h>

#include "stack/core/stack.h"
#include "stack/udp/udp_recv.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/tx/ref_checksum.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::Captured;
using txtest::LinkSpec;
using txtest::pattern;
using txtest::TxNet;

constexpr int kA = 0, kR = 1, kB = 2;
constexpr uint16_t kPortB = 6000;

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }

// Frames of 8 KiB on A–R so that A can send a 4000-byte datagram whole.
std::vector<LinkSpec> links(uint32_t mtu_ar, uint32_t mtu_rb) {
  return {LinkSpec{mtu_ar, false, 8192, 1024}, LinkSpec{mtu_rb, false, 2048, 4096}};
}

class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override { net.stack(kR).config().ip_forward = true; }
  void TearDown() override {
    net.close_all();  // queued datagrams and pending corks give their frames back
    net.run(std::chrono::milliseconds(10));
    EXPECT_EQ(net.frames_in_flight(), 0u);
  }
  TxNet net{3, links(4500, 1500)};
};

TEST(ForwardOff, ByDefaultNothingIsForwarded) {
  TxNet net(3, links(1500, 1500));
  {
    EXPECT_FALSE(net.stack(kR).config().ip_forward);
    UdpSock& a = net.socket(kA);
    UdpSock& b = net.socket(kB);
    net.bind(kB, b, kPortB);
    ASSERT_TRUE(net.send(kA, a, pattern(100), to(net.addr(kB), kPortB)).ok());
    net.run();
    EXPECT_TRUE(net.recv_all(kB, b).empty());
    EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 0u);
    EXPECT_EQ(net.stats(kR).ip.InAddrErrors, 1u);
  }
  net.close_all();  // queued datagrams and pending corks give their frames back
  net.run(std::chrono::milliseconds(10));
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

TEST_F(ForwardTest, ForwardsWithTtlDecrementedAndChecksumValid) {
  UdpSock& a = net.socket(kA);
  UdpSock& b = net.socket(kB);
  net.bind(kB, b, kPortB);
  const auto data = pattern(500);
  ASSERT_TRUE(net.send(kA, a, data, to(net.addr(kB), kPortB)).ok());
  net.run();
  auto caps = net.captured(kB);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].ttl(), 63);
  EXPECT_TRUE(txtest::ip_header_ok(caps[0].ip.data()));
  EXPECT_TRUE(txtest::udp_checksum_ok(caps[0].ip.data()));
  auto got = net.recv_all(kB, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  EXPECT_EQ(got[0].from, net.addr(kA));
  EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 1u);
  EXPECT_EQ(net.stats(kR).ip.OutRequests, 0u);  // forwarded traffic is not OutRequests
}

TEST_F(ForwardTest, TtlOneIsTimeExceeded) {
  UdpSock& a = net.socket(kA);
  UdpSock& b = net.socket(kB);
  net.bind(kB, b, kPortB);
  SendOptions o;
  o.ttl = 1;
  ASSERT_TRUE(net.send(kA, a, pattern(100), to(net.addr(kB), kPortB), o).ok());
  net.run();
  EXPECT_TRUE(net.recv_all(kB, b).empty());
  EXPECT_EQ(net.stats(kR).ip.InHdrErrors, 1u);
  EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 0u);
  auto back = net.captured(kA);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].protocol(), 1);
  EXPECT_EQ(std::to_integer<int>(back[0].payload()[0]), 11);  // time exceeded
  EXPECT_EQ(std::to_integer<int>(back[0].payload()[1]), 0);   // TTL expired in transit
  EXPECT_EQ(back[0].src(), net.addr(kR));
}

TEST_F(ForwardTest, DfTooBigIsFragNeededWithNextHopMtu) {
  UdpSock& a = net.socket(kA);
  UdpSock& b = net.socket(kB);
  net.bind(kB, b, kPortB);
  udp_set_pmtudisc(a, PmtuDisc::kDo);
  ASSERT_TRUE(net.send(kA, a, pattern(3000), to(net.addr(kB), kPortB)).ok());
  net.run();
  EXPECT_TRUE(net.recv_all(kB, b).empty());
  EXPECT_EQ(net.stats(kR).ip.FragFails, 1u);
  auto back = net.captured(kA);
  ASSERT_EQ(back.size(), 1u);
  auto icmp = back[0].payload();
  EXPECT_EQ(std::to_integer<int>(icmp[0]), 3);
  EXPECT_EQ(std::to_integer<int>(icmp[1]), 4);
  EXPECT_EQ(txtest::be16(icmp.data() + 6), 1500);  // next-hop MTU
}

TEST_F(ForwardTest, RouterFragmentsA4000ByteDatagram) {
  UdpSock& a = net.socket(kA);
  UdpSock& b = net.socket(kB);
  net.bind(kB, b, kPortB);
  // Linux's default PMTU mode ("want") sets DF on a datagram that fits the
  // first hop (4028 <= 4500), and R would answer "fragmentation needed"
  // instead of fragmenting: A must send without DF (IP_PMTUDISC_DONT).
  udp_set_pmtudisc(a, PmtuDisc::kDont);
  const auto data = pattern(4000);
  ASSERT_TRUE(net.send(kA, a, data, to(net.addr(kB), kPortB)).ok());
  net.run();
  auto caps = net.captured(kB);
  ASSERT_EQ(caps.size(), 3u);  // 4008 bytes: 1480 + 1480 + 1048
  uint32_t off = 0;
  for (size_t i = 0; i < caps.size(); ++i) {
    EXPECT_TRUE(txtest::ip_header_ok(caps[i].ip.data()));
    EXPECT_EQ(caps[i].frag_off(), off);
    EXPECT_EQ(caps[i].mf(), i + 1 != caps.size());
    EXPECT_EQ(caps[i].ttl(), 63);
    EXPECT_EQ(caps[i].id(), caps[0].id());
    EXPECT_LE(caps[i].tot_len(), 1500);
    off += static_cast<uint32_t>(caps[i].payload().size());
  }
  EXPECT_EQ(off, 4008u);
  auto got = net.recv_all(kB, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 1u);
  EXPECT_EQ(net.stats(kR).ip.FragOKs, 1u);
  EXPECT_EQ(net.stats(kR).ip.FragCreates, 3u);
  EXPECT_EQ(net.stats(kA).ip.FragOKs, 0u);
}

TEST_F(ForwardTest, NextHopArpFailureIsHostUnreachable) {
  // ROBUSTNESS case 25: R cannot resolve 10.0.2.77 on its B-side link; after
  // the probes it drops the packet and answers ICMP 3/1, which A's socket
  // (IP_RECVERR) receives as EHOSTUNREACH from R.
  UdpSock& a = net.socket(kA);
  a.recverr = true;
  const wire::Ipv4Addr nobody(10, 0, 2, 77);
  ASSERT_TRUE(net.send(kA, a, pattern(100), to(nobody, 9)).ok());
  net.run_for(std::chrono::milliseconds(6000), std::chrono::milliseconds(250));
  EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 1u);
  auto back = net.captured(kA);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].protocol(), 1);
  EXPECT_EQ(std::to_integer<int>(back[0].payload()[0]), 3);
  EXPECT_EQ(std::to_integer<int>(back[0].payload()[1]), 1);
  auto e = udp_recv_error(a);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->err, std::errc::host_unreachable);
  EXPECT_EQ(e->offender, net.addr(kR));
}

}  // namespace
}  // namespace xnet::stack

namespace xnet::stack {
namespace {

// The ICMP messages A received: {type, code, rest of header} in order.
struct IcmpSeen {
  uint8_t type, code;
  uint32_t rest;
  uint8_t quoted_ttl;
};
std::vector<IcmpSeen> icmp_at(TxNet& net, int i) {
  std::vector<IcmpSeen> out;
  for (const Captured& c : net.captured(i)) {
    if (c.protocol() != 1) continue;
    const auto p = c.payload();
    auto u8 = [&](size_t k) { return std::to_integer<uint8_t>(p[k]); };
    out.push_back({u8(0), u8(1), (uint32_t{u8(4)} << 24) | (uint32_t{u8(5)} << 16) | (uint32_t{u8(6)} << 8) | u8(7),
                   u8(8 + 8)});
  }
  return out;
}

const wire::Ipv4Prefix kBackOnTheLink{wire::Ipv4Addr(10, 99, 0, 0), 24};
const wire::Ipv4Prefix kUnreachable{wire::Ipv4Addr(10, 98, 0, 0), 24};

Route route(wire::Ipv4Prefix p, RouteType type, uint16_t ifindex, wire::Ipv4Addr gw) {
  Route r;
  r.prefix = p;
  r.type = type;
  r.ifindex = ifindex;
  r.gateway = gw;
  return r;
}

// Linux 6.18, a router whose route for 10.79.1.0/24 goes back out the
// interface the datagrams came in on (gateway on that link), one datagram
// every 10 ms for 3 s: redirects (5/1, gateway named, quote with the TTL
// already decremented) at 0, 51, 132, 295, 622, 1267 and 2554 ms — each
// waits twice as long as the one before — and the datagrams still forwarded.
TEST_F(ForwardTest, RedirectsASenderOnTheLinkWithTheKernelsBackoff) {
  const wire::Ipv4Addr gw(net.addr(kA));  // a host on the A–R link
  net.stack(kR).routes().add(route(kBackOnTheLink, RouteType::kUnicast, 1, gw));
  net.stack(kA).routes().add(route(kBackOnTheLink, RouteType::kUnicast, 1, net.addr(kR)));
  UdpSock& a = net.socket(kA);
  std::vector<int> at_ms;
  for (int t = 0; t < 300; ++t) {
    ASSERT_TRUE(net.send(kA, a, pattern(10), to(wire::Ipv4Addr(10, 99, 0, 5), 9)).ok());
    net.run(std::chrono::milliseconds(10));
    for (const IcmpSeen& m : icmp_at(net, kA)) {
      ASSERT_EQ(m.type, 5);
      EXPECT_EQ(m.code, 1);
      EXPECT_EQ(m.rest, gw.value());
      EXPECT_EQ(m.quoted_ttl, 63);
      at_ms.push_back(t * 10);
    }
  }
  EXPECT_EQ(at_ms, (std::vector<int>{0, 50, 140, 310, 640, 1290, 2580}));
  EXPECT_EQ(net.stats(kR).icmp.OutRedirects, 7u);
  EXPECT_EQ(net.stats(kR).ip.ForwDatagrams, 300u);
}

TEST_F(ForwardTest, NoRedirectWhenLeavingByAnotherInterface) {
  UdpSock& a = net.socket(kA);
  for (int t = 0; t < 5; ++t) ASSERT_TRUE(net.send(kA, a, pattern(10), to(net.addr(kB), 9)).ok());
  net.run();
  EXPECT_EQ(net.stats(kR).icmp.OutRedirects, 0u);
}

// Linux 6.18, ip_error for an unreachable route: a fresh sender of 12
// datagrams 1 ms apart heard 2 host unreachables (ip_error's bucket and
// icmp_ratelimit draw on the same tokens), and 12 more 2.1 s later 1.
TEST_F(ForwardTest, UnreachableRouteErrorsAreRateLimitedPerSender) {
  net.stack(kR).routes().add(route(kUnreachable, RouteType::kUnreachable, 0, {}));
  net.stack(kA).routes().add(route(kUnreachable, RouteType::kUnicast, 1, net.addr(kR)));
  UdpSock& a = net.socket(kA);
  auto burst = [&] {
    size_t heard = 0;
    for (int i = 0; i < 12; ++i) {
      EXPECT_TRUE(net.send(kA, a, pattern(10), to(wire::Ipv4Addr(10, 98, 0, 5), 9)).ok());
      net.run(std::chrono::milliseconds(1));
      for (const IcmpSeen& m : icmp_at(net, kA)) {
        EXPECT_EQ(m.type, 3);
        EXPECT_EQ(m.code, 1);
        ++heard;
      }
    }
    return heard;
  };
  EXPECT_EQ(burst(), 2u);
  net.run(std::chrono::milliseconds(2100));
  EXPECT_EQ(burst(), 1u);
}

}  // namespace
}  // namespace xnet::stack
