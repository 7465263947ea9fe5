// udp_sendmsg end to end over MemoryLink: errors with their errno and
// counters, per-send and socket options as seen on the wire, cork sequences,
// the GSO matrix, fragmentation at MTU 1500/576/68, send-buffer accounting.
// Checksums are checked with ref_checksum.h (not the implementation under test).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "stack/core/hooks.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/tx/ref_checksum.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::Captured;
using txtest::pattern;
using txtest::TxNet;

constexpr uint16_t kPortB = 5000;

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }

std::error_code err(std::errc e) { return std::make_error_code(e); }

// Checks one complete (unfragmented) UDP packet as received.
void expect_udp_ok(const Captured& c, uint16_t sport, uint16_t dport, size_t payload) {
  EXPECT_TRUE(txtest::ip_header_ok(c.ip.data()));
  EXPECT_EQ(c.protocol(), 17);
  EXPECT_EQ(c.tot_len(), c.header_len() + 8 + payload);
  const std::byte* u = c.ip.data() + c.header_len();
  EXPECT_EQ(txtest::be16(u), sport);
  EXPECT_EQ(txtest::be16(u + 2), dport);
  EXPECT_EQ(txtest::be16(u + 4), 8 + payload);
  bool none = true;
  EXPECT_TRUE(txtest::udp_checksum_ok(c.ip.data(), &none));
  EXPECT_FALSE(none);
}

class UdpSendTest : public ::testing::Test {
 protected:
  void TearDown() override {
    net.close_all();  // queued datagrams and pending corks give their frames back
    net.run(std::chrono::milliseconds(10));
    EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked";
  }
  TxNet net{2};
};

TEST_F(UdpSendTest, PlainSendArrivesWithChecksumAndCounters) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(100);
  auto r = net.send(0, a, data, to(net.addr(1), kPortB));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, 100u);
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  // Ephemeral port chosen on the first send, in the kernel's default range.
  const uint16_t sport = net.local_port(a);
  EXPECT_GE(sport, 32768);
  EXPECT_LE(sport, 60999);
  expect_udp_ok(caps[0], sport, kPortB, 100);
  EXPECT_EQ(caps[0].ttl(), 64);
  EXPECT_TRUE(caps[0].df());  // pmtudisc "want", fits the MTU
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  EXPECT_EQ(got[0].from_port, sport);
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 1u);
  EXPECT_EQ(net.stats(0).ip.OutRequests, 1u);
  // Same port on the next send.
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  EXPECT_EQ(net.local_port(a), sport);
}

TEST_F(UdpSendTest, DestinationErrors) {
  UdpSock& a = net.socket(0);
  const auto data = pattern(10);
  EXPECT_EQ(net.send(0, a, data, std::nullopt).error(), err(std::errc::destination_address_required));
  EXPECT_EQ(net.send(0, a, data, SockAddrIn{10, {net.addr(1), kPortB}}).error(),
            err(std::errc::address_family_not_supported));
  EXPECT_EQ(net.send(0, a, data, to(net.addr(1), 0)).error(), err(std::errc::invalid_argument));
  SendOptions oob;
  oob.oob = true;
  EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB), oob).error(),
            err(std::errc::operation_not_supported));
  // AF_UNSPEC is taken as AF_INET.
  EXPECT_TRUE(net.send(0, a, data, SockAddrIn{kAfUnspec, {net.addr(1), kPortB}}).ok());
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 1u);
}

TEST_F(UdpSendTest, BadCmsgValuesAreEinval) {
  UdpSock& a = net.socket(0);
  const auto data = pattern(10);
  for (int ttl : {0, 256, -1}) {
    SendOptions o;
    o.ttl = ttl;
    EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB), o).error(), err(std::errc::invalid_argument))
        << ttl;
  }
  for (int tos : {-1, 256}) {
    SendOptions o;
    o.tos = tos;
    EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB), o).error(), err(std::errc::invalid_argument))
        << tos;
  }
  EXPECT_EQ(udp_set_ttl(a, 0).error(), err(std::errc::invalid_argument));
  EXPECT_EQ(udp_set_ttl(a, 256).error(), err(std::errc::invalid_argument));
  EXPECT_TRUE(udp_set_ttl(a, -1).ok());
  EXPECT_EQ(udp_set_multicast_ttl(a, 256).error(), err(std::errc::invalid_argument));
  EXPECT_EQ(udp_set_gso_size(a, 70000).error(), err(std::errc::invalid_argument));
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 0u);
}

