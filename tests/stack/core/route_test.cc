// The FIB: longest prefix match, replacement, removal, generations.

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "stack/core/route.h"

namespace xnet::stack {
namespace {

wire::Ipv4Prefix pfx(const char* s) { return *wire::Ipv4Prefix::parse(s); }
wire::Ipv4Addr ip(const char* s) { return *wire::Ipv4Addr::parse(s); }

Route R(wire::Ipv4Prefix prefix, RouteType type, uint16_t ifindex, wire::Ipv4Addr gateway = {}) {
  Route r;
  r.prefix = prefix;
  r.type = type;
  r.ifindex = ifindex;
  r.gateway = gateway;
  return r;
}

TEST(RouteTableTest, LongestPrefixWins) {
  RouteTable t;
  t.add(R(pfx("0.0.0.0/0"), RouteType::kUnicast, 1, ip("10.0.0.254")));
  t.add(R(pfx("10.0.0.0/24"), RouteType::kUnicast, 1));
  t.add(R(pfx("10.0.0.1/32"), RouteType::kLocal, 1));
  t.add(R(pfx("10.0.0.255/32"), RouteType::kBroadcast, 1));
  EXPECT_EQ(t.lookup(ip("10.0.0.1"))->type, RouteType::kLocal);
  EXPECT_EQ(t.lookup(ip("10.0.0.255"))->type, RouteType::kBroadcast);
  auto r = t.lookup(ip("10.0.0.7"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->prefix, pfx("10.0.0.0/24"));
  EXPECT_TRUE(r->gateway.is_unspecified());
  r = t.lookup(ip("192.168.1.1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->gateway, ip("10.0.0.254"));
  EXPECT_EQ(t.size(), 4u);
}

TEST(RouteTableTest, NoDefaultMeansNoRoute) {
  RouteTable t;
  t.add(R(pfx("10.0.0.0/8"), RouteType::kUnicast, 2));
  EXPECT_FALSE(t.lookup(ip("11.0.0.1")));
  EXPECT_TRUE(t.lookup(ip("10.200.0.1")));
}

TEST(RouteTableTest, AddNormalisesAndReplaces) {
  RouteTable t;
  t.add(R(pfx("10.1.2.3/16"), RouteType::kUnicast, 1));
  t.add(R(pfx("10.1.0.0/16"), RouteType::kUnicast, 2));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(ip("10.1.9.9"))->ifindex, 2);
  EXPECT_EQ(t.exact(pfx("10.1.0.0/16"))->ifindex, 2);
}

TEST(RouteTableTest, EveryChangeBumpsTheGeneration) {
  RouteTable t;
  const uint64_t g0 = t.generation();
  t.add(R(pfx("10.0.0.0/24"), RouteType::kUnicast, 1));
  const uint64_t g1 = t.generation();
  EXPECT_NE(g0, g1);
  EXPECT_FALSE(t.remove(pfx("10.9.0.0/24")));
  EXPECT_EQ(t.generation(), g1);  // nothing removed, nothing changed
  EXPECT_TRUE(t.remove(pfx("10.0.0.0/24")));
  EXPECT_NE(t.generation(), g1);
  EXPECT_FALSE(t.lookup(ip("10.0.0.1")));
}

TEST(RouteTableTest, RemoveInterfaceDropsItsRoutesOnly) {
  RouteTable t;
  t.add(R(pfx("10.0.0.0/24"), RouteType::kUnicast, 1));
  t.add(R(pfx("10.0.1.0/24"), RouteType::kUnicast, 2));
  t.add(R(pfx("0.0.0.0/0"), RouteType::kUnicast, 1, ip("10.0.0.254")));
  t.remove_interface(1);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_FALSE(t.lookup(ip("10.0.0.5")));
  EXPECT_EQ(t.lookup(ip("10.0.1.5"))->ifindex, 2);
}

TEST(RouteTableTest, TenThousandRoutesAllFound) {
  RouteTable t;
  for (uint32_t i = 0; i < 10000; ++i) {
    t.add(R(wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (i << 8)), 24}, RouteType::kUnicast,
                static_cast<uint16_t>(1 + i % 7)));
  }
  for (uint32_t i = 0; i < 10000; ++i) {
    auto r = t.lookup(wire::Ipv4Addr((10u << 24) | (i << 8) | 5));
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->ifindex, 1 + i % 7);
  }
}

// A small table is scanned, a large one probed per prefix length: the same
// routes answer the same way on both sides of the switch, and removing routes
// brings the scan back.
TEST(RouteTableTest, ScanAndHashAgreeAcrossTheSwitch) {
  RouteTable t;
  const auto probe = [&](uint32_t i) { return wire::Ipv4Addr((10u << 24) | (i << 8) | 9); };
  std::vector<std::optional<Route>> small;
  t.add(R(pfx("0.0.0.0/0"), RouteType::kUnicast, 9, ip("10.255.0.1")));
  for (uint32_t i = 0; i < 8; ++i) {
    t.add(R(wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (i << 8)), 24}, RouteType::kUnicast, 1));
    t.add(R(wire::Ipv4Prefix{probe(i), 32}, RouteType::kLocal, 2));
  }
  for (uint32_t i = 0; i < 12; ++i) small.push_back(t.lookup(probe(i)));
  // Past the scan's limit.
  for (uint32_t i = 100; i < 200; ++i) {
    t.add(R(wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (i << 8)), 24}, RouteType::kUnicast, 3));
  }
  for (uint32_t i = 0; i < 12; ++i) {
    const auto r = t.lookup(probe(i));
    ASSERT_EQ(r.has_value(), small[i].has_value()) << i;
    EXPECT_EQ(r->prefix, small[i]->prefix) << i;
    EXPECT_EQ(r->type, small[i]->type) << i;
  }
  EXPECT_EQ(t.lookup(probe(150))->ifindex, 3);
  for (uint32_t i = 100; i < 200; ++i) {
    ASSERT_TRUE(t.remove(wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (i << 8)), 24}));
  }
  EXPECT_EQ(t.lookup(probe(150))->ifindex, 9);  // the default again, from the scan
  EXPECT_EQ(t.lookup(probe(3))->type, RouteType::kLocal);
  EXPECT_EQ(t.lookup(probe(10))->prefix, pfx("0.0.0.0/0"));
  t.remove_interface(2);
  EXPECT_EQ(t.lookup(probe(3))->prefix, (wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (3u << 8)), 24}));
}

}  // namespace
}  // namespace xnet::stack
