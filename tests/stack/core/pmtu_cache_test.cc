// The PMTU exception table: keyed by next hop and destination, a change
// bumps the generation, and the table stays bounded under a flood of
// destinations (the expired go first, then the one closest to expiring).

#include <gtest/gtest.h>

#include <chrono>

#include "stack/core/pmtu_cache.h"

namespace xnet::stack {
namespace {

using namespace std::chrono_literals;
using TimePoint = PmtuCache::TimePoint;

const wire::Ipv4Addr kGw(10, 0, 0, 254);
const TimePoint kT0{1000s};

wire::Ipv4Addr dst(uint32_t i) { return wire::Ipv4Addr(0x0b000000u + i); }

TEST(PmtuCacheTest, KeyedByInterfaceNextHopAndDestination) {
  PmtuCache c;
  EXPECT_EQ(c.find(1, kGw, dst(1)), nullptr);
  const uint64_t g0 = c.generation();
  c.update(1, kGw, dst(1), {1400, false, kT0 + 600s}, kT0);
  EXPECT_NE(c.generation(), g0);
  ASSERT_NE(c.find(1, kGw, dst(1)), nullptr);
  EXPECT_EQ(c.find(1, kGw, dst(1))->mtu, 1400u);
  EXPECT_EQ(c.find(2, kGw, dst(1)), nullptr);
  EXPECT_EQ(c.find(1, wire::Ipv4Addr(10, 0, 0, 253), dst(1)), nullptr);
  EXPECT_EQ(c.find(1, kGw, dst(2)), nullptr);
  const uint64_t g1 = c.generation();
  c.update(1, kGw, dst(1), {552, true, kT0 + 700s}, kT0);
  EXPECT_NE(c.generation(), g1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_TRUE(c.find(1, kGw, dst(1))->locked);
  const uint64_t g2 = c.generation();
  c.remove_interface(2);  // nothing of it: no change
  EXPECT_EQ(c.generation(), g2);
  c.remove_interface(1);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_NE(c.generation(), g2);
}

TEST(PmtuCacheTest, BoundedUnderAFloodOfDestinations) {
  PmtuCache c;
  // The first one expires soonest; one already expired sits in the middle.
  c.update(1, kGw, dst(0), {1000, false, kT0 + 10s}, kT0);
  for (uint32_t i = 1; i < PmtuCache::kMaxEntries; ++i) {
    const TimePoint expires = i == 100 ? kT0 - 1s : kT0 + 600s + std::chrono::seconds(i);
    c.update(1, kGw, dst(i), {1000, false, expires}, kT0);
  }
  EXPECT_EQ(c.size(), PmtuCache::kMaxEntries);
  // Full: the expired entry makes room.
  c.update(1, kGw, dst(5000), {900, false, kT0 + 600s}, kT0);
  EXPECT_EQ(c.size(), PmtuCache::kMaxEntries);
  EXPECT_EQ(c.find(1, kGw, dst(100)), nullptr);
  EXPECT_NE(c.find(1, kGw, dst(0)), nullptr);
  // Full, none expired: the one closest to expiring goes.
  c.update(1, kGw, dst(5001), {900, false, kT0 + 600s}, kT0);
  EXPECT_EQ(c.size(), PmtuCache::kMaxEntries);
  EXPECT_EQ(c.find(1, kGw, dst(0)), nullptr);
  EXPECT_NE(c.find(1, kGw, dst(5001)), nullptr);
  // Updating one that is there takes no room.
  c.update(1, kGw, dst(5001), {800, false, kT0 + 600s}, kT0);
  EXPECT_EQ(c.size(), PmtuCache::kMaxEntries);
  EXPECT_NE(c.find(1, kGw, dst(1)), nullptr);
}

}  // namespace
}  // namespace xnet::stack
