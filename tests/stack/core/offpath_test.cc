// What an off-path observer could read from us, closed as the kernel closed
// it (issue 15, item 12): IP IDs that jump by a random step after a bucket was
// idle (ip_idents_reserve), and an ICMP budget consumed by a random 0-2
// credits a message (icmp_global_consume).

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "stack/core/ip_ident.h"
#include "stack/core/stack.h"
#include "stack/ipv4/icmp_state.h"

namespace xnet::stack {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const wire::Ipv4Addr kSrc(10, 0, 0, 1), kDst(10, 0, 0, 2);
constexpr uint8_t kUdp = 17;

TEST(IpIdent, ConsecutiveWithinOneTick) {
  IpIdentGenerator ids(7);
  const Clock::time_point t0{std::chrono::seconds(1000)};
  ids.set_clock(t0);
  const uint16_t a = ids.next(kSrc, kDst, kUdp);
  const uint16_t b = ids.next(kSrc, kDst, kUdp, 3);  // a GSO datagram of 3 segments
  const uint16_t c = ids.next(kSrc, kDst, kUdp);
  EXPECT_EQ(static_cast<uint16_t>(a + 1), b);
  EXPECT_EQ(static_cast<uint16_t>(b + 3), c);
}

TEST(IpIdent, IdleBucketSkipsARandomStepBelowItsIdleTicks) {
  // Idle 40 ms = 10 ticks of 4 ms: the next ID is the previous + 1 + [0, 10).
  std::set<int> steps;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    IpIdentGenerator ids(seed);
    Clock::time_point t{std::chrono::seconds(1000)};
    ids.set_clock(t);
    const uint16_t a = ids.next(kSrc, kDst, kUdp);
    t += milliseconds(40);
    ids.set_clock(t);
    const uint16_t b = ids.next(kSrc, kDst, kUdp);
    const int step = static_cast<uint16_t>(b - a) - 1;
    ASSERT_GE(step, 0);
    ASSERT_LT(step, 10);
    steps.insert(step);
  }
  EXPECT_GT(steps.size(), 5u) << "the step should be random";
}

TEST(IcmpGlobalLimit, ConsumesARandomZeroToTwoCreditsAMessage) {
  // With a burst of 50, messages allowed back to back: about 50 on average
  // and a count that varies with the draws; each takes at most 2 credits, so
  // never fewer than 25.
  std::set<int> counts;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    StackConfig cfg;
    cfg.seed = seed;
    Stack stack(cfg);
    const Clock::time_point now{std::chrono::seconds(1000)};
    int sent = 0;
    while (sent < 1000 && stack.icmp().global_allow(now)) {
      stack.icmp().global_consume();
      ++sent;
    }
    EXPECT_GE(sent, static_cast<int>(cfg.icmp_msgs_burst / 2)) << seed;
    counts.insert(sent);
  }
  EXPECT_GT(counts.size(), 3u) << "the count should vary with the draws";
}

}  // namespace
}  // namespace xnet::stack