TEST_F(UdpSendTest, NoRouteIsEnetunreachAndOutNoRoutes) {
  UdpSock& a = net.socket(0);
  const auto data = pattern(10);
  auto r = net.send(0, a, data, to(wire::Ipv4Addr(192, 168, 77, 1), 9));
  EXPECT_EQ(r.error(), err(std::errc::network_unreachable));
  EXPECT_EQ(net.stats(0).ip.OutNoRoutes, 1u);
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 0u);
}

TEST_F(UdpSendTest, BroadcastNeedsSoBroadcast) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(20);
  EXPECT_EQ(net.send(0, a, data, to(wire::Ipv4Addr(10, 0, 1, 255), kPortB)).error(),
            err(std::errc::permission_denied));
  // Linux 6.18: 255.255.255.255 has no route of its own; without a default
  // route it is ENETUNREACH, with or without SO_BROADCAST.
  EXPECT_EQ(net.send(0, a, data, to(wire::kIpv4Broadcast, kPortB)).error(), err(std::errc::network_unreachable));
  udp_set_broadcast(a, true);
  EXPECT_EQ(net.send(0, a, data, to(wire::kIpv4Broadcast, kPortB)).error(), err(std::errc::network_unreachable));
  // Bound to our address, it leaves by that address's interface.
  UdpSock& bound = net.socket(0);
  ASSERT_TRUE(net.stack(0).udp().bind(bound, net.addr(0), 0).ok());
  EXPECT_EQ(net.send(0, bound, data, to(wire::kIpv4Broadcast, kPortB)).error(), err(std::errc::permission_denied));
  udp_set_broadcast(bound, true);
  EXPECT_TRUE(net.send(0, bound, data, to(wire::kIpv4Broadcast, kPortB)).ok());
  net.run();
  (void)net.captured(1);
  (void)net.recv_all(1, b);
  ASSERT_TRUE(net.send(0, a, data, to(wire::Ipv4Addr(10, 0, 1, 255), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].dst(), wire::Ipv4Addr(10, 0, 1, 255));
  EXPECT_EQ(net.recv_all(1, b).size(), 1u);
}

TEST_F(UdpSendTest, SizeLimits) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto big = pattern(70000);
  EXPECT_EQ(net.send(0, a, std::span(big).first(65508), to(net.addr(1), kPortB)).error(),
            err(std::errc::message_size));
  EXPECT_EQ(net.send(0, a, std::span(big).first(65536), to(net.addr(1), kPortB)).error(),
            err(std::errc::message_size));
  // DF (pmtudisc do): the MTU is the limit.
  udp_set_pmtudisc(a, PmtuDisc::kDo);
  EXPECT_EQ(net.send(0, a, std::span(big).first(1473), to(net.addr(1), kPortB)).error(),
            err(std::errc::message_size));
  ASSERT_TRUE(net.send(0, a, std::span(big).first(1472), to(net.addr(1), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_TRUE(caps[0].df());
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 1u);
}

TEST_F(UdpSendTest, PmtuModesAndDf) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(2000);
  // want: DF when it fits, fragments without DF when not.
  ASSERT_TRUE(net.send(0, a, std::span(data).first(1000), to(net.addr(1), kPortB)).ok());
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_TRUE(caps[0].df());
  EXPECT_FALSE(caps[1].df());
  EXPECT_FALSE(caps[2].df());
  // dont: never DF.
  udp_set_pmtudisc(a, PmtuDisc::kDont);
  ASSERT_TRUE(net.send(0, a, std::span(data).first(1000), to(net.addr(1), kPortB)).ok());
  net.run();
  caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_FALSE(caps[0].df());
  // probe: DF like do.
  udp_set_pmtudisc(a, PmtuDisc::kProbe);
  EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB)).error(), err(std::errc::message_size));
  EXPECT_EQ(net.recv_all(1, b).size(), 3u);
}

