// One MTU from cork to wire (issue 15, item 2): a route whose MTU is below the
// device's. The cork lays a datagram out at the route MTU (ip_setup_cork's
// fragsize) and ip_finish_output must fragment at that same MTU
// (ip_skb_dst_mtu); with the device's MTU there, a datagram between the two
// MTUs left as its first frame only. Every size around both MTUs must arrive
// fragmented at the route MTU and reassemble byte for byte.

#include <gtest/gtest.h>

#include "stack/core/route.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/tx/ref_checksum.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::Captured;
using txtest::pattern;
using txtest::TxNet;

constexpr uint16_t kPortB = 5000;
constexpr uint32_t kRouteMtu = 1000;  // the device's is 1500
// Payload bytes per non-last fragment at the route MTU: (1000 - 20) & ~7.
constexpr uint32_t kFragPayload = (kRouteMtu - 20) & ~7u;

SockAddrIn to(wire::Ipv4Addr a, uint16_t port) { return SockAddrIn{kAfInet, {a, port}}; }

class RouteMtuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A host route to B through the same link, with a lower MTU (ip route add
    // B/32 dev ... mtu 1000).
    Route r;
    r.prefix = wire::Ipv4Prefix{net.addr(1), 32};
    r.type = RouteType::kUnicast;
    r.ifindex = 1;
    r.mtu = kRouteMtu;
    net.stack(0).routes().add(r);
  }
  void TearDown() override {
    net.close_all();
    net.run(std::chrono::milliseconds(10));
    EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked";
  }
  TxNet net{2};
};

// Checks the fragments of one datagram of `payload` UDP payload bytes as B
// received them: each within the route MTU, offsets contiguous, MF on all but
// the last, one ID.
void expect_fragments(const std::vector<Captured>& caps, size_t payload) {
  const size_t ip_payload = 8 + payload;
  // Every fragment but the last carries kFragPayload; the last up to 980.
  const size_t last_max = kRouteMtu - 20;
  const size_t want =
      ip_payload <= last_max ? 1 : 1 + (ip_payload - last_max + kFragPayload - 1) / kFragPayload;
  ASSERT_EQ(caps.size(), want) << payload;
  size_t offset = 0;
  for (size_t i = 0; i < caps.size(); ++i) {
    const Captured& c = caps[i];
    EXPECT_TRUE(txtest::ip_header_ok(c.ip.data())) << payload << " frag " << i;
    EXPECT_LE(c.tot_len(), kRouteMtu) << payload << " frag " << i;
    EXPECT_EQ(c.tot_len(), c.ip.size()) << payload << " frag " << i;
    EXPECT_EQ(c.frag_off(), offset) << payload << " frag " << i;
    EXPECT_EQ(c.mf(), i + 1 < caps.size()) << payload << " frag " << i;
    EXPECT_EQ(c.id(), caps[0].id()) << payload << " frag " << i;
    if (i + 1 < caps.size()) {
      EXPECT_EQ(c.tot_len() - c.header_len(), kFragPayload) << payload;
    }
    offset += c.tot_len() - c.header_len();
  }
  EXPECT_EQ(offset, ip_payload) << payload;
  // "want" mode: DF exactly when the datagram fits the route's MTU.
  EXPECT_EQ(caps[0].df(), want == 1) << payload;
}

TEST_F(RouteMtuTest, EverySizeAroundBothMtusLeavesFragmentedAtTheRouteMtu) {
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  std::vector<size_t> sizes;
  // Around the route MTU (972 = 1000 - 28), the device MTU (1472), a frame's
  // payload (2048-byte frames) and two and three route-sized fragments.
  for (size_t base : {972u, 1472u, 1720u, 1944u, 2920u}) {
    for (size_t s = base - 10; s <= base + 10; ++s) sizes.push_back(s);
  }
  sizes.push_back(0);
  sizes.push_back(8000);
  sizes.push_back(kUdpMaxPayload);
  uint64_t frag_oks = 0, frag_creates = 0;
  for (size_t n : sizes) {
    const auto data = pattern(n, static_cast<unsigned>(n));
    auto r = net.send(0, a, data, to(net.addr(1), kPortB));
    ASSERT_TRUE(r.ok()) << n << ": " << r.error().message();
    net.run();
    const auto caps = net.captured(1);
    expect_fragments(caps, n);
    if (caps.size() > 1) {
      ++frag_oks;
      frag_creates += caps.size();
    }
    auto got = net.recv_all(1, b);
    ASSERT_EQ(got.size(), 1u) << n;
    EXPECT_EQ(got[0].data, data) << n;
  }
  const Stats& s = net.stats(0);
  EXPECT_EQ(s.ip.FragOKs, frag_oks);
  EXPECT_EQ(s.ip.FragCreates, frag_creates);
  EXPECT_EQ(s.ip.FragFails, 0u);
  EXPECT_EQ(s.ip.OutDiscards, 0u);
  EXPECT_EQ(s.udp.OutDatagrams, sizes.size());
}

TEST_F(RouteMtuTest, CorkedDatagramUsesTheRouteMtuToo) {
  // Appended in pieces (MSG_MORE): the frames were laid out at the route MTU
  // across appends, and go out at it.
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  const auto data = pattern(1300);
  SendOptions more;
  more.more = true;
  ASSERT_TRUE(net.send(0, a, std::span(data).first(700), to(net.addr(1), kPortB), more).ok());
  ASSERT_TRUE(net.send(0, a, std::span(data).subspan(700), to(net.addr(1), kPortB)).ok());
  net.run();
  expect_fragments(net.captured(1), data.size());
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
}

TEST_F(RouteMtuTest, ProbeModeUsesTheDeviceMtuInBoth) {
  // IP_PMTUDISC_PROBE ignores the route's MTU (ip_sk_use_pmtu is false) in
  // ip_setup_cork and in ip_skb_dst_mtu alike: DF, up to the device's MTU.
  UdpSock& a = net.socket(0);
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  udp_set_pmtudisc(a, PmtuDisc::kProbe);
  const auto data = pattern(1472);
  ASSERT_TRUE(net.send(0, a, data, to(net.addr(1), kPortB)).ok());
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), 1500);
  EXPECT_TRUE(caps[0].df());
  EXPECT_EQ(net.send(0, a, pattern(1473), to(net.addr(1), kPortB)).error(),
            std::make_error_code(std::errc::message_size));
  auto got = net.recv_all(1, b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
}

TEST_F(RouteMtuTest, DoModeIsLimitedByTheRouteMtu) {
  UdpSock& a = net.socket(0);
  udp_set_pmtudisc(a, PmtuDisc::kDo);
  EXPECT_TRUE(net.send(0, a, pattern(972), to(net.addr(1), kPortB)).ok());
  EXPECT_EQ(net.send(0, a, pattern(973), to(net.addr(1), kPortB)).error(),
            std::make_error_code(std::errc::message_size));
  net.run();
  auto caps = net.captured(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].tot_len(), kRouteMtu);
  EXPECT_TRUE(caps[0].df());
}

}  // namespace
}  // namespace xnet::stack
