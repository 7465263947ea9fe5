// What a send charges to the socket's send buffer (sk_wmem_alloc), pinned to
// what Linux 6.18 charged for the same sends on a veth (SIOCOUTQ read while a
// tbf qdisc held the datagrams, or while they were corked): one skb per
// fragment, sized by the kmalloc bucket its linear part came from, and the
// later parts of a corked or GSO datagram charged byte for byte (page
// fragments on a scatter-gather device).

#include <gtest/gtest.h>

#include <vector>

#include "stack/core/hooks.h"
#include "stack/core/stack.h"
#include "stack/ipv4/cork.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::pattern;
using txtest::TxNet;

constexpr uint16_t kPort = 9;

SockAddrIn to(wire::Ipv4Addr a) { return SockAddrIn{kAfInet, {a, kPort}}; }

TEST(SkbTruesize, KmallocBuckets) {
  // alloclen = payload + 8 + 20 + kSkbAllocExtra for one unfragmented datagram.
  auto one = [](uint32_t payload) { return skb_truesize(payload + 28 + kSkbAllocExtra); };
  EXPECT_EQ(one(1), 832u);
  EXPECT_EQ(one(197), 832u);
  EXPECT_EQ(one(198), 1280u);
  EXPECT_EQ(one(645), 1280u);
  EXPECT_EQ(one(646), 2304u);
  EXPECT_EQ(one(1472), 2304u);
  EXPECT_EQ(one(1669), 2304u);
  EXPECT_EQ(one(1670), 4352u);
}

// Each send on its own socket, held in the ARP queue (the peer is not yet
// resolved): the charge of that one datagram.
TEST(SendBuffer, PlainDatagramsAsTheKernelChargesThem) {
  const std::vector<std::pair<size_t, uint32_t>> kernel = {
      {1, 832},      {64, 832},     {197, 832},     {198, 1280},     {645, 1280},   {646, 2304}, {1000, 2304},
      {1472, 2304},  {1473, 3136},  {3000, 5440},   {4000, 6912},    {8000, 12800}, {20000, 32256},
      {65507, 102656},
  };
  for (const auto& [size, charged] : kernel) {
    TxNet net(2);
    UdpSock& s = net.socket(0);
    ASSERT_TRUE(net.send(0, s, pattern(size), to(net.addr(1))).ok()) << size;
    EXPECT_EQ(udp_wmem_alloc(s), charged) << size << " bytes";
    net.close_all();
  }
}

// MSG_MORE: the parts stay corked, charged as they are appended.
TEST(SendBuffer, CorkedPartsAsTheKernelChargesThem) {
  const std::vector<std::pair<std::vector<size_t>, uint32_t>> kernel = {
      {{100}, 832},        {{100, 100}, 932},   {{1000, 1000}, 4056}, {{1000, 1000, 1000}, 5840},
      {{1400, 100}, 3208}, {{10, 2000}, 3574},  {{3000}, 5440},       {std::vector<size_t>(10, 64), 1408},
  };
  for (const auto& [parts, charged] : kernel) {
    TxNet net(2);
    UdpSock& s = net.socket(0);
    SendOptions more;
    more.more = true;
    for (size_t n : parts) ASSERT_TRUE(net.send(0, s, pattern(n), to(net.addr(1)), more).ok());
    EXPECT_EQ(udp_wmem_alloc(s), charged) << parts.size() << " parts, first " << parts[0];
    net.close_all();
  }
}

// UDP_SEGMENT: one skb of headers (832) and the payload in page fragments.
TEST(SendBuffer, GsoDatagramsAsTheKernelChargesThem) {
  struct Case {
    std::vector<size_t> parts;
    uint16_t gso;
    uint32_t charged;
  };
  const std::vector<Case> kernel = {
      {{3000}, 1000, 3832}, {{64000}, 1400, 64832}, {{500}, 1000, 1332}, {{100, 2000}, 1000, 2932}};
  for (const Case& c : kernel) {
    TxNet net(2);
    UdpSock& s = net.socket(0);
    ASSERT_TRUE(udp_set_gso_size(s, c.gso).ok());
    SendOptions more;
    more.more = true;
    for (size_t n : c.parts) ASSERT_TRUE(net.send(0, s, pattern(n), to(net.addr(1)), more).ok());
    EXPECT_EQ(udp_wmem_alloc(s), c.charged) << c.parts[0] << " / " << c.gso;
    net.close_all();
  }
}

// With the default SO_SNDBUF (212992) the kernel accepted 256 datagrams of
// 64 bytes and 93 of 1400 before EAGAIN (held by a tbf qdisc): the check is
// wmem < sndbuf before each datagram, so the last one overshoots. Here a
// POST_ROUTING hook holds them (NF_STOLEN), charged until it lets them go.
TEST(SendBuffer, DatagramsBeforeEagainAsTheKernel) {
  for (const auto& [size, accepted] : {std::pair<size_t, int>{64, 256}, {1400, 93}}) {
    TxNet net(2);
    std::vector<Packet> held;
    net.stack(0).hooks().add(HookPoint::kPostRouting, 0, [&](Packet& p, auto) {
      held.push_back(std::move(p));
      return HookVerdict::kStolen;
    });
    UdpSock& s = net.socket(0);
    int n = 0;
    Result<size_t> r = size_t{0};
    for (; n < 1000; ++n) {
      r = net.send(0, s, pattern(size), to(net.addr(1)));
      if (!r) break;
    }
    EXPECT_EQ(r.error(), std::make_error_code(std::errc::resource_unavailable_try_again)) << size;
    EXPECT_EQ(n, accepted) << size;
    held.clear();
    EXPECT_EQ(udp_wmem_alloc(s), 0u);
    net.close_all();
  }
}

}  // namespace
}  // namespace xnet::stack