TEST_F(UdpSendTest, TtlAndTosPrecedence) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(10);
  ASSERT_TRUE(udp_set_ttl(a, 7).ok());
  ASSERT_TRUE(udp_set_tos(a, 0x10).ok());
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  SendOptions o;
  o.ttl = 200;
  o.tos = 0x28;
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB), o).ok());
  ASSERT_TRUE(udp_set_ttl(a, -1).ok());
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_EQ(caps[0].ttl(), 7);
  EXPECT_EQ(caps[0].tos(), 0x10);
  EXPECT_EQ(caps[1].ttl(), 200);
  EXPECT_EQ(caps[1].tos(), 0x28);
  EXPECT_EQ(caps[2].ttl(), 64);
  net.recv_all(1, b);
}

TEST_F(UdpSendTest, PktinfoSource) {
  // Linux 6.18: a source that is not ours is ENETUNREACH and OutNoRoutes
  // (10.99.9.9, the peer's own address, 0.1.2.3); a multicast or limited
  // broadcast source is EINVAL and counts nothing.
  UdpSock& a = net.socket(0);
  const auto data = pattern(10);
  SendOptions o;
  uint64_t no_routes = 0;
  for (const wire::Ipv4Addr src : {wire::Ipv4Addr(10, 9, 9, 9), net.addr(1), wire::Ipv4Addr(0, 1, 2, 3)}) {
    o.source = src;
    EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB), o).error(), err(std::errc::network_unreachable))
        << src.to_string();
    EXPECT_EQ(net.stats(0).ip.OutNoRoutes, ++no_routes) << src.to_string();
  }
  for (const wire::Ipv4Addr src : {wire::Ipv4Addr(224, 0, 0, 1), wire::Ipv4Addr(255, 255, 255, 255)}) {
    o.source = src;
    EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB), o).error(), err(std::errc::invalid_argument))
        << src.to_string();
  }
  EXPECT_EQ(net.stats(0).ip.OutNoRoutes, no_routes);
  EXPECT_EQ(net.stats(0).ip.OutRequests, 0u);
  o.source = net.addr(0);
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB), o).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].src(), net.addr(0));
}

TEST_F(UdpSendTest, NoCheckTxSendsZero) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  udp_set_no_check_tx(a, true);
  ASSERT_TRUE(net.send(0, a, pattern(33), to(net.addr(1), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  bool none = false;
  EXPECT_TRUE(txtest::udp_checksum_ok(caps[0].ip.data(), &none));
  EXPECT_TRUE(none);
  EXPECT_EQ(net.recv_all(1, b).size(), 1u);
}

TEST_F(UdpSendTest, ConnectedRouteCacheFollowsTheTable) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  net.connect(0, a, net.addr(1), kPortB);
  const auto data = pattern(10);
  ASSERT_TRUE(net.send(0, a, data, std::nullopt).ok());
  EXPECT_TRUE(a.tx.dst_cache.valid);
  // Removing the connected route bumps the generation: the cache is not used.
  auto& routes = net.stack(0).routes();
  const uint64_t gen = routes.generation();
  ASSERT_TRUE(routes.remove(wire::Ipv4Prefix{wire::Ipv4Addr(10, 0, 1, 0), 24}));
  EXPECT_NE(routes.generation(), gen);
  EXPECT_EQ(net.send(0, a, data, std::nullopt).error(), err(std::errc::network_unreachable));
  EXPECT_EQ(net.stats(0).ip.OutNoRoutes, 1u);
  net.run();
  EXPECT_EQ(net.recv_all(1, b).size(), 1u);
}

TEST_F(UdpSendTest, SendBufferFullIsEagainThenFreesOnCompletion) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  ASSERT_TRUE(udp_set_sndbuf(a, 0).ok());  // the minimum: 4608 bytes
  const auto data = pattern(100);
  int ok = 0;
  Result<size_t> r = size_t{0};
  for (int i = 0; i < 10; ++i) {
    r = net.send(0, a, data, to(net.addr(1), kPortB));
    if (!r) break;
    ++ok;
  }
  EXPECT_EQ(r.error(), err(std::errc::resource_unavailable_try_again));
  EXPECT_GE(ok, 2);
  EXPECT_EQ(net.stats(0).udp.SndbufErrors, 1u);
  EXPECT_GT(udp_wmem_alloc(a), 0u);
  net.run();
  EXPECT_EQ(udp_wmem_alloc(a), 0u);  // released as the frames completed
  EXPECT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  net.run();
  EXPECT_EQ(net.recv_all(1, b).size(), static_cast<size_t>(ok + 1));
}

