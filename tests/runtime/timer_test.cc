#include <gtest/gtest.h>

#include <deque>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"
#include "runtime/wait_queue.h"
#include "runtime/when_all.h"
#include "runtime/with_timeout.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

Task<void> sleep_and_record(Duration d, int id, std::vector<int>* order) {
  Result<void> r = co_await sleep_for(d);
  EXPECT_TRUE(r.ok());
  order->push_back(id);
}

TEST(Timer, SleepsFireInDeadlineOrder) {
  Reactor r;
  std::vector<int> order;
  spawn(sleep_and_record(30ms, 3, &order));
  spawn(sleep_and_record(10ms, 1, &order));
  spawn(sleep_and_record(20ms, 2, &order));
  spawn(sleep_and_record(10ms, 11, &order));  // same deadline as 1 or later: arming order
  auto t0 = Reactor::now();
  r.block_on(sleep_and_record(40ms, 4, &order));
  EXPECT_GE(Reactor::now() - t0, 40ms);
  EXPECT_EQ(order, (std::vector<int>{1, 11, 2, 3, 4}));
  EXPECT_EQ(r.armed_timers(), 0u);
}

TEST(Timer, SleepUntilPastDeadlineCompletesAtOnce) {
  Reactor r;
  Result<void> res = r.block_on([]() -> Task<Result<void>> {
    co_return co_await sleep_until(Reactor::now() - 1s);
  }());
  EXPECT_TRUE(res.ok());
}

struct Fired {
  TimePoint deadline;
  TimePoint* last;
  long* count;
  bool* in_order;
  static void on_fire(void* p) {
    auto* f = static_cast<Fired*>(p);
    if (f->deadline < *f->last) *f->in_order = false;
    *f->last = f->deadline;
    ++*f->count;
  }
};

