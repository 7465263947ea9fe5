#include "runtime/reactor.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sleep.h"
#include "runtime/spawn.h"
#include "runtime/sync_wait.h"
#include "runtime/event.h"
#include "runtime/wait_queue.h"

namespace xnet::rt {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2];
};

Task<int> read_when_ready(Reactor& r, int fd) {
  Result<std::uint32_t> ready = co_await r.readable(fd);
  if (!ready.ok()) co_return -1;
  EXPECT_TRUE(*ready & POLLIN);
  char c = 0;
  EXPECT_EQ(::read(fd, &c, 1), 1);
  co_return c;
}

Task<void> write_later(int fd) {
  (void)co_await sleep_for(5ms);
  char c = 'x';
  EXPECT_EQ(::write(fd, &c, 1), 1);
}

TEST(Reactor, PipeReadinessWakesTheReader) {
  Reactor r;
  Pipe p;
  spawn(write_later(p.fds[1]));
  EXPECT_EQ(r.block_on(read_when_ready(r, p.fds[0])), 'x');
  EXPECT_GE(r.sleeps(), 1u);  // it waited in io_uring, not by spinning
}

Task<std::uint32_t> wait_writable(Reactor& r, int fd) {
  Result<std::uint32_t> ready = co_await r.writable(fd);
  co_return ready.ok() ? *ready : 0;
}

TEST(Reactor, PipeWritable) {
  Reactor r;
  Pipe p;
  EXPECT_TRUE(r.block_on(wait_writable(r, p.fds[1])) & POLLOUT);
}

Task<bool> wait_event(Event* e) {
  Result<void> r = co_await e->wait();
  co_return r.ok();
}

TEST(Reactor, PostFromAnotherThreadWakesTheSleepingReactor) {
  Reactor r;
  Event e;
  auto t0 = Reactor::now();
  std::thread other([&] {
    std::this_thread::sleep_for(20ms);
    r.post([&] { e.set(); });  // writes the eventfd: r is asleep by now
  });
  EXPECT_TRUE(r.block_on(wait_event(&e)));
  other.join();
  EXPECT_GE(Reactor::now() - t0, 20ms);
  EXPECT_GE(r.sleeps(), 1u);
}

TEST(Reactor, StopFromAnotherThreadEndsRun) {
  Reactor r;
  std::thread other([&] {
    std::this_thread::sleep_for(10ms);
    r.stop();
  });
  r.run();  // would sleep forever without the eventfd wake-up
  other.join();
}

// A poller that does `budget` units of work, one per poll().
class CountingPoller final : public Poller {
 public:
  explicit CountingPoller(int budget) : budget_(budget) {}
  bool poll() override {
    ++polls_;
    if (budget_ == 0) return false;
    --budget_;
    if (budget_ == 0) done.set();
    return true;
  }
  std::optional<TimePoint> next_deadline() const override { return deadline_; }
  void set_deadline(TimePoint t) { deadline_ = t; }

  Event done;
  int budget_;
  long polls_ = 0;
  std::optional<TimePoint> deadline_;
};

// Records, on each poll, the pass's loop_time() beside the clock, and on
// every other poll works 20 us (a pass that ran an application's turn).
class LoopTimePoller final : public Poller {
 public:
  explicit LoopTimePoller(Reactor& r) : r_(r) {}
  bool poll() override {
    const TimePoint now = Reactor::now();
    seen.push_back({r_.loop_time(), now, worked_});
    worked_ = seen.size() % 2 == 0;
    if (worked_) {
      while (Reactor::now() - now < 20us) {
      }
    }
    if (seen.size() == 400) done.set();
    return false;
  }
  struct Seen {
    TimePoint loop_time;
    TimePoint now;
    bool after_work;  // the pass before this one worked 20 us
  };
  std::vector<Seen> seen;
  Event done;

 private:
  Reactor& r_;
  bool worked_ = false;
};

// loop_time() may keep an earlier reading for passes that follow within a
// few hundred nanoseconds (the counter check), but never runs ahead of the
// clock or backwards, and a pass after a 20 us one sees the clock move on.
TEST(Reactor, LoopTimeNeverRunsAheadAndFollowsTheClock) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  LoopTimePoller p(r);
  PollerHandle h = r.register_poller(p);
  EXPECT_TRUE(r.block_on(wait_event(&p.done)));
  ASSERT_GE(p.seen.size(), 400u);
  for (size_t i = 1; i < p.seen.size(); ++i) {
    const auto& s = p.seen[i];
    ASSERT_LE(s.loop_time, s.now) << i;
    ASSERT_GE(s.loop_time, p.seen[i - 1].loop_time) << i;
    if (s.after_work) {
      ASSERT_GE(s.loop_time - p.seen[i - 1].loop_time, 20us) << i;
    }
  }
}