TEST_F(UdpSendTest, IpIdsFollowLinux519Rules) {
  UdpSock& a = net.socket(0);
  UdpSock& c = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(10);
  // A connected socket numbers its datagrams with its own counter.
  net.connect(0, c, net.addr(1), kPortB);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.send(0, c, data, std::nullopt).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_EQ(static_cast<uint16_t>(caps[0].id() + 1), caps[1].id());
  EXPECT_EQ(static_cast<uint16_t>(caps[1].id() + 1), caps[2].id());
  // Unconnected with IP_PMTUDISC_DO: DF and nobody may fragment: ID 0.
  udp_set_pmtudisc(a, PmtuDisc::kDo);
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  net.run();
  caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_TRUE(caps[0].df());
  EXPECT_EQ(caps[0].id(), 0);
  EXPECT_EQ(net.recv_all(1, b).size(), 4u);
}

TEST_F(UdpSendTest, UnknownPktinfoInterfaceIsEnodev) {
  UdpSock& a = net.socket(0);
  SendOptions o;
  o.ifindex = 9;
  EXPECT_EQ(net.send(0, a, pattern(10), to(net.addr(1), kPortB), o).error(), err(std::errc::no_such_device));
}

TEST_F(UdpSendTest, MulticastTtlAndInterface) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const wire::Ipv4Addr group(239, 1, 2, 3);
  net.stack(1).join_group(1, group);
  const auto data = pattern(10);
  // No route to 239/8 and no IP_MULTICAST_IF: nowhere to send.
  EXPECT_EQ(net.send(0, a, data, to(group, kPortB)).error(), err(std::errc::network_unreachable));
  udp_set_multicast_if(a, wire::Ipv4Addr(), 1);
  ASSERT_TRUE(net.send(0, a, data, to(group, kPortB)).ok());
  ASSERT_TRUE(udp_set_multicast_ttl(a, 5).ok());
  ASSERT_TRUE(udp_set_ttl(a, 77).ok());  // unicast TTL: not used for groups
  ASSERT_TRUE(net.send(0, a, data, to(group, kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].dst(), group);
  EXPECT_EQ(caps[0].ttl(), 1);  // IP_MULTICAST_TTL default
  EXPECT_EQ(caps[1].ttl(), 5);
  EXPECT_EQ(caps[0].src(), net.addr(0));
}

TEST_F(UdpSendTest, PendingDatagramOfAnotherFamilyIsEinval) {
  UdpSock& a = net.socket(0);
  SendOptions more;
  more.more = true;
  ASSERT_TRUE(net.send(0, a, pattern(10), to(net.addr(1), kPortB), more).ok());
  a.tx.pending = 10;  // as if an AF_INET6 socket had started it (v4-mapped)
  EXPECT_EQ(net.send(0, a, pattern(10), to(net.addr(1), kPortB)).error(), err(std::errc::invalid_argument));
  a.tx.pending = kAfInet;
  udp_flush_pending_frames(a);
  EXPECT_EQ(udp_wmem_alloc(a), 0u);
}

TEST_F(UdpSendTest, PendingErrorIsReportedOnceWhenADatagramStarts) {
  // B refuses the first datagram (port unreachable → sk_err ECONNREFUSED)
  // while the socket is corking a second one.
  UdpSock& a = net.socket(0);
  net.connect(0, a, net.addr(1), 9999);  // nobody listens there
  SendOptions more;
  more.more = true;
  ASSERT_TRUE(net.send(0, a, pattern(10), std::nullopt).ok());
  ASSERT_TRUE(net.send(0, a, pattern(10), std::nullopt, more).ok());
  net.run();
  ASSERT_EQ(a.sk_err, std::errc::connection_refused);
  // Appending to the corked datagram does not look at the error.
  EXPECT_TRUE(net.send(0, a, pattern(10), std::nullopt, more).ok());
  EXPECT_TRUE(net.send(0, a, pattern(10), std::nullopt).ok());  // the last append pushes it
  EXPECT_EQ(a.sk_err, std::errc::connection_refused);
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 2u);
  // The next datagram gets it, once, and sends nothing.
  EXPECT_EQ(net.send(0, a, pattern(10), std::nullopt).error(), err(std::errc::connection_refused));
  EXPECT_EQ(a.sk_err, std::errc{});
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 2u);
  EXPECT_TRUE(net.send(0, a, pattern(10), std::nullopt).ok());
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 3u);
}