TEST(Timer, MillionArmedTimers) {
  constexpr int kTimers = 1'000'000;
  Reactor r;
  std::deque<Timer> timers;
  std::vector<Fired> ctx(kTimers);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> spread_us(0, 50'000);
  TimePoint last{};
  long count = 0;
  bool in_order = true;
  const TimePoint base = Reactor::now() + 5ms;
  for (int i = 0; i < kTimers; ++i) {
    ctx[i] = Fired{base + std::chrono::microseconds(spread_us(rng)), &last, &count, &in_order};
    timers.emplace_back(r);
    timers.back().arm(ctx[i].deadline, &Fired::on_fire, &ctx[i]);
  }
  EXPECT_EQ(r.armed_timers(), static_cast<std::size_t>(kTimers));
  // Cancel every tenth: removal from the middle of the heap.
  for (int i = 0; i < kTimers; i += 10) EXPECT_TRUE(timers[i].cancel());
  while (r.armed_timers() > 0) r.run_once();
  EXPECT_EQ(count, kTimers - kTimers / 10);
  EXPECT_TRUE(in_order);
}

Task<int> slow_value(Duration d, int v) {
  Result<void> r = co_await sleep_for(d);
  if (!r.ok()) co_return -1;
  co_return v;
}

Task<Result<int>> slow_result(Duration d, int v) {
  Result<void> r = co_await sleep_for(d);
  if (!r.ok()) co_return r.error();
  co_return v;
}

TEST(WithTimeout, OperationFinishesFirst) {
  Reactor r;
  Result<int> res = r.block_on(with_timeout(slow_result(5ms, 7), 1s));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(*res, 7);
  EXPECT_EQ(r.armed_timers(), 0u);  // the timeout timer was withdrawn
}

TEST(WithTimeout, TimerFiresFirst) {
  Reactor r;
  auto t0 = Reactor::now();
  Result<int> res = r.block_on(with_timeout(slow_result(10s, 7), 10ms));
  EXPECT_EQ(res.error(), std::errc::timed_out);
  EXPECT_LT(Reactor::now() - t0, 1s);
  EXPECT_EQ(r.armed_timers(), 0u);  // the 10 s sleep was withdrawn too
}

TEST(WithTimeout, PlainValueTask) {
  Reactor r;
  Result<int> ok = r.block_on(with_timeout(slow_value(1ms, 3), 1s));
  EXPECT_EQ(*ok, 3);
}

TEST(WithTimeout, VoidTask) {
  Reactor r;
  Result<void> late = r.block_on(with_timeout(
      []() -> Task<void> { (void)co_await sleep_for(10s); }(), 5ms));
  EXPECT_EQ(late.error(), std::errc::timed_out);
  Result<void> early = r.block_on(with_timeout([]() -> Task<void> { co_return; }(), 1s));
  EXPECT_TRUE(early.ok());
}

TEST(WithTimeout, BareAwaitables) {
  Reactor r;
  WaitQueue<int> q;
  Result<int> none = r.block_on(with_timeout(q.wait(), 5ms));
  EXPECT_EQ(none.error(), std::errc::timed_out);
  EXPECT_TRUE(q.empty());  // the waiter left the queue
  Result<void> slept = r.block_on(with_timeout(sleep_for(1ms), 1s));
  EXPECT_TRUE(slept.ok());
  EXPECT_EQ(r.armed_timers(), 0u);
}

TEST(WithTimeout, Nested) {
  Reactor r;
  auto inner = []() -> Task<Result<int>> { co_return co_await with_timeout(slow_result(10s, 1), 1s); };
  // Result<Result<int>> flattens to Result<int>. The outer deadline cancels
  // the inner operation through the linked token; the inner with_timeout
  // reports operation_canceled (its own timer did not fire), which the outer
  // one turns into timed_out.
  Result<int> outer = r.block_on(with_timeout(inner(), 5ms));
  EXPECT_EQ(outer.error(), std::errc::timed_out);
  EXPECT_EQ(r.armed_timers(), 0u);
}

// WaitQueue::wait_until: the deadline lives in the waiter (SO_RCVTIMEO's
// mechanism), not in a wrapping task.
TEST(WaitUntil, ExpiresWithTimedOutAndLeavesTheQueue) {
  Reactor r;
  WaitQueue<int> q;
  const TimePoint t0 = Reactor::now();
  Result<int> res = r.block_on([](WaitQueue<int>* q, TimePoint d) -> Task<Result<int>> {
    co_return co_await q->wait_until(d);
  }(&q, t0 + 10ms));
  EXPECT_EQ(res.error(), std::errc::timed_out);
  EXPECT_GE(Reactor::now() - t0, 10ms);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(r.armed_timers(), 0u);
  EXPECT_FALSE(q.wake_one(1));  // nobody waits: the producer keeps its value
}

TEST(WaitUntil, AValueBeforeTheDeadlineWithdrawsTheTimer) {
  Reactor r;
  WaitQueue<int> q;
  Result<int> res = r.block_on([](WaitQueue<int>* q) -> Task<Result<int>> {
    spawn([](WaitQueue<int>* q) -> Task<void> {
      EXPECT_EQ(Reactor::current()->armed_timers(), 1u);  // armed only once suspended
      EXPECT_TRUE(q->wake_one(42));
      co_return;
    }(q));
    co_return co_await q->wait_until(Reactor::now() + 10s);
  }(&q));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(*res, 42);
  EXPECT_EQ(r.armed_timers(), 0u);
}

TEST(WaitUntil, APassedDeadlineNeverSuspends) {
  Reactor r;
  WaitQueue<int> q;
  Result<int> res = r.block_on([](WaitQueue<int>* q) -> Task<Result<int>> {
    co_return co_await q->wait_until(Reactor::now() - 1ms);
  }(&q));
  EXPECT_EQ(res.error(), std::errc::timed_out);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(r.armed_timers(), 0u);
}

TEST(WaitUntil, CancellationAndDestructionWithdrawTheTimer) {
  Reactor r;
  WaitQueue<int> q;
  // Cancelled through the ambient token (an outer with_timeout) first.
  Result<int> res = r.block_on(with_timeout(q.wait_until(Reactor::now() + 10s), 5ms));
  EXPECT_EQ(res.error(), std::errc::timed_out);  // the outer one's
  EXPECT_EQ(r.armed_timers(), 0u);
  // A queue destroyed under its waiter fails it; the waiter's timer goes too.
  auto doomed = std::make_unique<WaitQueue<int>>();
  Result<int> gone = r.block_on([](std::unique_ptr<WaitQueue<int>>* q) -> Task<Result<int>> {
    spawn([](std::unique_ptr<WaitQueue<int>>* q) -> Task<void> {
      q->reset();
      co_return;
    }(q));
    co_return co_await (*q)->wait_until(Reactor::now() + 10s);
  }(&doomed));
  EXPECT_EQ(gone.error(), std::errc::operation_canceled);
  EXPECT_EQ(r.armed_timers(), 0u);
}

}  // namespace
}  // namespace xnet::rt
