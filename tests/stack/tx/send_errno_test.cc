// Errnos and counters of the send path that Linux 6.18 was asked about
// (issue 15, item 10; IP_PKTINFO's source check is in udp_send_test): which
// of EMSGSIZE and a pending socket error wins, UDP_CORK off when the push
// fails, IP_TOS with any int.

#include <gtest/gtest.h>

#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::pattern;
using txtest::TxNet;

constexpr uint16_t kPortB = 5000;
constexpr uint16_t kClosedPort = 9999;

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }
std::error_code err(std::errc e) { return std::make_error_code(e); }

class SendErrnoTest : public ::testing::Test {
 protected:
  void TearDown() override {
    net.close_all();
    net.run(std::chrono::milliseconds(10));
    EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked";
  }
  // A connected socket whose first datagram B refused: sk_err ECONNREFUSED.
  UdpSock& refused_socket() {
    UdpSock& a = net.socket(0);
    net.connect(0, a, net.addr(1), kClosedPort);
    EXPECT_TRUE(net.send(0, a, pattern(5), std::nullopt).ok());
    net.run();
    EXPECT_EQ(a.sk_err, std::errc::connection_refused);
    return a;
  }
  TxNet net{2};
};

TEST_F(SendErrnoTest, EmsgsizeWinsOverAPendingError) {
  // Linux 6.18, connected socket with ECONNREFUSED pending: a 2000-byte send
  // with IP_PMTUDISC_DO, a 65508-byte and a 65536-byte send each fail with
  // EMSGSIZE, count nothing and leave the error pending; the next 10-byte
  // send returns ECONNREFUSED and moves Ip OutDiscards 1; the one after
  // that is sent.
  UdpSock& a = refused_socket();
  const uint64_t discards = net.stats(0).ip.OutDiscards;
  const uint64_t sent = net.stats(0).udp.OutDatagrams;

  udp_set_pmtudisc(a, PmtuDisc::kDo);
  EXPECT_EQ(net.send(0, a, pattern(2000), std::nullopt).error(), err(std::errc::message_size));
  EXPECT_EQ(a.sk_err, std::errc::connection_refused);
  udp_set_pmtudisc(a, PmtuDisc::kWant);
  for (size_t n : {size_t{65508}, size_t{65536}}) {
    EXPECT_EQ(net.send(0, a, pattern(n), std::nullopt).error(), err(std::errc::message_size)) << n;
    EXPECT_EQ(a.sk_err, std::errc::connection_refused) << n;
  }
  EXPECT_EQ(net.stats(0).ip.OutDiscards, discards);

  EXPECT_EQ(net.send(0, a, pattern(10), std::nullopt).error(), err(std::errc::connection_refused));
  EXPECT_EQ(a.sk_err, std::errc{});
  EXPECT_EQ(net.stats(0).ip.OutDiscards, discards + 1);
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, sent);
  EXPECT_TRUE(net.send(0, a, pattern(10), std::nullopt).ok());
  EXPECT_EQ(net.stats(0).udp.OutDatagrams, sent + 1);
  EXPECT_EQ(a.tx.pending, 0);  // nothing left corked
}

TEST_F(SendErrnoTest, PendingErrorEndsACorkedDatagramBeforeItStarts) {
  // Linux 6.18: the first MSG_MORE send of a datagram returns the pending
  // ECONNREFUSED (OutDiscards 1) and leaves nothing corked.
  UdpSock& a = refused_socket();
  const uint64_t discards = net.stats(0).ip.OutDiscards;
  SendOptions more;
  more.more = true;
  EXPECT_EQ(net.send(0, a, pattern(10), std::nullopt, more).error(), err(std::errc::connection_refused));
  EXPECT_EQ(net.stats(0).ip.OutDiscards, discards + 1);
  EXPECT_EQ(a.tx.pending, 0);
  EXPECT_EQ(udp_wmem_alloc(a), 0u);
}

TEST_F(SendErrnoTest, FullSendBufferCountsOutDiscardsToo) {
  // Linux 6.18, SO_SNDBUF 4096 behind a slow qdisc, MSG_DONTWAIT: the send
  // that found the buffer full returned EAGAIN and moved Ip OutDiscards 1 and
  // Udp SndbufErrors 1.
  UdpSock& a = net.socket(0);
  ASSERT_TRUE(udp_set_sndbuf(a, 0).ok());
  Result<size_t> r = size_t{0};
  for (int i = 0; i < 10 && r; ++i) r = net.send(0, a, pattern(1000), to(net.addr(1), kPortB));
  EXPECT_EQ(r.error(), err(std::errc::resource_unavailable_try_again));
  EXPECT_EQ(net.stats(0).ip.OutDiscards, 1u);
  EXPECT_EQ(net.stats(0).udp.SndbufErrors, 1u);
}

