// Path MTU discovery (issue 15, items 1 and 3): A — R — B, the R–B link
// smaller than A's. A's DF datagram that does not fit makes R answer
// "fragmentation needed"; A's path MTU to B drops to what R said, per
// destination, as Linux 6.18 did in a namespace topology of the same shape
// (A 1500 — R — 1400 B, python sockets; the numbers each test pins are the
// kernel's answers, quoted where they are checked):
//  - `ip route get B` showed "cache expires 599sec mtu 1400" for B only;
//  - "want" fragmented the next 1472-byte datagram at 1400 without DF, and
//    kept DF on one that fitted; "do" over 1372 was EMSGSIZE with an error
//    queue entry (origin local, ee_info 1400, the connected port or 0);
//    "probe" sent 1472 with DF again; IP_MTU read 1400 (ENOTCONN unconnected);
//  - an ICMP saying 0, 68 or 500 gave "mtu lock 552": "want" then never set
//    DF and fragmented at 552; a locked MTU ignored later ICMPs;
//  - an ICMP above the current MTU changed nothing;
//  - interface/omit sockets taught the route nothing but still heard
//    EMSGSIZE; "dont" sockets taught it and heard nothing.
// Other ICMPs (MTU 0, 9000, refreshes) are handed to udp_err as icmp_rcv
// would, since R only ever says its link's MTU.

#include <gtest/gtest.h>

#include <chrono>

#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/ipv4/route_output.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/icmp.h"
#include "tests/stack/tx/ref_checksum.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using namespace std::chrono_literals;
using txtest::Captured;
using txtest::LinkSpec;
using txtest::pattern;
using txtest::TxNet;

constexpr int kA = 0, kR = 1, kB = 2;
constexpr uint16_t kPortB = 5000;
constexpr uint32_t kFarMtu = 1000;  // the R–B link; A–R is 1500

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }
std::error_code emsgsize() { return std::make_error_code(std::errc::message_size); }

class PmtuTest : public ::testing::Test {
 protected:
  explicit PmtuTest(uint32_t far_mtu = kFarMtu) : net(3, {LinkSpec{}, LinkSpec{far_mtu}}) {
    net.stack(kR).config().ip_forward = true;
    // B listens, so no port unreachable comes back to mix with what R sees.
    rb = &net.socket(kB);
    net.bind(kB, *rb, kPortB);
  }
  void TearDown() override {
    net.close_all();
    net.run(10ms);
    EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked";
  }

  wire::Ipv4Addr b() const { return net.addr(kB); }
  // R's address on the B side: another destination through the same next hop.
  wire::Ipv4Addr r_far() const { return wire::Ipv4Addr(10, 0, 2, 2); }

  // A's route to `dst` as a send resolves it (with its PMTU exception).
  ResolvedRoute route_to(wire::Ipv4Addr dst) {
    OutputFlow fl{wire::Ipv4Addr(), dst, 0, false};
    auto r = route_output(net.stack(kA), fl);
    EXPECT_TRUE(r.ok());
    return r ? *r : ResolvedRoute{};
  }
  uint32_t path_mtu(wire::Ipv4Addr dst) { return dst_mtu(route_to(dst), 1500, net.now()); }

  // A sends one `n`-byte DF datagram to B that R cannot forward; R answers
  // with "fragmentation needed" (its link's MTU), which reaches `s`.
  void learn_from_router(UdpSock& s, size_t n = 1472) {
    ASSERT_TRUE(net.send(kA, s, pattern(n), to(b(), kPortB)).ok());
    net.run();
    ASSERT_EQ(net.stats(kR).ip.FragFails, 1u);
    net.captured(kR);
    net.captured(kB);
  }

  // The ICMP "fragmentation needed" icmp_rcv would hand to udp_err for a
  // datagram `s` sent to B, saying `mtu`.
  bool icmp_frag_needed(UdpSock& s, uint32_t mtu, wire::Ipv4Addr dst = wire::Ipv4Addr()) {
    IcmpErrorInfo e;
    e.type = static_cast<uint8_t>(wire::IcmpType::kDestUnreachable);
    e.code = static_cast<uint8_t>(wire::IcmpUnreachCode::kFragNeeded);
    e.info = mtu;
    e.offender = net.addr(kR);
    e.saddr = net.addr(kA);
    e.daddr = dst.is_unspecified() ? b() : dst;
    e.sport = s.local_port;
    e.dport = kPortB;
    e.ifindex = 1;
    return udp_err(net.stack(kA), e, net.now());
  }

