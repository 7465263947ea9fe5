// Datagrams to our own addresses (issue 20): through the output path and back
// in through the input path on the same stack, never onto a link, as the
// kernel's lo carries them. The expected counters are what Linux 6.x moved
// for the same sends on a veth namespace here (sendto own address / 0.0.0.0 /
// a closed port, cork, UDP_SEGMENT; /proc/net/snmp deltas):
//   own address, 1 / 1472 / 65507 bytes: Ip OutRequests 1, OutTransmits 1,
//     InReceives 1, InDelivers 1; Udp OutDatagrams 1, InDatagrams 1; no
//     fragmentation; the receiver sees the sender's port from our address and
//     IP_PKTINFO's ifindex is the interface that owns the address.
//   a closed port: the ICMP port unreachable comes back the same way (Ip 2/2,
//     Icmp Out/InDestUnreachs 1, Udp NoPorts 1) and a connected sender reads
//     ECONNREFUSED.
//   cork 2 x 1000: one datagram of 2000. UDP_SEGMENT 3500/1000: four datagrams
//     (1000, 1000, 1000, 500), Udp InDatagrams 4, OutDatagrams 1.

#include <gtest/gtest.h>

#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::pattern;
using txtest::TxNet;

constexpr uint16_t kPort = 7;

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }
std::error_code err(std::errc e) { return std::make_error_code(e); }

class LocalDeliveryTest : public ::testing::Test {
 protected:
  void TearDown() override {
    net.close_all();
    net.run(std::chrono::milliseconds(10));
    EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked";
  }
  Stats& st() { return net.stats(0); }
  wire::Ipv4Addr self() const { return net.addr(0); }

  TxNet net{2};
};

TEST_F(LocalDeliveryTest, OwnAddressComesBackWholeWithoutTouchingTheLink) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  uint64_t n = 0;
  for (size_t size : {size_t{1}, size_t{1472}, size_t{65507}}) {
    SCOPED_TRACE(size);
    ++n;
    const auto data = pattern(size, static_cast<unsigned>(size));
    auto sent = net.send(0, s, data, to(self(), kPort));
    ASSERT_TRUE(sent.ok()) << sent.error().message();
    EXPECT_EQ(*sent, size);
    net.run();
    const auto caps = net.captured(0);  // what came back in at PRE_ROUTING
    ASSERT_EQ(caps.size(), 1u);
    EXPECT_TRUE(caps[0].df());  // pmtudisc "want" under lo's MTU: DF, never fragmented
    EXPECT_EQ(caps[0].frag_off(), 0u);
    EXPECT_FALSE(caps[0].mf());
    EXPECT_EQ(caps[0].src(), self());
    EXPECT_EQ(caps[0].dst(), self());
    std::vector<std::byte> buf(65536);
    auto got = udp_recvmsg(net.stack(0), r, buf);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(got->size, size);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), buf.begin()));
    EXPECT_EQ(got->source.addr, self());
    EXPECT_EQ(got->source.port, net.local_port(s));
    EXPECT_EQ(got->info.ifindex, 1);  // the interface that owns the address
    EXPECT_EQ(got->info.dst_addr, self());
    EXPECT_EQ(st().ip.OutRequests, n);
    EXPECT_EQ(st().ip.OutTransmits, n);
    EXPECT_EQ(st().ip.InReceives, n);
    EXPECT_EQ(st().ip.InDelivers, n);
    EXPECT_EQ(st().udp.OutDatagrams, n);
    EXPECT_EQ(st().udp.InDatagrams, n);
  }
  EXPECT_EQ(st().ip.FragCreates, 0u);
  EXPECT_EQ(st().ip.ReasmReqds, 0u);
  EXPECT_TRUE(net.captured(1).empty());  // nothing reached the peer
  EXPECT_EQ(net.stats(1).ip.InReceives, 0u);
}

TEST_F(LocalDeliveryTest, ZeroAddressIsThisHost) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  ASSERT_TRUE(net.send(0, s, pattern(5), to(wire::Ipv4Addr(), kPort)).ok());
  net.run();
  auto got = net.recv_all(0, r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, self());  // our first address (the kernel: 127.0.0.1 over lo)
  // A socket bound to an address sends to that address.
  UdpSock& b = net.socket(0);
  ASSERT_TRUE(net.stack(0).udp().bind(b, self(), 4000).ok());
  ASSERT_TRUE(net.send(0, b, pattern(6), to(wire::Ipv4Addr(), kPort)).ok());
  net.run();
  got = net.recv_all(0, r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from_port, 4000);
  // connect(0.0.0.0) connects to this host.
  UdpSock& c = net.socket(0);
  ASSERT_TRUE(net.stack(0).udp().connect(c, wire::Ipv4Addr(), kPort).ok());
  EXPECT_EQ(c.remote_addr, self());
  ASSERT_TRUE(net.send(0, c, pattern(7), std::nullopt).ok());
  net.run();
  EXPECT_EQ(net.recv_all(0, r).size(), 1u);
  EXPECT_TRUE(net.captured(1).empty());
}

TEST_F(LocalDeliveryTest, LoopbackRangeIsUnreachableNeverSent) {
  UdpSock& s = net.socket(0);
  EXPECT_EQ(net.send(0, s, pattern(5), to(wire::Ipv4Addr(127, 0, 0, 1), kPort)).error(),
            err(std::errc::network_unreachable));
  EXPECT_EQ(st().ip.OutNoRoutes, 1u);
  UdpSock& c = net.socket(0);
  EXPECT_EQ(net.stack(0).udp().connect(c, wire::Ipv4Addr(127, 1, 2, 3), kPort).error(),
            err(std::errc::network_unreachable));
  EXPECT_EQ(st().ip.OutNoRoutes, 2u);
  EXPECT_EQ(st().ip.OutRequests, 0u);
  net.run();
  EXPECT_TRUE(net.captured(0).empty());
  EXPECT_TRUE(net.captured(1).empty());
}