TEST_F(SendErrnoTest, ZeroNetDestinationIsAnyUnicastAddress) {
  // Linux 6.18: sendto 0.1.2.3 without a route to it is ENETUNREACH
  // (OutNoRoutes 1); with a default route it is sent (0/8 is unicast since 5.3).
  UdpSock& a = net.socket(0);
  EXPECT_EQ(net.send(0, a, pattern(10), to(wire::Ipv4Addr(0, 1, 2, 3), kPortB)).error(),
            err(std::errc::network_unreachable));
  EXPECT_EQ(net.stats(0).ip.OutNoRoutes, 1u);
  ASSERT_TRUE(net.stack(0).add_gateway_route({wire::Ipv4Addr(), 0}, net.addr(1), 1).ok());
  EXPECT_TRUE(net.send(0, a, pattern(10), to(wire::Ipv4Addr(0, 1, 2, 3), kPortB)).ok());
  EXPECT_EQ(net.stats(0).ip.OutNoRoutes, 1u);
}

TEST_F(SendErrnoTest, CorkOffSucceedsWhenThePushFails) {
  // Linux 6.18: SO_NO_CHECK + UDP_SEGMENT 100 + UDP_CORK, 300 bytes sent
  // (accepted), UDP_CORK off returned 0, nothing left and nothing counted;
  // the same send uncorked is EINVAL.
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  udp_set_no_check_tx(a, true);
  ASSERT_TRUE(udp_set_gso_size(a, 100).ok());
  ASSERT_TRUE(udp_set_cork(net.stack(0), a, true, net.now()).ok());
  ASSERT_TRUE(net.send(0, a, pattern(300), to(net.addr(1), kPortB)).ok());
  EXPECT_GT(udp_wmem_alloc(a), 0u);
  const Stats before = net.stats(0);
  EXPECT_TRUE(udp_set_cork(net.stack(0), a, false, net.now()).ok());
  net.run();
  EXPECT_TRUE(net.captured(1).empty());
  EXPECT_TRUE(net.recv_all(1, b).empty());
  EXPECT_EQ(a.tx.pending, 0);
  EXPECT_EQ(udp_wmem_alloc(a), 0u);
  const Stats& after = net.stats(0);
  EXPECT_EQ(after.udp.OutDatagrams, before.udp.OutDatagrams);
  EXPECT_EQ(after.udp.SndbufErrors, before.udp.SndbufErrors);
  EXPECT_EQ(after.ip.OutRequests, before.ip.OutRequests);
  EXPECT_EQ(after.ip.OutDiscards, before.ip.OutDiscards);
  EXPECT_EQ(net.send(0, a, pattern(300), to(net.addr(1), kPortB)).error(), err(std::errc::invalid_argument));
}

TEST_F(SendErrnoTest, IpTosTakesAnyIntAndKeepsItsLowByte) {
  // Linux 6.18 setsockopt(IP_TOS) then getsockopt: -1 → 0xff, 256 → 0,
  // 0x1ff → 0xff, 0x12345678 → 0x78, -256 → 0, 0x1c → 0x1c; all return 0.
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  struct Case {
    int set;
    uint8_t kept;
  };
  for (const Case c : {Case{-1, 0xff}, Case{256, 0}, Case{0x1ff, 0xff}, Case{0x12345678, 0x78}, Case{-256, 0},
                       Case{0x1c, 0x1c}}) {
    ASSERT_TRUE(udp_set_tos(a, c.set).ok()) << c.set;
    EXPECT_EQ(a.tx.tos, c.kept) << c.set;
    ASSERT_TRUE(net.send(0, a, pattern(10), to(net.addr(1), kPortB)).ok());
    net.run();
    auto caps = net.captured(1);
    ASSERT_EQ(caps.size(), 1u) << c.set;
    EXPECT_EQ(caps[0].tos(), c.kept) << c.set;
  }
  net.recv_all(1, b);
  // The IP_TOS cmsg keeps its range check (Linux 6.18: 256 and -1 are EINVAL).
  for (int tos : {256, -1}) {
    SendOptions o;
    o.tos = tos;
    EXPECT_EQ(net.send(0, a, pattern(10), to(net.addr(1), kPortB), o).error(), err(std::errc::invalid_argument))
        << tos;
  }
}

}  // namespace
}  // namespace xnet::stack
