#pragma once
// Runtime: N shards, each a thread with its own Reactor, pinned to its own core
// when there are enough cores (otherwise it says so on stderr and does not pin).
// Cores are claimed machine-wide (an flock on /dev/shm/xnet-cpu<N>.lock, held
// while the runtime lives), so two xnet processes never pin a shard to the same
// core: both would otherwise take the first allowed core, and two reactors
// spinning (idle_spin, busy poll) on one core take turns in whole spins or
// time slices (a ping to a local echo went from ~10 to ~124 us p50). When
// other xnet processes hold too many cores the shards are left unpinned.
//
// Cross-shard calls: co_await submit_to(shard, fn) runs fn on that shard and
// resumes the caller on its own shard with the result (or exception). The
// calling coroutine itself hops: its handle travels over a lock-free SPSC ring
// (one per ordered pair of shards) to the target, which resumes it from its
// ready queue; after fn, it hops back the same way. Nothing is allocated per
// call beyond the submit_to frame. A full ring is not an error: the handle
// waits in the sender's overflow queue and is flushed by the sender's poller.
//
// Shutdown: stop() (also the destructor) waits until every shard is idle and no
// submit_to is in flight, then joins. Tasks still suspended then (e.g. spawned
// loops waiting forever) are destroyed with their shard's reactor.

#include <atomic>
#include <cassert>
#include <cstddef>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/spawn.h"
#include "runtime/spsc_ring.h"
#include "runtime/task.h"
#include "runtime/when_all.h"

namespace xnet::rt {

inline constexpr unsigned kNoShard = ~0u;

struct RuntimeOptions {
  unsigned shards = 1;
  PollMode mode = PollMode::kIdle;
  bool pin_threads = true;
  // Explicit cores: shard i on cpus[i] (a benchmark's layout, a deployment's
  // cpuset); shards past the list are not pinned. The caller chose them, so
  // they are neither claimed nor checked against other xnet processes.
  // Empty: the first allowed cores no other xnet process claimed.
  std::vector<int> cpus{};
  std::size_t ring_capacity = 1024;  // per ordered pair of shards, power of two
  Duration idle_spin = std::chrono::microseconds(50);  // see ReactorOptions
  bool yield_when_idle = false;                         // see ReactorOptions
  // Shard threads under SCHED_BATCH: a shard the kernel wakes (frames from a
  // NAPI kthread on the same core) does not preempt the running thread; it
  // runs when that thread's slice ends or it sleeps, and then finds more work
  // for one wake-up. For a throughput receiver sharing its core with the NAPI
  // kthread (netbench, 64 B: ~150 -> ~100 ns a datagram); the price is that a
  // wake-up, timer or reply can wait a scheduler slice (milliseconds), so the
  // rings must hold what arrives meanwhile. Needs no privilege. Failure is
  // reported on stderr and the shard keeps its policy, as with pinning.
  bool sched_batch = false;
};

// The shard of the calling thread, or kNoShard outside the runtime.
unsigned this_shard();

namespace detail {

template <typename T>
struct UnwrapTask {
  using type = T;
};
template <typename T>
struct UnwrapTask<Task<T>> {
  using type = T;
};

template <typename F>
struct SubmitTraits {
  using Raw = std::invoke_result_t<F&>;
  static constexpr bool kReturnsTask = kIsTask<Raw>;
  using type = typename UnwrapTask<Raw>::type;
};

template <typename F>
Task<typename SubmitTraits<F>::type> call_as_task(F& fn) {
  if constexpr (SubmitTraits<F>::kReturnsTask) {
    co_return co_await fn();
  } else {
    co_return fn();
  }
}

}  // namespace detail

template <typename F>
using SubmitResult = typename detail::SubmitTraits<F>::type;

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The runtime the calling shard thread belongs to, or nullptr.
  static Runtime* current();

  unsigned shard_count() const { return static_cast<unsigned>(shards_.size()); }
  bool pinned() const { return pinned_; }
  // Touch a shard's reactor only from that shard (post() and wake() excepted).
  Reactor& reactor(unsigned shard);

  // From a shard thread. fn is a plain callable or one returning Task<R>.
  // Not cancellable: fn runs to completion once submitted.
  template <typename F>
  Task<SubmitResult<F>> submit_to(unsigned shard, F fn);

  // From a thread outside the runtime: run fn on a shard, block for the result.
  template <typename F>
  SubmitResult<F> run_on(unsigned shard, F fn);

  // Drain, stop and join every shard. Idempotent.
  void stop();

 private:
  struct Shard;
  class ShardPoller;

  struct Hop {
    Runtime* runtime;
    unsigned from;
    unsigned to;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { runtime->send(from, to, h); }
    void await_resume() const noexcept {}
  };

  void shard_main(unsigned index);
  void send(unsigned from, unsigned to, std::coroutine_handle<> h);
  SpscRing<void*>& ring(unsigned from, unsigned to) { return *rings_[from * shard_count() + to]; }

  RuntimeOptions options_;
  bool pinned_ = false;
  std::vector<int> cpu_claims_;  // flock'ed fds, closed after the shards stop
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<SpscRing<void*>>> rings_;  // [from * n + to]
  std::atomic<unsigned> ready_shards_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<long> in_flight_{0};
  bool stopped_ = false;
};

template <typename F>
Task<SubmitResult<F>> Runtime::submit_to(unsigned shard, F fn) {
  using R = SubmitResult<F>;
  const unsigned home = this_shard();
  assert(home != kNoShard && "submit_to from outside the runtime: use run_on");
  assert(shard < shard_count());
  if (shard == home) co_return co_await detail::call_as_task(fn);

  in_flight_.fetch_add(1, std::memory_order_relaxed);
  co_await Hop{this, home, shard};
  std::optional<detail::NonVoid<R>> value;
  std::exception_ptr error;
  try {
    Task<R> task = detail::call_as_task(fn);
    // The caller's token is its home shard's (non-atomic) state: keep it away.
    task.set_cancellation_token(CancellationToken());
    if constexpr (std::is_void_v<R>) {
      co_await std::move(task);
      value.emplace();
    } else {
      value.emplace(co_await std::move(task));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await Hop{this, shard, home};
  in_flight_.fetch_sub(1, std::memory_order_release);
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<R>) co_return std::move(*value);
}

namespace detail {
template <typename F, typename V>
Task<void> run_and_fulfil(F& fn, std::promise<V>& promise) {
  try {
    if constexpr (std::is_void_v<SubmitResult<F>>) {
      co_await call_as_task(fn);
      promise.set_value();
    } else {
      promise.set_value(co_await call_as_task(fn));
    }
  } catch (...) {
    promise.set_exception(std::current_exception());
  }
}
}  // namespace detail

template <typename F>
SubmitResult<F> Runtime::run_on(unsigned shard, F fn) {
  std::promise<SubmitResult<F>> promise;
  auto future = promise.get_future();
  reactor(shard).post([&fn, &promise] { spawn(detail::run_and_fulfil(fn, promise)); });
  return future.get();
}

// submit_to on the calling shard's runtime.
template <typename F>
Task<SubmitResult<F>> submit_to(unsigned shard, F fn) {
  return Runtime::current()->submit_to(shard, std::move(fn));
}

}  // namespace xnet::rt