TEST_F(LocalDeliveryTest, ClosedLocalPortAnswersThroughTheLoopbackToo) {
  UdpSock& c = net.socket(0);
  net.connect(0, c, self(), 9);
  ASSERT_TRUE(net.send(0, c, pattern(1), std::nullopt).ok());
  net.run();
  EXPECT_EQ(net.pending_error(0, c), err(std::errc::connection_refused));
  EXPECT_EQ(st().udp.NoPorts, 1u);
  EXPECT_EQ(st().udp.OutDatagrams, 1u);
  EXPECT_EQ(st().icmp.OutMsgs, 1u);
  EXPECT_EQ(st().icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(st().icmp.InMsgs, 1u);
  EXPECT_EQ(st().icmp.InDestUnreachs, 1u);
  EXPECT_EQ(st().ip.OutRequests, 2u);
  EXPECT_EQ(st().ip.InReceives, 2u);
  EXPECT_EQ(st().ip.InDelivers, 2u);
  EXPECT_TRUE(net.captured(1).empty());
  // No per-peer ICMP limit towards ourselves: each of a quick burst is answered.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(net.send(0, c, pattern(1), std::nullopt).ok());
    net.run();
    EXPECT_EQ(net.pending_error(0, c), err(std::errc::connection_refused)) << i;
  }
  EXPECT_EQ(st().icmp.OutRateLimitHost, 0u);
}

TEST_F(LocalDeliveryTest, TwoSocketsOfOneStackTalk) {
  UdpSock& server = net.socket(0);
  net.bind(0, server, kPort);
  UdpSock& client = net.socket(0);
  net.connect(0, client, self(), kPort);
  ASSERT_TRUE(net.send(0, client, pattern(100), std::nullopt).ok());
  net.run();
  auto req = net.recv_all(0, server);
  ASSERT_EQ(req.size(), 1u);
  ASSERT_TRUE(net.send(0, server, req[0].data, to(req[0].from, req[0].from_port)).ok());
  net.run();
  auto rep = net.recv_all(0, client);
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0].data, pattern(100));
  EXPECT_EQ(rep[0].from_port, kPort);
}

TEST_F(LocalDeliveryTest, CorkedDatagramArrivesAsOne) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  ASSERT_TRUE(udp_set_cork(net.stack(0), s, true, net.now()).ok());
  ASSERT_TRUE(net.send(0, s, pattern(1000, 1), to(self(), kPort)).ok());
  ASSERT_TRUE(net.send(0, s, pattern(1000, 2), to(self(), kPort)).ok());
  ASSERT_TRUE(udp_set_cork(net.stack(0), s, false, net.now()).ok());
  net.run();
  auto got = net.recv_all(0, r);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].data.size(), 2000u);
  auto want = pattern(1000, 1);
  const auto second = pattern(1000, 2);
  want.insert(want.end(), second.begin(), second.end());
  EXPECT_EQ(got[0].data, want);
  EXPECT_EQ(st().udp.OutDatagrams, 1u);
}

TEST_F(LocalDeliveryTest, SegmentedSendArrivesAsSegments) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  SendOptions o;
  o.gso_size = 1000;
  const auto data = pattern(3500);
  ASSERT_TRUE(net.send(0, s, data, to(self(), kPort), o).ok());
  net.run();
  auto got = net.recv_all(0, r);
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const size_t len = i < 3 ? 1000 : 500;
    ASSERT_EQ(got[i].data.size(), len) << i;
    EXPECT_TRUE(std::equal(got[i].data.begin(), got[i].data.end(), data.begin() + static_cast<ptrdiff_t>(i * 1000)));
  }
  EXPECT_EQ(st().udp.OutDatagrams, 1u);
  EXPECT_EQ(st().udp.InDatagrams, 4u);
  // lo carries the GSO packet whole; the receiving socket segments it.
  EXPECT_EQ(st().ip.OutTransmits, 1u);
  EXPECT_EQ(st().ip.InReceives, 1u);
  EXPECT_EQ(st().ip.InDelivers, 1u);
  EXPECT_TRUE(net.captured(1).empty());
}

TEST_F(LocalDeliveryTest, PmtuDoAllowsWhatLoopbackCarries) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  udp_set_pmtudisc(s, PmtuDisc::kDo);
  ASSERT_TRUE(net.send(0, s, pattern(65507), to(self(), kPort)).ok());
  // Towards the peer the link's MTU applies.
  EXPECT_EQ(net.send(0, s, pattern(1473), to(net.addr(1), kPort)).error(), err(std::errc::message_size));
  net.run();
  EXPECT_EQ(net.recv_all(0, r).size(), 1u);
}

TEST_F(LocalDeliveryTest, SenderBufferIsFreedAtTransmitNotAtRead) {
  UdpSock& r = net.socket(0);
  net.bind(0, r, kPort);
  UdpSock& s = net.socket(0);
  ASSERT_TRUE(net.send(0, s, pattern(20000), to(self(), kPort)).ok());
  net.run();
  // Still queued at the receiver, no longer charged to the sender (skb_orphan).
  EXPECT_EQ(udp_wmem_alloc(s), 0u);
  EXPECT_EQ(net.recv_all(0, r).size(), 1u);
}

}  // namespace
}  // namespace xnet::stack