TEST_F(UdpSendTest, PendingErrorWaitsBehindDestinationChecks) {
  // sock_alloc_send_pskb looks at sk_err only when the first frame is
  // allocated: a send that fails its destination check first leaves it pending.
  UdpSock& a = net.socket(0);
  net.connect(0, a, net.addr(1), 9999);  // nobody listens there
  ASSERT_TRUE(net.send(0, a, pattern(10), std::nullopt).ok());
  net.run();
  ASSERT_EQ(a.sk_err, std::errc::connection_refused);
  EXPECT_EQ(net.send(0, a, pattern(10), to(net.addr(1), 0)).error(), err(std::errc::invalid_argument));
  EXPECT_EQ(a.sk_err, std::errc::connection_refused);
  EXPECT_EQ(net.send(0, a, pattern(10), std::nullopt).error(), err(std::errc::connection_refused));
  EXPECT_EQ(a.sk_err, std::errc{});
}

TEST_F(UdpSendTest, NeighbourFailureReachesTheSocket) {
  // 10.0.1.99 is on link but nobody answers ARP: after the probes the queued
  // packets are dropped and their senders hear EHOSTUNREACH the way Linux
  // tells them (ipv4_link_failure's host-unreachable to ourselves, then
  // __udp4_lib_err): host unreachable is not a "fatal" ICMP error, so only
  // sockets with IP_RECVERR learn of it — on the error queue, and as the
  // pending error of a connected one. A connected socket without IP_RECVERR
  // hears nothing (not ECONNREFUSED-like).
  UdpSock& a = net.socket(0);
  UdpSock& c = net.socket(0);
  UdpSock& d = net.socket(0);
  a.recverr = true;
  c.recverr = true;
  const wire::Ipv4Addr nobody(10, 0, 1, 99);
  net.connect(0, c, nobody, 9);
  net.connect(0, d, nobody, 10);
  ASSERT_TRUE(net.send(0, a, pattern(10), to(nobody, 9)).ok());
  ASSERT_TRUE(net.send(0, c, pattern(10), std::nullopt).ok());
  ASSERT_TRUE(net.send(0, d, pattern(10), std::nullopt).ok());
  net.run_for(std::chrono::milliseconds(6000), std::chrono::milliseconds(250));
  auto e = udp_recv_error(a);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->err, std::errc::host_unreachable);
  EXPECT_EQ(e->dest_addr, nobody);
  EXPECT_EQ(e->dest_port, 9);
  EXPECT_FALSE(net.pending_error(0, a).has_value());  // unconnected: the queue only
  const auto pending = net.pending_error(0, c);  // SO_ERROR: reading clears it
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(*pending, err(std::errc::host_unreachable));
  EXPECT_FALSE(net.pending_error(0, c).has_value());  // reported once
  EXPECT_FALSE(net.pending_error(0, d).has_value());
  EXPECT_FALSE(udp_recv_error(d).ok());
  EXPECT_EQ(net.stats(0).dropped(DropReason::kNeighFailed), 3u);
}

TEST_F(UdpSendTest, HooksAtLocalOutAndPostRouting) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  Stack& s = net.stack(0);
  const auto data = pattern(10);
  // A recording hook at POST_ROUTING sees the finished packet.
  std::vector<uint16_t> seen;
  const auto rec = s.hooks().add(HookPoint::kPostRouting, 0, [&](Packet& p, auto) {
    seen.push_back(txtest::be16(p.network_header() + 2));
    return HookVerdict::kAccept;
  });
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], 38);  // tot_len set before the hook
  // A dropping hook at LOCAL_OUT: the sender gets EPERM, nothing leaves.
  const auto drop = s.hooks().add(HookPoint::kLocalOut, 0, [](Packet&, auto) { return HookVerdict::kDrop; });
  EXPECT_EQ(net.send(0, a, data, to(net.addr(1), kPortB)).error(), err(std::errc::operation_not_permitted));
  EXPECT_EQ(seen.size(), 1u);
  ASSERT_TRUE(s.hooks().remove(drop));
  // A stealing hook takes the packet (and frees it when done).
  Packet stolen;
  const auto steal = s.hooks().add(HookPoint::kLocalOut, 0, [&](Packet& p, auto) {
    stolen = std::move(p);
    return HookVerdict::kStolen;
  });
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  EXPECT_TRUE(stolen.valid());
  stolen.reset();
  ASSERT_TRUE(s.hooks().remove(steal));
  ASSERT_TRUE(s.hooks().remove(rec));
  net.run();
  EXPECT_EQ(net.captured(1).size(), 1u);
  EXPECT_EQ(net.recv_all(1, b).size(), 1u);
  EXPECT_EQ(net.stats(0).ip.OutRequests, 3u);
}