  UdpSock& sock(PmtuDisc mode, bool recverr = false) {
    UdpSock& s = net.socket(kA);
    net.bind(kA, s, 0);
    udp_set_pmtudisc(s, mode);
    udp_set_recverr(s, recverr);
    return s;
  }

  TxNet net;
  UdpSock* rb = nullptr;
};

// What R received from A for one datagram: its fragments in order.
void expect_fragmented_at(const std::vector<Captured>& caps, uint32_t mtu, size_t udp_payload) {
  ASSERT_GE(caps.size(), 2u);
  size_t offset = 0;
  for (size_t i = 0; i < caps.size(); ++i) {
    EXPECT_TRUE(txtest::ip_header_ok(caps[i].ip.data()));
    EXPECT_LE(caps[i].tot_len(), mtu) << i;
    EXPECT_FALSE(caps[i].df()) << i;
    EXPECT_EQ(caps[i].mf(), i + 1 < caps.size()) << i;
    EXPECT_EQ(caps[i].frag_off(), offset) << i;
    if (i + 1 < caps.size()) {
      EXPECT_EQ(caps[i].tot_len(), 20 + ((mtu - 20) & ~7u)) << i;
    }
    offset += caps[i].payload().size();
  }
  EXPECT_EQ(offset, 8 + udp_payload);
}