// A timer never fires before its deadline, however stale the pass's clock.
TEST(Reactor, TimersNeverFireEarly) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  for (int i = 0; i < 200; ++i) {
    const TimePoint deadline = Reactor::now() + std::chrono::microseconds(i % 7);
    r.block_on([](TimePoint d) -> Task<void> {
      EXPECT_TRUE((co_await sleep_until(d)).ok());
      EXPECT_GE(Reactor::now(), d);
    }(deadline));
  }
}

TEST(Reactor, IdleModeDoesNotSleepWhilePollersWork) {
  Reactor r;
  CountingPoller p(1000);
  PollerHandle h = r.register_poller(p);
  EXPECT_TRUE(r.block_on(wait_event(&p.done)));
  EXPECT_EQ(r.sleeps(), 0u);
}

TEST(Reactor, BusyPollModeSpinsOverPollersWithoutSleeping) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  EXPECT_EQ(r.mode(), PollMode::kBusy);
  CountingPoller p(0);  // never has work
  PollerHandle h = r.register_poller(p);
  auto t0 = Reactor::now();
  Result<void> slept = r.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(10ms); }());
  EXPECT_TRUE(slept.ok());
  EXPECT_GE(Reactor::now() - t0, 10ms);
  EXPECT_EQ(r.sleeps(), 0u);
  EXPECT_GT(p.polls_, 100);  // it spun
}

TEST(Reactor, BusyModeYieldsTheCoreOnlyAfterEmptyPasses) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy, .yield_when_idle = true});
  CountingPoller busy(500);  // has work for its first 500 polls
  PollerHandle h = r.register_poller(busy);
  EXPECT_TRUE(r.block_on(wait_event(&busy.done)));
  EXPECT_EQ(r.yields(), 0u);  // every pass did something
  Result<void> slept = r.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(5ms); }());
  EXPECT_TRUE(slept.ok());
  EXPECT_GT(r.yields(), 0u);  // nothing to do: it gave the core away...
  EXPECT_EQ(r.sleeps(), 0u);  // ...but never slept
}

TEST(Reactor, BusyModeDoesNotYieldUnlessAsked) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  CountingPoller p(0);
  PollerHandle h = r.register_poller(p);
  Result<void> slept = r.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(2ms); }());
  EXPECT_TRUE(slept.ok());
  EXPECT_EQ(r.yields(), 0u);
}

// Its first poll wakes a coroutine (a request arrived); flush() notes what that
// coroutine had done by then (written its reply?).
class WakingPoller final : public Poller {
 public:
  bool poll() override {
    ++polls;
    if (polls != 1) return false;
    arrived.set();
    return true;
  }
  void flush() override {
    if (flushes++ == 0) {
      replied_at_first_flush = replied;
      polls_at_first_flush = polls;
    }
  }

  Event arrived;
  bool replied = false;
  bool replied_at_first_flush = false;
  int polls = 0;
  int flushes = 0;
  int polls_at_first_flush = 0;
};

Task<void> reply_when_woken(WakingPoller& p) {
  EXPECT_TRUE(co_await wait_event(&p.arrived));
  p.replied = true;
}

TEST(Reactor, WokenCoroutinesRunAndAreFlushedInTheSamePass) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  WakingPoller p;
  PollerHandle h = r.register_poller(p);
  r.block_on(reply_when_woken(p));
  EXPECT_EQ(p.flushes, 1);               // once: only the pass whose poll woke someone
  EXPECT_TRUE(p.replied_at_first_flush);  // the reply was written before the flush...
  EXPECT_EQ(p.polls_at_first_flush, 1);   // ...in the pass of the poll that woke it
  Result<void> slept = r.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(2ms); }());
  EXPECT_TRUE(slept.ok());
  EXPECT_GT(p.polls, 10);
  EXPECT_EQ(p.flushes, 1);  // the timer's wake-up is no poll's: no flush for it
}

// Sleeps exactly until the poller's deadline, then the poller runs.
class DeadlinePoller final : public Poller {
 public:
  explicit DeadlinePoller(TimePoint when) : when_(when) {}
  bool poll() override {
    if (fired_ || Reactor::now() < when_) return false;
    fired_ = true;
    fired_at_ = Reactor::now();
    done.set();  // wakes through the ready queue, never inline
    return true;
  }
  std::optional<TimePoint> next_deadline() const override {
    if (fired_) return std::nullopt;
    return when_;
  }
  Event done;
  TimePoint when_;
  bool fired_ = false;
  TimePoint fired_at_{};
};

TEST(Reactor, IdleModeSleepsUntilThePollersDeadline) {
  Reactor r;
  auto t0 = Reactor::now();
  DeadlinePoller p(t0 + 30ms);
  PollerHandle h = r.register_poller(p);
  EXPECT_TRUE(r.block_on(wait_event(&p.done)));
  EXPECT_GE(p.fired_at_ - t0, 30ms);
  EXPECT_LT(p.fired_at_ - t0, 30ms + 15ms);  // not a polling loop with a coarse tick
  // Nearly all the time was spent in one or two io_uring waits, not spinning.
  EXPECT_LE(r.sleeps(), 3u);
}

