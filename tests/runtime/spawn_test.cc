#include "runtime/spawn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "runtime/event.h"
#include "runtime/reactor.h"
#include "runtime/sleep.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

Task<void> bump(long* n) {
  ++*n;
  co_return;
}

TEST(Spawn, MillionSpawnedTasksComplete) {
  constexpr long kTasks = 1'000'000;
  Reactor r;
  long done = 0;
  for (long i = 0; i < kTasks; ++i) spawn(bump(&done));
  EXPECT_EQ(done, 0);  // spawn never runs the task inline
  while (r.detached_count() > 0) r.run_once();
  EXPECT_EQ(done, kTasks);
}

Task<int> thrower() {
  throw std::runtime_error("escaped");
  co_return 1;
}

TEST(Spawn, EscapedExceptionGoesToTheHandler) {
  Reactor r;
  std::string seen;
  r.set_error_handler([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      seen = ex.what();
    }
  });
  spawn(thrower());
  while (r.detached_count() > 0) r.run_once();
  EXPECT_EQ(seen, "escaped");
}

TEST(Spawn, DefaultHandlerPrintsToStderr) {
  Reactor r;
  testing::internal::CaptureStderr();
  spawn(thrower());
  while (r.detached_count() > 0) r.run_once();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("escaped"), std::string::npos) << err;
}

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};

Task<void> wait_forever(Counted c, Event* never) {
  (void)c;
  Counted local;
  (void)co_await never->wait();
  (void)co_await sleep_for(1h);
}

TEST(Spawn, TasksSuspendedAtShutdownAreDestroyed) {
  Counted::alive = 0;
  Event never;
  {
    Reactor r;
    for (int i = 0; i < 100; ++i) spawn(wait_forever(Counted{}, &never));
    spawn([]() -> Task<void> { (void)co_await sleep_for(1h); }());
    for (int i = 0; i < 3; ++i) r.run_once(false);
    EXPECT_EQ(Counted::alive, 200);
    EXPECT_EQ(r.detached_count(), 101u);
  }
  EXPECT_EQ(Counted::alive, 0);
}

}  // namespace
}  // namespace xnet::rt