TEST_F(PmtuTest, FragNeededLowersThePathMtuOfThatDestinationOnly) {
  UdpSock& a = sock(PmtuDisc::kWant, /*recverr=*/true);
  EXPECT_EQ(path_mtu(b()), 1500u);
  learn_from_router(a);

  EXPECT_EQ(path_mtu(b()), kFarMtu);
  EXPECT_FALSE(route_to(b()).pmtu_locked);
  EXPECT_EQ(path_mtu(r_far()), 1500u);  // same next hop, another destination
  EXPECT_EQ(path_mtu(net.addr(kR)), 1500u);
  EXPECT_EQ(net.stack(kA).pmtu().size(), 1u);

  // __udp4_lib_err: EMSGSIZE, a hard error: the ICMP's entry on the error
  // queue (ee_info the MTU as R said it, offender R) and sk_err.
  auto e = udp_recv_error(a);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->err, std::errc::message_size);
  EXPECT_EQ(e->origin, ErrOrigin::kIcmp);
  EXPECT_EQ(e->type, 3);
  EXPECT_EQ(e->code, 4);
  EXPECT_EQ(e->info, kFarMtu);
  EXPECT_EQ(e->offender, net.addr(kR));
  EXPECT_EQ(e->dest_addr, b());
  EXPECT_EQ(e->dest_port, kPortB);

  // icmp_rcv counted it; nothing else moved.
  const Stats& st = net.stats(kA);
  EXPECT_EQ(st.icmp.InMsgs, 1u);
  EXPECT_EQ(st.icmp.InErrors, 0u);
  EXPECT_EQ(st.icmp.InDestUnreachs, 1u);
  EXPECT_EQ(st.udp.InErrors, 0u);

  // "want" now fragments at the learned MTU, without DF, and B gets it whole.
  const auto data = pattern(1472, 7);
  ASSERT_TRUE(net.send(kA, a, data, to(b(), kPortB)).ok());
  net.run();
  expect_fragmented_at(net.captured(kR), kFarMtu, data.size());
  auto got = net.recv_all(kB, *rb);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  EXPECT_EQ(st.ip.FragOKs, 1u);
  EXPECT_EQ(st.ip.FragCreates, 2u);
  // One that fits keeps DF (Linux: 972 bytes went out as 1000 with DF).
  ASSERT_TRUE(net.send(kA, a, pattern(972), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_TRUE(caps[0].df());
  EXPECT_EQ(caps[0].tot_len(), kFarMtu);
  EXPECT_EQ(net.recv_all(kB, *rb).size(), 1u);
  // The other destination still gets 1500-byte DF datagrams.
  ASSERT_TRUE(net.send(kA, a, pattern(1472), to(r_far(), 9)).ok());
  net.run();
  caps = net.captured(kR);
  ASSERT_GE(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_TRUE(caps[0].df());
}

TEST_F(PmtuTest, ConnectedSocketWithoutRecverrGetsSkErrUnconnectedNothing) {
  // Linux 6.18: a connected "want" socket read SO_ERROR EMSGSIZE; an
  // unconnected one 0 (harderr reaches connected sockets only), and both
  // taught the route.
  UdpSock& c = sock(PmtuDisc::kWant);
  net.connect(kA, c, b(), kPortB);
  learn_from_router(c);
  EXPECT_EQ(net.pending_error(kA, c), emsgsize());
  EXPECT_FALSE(udp_recv_error(c).ok());  // no IP_RECVERR: nothing queued

  UdpSock& u = sock(PmtuDisc::kWant);
  EXPECT_TRUE(icmp_frag_needed(u, 900));
  EXPECT_EQ(net.pending_error(kA, u), std::nullopt);
  EXPECT_EQ(path_mtu(b()), 900u);
}

TEST_F(PmtuTest, DoModeIsEmsgsizeAboveThePathMtuWithALocalErrorQueued) {
  UdpSock& a = sock(PmtuDisc::kWant);
  learn_from_router(a);
  // Connected, IP_RECVERR: the entry names the connected port.
  UdpSock& d = sock(PmtuDisc::kDo, /*recverr=*/true);
  net.connect(kA, d, b(), kPortB);
  EXPECT_TRUE(net.send(kA, d, pattern(972), std::nullopt).ok());
  EXPECT_EQ(net.send(kA, d, pattern(973), std::nullopt).error(), emsgsize());
  auto e = udp_recv_error(d);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->err, std::errc::message_size);
  EXPECT_EQ(e->origin, ErrOrigin::kLocal);
  EXPECT_EQ(e->type, 0);
  EXPECT_EQ(e->code, 0);
  EXPECT_EQ(e->info, kFarMtu);
  EXPECT_EQ(e->dest_addr, b());
  EXPECT_EQ(e->dest_port, kPortB);
  EXPECT_EQ(net.pending_error(kA, d), std::nullopt);  // sock_queue_err_skb sets no sk_err
  EXPECT_FALSE(udp_recv_error(d).ok());
  // Unconnected: inet_dport is 0, whatever sendto named.
  UdpSock& u = sock(PmtuDisc::kDo, /*recverr=*/true);
  EXPECT_EQ(net.send(kA, u, pattern(973), to(b(), kPortB)).error(), emsgsize());
  e = udp_recv_error(u);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->info, kFarMtu);
  EXPECT_EQ(e->dest_addr, b());
  EXPECT_EQ(e->dest_port, 0);
  // Without IP_RECVERR: the error, nothing queued.
  UdpSock& q = sock(PmtuDisc::kDo);
  EXPECT_EQ(net.send(kA, q, pattern(973), to(b(), kPortB)).error(), emsgsize());
  EXPECT_FALSE(udp_recv_error(q).ok());
  // The datagram that fitted left with DF at the path MTU.
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), kFarMtu);
  EXPECT_TRUE(caps[0].df());
  // A local EMSGSIZE moves no counter (__ip_append_data's size check).
  EXPECT_EQ(net.stats(kA).ip.OutDiscards, 0u);
}

TEST_F(PmtuTest, WantOverTheLargestDatagramQueuesTheMtuToo) {
  // Linux 6.18: 65508 bytes in "want" (or "dont") with IP_RECVERR: EMSGSIZE
  // and a local entry whose ee_info is the path MTU (1400 learned, else 1500).
  UdpSock& a = sock(PmtuDisc::kWant, /*recverr=*/true);
  EXPECT_EQ(net.send(kA, a, pattern(kUdpMaxPayload + 1), to(b(), kPortB)).error(), emsgsize());
  auto e = udp_recv_error(a);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->origin, ErrOrigin::kLocal);
  EXPECT_EQ(e->info, 1500u);
  learn_from_router(a);
  ASSERT_TRUE(udp_recv_error(a).ok());  // the ICMP's entry
  EXPECT_EQ(net.send(kA, a, pattern(kUdpMaxPayload + 1), to(b(), kPortB)).error(), emsgsize());
  e = udp_recv_error(a);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->info, kFarMtu);
}

