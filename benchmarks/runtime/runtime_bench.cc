// Runtime micro-benchmarks: the costs every layer above pays.
//  - task create + await (a coroutine frame allocation and two transfers)
//  - the same under with_timeout (what a per-receive timeout adds)
//  - a wait that suspends and is woken: plain, with a deadline in the
//    waiter, under with_timeout
//  - wake-up latency of a sleeping reactor from another thread (eventfd)
//  - cross-shard submit_to round trip (two SPSC hops)

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/event.h"
#include "runtime/reactor.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "runtime/wait_queue.h"
#include "runtime/with_timeout.h"

namespace xnet::rt {
namespace {

Task<int> leaf(int v) { co_return v; }

Task<long> await_many(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await leaf(static_cast<int>(i));
  co_return sum;
}

void BM_TaskCreateAndAwait(benchmark::State& state) {
  Reactor r;
  constexpr long kBatch = 1000;
  for (auto _ : state) benchmark::DoNotOptimize(r.block_on(await_many(kBatch)));
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_TaskCreateAndAwait);

Task<long> await_many_with_timeout(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    auto r = co_await with_timeout(leaf(static_cast<int>(i)), std::chrono::milliseconds(100));
    sum += *r;
  }
  co_return sum;
}

// The pinger's per-receive guard: a child cancellation source, a timer armed
// and withdrawn, the wrapper's frames. Items are awaits; subtract
// BM_TaskCreateAndAwait for the guard alone.
void BM_TaskAwaitWithTimeout(benchmark::State& state) {
  Reactor r;
  constexpr long kBatch = 1000;
  for (auto _ : state) benchmark::DoNotOptimize(r.block_on(await_many_with_timeout(kBatch)));
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_TaskAwaitWithTimeout);

// A receive that really waits, as the ping-pong's does: a consumer suspends
// on a WaitQueue, a producer (another coroutine) wakes it. Arg 0: plain
// wait(); 1: wait_until(deadline) (the timer in the waiter: set_recv_timeout);
// 2: with_timeout(wait()) (a wrapper task, a child cancellation source, a
// timer). Items are wake-ups.
enum class Guard { kNone, kDeadline, kWithTimeout };

Task<void> consume(WaitQueue<void>& q, long n, Guard g) {
  for (long i = 0; i < n; ++i) {
    Result<void> r;
    switch (g) {
      case Guard::kNone: r = co_await q.wait(); break;
      case Guard::kDeadline: r = co_await q.wait_until(Reactor::now() + std::chrono::milliseconds(100)); break;
      case Guard::kWithTimeout: r = co_await with_timeout(q.wait(), std::chrono::milliseconds(100)); break;
    }
    benchmark::DoNotOptimize(r);
  }
}

Task<void> produce(WaitQueue<void>& q, long n) {
  for (long woken = 0; woken < n;) {
    if (q.wake_one()) ++woken;
    co_await yield();
  }
}

void BM_WaitAndWake(benchmark::State& state) {
  Reactor r;
  WaitQueue<void> q;
  constexpr long kBatch = 1000;
  const auto g = static_cast<Guard>(state.range(0));
  for (auto _ : state) {
    spawn(consume(q, kBatch, g));
    r.block_on(produce(q, kBatch));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(g == Guard::kNone ? "wait" : g == Guard::kDeadline ? "wait_until" : "with_timeout(wait)");
}
BENCHMARK(BM_WaitAndWake)->Arg(0)->Arg(1)->Arg(2);

// Another thread posts to a reactor that is asleep in io_uring; measures post
// to the moment the reactor runs the posted function.
void BM_ReactorWakeupFromAnotherThread(benchmark::State& state) {
  std::atomic<Reactor*> reactor{nullptr};
  std::atomic<bool> quit{false};
  std::atomic<long> woke_ns{0};
  std::thread loop([&] {
    Reactor r;
    reactor.store(&r);
    while (!quit.load()) r.run_once();
  });
  while (reactor.load() == nullptr) std::this_thread::yield();
  Reactor* r = reactor.load();
  for (auto _ : state) {
    state.PauseTiming();
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // let it fall asleep
    woke_ns.store(0);
    state.ResumeTiming();
    auto t0 = Clock::now();
    r->post([&] { woke_ns.store((Clock::now() - t0).count() + 1); });
    while (woke_ns.load(std::memory_order_acquire) == 0) {
    }
    state.SetIterationTime(static_cast<double>(woke_ns.load() - 1) * 1e-9);
  }
  // Stop from inside the loop: r must not be touched after the thread exits.
  r->post([&] { quit.store(true); });
  loop.join();
}
BENCHMARK(BM_ReactorWakeupFromAnotherThread)->UseManualTime();

Task<long> round_trips(long n, unsigned other) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await submit_to(other, [i] { return i; });
  co_return sum;
}

void cross_shard(benchmark::State& state, PollMode mode) {
  Runtime rt(RuntimeOptions{.shards = 2, .mode = mode});
  constexpr long kBatch = 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rt.run_on(0, [] { return round_trips(kBatch, 1); }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_CrossShardRoundTripIdle(benchmark::State& state) { cross_shard(state, PollMode::kIdle); }
void BM_CrossShardRoundTripBusy(benchmark::State& state) { cross_shard(state, PollMode::kBusy); }
BENCHMARK(BM_CrossShardRoundTripIdle)->UseRealTime();
BENCHMARK(BM_CrossShardRoundTripBusy)->UseRealTime();

}  // namespace
}  // namespace xnet::rt
