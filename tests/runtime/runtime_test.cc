#include "runtime/runtime.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "runtime/sleep.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

TEST(Runtime, ThisShardOutsideIsNoShard) { EXPECT_EQ(this_shard(), kNoShard); }

Task<long> ping_pong(int rounds) {
  const unsigned home = this_shard();
  const unsigned other = 1 - home;
  long sum = 0;
  for (int i = 0; i < rounds; ++i) {
    sum += co_await submit_to(other, [i, other] {
      EXPECT_EQ(this_shard(), other);
      return i;
    });
    EXPECT_EQ(this_shard(), home);  // resumed on its own shard
  }
  co_return sum;
}

TEST(Runtime, CrossShardPingPong100k) {
  constexpr int kRounds = 100'000;
  Runtime rt(RuntimeOptions{.shards = 2});
  long sum = rt.run_on(0, [] { return ping_pong(kRounds); });
  EXPECT_EQ(sum, long{kRounds} * (kRounds - 1) / 2);
}

TEST(Runtime, BusyPollShards) {
  Runtime rt(RuntimeOptions{.shards = 2, .mode = PollMode::kBusy});
  EXPECT_EQ(rt.run_on(1, [] { return ping_pong(1000); }), 1000L * 999 / 2);
}

// The policy is the shard threads' own: the thread that built the runtime
// keeps its policy, and shards without the option stay SCHED_OTHER.
TEST(Runtime, SchedBatchAppliesToEveryShardThreadOnly) {
  const int before = sched_getscheduler(0);
  {
    Runtime rt(RuntimeOptions{.shards = 2, .pin_threads = false, .sched_batch = true});
    EXPECT_EQ(rt.run_on(0, [] { return sched_getscheduler(0); }), SCHED_BATCH);
    EXPECT_EQ(rt.run_on(1, [] { return sched_getscheduler(0); }), SCHED_BATCH);
  }
  EXPECT_EQ(sched_getscheduler(0), before);
  Runtime plain(RuntimeOptions{.shards = 1, .pin_threads = false});
  EXPECT_EQ(plain.run_on(0, [] { return sched_getscheduler(0); }), SCHED_OTHER);
}

TEST(Runtime, SubmitTaskReturningFunctionAndExceptions) {
  Runtime rt(RuntimeOptions{.shards = 2});
  int v = rt.run_on(0, []() -> Task<int> {
    int r = co_await submit_to(1, []() -> Task<int> {
      (void)co_await sleep_for(1ms);
      co_return this_shard() * 10 + 5;
    });
    bool caught = false;
    try {
      co_await submit_to(1, []() -> int { throw std::runtime_error("remote"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "remote" && this_shard() == 0;
    }
    EXPECT_TRUE(caught);
    co_await submit_to(1, [] {});  // void
    co_return r;
  });
  EXPECT_EQ(v, 15);
}

TEST(Runtime, ManyConcurrentCallersOverflowTheRingsSafely) {
  Runtime rt(RuntimeOptions{.shards = 2, .ring_capacity = 4});
  long total = rt.run_on(0, []() -> Task<long> {
    std::vector<Task<int>> calls;
    for (int i = 0; i < 1000; ++i) calls.push_back(submit_to(1, [i] { return i; }));
    std::vector<int> out = co_await when_all(std::move(calls));
    long s = 0;
    for (int x : out) s += x;
    co_return s;
  });
  EXPECT_EQ(total, 999L * 1000 / 2);
}

TEST(Runtime, SubmitToOwnShardRunsInline) {
  Runtime rt(RuntimeOptions{.shards = 1});
  EXPECT_EQ(rt.run_on(0, []() -> Task<unsigned> {
    co_return co_await submit_to(0, [] { return this_shard() + 40; });
  }),
            40u);
}

TEST(Runtime, MoreShardsThanCoresIsReportedAndNotPinned) {
  const unsigned cores = std::thread::hardware_concurrency();
  testing::internal::CaptureStderr();
  {
    Runtime rt(RuntimeOptions{.shards = cores + 1});
    EXPECT_FALSE(rt.pinned());
    EXPECT_EQ(rt.run_on(cores, [] { return this_shard(); }), cores);
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("not pinned"), std::string::npos) << err;
}

// Two runtimes (as two xnet processes would) never pin a shard to the same
// core: each claims its cores machine-wide while it lives.
TEST(Runtime, RuntimesDoNotShareAPinnedCore) {
  if (::access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm: core claims unavailable";
  testing::internal::CaptureStderr();
  Runtime a(RuntimeOptions{.shards = 1});
  Runtime b(RuntimeOptions{.shards = 1});
  (void)testing::internal::GetCapturedStderr();
  if (!a.pinned() || !b.pinned()) {
    SUCCEED() << "cores held elsewhere: at least one runtime left unpinned, as it should";
    return;
  }
  EXPECT_NE(a.run_on(0, [] { return ::sched_getcpu(); }), b.run_on(0, [] { return ::sched_getcpu(); }));
}

TEST(Runtime, ShutdownDestroysSuspendedTasks) {
  static std::atomic<int> alive{0};
  struct Guard {
    Guard() { ++alive; }
    ~Guard() { --alive; }
  };
  {
    Runtime rt(RuntimeOptions{.shards = 2});
    rt.run_on(1, [] {
      spawn([]() -> Task<void> {
        Guard g;
        (void)co_await sleep_for(1h);
      }());
    });
    rt.run_on(1, [] {});  // the spawned task has started by now
    EXPECT_EQ(alive.load(), 1);
  }
  EXPECT_EQ(alive.load(), 0);
}

}  // namespace
}  // namespace xnet::rt