TEST_F(PmtuTest, ProbeModeIgnoresTheLearnedMtu) {
  UdpSock& a = sock(PmtuDisc::kWant);
  learn_from_router(a);
  UdpSock& p = sock(PmtuDisc::kProbe, /*recverr=*/true);
  ASSERT_TRUE(net.send(kA, p, pattern(1472), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_GE(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_TRUE(caps[0].df());
  // R said 1000 again: probe accepts it (ip_sk_accept_pmtu) and hears it.
  auto e = udp_recv_error(p);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->origin, ErrOrigin::kIcmp);
  EXPECT_EQ(net.send(kA, p, pattern(1473), to(b(), kPortB)).error(), emsgsize());
  e = udp_recv_error(p);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->origin, ErrOrigin::kLocal);
  EXPECT_EQ(e->info, 1500u);  // the device's MTU, not the path's
}

TEST_F(PmtuTest, IpMtuReadsThePathMtuOfAConnectedSocket) {
  UdpSock& u = sock(PmtuDisc::kWant);
  EXPECT_EQ(udp_get_mtu(net.stack(kA), u, net.now()).error(), std::make_error_code(std::errc::not_connected));
  UdpSock& c = sock(PmtuDisc::kWant);
  net.connect(kA, c, b(), kPortB);
  EXPECT_EQ(*udp_get_mtu(net.stack(kA), c, net.now()), 1500u);
  learn_from_router(u);
  EXPECT_EQ(*udp_get_mtu(net.stack(kA), c, net.now()), kFarMtu);
  // Every mode reads the route's MTU (Linux: probe/interface/omit read 1400).
  for (PmtuDisc m : {PmtuDisc::kProbe, PmtuDisc::kInterface, PmtuDisc::kOmit}) {
    udp_set_pmtudisc(c, m);
    EXPECT_EQ(*udp_get_mtu(net.stack(kA), c, net.now()), kFarMtu);
  }
}

TEST_F(PmtuTest, TheLearnedMtuExpiresAfterMtuExpires) {
  UdpSock& a = sock(PmtuDisc::kWant);
  UdpSock& c = sock(PmtuDisc::kWant);
  net.connect(kA, c, b(), kPortB);
  learn_from_router(a);
  const auto learned = net.now();
  net.run(599s);
  EXPECT_EQ(path_mtu(b()), kFarMtu);
  EXPECT_EQ(*udp_get_mtu(net.stack(kA), c, net.now()), kFarMtu);
  net.run(std::chrono::duration_cast<std::chrono::milliseconds>(learned + 600s - net.now()));
  EXPECT_EQ(path_mtu(b()), 1500u);
  EXPECT_EQ(*udp_get_mtu(net.stack(kA), c, net.now()), 1500u);
  // The next 1472-byte datagram leaves whole with DF again (and R answers again).
  ASSERT_TRUE(net.send(kA, a, pattern(1472), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_TRUE(caps[0].df());
  EXPECT_EQ(path_mtu(b()), kFarMtu);
}

TEST_F(PmtuTest, NeverRaisedAndRefreshedOnlyInTheSecondHalfOfItsLife) {
  UdpSock& a = sock(PmtuDisc::kWant);
  EXPECT_TRUE(icmp_frag_needed(a, 9000));  // above the device's: ignored
  EXPECT_EQ(net.stack(kA).pmtu().size(), 0u);
  EXPECT_TRUE(icmp_frag_needed(a, 1450));
  EXPECT_EQ(path_mtu(b()), 1450u);
  EXPECT_TRUE(icmp_frag_needed(a, 1480));  // above the learned one: ignored
  EXPECT_EQ(path_mtu(b()), 1450u);
  const auto t0 = net.now();
  EXPECT_EQ(route_to(b()).pmtu_expires, t0 + 600s);
  net.run(200s);
  EXPECT_TRUE(icmp_frag_needed(a, 1450));  // the same MTU early in its life: unchanged
  EXPECT_EQ(route_to(b()).pmtu_expires, t0 + 600s);
  net.run(200s);
  EXPECT_TRUE(icmp_frag_needed(a, 1450));  // past half: refreshed
  EXPECT_EQ(route_to(b()).pmtu_expires, t0 + 1000s);
  EXPECT_TRUE(icmp_frag_needed(a, 1400));  // lower: taken at once
  EXPECT_EQ(path_mtu(b()), 1400u);
}

TEST_F(PmtuTest, AnIcmpForNoSocketTeachesNothing) {
  UdpSock& a = sock(PmtuDisc::kWant);
  IcmpErrorInfo e;
  e.type = 3;
  e.code = 4;
  e.info = 1000;
  e.saddr = net.addr(kA);
  e.daddr = b();
  e.sport = static_cast<uint16_t>(a.local_port + 1);
  e.dport = kPortB;
  e.ifindex = 1;
  EXPECT_FALSE(udp_err(net.stack(kA), e, net.now()));
  EXPECT_EQ(net.stack(kA).pmtu().size(), 0u);
}

class PmtuClampTest : public PmtuTest {
 protected:
  PmtuClampTest() : PmtuTest(500) {}
};

TEST_F(PmtuClampTest, BelowMinPmtuIsClampedTo552AndLocked) {
  UdpSock& a = sock(PmtuDisc::kWant);
  learn_from_router(a);  // R says 500
  EXPECT_EQ(path_mtu(b()), 552u);
  EXPECT_TRUE(route_to(b()).pmtu_locked);
  // Locked: later ICMPs change nothing (Linux: 1000 and 300 left "lock 552").
  EXPECT_TRUE(icmp_frag_needed(a, 300));
  EXPECT_TRUE(icmp_frag_needed(a, 530));
  EXPECT_EQ(path_mtu(b()), 552u);
  // "want" never sets DF on a locked path (Linux: 100 bytes went without DF)
  // and fragments at 552 (1000 bytes: 548 + 500).
  ASSERT_TRUE(net.send(kA, a, pattern(100), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_FALSE(caps[0].df());
  ASSERT_TRUE(net.send(kA, a, pattern(1000), to(b(), kPortB)).ok());
  net.run();
  expect_fragmented_at(net.captured(kR), 552, 1000);
  // "do" still sets DF and is limited to 552 (Linux: 525 EMSGSIZE, ee_info 552).
  UdpSock& d = sock(PmtuDisc::kDo, /*recverr=*/true);
  EXPECT_EQ(net.send(kA, d, pattern(525), to(b(), kPortB)).error(), emsgsize());
  auto e = udp_recv_error(d);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->info, 552u);
  ASSERT_TRUE(net.send(kA, d, pattern(524), to(b(), kPortB)).ok());
  net.run();
  caps = net.captured(kR);
  ASSERT_GE(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 552);
  EXPECT_TRUE(caps[0].df());
}

TEST_F(PmtuTest, ZeroMtuIsTheMinimumLocked) {
  UdpSock& a = sock(PmtuDisc::kWant);
  EXPECT_TRUE(icmp_frag_needed(a, 0));
  EXPECT_EQ(path_mtu(b()), 552u);
  EXPECT_TRUE(route_to(b()).pmtu_locked);
  // The lock goes with the MTU when it expires: DF again.
  net.run(600s);
  EXPECT_EQ(path_mtu(b()), 1500u);
  EXPECT_FALSE(dst_mtu_locked(route_to(b()), net.now()));
}

TEST_F(PmtuTest, InterfaceAndOmitIgnoreTheIcmpButHearIt) {
  for (PmtuDisc m : {PmtuDisc::kInterface, PmtuDisc::kOmit}) {
    UdpSock& s = sock(m, /*recverr=*/true);
    net.connect(kA, s, b(), kPortB);
    EXPECT_TRUE(icmp_frag_needed(s, 1000));
    EXPECT_EQ(net.stack(kA).pmtu().size(), 0u);
    EXPECT_EQ(net.pending_error(kA, s), emsgsize());
    auto e = udp_recv_error(s);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->origin, ErrOrigin::kIcmp);
    EXPECT_EQ(e->info, 1000u);
  }
}

TEST_F(PmtuTest, DontModeLearnsButHearsNothing) {
  UdpSock& s = sock(PmtuDisc::kDont, /*recverr=*/true);
  net.connect(kA, s, b(), kPortB);
  EXPECT_TRUE(icmp_frag_needed(s, 1000));
  EXPECT_EQ(path_mtu(b()), 1000u);
  EXPECT_EQ(net.pending_error(kA, s), std::nullopt);
  EXPECT_FALSE(udp_recv_error(s).ok());
  // And fragments at it (Linux: "dont" 1000 bytes to a 1000 path went 996 + 52).
  ASSERT_TRUE(net.send(kA, s, pattern(1000), std::nullopt).ok());
  net.run();
  expect_fragmented_at(net.captured(kR), 1000, 1000);
}

TEST_F(PmtuTest, InterfaceUsesTheDeviceMtuWithoutDfAndEmsgsizeAboveIt) {
  UdpSock& a = sock(PmtuDisc::kWant);
  learn_from_router(a);
  // Linux 6.18 with a learned 1400: interface sent 1472 as 1500 bytes without
  // DF (the router fragmented it); 1473 was EMSGSIZE with ee_info 1500.
  UdpSock& i = sock(PmtuDisc::kInterface, /*recverr=*/true);
  ASSERT_TRUE(net.send(kA, i, pattern(1472), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_FALSE(caps[0].df());
  EXPECT_EQ(net.send(kA, i, pattern(1473), to(b(), kPortB)).error(), emsgsize());
  auto e = udp_recv_error(i);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->origin, ErrOrigin::kLocal);
  EXPECT_EQ(e->info, 1500u);
}

TEST_F(PmtuTest, OmitUsesTheDeviceMtuWithoutDfAndFragmentsAboveIt) {
  UdpSock& a = sock(PmtuDisc::kWant);
  learn_from_router(a);
  // Linux 6.18: omit sent 1472 whole without DF, and fragmented 1473 at 1500.
  UdpSock& o = sock(PmtuDisc::kOmit, /*recverr=*/true);
  ASSERT_TRUE(net.send(kA, o, pattern(1472), to(b(), kPortB)).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_FALSE(caps[0].df());
  ASSERT_TRUE(net.send(kA, o, pattern(1473), to(b(), kPortB)).ok());
  net.run();
  expect_fragmented_at(net.captured(kR), 1500, 1473);
  EXPECT_FALSE(udp_recv_error(o).ok());
}

// The connected socket's prebuilt headers (udp_header_cache.h) carry DF and
// are sized for the path: a PMTU change must send the next datagram through
// the stages, and so must the PMTU's expiry.
TEST_F(PmtuTest, HeaderCacheFollowsThePathMtu) {
  UdpSock& c = sock(PmtuDisc::kWant);
  net.connect(kA, c, b(), kPortB);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(net.send(kA, c, pattern(100), std::nullopt).ok());
    net.run();  // the first resolves R's MAC; the cache fills from the second
  }
  ASSERT_TRUE(c.tx.hdr_cache.valid);
  for (const Captured& cap : net.captured(kR)) EXPECT_TRUE(cap.df());
  // A lock at 552: "want" stops setting DF, the template with it.
  EXPECT_TRUE(icmp_frag_needed(c, 0));
  net.pending_error(kA, c);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.send(kA, c, pattern(100), std::nullopt).ok());
  net.run();
  auto caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 3u);
  for (const Captured& cap : caps) EXPECT_FALSE(cap.df());
  EXPECT_TRUE(c.tx.hdr_cache.valid);  // rebuilt for the locked path
  // 600 s later the lock is gone: DF again, from the first datagram on.
  net.run(600s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.send(kA, c, pattern(100), std::nullopt).ok());
  net.run();
  caps = net.captured(kR);
  ASSERT_EQ(caps.size(), 3u);
  for (const Captured& cap : caps) EXPECT_TRUE(cap.df());
}

TEST_F(PmtuTest, HeaderCacheSendsNothingAboveANewlyLearnedMtu) {
  // A template built while the path was 1500 sends a 1200-byte datagram
  // whole with DF; once R said 1000, the next one must fragment.
  UdpSock& c = sock(PmtuDisc::kWant);
  net.connect(kA, c, b(), kPortB);
  ASSERT_TRUE(net.send(kA, c, pattern(100), std::nullopt).ok());
  net.run();  // R's MAC
  ASSERT_TRUE(net.send(kA, c, pattern(100), std::nullopt).ok());
  ASSERT_TRUE(c.tx.hdr_cache.valid);
  ASSERT_TRUE(net.send(kA, c, pattern(1200), std::nullopt).ok());  // through the template
  net.run();  // R: frag-needed
  EXPECT_EQ(net.stats(kR).ip.FragFails, 1u);
  net.captured(kR);
  EXPECT_EQ(path_mtu(b()), kFarMtu);
  EXPECT_EQ(net.pending_error(kA, c), emsgsize());
  const auto data = pattern(1200, 3);
  ASSERT_TRUE(net.send(kA, c, data, std::nullopt).ok());
  net.run();
  expect_fragmented_at(net.captured(kR), kFarMtu, data.size());
  auto got = net.recv_all(kB, *rb);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].data, data);
}

}  // namespace
}  // namespace xnet::stack
