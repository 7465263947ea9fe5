#include "runtime/task.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "runtime/reactor.h"
#include "runtime/sync_wait.h"

namespace xnet::rt {
namespace {

Task<int> value(int v) { co_return v; }

Task<int> add(int a, int b) {
  int x = co_await value(a);
  int y = co_await value(b);
  co_return x + y;
}

TEST(Task, ReturnsValue) { EXPECT_EQ(sync_wait(add(2, 3)), 5); }

Task<void> nothing(int* hits) {
  ++*hits;
  co_return;
}

TEST(Task, VoidTask) {
  int hits = 0;
  sync_wait(nothing(&hits));
  EXPECT_EQ(hits, 1);
}

Task<std::unique_ptr<std::string>> make_owned() { co_return std::make_unique<std::string>("moved"); }

Task<std::string> unwrap() {
  std::unique_ptr<std::string> p = co_await make_owned();
  co_return *p;
}

TEST(Task, MoveOnlyResult) { EXPECT_EQ(sync_wait(unwrap()), "moved"); }

Task<int> level3() {
  throw std::runtime_error("deep");
  co_return 0;
}
Task<int> level2() { co_return co_await level3() + 1; }
Task<int> level1() { co_return co_await level2() + 1; }

TEST(Task, ExceptionPropagatesThroughThreeLevels) {
  try {
    (void)sync_wait(level1());
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "deep");
  }
}

Task<int> caught() {
  try {
    co_await level2();
  } catch (const std::runtime_error&) {
    co_return 42;
  }
  co_return 0;
}

TEST(Task, AwaiterCanCatch) { EXPECT_EQ(sync_wait(caught()), 42); }

struct Counted {
  static inline int constructed = 0;
  static inline int destroyed = 0;
  Counted() { ++constructed; }
  Counted(const Counted&) { ++constructed; }
  Counted(Counted&&) noexcept { ++constructed; }
  ~Counted() { ++destroyed; }
};

Task<int> takes(Counted c, std::unique_ptr<int> p) {
  (void)c;
  co_return *p;
}

TEST(Task, UnawaitedTaskLeaksNothing) {
  Counted::constructed = Counted::destroyed = 0;
  {
    Task<int> t = takes(Counted{}, std::make_unique<int>(7));
    Task<int> moved = std::move(t);
    EXPECT_FALSE(moved.done());
  }
  EXPECT_GT(Counted::constructed, 0);
  EXPECT_EQ(Counted::constructed, Counted::destroyed);
}

Task<int> chain(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await chain(n - 1);
}

TEST(Task, MillionDeepSynchronousChainUsesConstantStack) { EXPECT_EQ(sync_wait(chain(1'000'000)), 1'000'000); }

Task<int> one() { co_return 1; }

Task<long> loop(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await one();
  co_return sum;
}

TEST(Task, MillionSynchronousCompletionsInALoop) { EXPECT_EQ(sync_wait(loop(1'000'000)), 1'000'000); }

}  // namespace
}  // namespace xnet::rt
