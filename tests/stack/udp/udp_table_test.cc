// bind / connect / disconnect errors, reuse, lookup precedence.
#include <set>

#include "tests/stack/udp/fixture.h"

namespace xnet::stack::udptest {
namespace {

using Table = StackTest;

TEST_F(Table, BindErrors) {
  UdpSock* a = udp().open();
  EXPECT_EQ(udp().bind(*a, Ipv4Addr(10, 9, 9, 9), 53).error(), std::errc::address_not_available);
  ASSERT_TRUE(udp().bind(*a, kUs, 53).ok());
  EXPECT_EQ(udp().bind(*a, kUs, 54).error(), std::errc::invalid_argument);
  UdpSock* b = udp().open();
  EXPECT_EQ(udp().bind(*b, Ipv4Addr(), 53).error(), std::errc::address_in_use);
  EXPECT_EQ(b->local_port, 0);
  // Broadcast and multicast addresses may be bound.
  UdpSock* c = udp().open();
  EXPECT_TRUE(udp().bind(*c, Ipv4Addr(10, 0, 0, 255), 5353).ok());  // the subnet broadcast
  UdpSock* d = udp().open();
  EXPECT_TRUE(udp().bind(*d, Ipv4Addr(224, 0, 0, 9), 520).ok());
  UdpSock* e = udp().open();
  EXPECT_TRUE(udp().bind(*e, kIpv4Broadcast, 521).ok());
}

TEST_F(Table, ReuseAddrAndPort) {
  UdpSock* a = udp().open();
  UdpSock* b = udp().open();
  a->reuse_addr = true;
  ASSERT_TRUE(udp().bind(*a, Ipv4Addr(), 53).ok());
  EXPECT_EQ(udp().bind(*b, Ipv4Addr(), 53).error(), std::errc::address_in_use);
  b->reuse_addr = true;
  EXPECT_TRUE(udp().bind(*b, Ipv4Addr(), 53).ok());
  UdpSock* c = udp().open();
  UdpSock* d = udp().open();
  c->reuse_port = d->reuse_port = true;
  ASSERT_TRUE(udp().bind(*c, kUs, 80).ok());
  ASSERT_TRUE(udp().bind(*d, kUs, 80).ok());
}

TEST_F(Table, EphemeralPort) {
  UdpSock* a = udp().open();
  ASSERT_TRUE(udp().bind(*a, Ipv4Addr(), 0).ok());
  EXPECT_GE(a->local_port, kEphemeralLow);
  EXPECT_LE(a->local_port, kEphemeralHigh);
  UdpSock* b = udp().open();
  ASSERT_TRUE(udp_autobind(*stack_, *b).ok());
  EXPECT_NE(a->local_port, b->local_port);
}

TEST_F(Table, ConnectChoosesSourceAndDisconnectResets) {
  UdpSock* a = udp().open();
  ASSERT_TRUE(udp().connect(*a, kPeer, 9999).ok());
  EXPECT_TRUE(a->connected);
  EXPECT_EQ(a->local_addr, kUs);
  EXPECT_NE(a->local_port, 0);
  udp().disconnect(*a);
  EXPECT_FALSE(a->connected);
  EXPECT_EQ(a->local_addr, Ipv4Addr());
  EXPECT_EQ(a->local_port, 0);  // autobound port released
  UdpSock* b = udp().open();
  ASSERT_TRUE(udp().bind(*b, kUs, 7000).ok());
  ASSERT_TRUE(udp().connect(*b, kPeer, 0).ok());  // port 0 accepted, as the kernel does
  udp().disconnect(*b);
  EXPECT_EQ(b->local_addr, kUs);
  EXPECT_EQ(b->local_port, 7000);
}

TEST_F(Table, ConnectErrors) {
  UdpSock* a = udp().open();
  EXPECT_EQ(udp().connect(*a, Ipv4Addr(192, 168, 5, 5), 53).error(), std::errc::network_unreachable);
  EXPECT_EQ(st().ip.OutNoRoutes, 1u);
  EXPECT_EQ(udp().connect(*a, Ipv4Addr(10, 0, 0, 255), 53).error(), std::errc::permission_denied);
  a->tx.broadcast = true;
  EXPECT_TRUE(udp().connect(*a, Ipv4Addr(10, 0, 0, 255), 53).ok());
}

TEST_F(Table, LookupPrecedence) {
  UdpSock* wild = udp().open();
  UdpSock* addr = udp().open();
  UdpSock* conn = udp().open();
  wild->reuse_addr = addr->reuse_addr = conn->reuse_addr = true;
  ASSERT_TRUE(udp().bind(*wild, Ipv4Addr(), 53).ok());
  EXPECT_EQ(udp().lookup(kPeer, 1000, kUs, 53, ifindex_), wild);
  ASSERT_TRUE(udp().bind(*addr, kUs, 53).ok());
  EXPECT_EQ(udp().lookup(kPeer, 1000, kUs, 53, ifindex_), addr);
  EXPECT_EQ(udp().lookup(kPeer, 1000, Ipv4Addr(10, 0, 0, 255), 53, ifindex_), wild);
  ASSERT_TRUE(udp().bind(*conn, kUs, 53).ok());
  ASSERT_TRUE(udp().connect(*conn, kPeer, 1000).ok());
  EXPECT_EQ(udp().lookup(kPeer, 1000, kUs, 53, ifindex_), conn);
  EXPECT_EQ(udp().lookup(kPeer, 1001, kUs, 53, ifindex_), addr);
  EXPECT_EQ(udp().lookup(kPeer2, 1000, kUs, 53, ifindex_), addr);
  // SO_BINDTODEVICE to another interface: not a candidate.
  addr->bound_ifindex = 7;
  EXPECT_EQ(udp().lookup(kPeer2, 1000, kUs, 53, ifindex_), wild);
  EXPECT_EQ(udp().lookup(kPeer2, 1000, kUs, 54, ifindex_), nullptr);
}

TEST_F(Table, ReuseportSpreadsFlowsStably) {
  std::vector<UdpSock*> g;
  for (int i = 0; i < 4; ++i) {
    g.push_back(udp().open());
    g.back()->reuse_port = true;
    ASSERT_TRUE(udp().bind(*g.back(), Ipv4Addr(), 443).ok());
  }
  std::set<UdpSock*> seen;
  for (uint16_t sport = 1000; sport < 1100; ++sport) {
    UdpSock* s = udp().lookup(kPeer, sport, kUs, 443, ifindex_);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s, udp().lookup(kPeer, sport, kUs, 443, ifindex_));
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(Table, CloseReleasesQueuedFrames) {
  UdpSock* a = udp().open();
  ASSERT_TRUE(udp().bind(*a, Ipv4Addr(), 53).ok());
  udp_in(udp_bytes({}, 1000, 53, pattern(10)));
  udp_in(udp_bytes({}, 1000, 53, pattern(10)));
  EXPECT_EQ(link_.pool_.in_use(), 2u);
  udp().close(a);
  EXPECT_EQ(link_.pool_.in_use(), 0u);
  EXPECT_EQ(udp().lookup(kPeer, 1000, kUs, 53, ifindex_), nullptr);
}

}  // namespace
}  // namespace xnet::stack::udptest
