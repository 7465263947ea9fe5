// The socket table asks its host for ports (stack/core/port_claims.h, shared
// mode): a refused port is EADDRINUSE for bind and skipped by the ephemeral
// search; every hashed socket claims once and releases once (close,
// disconnect of an autobound port); a datagram for a port nobody holds is
// offered to the host before the stack answers port unreachable.
#include <map>
#include <set>

#include "tests/stack/udp/fixture.h"

namespace xnet::stack::udptest {
namespace {

class RecordingClaims final : public PortClaims {
 public:
  bool claim(uint16_t port) override {
    if (refused.count(port) != 0) return false;
    ++claims[port];
    return true;
  }
  void release(uint16_t port) override { --claims[port]; }
  bool hand_back(const Packet& head, const PacketQueue& rest) override {
    handed += 1;
    handed_bytes += head.size() + rest.bytes();
    return take;
  }
  std::set<uint16_t> refused;
  std::map<uint16_t, int> claims;
  bool take = true;
  int handed = 0;
  size_t handed_bytes = 0;
};

class PortClaimsTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    stack_->set_port_claims(&claims_);
  }
  void TearDown() override {
    stack_->set_port_claims(nullptr);
    StackTest::TearDown();
  }
  RecordingClaims claims_;
};

TEST_F(PortClaimsTest, RefusedPortIsAddressInUse) {
  claims_.refused = {7};
  UdpSock* a = udp().open();
  EXPECT_EQ(udp().bind(*a, Ipv4Addr(), 7).error(), std::errc::address_in_use);
  EXPECT_EQ(a->local_port, 0);
  EXPECT_EQ(a->local_addr, Ipv4Addr());
  EXPECT_TRUE(udp().bind(*a, kUs, 8).ok());
  EXPECT_EQ(claims_.claims[8], 1);
  EXPECT_EQ(claims_.claims[7], 0);
}

TEST_F(PortClaimsTest, EverySocketClaimsAndReleasesOnce) {
  UdpSock* a = udp().open();
  UdpSock* b = udp().open();
  a->reuse_port = b->reuse_port = true;
  ASSERT_TRUE(udp().bind(*a, Ipv4Addr(), 7).ok());
  ASSERT_TRUE(udp().bind(*b, Ipv4Addr(), 7).ok());
  EXPECT_EQ(claims_.claims[7], 2);
  udp().close(a);
  EXPECT_EQ(claims_.claims[7], 1);
  udp().close(b);
  EXPECT_EQ(claims_.claims[7], 0);
}

TEST_F(PortClaimsTest, EphemeralSearchSkipsRefusedPortsAndDisconnectReleases) {
  // Refuse the whole range but one port: autobind must find it.
  for (uint32_t p = kEphemeralLow; p <= kEphemeralHigh; ++p) claims_.refused.insert(static_cast<uint16_t>(p));
  claims_.refused.erase(40000);
  UdpSock* a = udp().open();
  ASSERT_TRUE(udp().connect(*a, kPeer, 9).ok());
  EXPECT_EQ(a->local_port, 40000);
  EXPECT_EQ(claims_.claims[40000], 1);
  udp().disconnect(*a);
  EXPECT_EQ(claims_.claims[40000], 0);
  claims_.refused.insert(40000);
  UdpSock* b = udp().open();
  EXPECT_EQ(udp().connect(*b, kPeer, 9).error(), std::errc::resource_unavailable_try_again);
}

TEST_F(PortClaimsTest, UnheldPortIsHandedToTheHostNotAnswered) {
  udp_in(udp_bytes({}, 1000, 9000, pattern(10)));
  EXPECT_EQ(claims_.handed, 1);
  EXPECT_EQ(claims_.handed_bytes, 8u + 10u);  // from the UDP header
  EXPECT_EQ(st().udp.NoPorts, 0u);
  EXPECT_TRUE(out_.empty()) << "port unreachable sent for a datagram the host took";
  // A host that does not take it: the stack's own answer.
  claims_.take = false;
  udp_in(udp_bytes({}, 1000, 9000, pattern(10)));
  EXPECT_EQ(st().udp.NoPorts, 1u);
  EXPECT_EQ(out_.size(), 1u);
}

}  // namespace
}  // namespace xnet::stack::udptest