// ---- cork ----

TEST_F(UdpSendTest, MsgMoreSequenceMakesOneDatagram) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(3000);
  SendOptions more;
  more.more = true;
  ASSERT_TRUE(net.send(0, a, std::span(data).first(100), to(net.addr(1), kPortB), more).ok());
  // Later destinations are ignored while a datagram is pending.
  ASSERT_TRUE(net.send(0, a, std::span(data).subspan(100, 1500), to(net.addr(0), 1), more).ok());
  ASSERT_TRUE(net.send(0, a, std::span(data).subspan(1600), to(net.addr(1), kPortB)).ok());
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, 1u);
  net.run();
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 3u);  // 3008 bytes of UDP at MTU 1500
  for (auto& c : caps) {
    EXPECT_TRUE(txtest::ip_header_ok(c.ip.data()));
    EXPECT_EQ(c.frag_off() % 8, 0);
  }
}

TEST_F(UdpSendTest, CorkOptionThenUncork) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  ASSERT_TRUE(udp_set_cork(net.stack(0), a, true, net.now()).ok());
  const auto data = pattern(900);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(net.send(0, a, std::span(data).subspan(i * 300, 300), to(net.addr(1), kPortB)).ok());
  }
  net.run();
  EXPECT_TRUE(net.recv_all(1, b).empty());
  EXPECT_GT(udp_wmem_alloc(a), 0u);
  ASSERT_TRUE(udp_set_cork(net.stack(0), a, false, net.now()).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  expect_udp_ok(caps[0], net.local_port(a), kPortB, 900);  // software checksum over 3 appends
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
}

TEST_F(UdpSendTest, ErrorMidCorkFlushes) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  SendOptions more;
  more.more = true;
  const auto big = pattern(65000);
  ASSERT_TRUE(net.send(0, a, std::span(big).first(1000), to(net.addr(1), kPortB), more).ok());
  EXPECT_EQ(net.send(0, a, big, to(net.addr(1), kPortB), more).error(), err(std::errc::message_size));
  EXPECT_EQ(udp_wmem_alloc(a), 0u);  // the pending datagram was flushed
  // The next send starts a new datagram (and needs a destination again).
  ASSERT_TRUE(net.send(0, a, std::span(big).first(10), to(net.addr(1), kPortB)).ok());
  net.run();
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data.size(), 10u);
}

// ---- fragmentation ----

struct FragCase {
  uint32_t mtu;
  size_t payload;
};

class FragmentTest : public ::testing::TestWithParam<FragCase> {};

