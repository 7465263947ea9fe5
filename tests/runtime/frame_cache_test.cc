// The per-thread coroutine frame cache: a steady stream of tasks allocates
// nothing from the heap, the cache stays bounded, large frames bypass it,
// and a thread's cached frames go back to the heap when it exits. Heap
// traffic is counted by replacing the global operator new/delete in this
// test binary.

#include "runtime/frame_cache.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include "runtime/sync_wait.h"
#include "runtime/task.h"

namespace {
std::atomic<long> g_allocs{0};
std::atomic<long> g_live{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_live.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace xnet::rt {
namespace {

Task<int> small(int v) { co_return v + 1; }

Task<int> chain(int n) {
  int s = 0;
  for (int i = 0; i < n; ++i) s += co_await small(i);
  co_return s;
}

Task<int> large(int v) {
  std::array<char, 4 * detail::kMaxCachedFrame> buf{};
  buf[static_cast<size_t>(v) % buf.size()] = 1;
  co_await small(v);  // keeps buf alive across a suspension point: in the frame
  co_return buf[static_cast<size_t>(v) % buf.size()] + v;
}

class FrameCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!detail::frame_cache_enabled()) GTEST_SKIP() << "frame cache compiled out (sanitizer build)";
  }
};

TEST_F(FrameCache, SteadyStreamOfTasksTakesNothingFromTheHeap) {
  // Whatever sync_wait itself allocates (a reactor) is the same for 10 tasks
  // and for 10,000: the tasks' frames add nothing once the lists are warm.
  auto allocations = [](int n, int expect) {
    const long before = g_allocs.load();
    EXPECT_EQ(sync_wait(chain(n)), expect);
    return g_allocs.load() - before;
  };
  (void)allocations(10, 55);  // warms the lists of both frame sizes
  EXPECT_EQ(allocations(10000, 10000 * 10001 / 2), allocations(10, 55));
}

TEST_F(FrameCache, NextFrameOfAClassIsTheLastOneFreed) {
  void* first = nullptr;
  {
    Task<int> t = small(1);
    first = t.handle().address();
    EXPECT_EQ(sync_wait(std::move(t)), 2);
  }
  Task<int> u = small(2);
  EXPECT_EQ(u.handle().address(), first);
  EXPECT_EQ(sync_wait(std::move(u)), 3);
}

TEST_F(FrameCache, HoldsAtMostItsBoundPerClass) {
  const size_t before = detail::cached_frames();
  {
    std::vector<Task<int>> many;
    for (int i = 0; i < 10 * static_cast<int>(detail::kFramesPerClass); ++i) many.push_back(small(i));
  }  // never run: destroyed unstarted, all frames of one class freed at once
  EXPECT_LE(detail::cached_frames(), before + detail::kFramesPerClass);
  EXPECT_GE(detail::cached_frames(), detail::kFramesPerClass);
}

TEST_F(FrameCache, LargeFramesBypassTheCache) {
  (void)sync_wait(large(1));
  const size_t cached = detail::cached_frames();
  const long before = g_allocs.load();
  EXPECT_EQ(sync_wait(large(3)), 4);
  EXPECT_EQ(detail::cached_frames(), cached);
  EXPECT_GE(g_allocs.load(), before + 1);  // the large frame came from the heap
}

TEST_F(FrameCache, AThreadsCachedFramesReturnToTheHeapWhenItExits) {
  const long live_before = g_live.load();
  std::thread t([] {
    (void)sync_wait(chain(100));
    std::vector<Task<int>> many;
    for (int i = 0; i < 32; ++i) many.push_back(small(i));
    many.clear();
    EXPECT_GT(detail::cached_frames(), 0u);
  });
  t.join();
  EXPECT_EQ(g_live.load(), live_before);
}

}  // namespace
}  // namespace xnet::rt