class FdPoller final : public Poller {
 public:
  explicit FdPoller(int fd) : fd_(fd) {}
  bool poll() override {
    char c;
    if (::read(fd_, &c, 1) != 1) return false;
    got = c;
    done.set();
    return true;
  }
  std::optional<PollFd> wait_fd() const override { return PollFd{fd_, POLLIN}; }
  Event done;
  int fd_;
  char got = 0;
};

TEST(Reactor, PollerWaitFdEndsTheSleep) {
  Reactor r;
  Pipe p;
  int flags = 1;
  ASSERT_EQ(::ioctl(p.fds[0], FIONBIO, &flags), 0);
  FdPoller poller(p.fds[0]);
  PollerHandle h = r.register_poller(poller);
  std::thread other([&] {
    std::this_thread::sleep_for(10ms);
    char c = 'z';
    EXPECT_EQ(::write(p.fds[1], &c, 1), 1);
  });
  EXPECT_TRUE(r.block_on(wait_event(&poller.done)));
  other.join();
  EXPECT_EQ(poller.got, 'z');
  EXPECT_GE(r.sleeps(), 1u);
}

// Records the reactor's calls in order. poll() finds work only on its
// `work_on`-th call (0: never).
class SleepHookPoller final : public Poller {
 public:
  explicit SleepHookPoller(int fd, int work_on = 0) : fd_(fd), work_on_(work_on) {}
  bool poll() override {
    calls.push_back("poll");
    return ++polls_ == work_on_;
  }
  void prepare_to_sleep() override { calls.push_back("prepare"); }
  std::optional<PollFd> wait_fd() const override {
    calls.push_back("wait_fd");
    return PollFd{fd_, POLLIN};
  }
  std::optional<TimePoint> next_deadline() const override { return deadline; }

  mutable std::vector<std::string> calls;
  std::optional<TimePoint> deadline;

 private:
  int fd_;
  int work_on_;
  int polls_ = 0;
};

TEST(Reactor, PrepareToSleepComesOnceBeforeTheFdsAreAsked) {
  Reactor r;
  Pipe p;  // never written: the deadline ends the sleep
  SleepHookPoller poller(p.fds[0]);
  poller.deadline = Reactor::now() + 2ms;
  PollerHandle h = r.register_poller(poller);
  EXPECT_FALSE(r.run_once());
  EXPECT_EQ(r.sleeps(), 1u);
  // The second poll is the one after publishing the sleep.
  const std::vector<std::string> want = {"poll", "poll", "prepare", "wait_fd"};
  EXPECT_EQ(poller.calls, want);
}

TEST(Reactor, NoPrepareToSleepAfterAnIterationWithWork) {
  Reactor r;
  Pipe p;
  SleepHookPoller poller(p.fds[0], /*work_on=*/1);
  PollerHandle h = r.register_poller(poller);
  EXPECT_TRUE(r.run_once());
  EXPECT_EQ(r.sleeps(), 0u);
  EXPECT_EQ(poller.calls, std::vector<std::string>{"poll"});
}

TEST(Reactor, NoPrepareToSleepWhenTheLastPollBeforeSleepingFindsWork) {
  Reactor r;
  Pipe p;
  SleepHookPoller poller(p.fds[0], /*work_on=*/2);  // work raced with the sleep
  PollerHandle h = r.register_poller(poller);
  r.run_once();
  EXPECT_EQ(r.sleeps(), 0u);
  const std::vector<std::string> want = {"poll", "poll"};
  EXPECT_EQ(poller.calls, want);
}

TEST(Reactor, NoPrepareToSleepWhenTheDeadlineHasPassed) {
  Reactor r;
  Pipe p;
  SleepHookPoller poller(p.fds[0]);
  poller.deadline = Reactor::now() - 1ms;
  PollerHandle h = r.register_poller(poller);
  r.run_once();
  EXPECT_EQ(r.sleeps(), 0u);
  const std::vector<std::string> want = {"poll", "poll"};
  EXPECT_EQ(poller.calls, want);
}

TEST(Reactor, BusyPollModeNeverPreparesToSleep) {
  Reactor r(ReactorOptions{.mode = PollMode::kBusy});
  Pipe p;
  SleepHookPoller poller(p.fds[0]);
  PollerHandle h = r.register_poller(poller);
  for (int i = 0; i < 100; ++i) r.run_once();
  EXPECT_EQ(r.sleeps(), 0u);
  EXPECT_EQ(poller.calls, std::vector<std::string>(100, "poll"));
}

TEST(Reactor, PollerHandleUnregisters) {
  Reactor r;
  CountingPoller p(1'000'000);
  {
    PollerHandle h = r.register_poller(p);
    r.run_once(false);
  }
  long polls = p.polls_;
  r.run_once(false);
  EXPECT_EQ(p.polls_, polls);
}

}  // namespace
}  // namespace xnet::rt
