// Hook chains: priority order, verdicts, removal.

#include <gtest/gtest.h>

#include <vector>

#include "stack/core/hooks.h"

namespace xnet::stack {
namespace {

TEST(HooksTest, RunInPriorityOrderUntilOneDoesNotAccept) {
  Hooks h;
  FramePool pool(2048, 4);
  Packet p = Packet::allocate(pool, 64);
  std::vector<int> order;
  const auto t = std::chrono::steady_clock::time_point{};
  EXPECT_TRUE(h.empty(HookPoint::kLocalIn));
  h.add(HookPoint::kLocalIn, 10, [&](Packet&, auto) { order.push_back(10); return HookVerdict::kAccept; });
  const auto drop = h.add(HookPoint::kLocalIn, 5, [&](Packet&, auto) { order.push_back(5); return HookVerdict::kDrop; });
  h.add(HookPoint::kLocalIn, -1, [&](Packet&, auto) { order.push_back(-1); return HookVerdict::kAccept; });
  EXPECT_FALSE(h.empty(HookPoint::kLocalIn));
  EXPECT_TRUE(h.empty(HookPoint::kForward));
  EXPECT_EQ(h.run(HookPoint::kLocalIn, p, t), HookVerdict::kDrop);
  EXPECT_EQ(order, (std::vector<int>{-1, 5}));
  order.clear();
  EXPECT_TRUE(h.remove(drop));
  EXPECT_FALSE(h.remove(drop));
  EXPECT_EQ(h.run(HookPoint::kLocalIn, p, t), HookVerdict::kAccept);
  EXPECT_EQ(order, (std::vector<int>{-1, 10}));
}

TEST(HooksTest, AStealingHookTakesThePacket) {
  Hooks h;
  FramePool pool(2048, 4);
  Packet kept;
  h.add(HookPoint::kPreRouting, 0, [&](Packet& p, auto) {
    kept = std::move(p);
    return HookVerdict::kStolen;
  });
  Packet p = Packet::allocate(pool, 64);
  EXPECT_EQ(h.run(HookPoint::kPreRouting, p, {}), HookVerdict::kStolen);
  EXPECT_FALSE(p.valid());
  EXPECT_TRUE(kept.valid());
  kept.reset();
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace xnet::stack