TEST_P(FragmentTest, FragmentsAndReassembles) {
  const auto [mtu, n] = GetParam();
  TxNet fnet(2, {txtest::LinkSpec{mtu}});
  {
    UdpSock& a = fnet.socket(0);
    UdpSock& b = fnet.socket(1);
    fnet.bind(1, b, kPortB);
    // The first datagram to a new neighbour waits in its ARP queue, bounded
    // in bytes (unres_qlen_bytes = 212992: the 119 fragments of 65507 bytes
    // at MTU 576 fit, the 1365 at MTU 68 do not): raise it so that this test
    // checks fragmentation, not the queue.
    fnet.stack(0).config().neigh_unres_qlen_bytes = 1u << 30;
    // 1365 fragments (65507 bytes at MTU 68) leave in one go: the interface
    // queue hands every full burst to the link (dev_queue_xmit), so txqueuelen
    // (1000) is not in the way.
    // Reassembly at B holds every fragment frame (2 KiB each): beyond the
    // default rcvbuf once queued; raise it like SO_RCVBUFFORCE.
    b.rcvbuf = 8u << 20;
    // 65507 bytes at MTU 68 need ~1400 frames: more than the default send
    // buffer (the kernel would say ENOBUFS too); raise it like SO_SNDBUFFORCE.
    a.tx.sndbuf->limit = 8u << 20;
    const auto data = pattern(n);
    auto r = fnet.send(0, a, data, to(fnet.addr(1), kPortB));
    ASSERT_TRUE(r.ok()) << r.error().message();
    fnet.run();
    auto caps = fnet.captured(1);
    const size_t per = (mtu - 20) & ~size_t{7};
    const size_t expect = n + 8 + 20 <= mtu ? 1 : (n + 8 + per - 1) / per;
    ASSERT_EQ(caps.size(), expect);
    uint32_t off = 0;
    for (size_t i = 0; i < caps.size(); ++i) {
      const Captured& c = caps[i];
      EXPECT_TRUE(txtest::ip_header_ok(c.ip.data()));
      EXPECT_LE(c.tot_len(), mtu);
      EXPECT_EQ(c.id(), caps[0].id());
      EXPECT_EQ(c.frag_off(), off);
      EXPECT_EQ(c.frag_off() % 8, 0);
      EXPECT_EQ(c.mf(), i + 1 != caps.size());
      off += static_cast<uint32_t>(c.payload().size());
    }
    EXPECT_EQ(off, n + 8);
    if (expect == 1) {
      expect_udp_ok(caps[0], fnet.local_port(a), kPortB, n);
      EXPECT_EQ(fnet.stats(0).ip.FragOKs, 0u);
    } else {
      EXPECT_EQ(fnet.stats(0).ip.FragOKs, 1u);
      EXPECT_EQ(fnet.stats(0).ip.FragCreates, expect);
    }
    auto got = fnet.recv_all(1, b);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, data);
    EXPECT_EQ(fnet.stats(0).udp.OutDatagrams, 1u);
    EXPECT_EQ(fnet.send(0, a, pattern(65508), to(fnet.addr(1), kPortB)).error(),
              err(std::errc::message_size));
  }
  fnet.close_all();  // queued datagrams and pending corks give their frames back
  fnet.run(std::chrono::milliseconds(10));
  EXPECT_EQ(fnet.frames_in_flight(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Mtus, FragmentTest,
                         ::testing::Values(FragCase{1500, 1472}, FragCase{1500, 1473},
                                           FragCase{1500, 65507}, FragCase{576, 1472},
                                           FragCase{576, 1473}, FragCase{576, 65507},
                                           FragCase{68, 1472}, FragCase{68, 1473},
                                           FragCase{68, 65507}),
                         [](const auto& info) {
                           return "mtu" + std::to_string(info.param.mtu) + "_" +
                                  std::to_string(info.param.payload);
                         });

TEST(FragmentIds, EachDatagramGetsAFreshIdSharedByItsFragments) {
  TxNet net(2);
  {
    UdpSock& a = net.socket(0);
    UdpSock& b = net.socket(1);
    net.bind(1, b, kPortB);
    ASSERT_TRUE(net.send(0, a, pattern(3000), to(net.addr(1), kPortB)).ok());
    ASSERT_TRUE(net.send(0, a, pattern(3000), to(net.addr(1), kPortB)).ok());
    net.run();
    auto caps = net.captured(1);
    ASSERT_EQ(caps.size(), 6u);
    EXPECT_EQ(caps[0].id(), caps[2].id());
    EXPECT_EQ(caps[3].id(), caps[5].id());
    EXPECT_EQ(static_cast<uint16_t>(caps[0].id() + 1), caps[3].id());  // per-destination counter
    EXPECT_EQ(net.recv_all(1, b).size(), 2u);
  }
  net.close_all();  // queued datagrams and pending corks give their frames back
  net.run(std::chrono::milliseconds(10));
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

// ---- GSO ----

struct GsoCase {
  uint16_t gso;
  size_t payload;
  bool device_checksum;
  size_t segments;  // 0: error expected
  std::errc error = std::errc{};
};

class GsoTest : public ::testing::TestWithParam<GsoCase> {};

TEST_P(GsoTest, SegmentsFieldByField) {
  const GsoCase c = GetParam();
  TxNet gnet(2, {txtest::LinkSpec{1500, c.device_checksum}});
  {
    UdpSock& a = gnet.socket(0);
    UdpSock& b = gnet.socket(1);
    gnet.bind(1, b, kPortB);
    // The first datagram to a new neighbour waits in its ARP queue, bounded
    // in bytes (unres_qlen_bytes): raise it so that this test checks
    // segmentation, not the queue.
    gnet.stack(0).config().neigh_unres_qlen_bytes = 1u << 30;
    // No GRO at B: each segment is its own datagram, charged a whole 2 KiB
    // frame as truesize, so 128 of them exceed the default rcvbuf (212992)
    // where Linux's ~1 KiB skbs fit. Raise it like SO_RCVBUFFORCE.
    b.rcvbuf = 8u << 20;
    const auto data = pattern(c.payload);
    SendOptions o;
    o.gso_size = c.gso;
    auto r = gnet.send(0, a, data, to(gnet.addr(1), kPortB), o);
    if (c.segments == 0) {
      EXPECT_EQ(r.error(), err(c.error));
      EXPECT_EQ(gnet.stats(0).udp.OutDatagrams, 0u);
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(gnet.stats(0).udp.OutDatagrams, 1u);
      gnet.run();
      auto caps = gnet.captured(1);
      ASSERT_EQ(caps.size(), c.segments);
      std::vector<std::byte> joined;
      for (size_t i = 0; i < caps.size(); ++i) {
        const size_t want = i + 1 < caps.size() ? c.gso : c.payload - c.gso * (caps.size() - 1);
        expect_udp_ok(caps[i], gnet.local_port(a), kPortB, want);
        EXPECT_EQ(caps[i].id(), static_cast<uint16_t>(caps[0].id() + i));
        EXPECT_EQ(caps[i].frag_off(), 0);
        EXPECT_FALSE(caps[i].mf());
        auto p = caps[i].payload().subspan(8);
        joined.insert(joined.end(), p.begin(), p.end());
      }
      EXPECT_EQ(joined, data);
      EXPECT_EQ(gnet.recv_all(1, b).size(), c.segments);  // no GRO on the receiver
      EXPECT_EQ(gnet.stats(0).ip.FragOKs, 0u);
    }
  }
  gnet.close_all();  // queued datagrams and pending corks give their frames back
  gnet.run(std::chrono::milliseconds(10));
  EXPECT_EQ(gnet.frames_in_flight(), 0u);
}

// The values checked on Linux 6.18 (shared/ROBUSTNESS.md cases 38–42).
INSTANTIATE_TEST_SUITE_P(
    Matrix, GsoTest,
    ::testing::Values(
        GsoCase{1400, 1000, false, 1},                  // fits one segment: plain datagram
        GsoCase{1400, 1400, false, 1},                  // exactly one
        GsoCase{1400, 2800, false, 2},                  // exact multiple
        GsoCase{1400, 2801, false, 3},                  // remainder
        GsoCase{1400, 2801, true, 3},                   // device completes the checksums
        GsoCase{2, 5, false, 3},                        // 2, 2, 1
        GsoCase{100, 6500, false, 65},                  // 65 segments of 100
        GsoCase{100, 12800, false, 128},                // UDP_MAX_SEGMENTS
        GsoCase{100, 12801, false, 0, std::errc::invalid_argument},  // 129 segments
        GsoCase{1473, 3000, false, 0, std::errc::message_size},      // header + size > MTU
        GsoCase{1473, 1000, false, 1},                  // datalen <= MTU < gso_size
        GsoCase{1400, 65508, false, 0, std::errc::message_size}),    // payload > 65507
    [](const auto& info) {
      return "gso" + std::to_string(info.param.gso) + "_" + std::to_string(info.param.payload) +
             (info.param.device_checksum ? "_hw" : "_sw");
    });

TEST(GsoErrors, NoCheckWithGsoIsEinval) {
  TxNet net(2);
  {
    UdpSock& a = net.socket(0);
    udp_set_no_check_tx(a, true);
    SendOptions o;
    o.gso_size = 100;
    EXPECT_EQ(net.send(0, a, pattern(1000), to(net.addr(1), kPortB), o).error(),
              err(std::errc::invalid_argument));
    // The socket option works like the cmsg.
    udp_set_no_check_tx(a, false);
    ASSERT_TRUE(udp_set_gso_size(a, 100).ok());
    ASSERT_TRUE(net.send(0, a, pattern(1000), to(net.addr(1), kPortB)).ok());
    net.run();
    EXPECT_EQ(net.captured(1).size(), 10u);
  }
  net.close_all();  // queued datagrams and pending corks give their frames back
  net.run(std::chrono::milliseconds(10));
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

}  // namespace
}  // namespace xnet::stack
