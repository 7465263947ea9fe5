#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/channel.h"
#include "runtime/event.h"
#include "runtime/reactor.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"
#include "runtime/when_all.h"
#include "runtime/when_any.h"
#include "runtime/with_timeout.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

Task<int> after(Duration d, int v) {
  Result<void> slept = co_await sleep_for(d);  // not inside if (): see task.h
  if (!slept.ok()) co_return -1;
  co_return v;
}

Task<void> nap(Duration d) { (void)co_await sleep_for(d); }

TEST(WhenAll, TupleOfMixedResultsRunsConcurrently) {
  Reactor r;
  auto t0 = Reactor::now();
  auto [a, b, c] = r.block_on(when_all(after(60ms, 1), nap(60ms), after(40ms, 3)));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(c, 3);
  (void)b;
  EXPECT_LT(Reactor::now() - t0, 150ms);  // concurrent: one 60 ms wait, not 160 ms
}

TEST(WhenAll, Vector) {
  Reactor r;
  std::vector<Task<int>> tasks;
  for (int i = 0; i < 100; ++i) tasks.push_back(after(std::chrono::microseconds(100 - i), i));
  std::vector<int> out = r.block_on(when_all(std::move(tasks)));
  ASSERT_EQ(out.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], i);
}

Task<int> fail_after(Duration d) {
  (void)co_await sleep_for(d);
  throw std::runtime_error("child");
}

TEST(WhenAll, ExceptionAfterAllFinish) {
  Reactor r;
  bool slow_done = false;
  auto slow = [](bool* done) -> Task<int> {
    (void)co_await sleep_for(10ms);
    *done = true;
    co_return 1;
  };
  EXPECT_THROW((void)r.block_on(when_all(fail_after(1ms), slow(&slow_done))), std::runtime_error);
  EXPECT_TRUE(slow_done);  // no child outlives when_all
  EXPECT_EQ(r.detached_count(), 0u);
}

TEST(WhenAny, FirstWinsAndLosersAreCancelled) {
  Reactor r;
  auto t0 = Reactor::now();
  auto res = r.block_on(when_any(after(10s, 1), after(5ms, 2), nap(10s)));
  EXPECT_EQ(res.index, 1u);
  EXPECT_EQ(std::get<1>(res.value), 2);
  EXPECT_LT(Reactor::now() - t0, 1s);
  EXPECT_EQ(r.armed_timers(), 0u);
  EXPECT_EQ(r.detached_count(), 0u);
}

TEST(WhenAny, WithAWaitQueueLoserLosesNothing) {
  Reactor r;
  WaitQueue<std::string> q;
  auto res = r.block_on(when_any(
      [](WaitQueue<std::string>* q) -> Task<Result<std::string>> { co_return co_await q->wait(); }(&q),
      after(1ms, 7)));
  EXPECT_EQ(res.index, 1u);
  EXPECT_TRUE(q.empty());
  std::string keep = "datagram";
  EXPECT_FALSE(q.wake_one(std::move(keep)));
  EXPECT_EQ(keep, "datagram");  // not consumed: no waiter
}

TEST(WhenAny, WinnerExceptionIsRethrownAfterLosersFinish) {
  Reactor r;
  EXPECT_THROW((void)r.block_on(when_any(fail_after(1ms), after(10s, 1))), std::runtime_error);
  EXPECT_EQ(r.armed_timers(), 0u);
  EXPECT_EQ(r.detached_count(), 0u);
}

TEST(WhenAny, CallerCancellationReachesChildren) {
  Reactor r;
  CancellationSource src;
  Task<WhenAnyResult<int, int>> race = when_any(after(10s, 1), after(10s, 2));
  race.set_cancellation_token(src.token());
  spawn([](CancellationSource* s) -> Task<void> {
    (void)co_await sleep_for(2ms);
    s->cancel();
  }(&src));
  auto t0 = Reactor::now();
  auto res = r.block_on(std::move(race));
  EXPECT_LT(Reactor::now() - t0, 1s);
  EXPECT_EQ(std::get<0>(res.value), -1);  // after() reports its cancelled sleep as -1
  (void)res;
}

Task<bool> wait_event(Event* e) { co_return (co_await e->wait()).ok(); }

TEST(Event, WakesAllWaitersAndStaysSet) {
  Reactor r;
  Event e;
  int woken = 0;
  for (int i = 0; i < 5; ++i) {
    spawn([](Event* e, int* woken) -> Task<void> {
      Result<void> ok = co_await e->wait();
      if (ok.ok()) ++*woken;
    }(&e, &woken));
  }
  r.run_once(false);
  EXPECT_EQ(woken, 0);
  e.set();
  EXPECT_EQ(woken, 0);  // set() only schedules
  while (r.detached_count() > 0) r.run_once();
  EXPECT_EQ(woken, 5);
  EXPECT_TRUE(r.block_on(wait_event(&e)));  // already set: completes at once
  e.reset();
  Result<bool> timed = r.block_on(with_timeout(wait_event(&e), 2ms));
  ASSERT_TRUE(timed.ok());
  EXPECT_FALSE(*timed);  // the wait was cancelled by the timeout
}

TEST(Channel, BoundedBackpressure) {
  Reactor r;
  Channel<std::unique_ptr<int>> ch(4);
  int sent = 0;
  spawn([](Channel<std::unique_ptr<int>>* ch, int* sent) -> Task<void> {
    for (int i = 0; i < 20; ++i) {
      Result<void> ok = co_await ch->send(std::make_unique<int>(i));
      EXPECT_TRUE(ok.ok());
      ++*sent;
    }
    ch->close();
  }(&ch, &sent));
  for (int i = 0; i < 10; ++i) r.run_once(false);
  EXPECT_EQ(sent, 4);  // the producer is suspended on a full channel
  EXPECT_EQ(ch.size(), 4u);

  std::vector<int> got = r.block_on([](Channel<std::unique_ptr<int>>* ch) -> Task<std::vector<int>> {
    std::vector<int> out;
    while (true) {
      Result<std::unique_ptr<int>> v = co_await ch->recv();
      if (!v.ok()) {
        EXPECT_EQ(v.error(), std::errc::broken_pipe);
        break;
      }
      EXPECT_LE(ch->size(), ch->capacity());
      out.push_back(**v);
    }
    co_return out;
  }(&ch));
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], i);
  EXPECT_EQ(sent, 20);
}

TEST(Channel, RecvTimesOutAndLosesNothing) {
  Reactor r;
  Channel<int> ch(1);
  Result<int> none = r.block_on(with_timeout(ch.recv(), 2ms));
  EXPECT_EQ(none.error(), std::errc::timed_out);
  int v = 5;
  EXPECT_TRUE(ch.try_send(v).ok());  // buffered, not handed to the dead waiter
  Result<int> got = r.block_on(ch.recv());
  EXPECT_EQ(*got, 5);
}

}  // namespace
}  // namespace xnet::rt
