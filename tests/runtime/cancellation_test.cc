#include "runtime/cancellation.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <deque>
#include <string>

#include "runtime/reactor.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"
#include "runtime/wait_queue.h"
#include "runtime/with_timeout.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

Task<Result<int>> wait_on(WaitQueue<int>* q) { co_return co_await q->wait(); }

TEST(Cancellation, BeforeSuspension) {
  Reactor r;
  CancellationSource src;
  src.cancel();
  WaitQueue<int> q;
  Task<Result<int>> t = wait_on(&q);
  t.set_cancellation_token(src.token());
  Result<int> res = r.block_on(std::move(t));
  EXPECT_EQ(res.error(), std::errc::operation_canceled);
  EXPECT_TRUE(q.empty());  // it never queued
}

TEST(Cancellation, WhileSuspended) {
  Reactor r;
  CancellationSource src;
  WaitQueue<int> q;
  Result<int> res = r.block_on([&]() -> Task<Result<int>> {
    Task<Result<int>> t = wait_on(&q);
    t.set_cancellation_token(src.token());
    spawn([](CancellationSource* s, WaitQueue<int>* q) -> Task<void> {
      EXPECT_EQ(q->size(), 1u);  // the waiter is suspended in the queue
      s->cancel();
      co_return;
    }(&src, &q));
    co_return co_await std::move(t);
  }());
  EXPECT_EQ(res.error(), std::errc::operation_canceled);
  EXPECT_TRUE(q.empty());
  // A late value is not consumed: the producer keeps it.
  EXPECT_FALSE(q.wake_one(5));
}

TEST(Cancellation, AfterCompletionIsANoOp) {
  Reactor r;
  CancellationSource src;
  WaitQueue<int> q;
  Task<Result<int>> t = wait_on(&q);
  t.set_cancellation_token(src.token());
  Result<int> res = r.block_on([&]() -> Task<Result<int>> {
    spawn([](WaitQueue<int>* q) -> Task<void> {
      EXPECT_TRUE(q->wake_one(9));
      co_return;
    }(&q));
    co_return co_await std::move(t);
  }());
  EXPECT_TRUE(src.cancel());  // nobody is registered any more
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(*res, 9);
}

TEST(Cancellation, RacingCompletionDeliversTheValue) {
  // The value is handed over and, before the waiter resumes, cancellation is
  // requested: the waiter must still get the value (nothing lost).
  Reactor r;
  CancellationSource src;
  WaitQueue<int> q;
  Result<int> res = r.block_on([&]() -> Task<Result<int>> {
    Task<Result<int>> t = wait_on(&q);
    t.set_cancellation_token(src.token());
    spawn([](CancellationSource* s, WaitQueue<int>* q) -> Task<void> {
      EXPECT_TRUE(q->wake_one(11));
      s->cancel();  // same loop step: the waiter has not resumed yet
      co_return;
    }(&src, &q));
    co_return co_await std::move(t);
  }());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(*res, 11);
}

TEST(Cancellation, RacingTheOtherWayLosesNothing) {
  Reactor r;
  CancellationSource src;
  WaitQueue<int> q;
  std::deque<int> kept;
  Result<int> res = r.block_on([&]() -> Task<Result<int>> {
    Task<Result<int>> t = wait_on(&q);
    t.set_cancellation_token(src.token());
    spawn([](CancellationSource* s, WaitQueue<int>* q, std::deque<int>* kept) -> Task<void> {
      s->cancel();
      if (!q->wake_one(12)) kept->push_back(12);  // the socket pattern
      co_return;
    }(&src, &q, &kept));
    co_return co_await std::move(t);
  }());
  EXPECT_EQ(res.error(), std::errc::operation_canceled);
  EXPECT_EQ(kept, std::deque<int>{12});
}

TEST(Cancellation, SleepIsCancellable) {
  Reactor r;
  CancellationSource src;
  auto t0 = Reactor::now();
  Result<void> res = r.block_on([&]() -> Task<Result<void>> {
    spawn([](CancellationSource* s) -> Task<void> {
      (void)co_await sleep_for(5ms);
      s->cancel();
    }(&src));
    co_return co_await sleep_for(10s, src.token());
  }());
  EXPECT_EQ(res.error(), std::errc::operation_canceled);
  EXPECT_LT(Reactor::now() - t0, 1s);
  EXPECT_EQ(r.armed_timers(), 0u);
}

TEST(Cancellation, FdWaitIsCancellableAndWithdrawn) {
  Reactor r;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Result<std::uint32_t> res = r.block_on(with_timeout(r.readable(fds[0]), 5ms));
  EXPECT_EQ(res.error(), std::errc::timed_out);
  // The withdrawn poll must not fire into a dead frame later.
  char c = 'a';
  ASSERT_EQ(::write(fds[1], &c, 1), 1);
  for (int i = 0; i < 10; ++i) r.run_once(false);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Cancellation, LinkedSourceFollowsItsParent) {
  CancellationSource parent;
  LinkedCancellationSource child(parent.token());
  EXPECT_FALSE(child.is_cancellation_requested());
  parent.cancel();
  EXPECT_TRUE(child.is_cancellation_requested());
  CancellationSource other;
  LinkedCancellationSource independent(other.token());
  independent.cancel();
  EXPECT_FALSE(other.is_cancellation_requested());
}

TEST(Cancellation, RegistrationDestroyedBeforeCancelIsNotCalled) {
  CancellationSource src;
  int calls = 0;
  {
    CancellationRegistration reg;
    EXPECT_TRUE(reg.arm(src.token(), [](void* p) { ++*static_cast<int*>(p); }, &calls));
  }
  CancellationRegistration kept;
  EXPECT_TRUE(kept.arm(src.token(), [](void* p) { ++*static_cast<int*>(p); }, &calls));
  src.cancel();
  src.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(kept.arm(src.token(), [](void*) {}, nullptr));  // already cancelled
}

TEST(Cancellation, SpawnedTaskWithTokenStops) {
  Reactor r;
  CancellationSource src;
  int loops = 0;
  spawn(
      [](int* loops) -> Task<void> {
        while ((co_await sleep_for(1ms)).ok()) ++*loops;
      }(&loops),
      src.token());
  r.block_on([]() -> Task<void> { (void)co_await sleep_for(10ms); }());
  src.cancel();
  while (r.detached_count() > 0) r.run_once();
  EXPECT_GT(loops, 0);
}

}  // namespace
}  // namespace xnet::rt
