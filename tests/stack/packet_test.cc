#include "stack/core/packet.h"

#include <gtest/gtest.h>

#include <cstring>

namespace xnet::stack {
namespace {

TEST(Packet, PushPullPutTrimAndReturnToPool) {
  FramePool pool(2048, 8);
  {
    Packet p = Packet::allocate(pool, kDefaultHeadroom);
    ASSERT_TRUE(p);
    EXPECT_EQ(pool.in_use(), 1u);
    std::memset(p.put(100), 0x11, 100);
    EXPECT_EQ(p.size(), 100);
    p.push(14);
    EXPECT_EQ(p.size(), 114);
    EXPECT_EQ(p.headroom(), kDefaultHeadroom - 14);
    p.set_mac_header();
    p.pull(14);
    p.set_network_header();
    EXPECT_EQ(p.network_header(), p.data());
    p.trim(60);
    EXPECT_EQ(p.size(), 60);
    EXPECT_EQ(p.tailroom(), 2048 - kDefaultHeadroom - 60);
  }
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(Packet, PoolExhaustionGivesInvalidPacket) {
  FramePool pool(2048, 2);
  Packet a = Packet::allocate(pool, 0), b = Packet::allocate(pool, 0);
  Packet c = Packet::allocate(pool, 0);
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(c);
}

TEST(PacketQueue, FifoOrderBytesAndRelease) {
  FramePool pool(2048, 8);
  {
    PacketQueue q;
    for (uint16_t i = 1; i <= 5; ++i) {
      Packet p = Packet::allocate(pool, 0);
      p.put(i);
      q.push_back(std::move(p));
    }
    EXPECT_EQ(q.size(), 5u);
    EXPECT_EQ(q.bytes(), 15u);
    Packet first = q.pop_front();
    EXPECT_EQ(first.size(), 1);
    EXPECT_EQ(q.bytes(), 14u);
    q.push_front(std::move(first));
    EXPECT_EQ(q.front_meta()->len, 1);
    EXPECT_EQ(pool.in_use(), 5u);
  }
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(Packet, DestructorHookRunsOnFree) {
  FramePool pool(2048, 2);
  uint32_t released = 0;
  {
    Packet p = Packet::allocate(pool, 0);
    p.meta().destructor = [](void* ctx, uint32_t truesize) { *static_cast<uint32_t*>(ctx) += truesize; };
    p.meta().destructor_ctx = &released;
    p.meta().truesize = 777;
  }
  EXPECT_EQ(released, 777u);
}

TEST(Packet, CloneCopiesBytesAndMeta) {
  FramePool pool(2048, 4);
  Packet p = Packet::allocate(pool, 32);
  std::memcpy(p.put(4), "abcd", 4);
  p.meta().ifindex = 3;
  Packet c = p.clone(pool);
  ASSERT_TRUE(c);
  EXPECT_EQ(c.size(), 4);
  EXPECT_EQ(std::memcmp(c.data(), "abcd", 4), 0);
  EXPECT_EQ(c.meta().ifindex, 3);
}

}  // namespace
}  // namespace xnet::stack
