#pragma once
// Reactor: one per thread, run to completion. A loop iteration runs expired
// timers, a batch of ready coroutines, every registered Poller and io_uring
// completions. When nothing did work it sleeps in io_uring (idle mode) until an
// fd is ready, the next timer or poller deadline, or another thread writes the
// wake-up eventfd; in busy-poll mode it never sleeps.

#include <liburing.h>
#include <poll.h>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "runtime/cancellation.h"
#include "runtime/clock.h"
#include "runtime/intrusive_list.h"
#include "runtime/poller.h"
#include "runtime/ready_queue.h"
#include "runtime/result.h"
#include "runtime/task.h"
#include "runtime/timer_heap.h"

namespace xnet::rt {

enum class PollMode {
  kIdle,  // sleep in io_uring when there is nothing to do
  kBusy,  // spin over pollers; lowest latency, burns the core
};

struct ReactorOptions {
  PollMode mode = PollMode::kIdle;
  unsigned ring_entries = 256;
  // Idle mode: keep polling this long after the last work before sleeping.
  // Waking a sleeping thread costs tens of microseconds; a reply that arrives
  // within the spin window costs nothing.
  Duration idle_spin{0};
  // Busy mode: after a pass that found nothing to do, give the core away
  // (sched_yield) so a thread sharing it runs — typically the threaded NAPI
  // kthread that delivers our frames when it is pinned to our core. A busy
  // receiver that never yields starves it and the kernel drops at the fill
  // ring (netbench: 0.55 M/s with loss vs 0.98 M/s without, 64-byte
  // datagrams); the price is a syscall per empty pass, ~0.5 us of latency.
  bool yield_when_idle = false;
};

class Reactor;
class FdAwaiter;

// Unregisters the poller when destroyed. Must die on the reactor's thread and
// before the reactor; the Poller must outlive the handle.
class [[nodiscard]] PollerHandle {
 public:
  PollerHandle() = default;
  PollerHandle(Reactor* r, Poller* p) : reactor_(r), poller_(p) {}
  PollerHandle(PollerHandle&& o) noexcept;
  PollerHandle& operator=(PollerHandle&& o) noexcept;
  ~PollerHandle() { reset(); }
  void reset();

 private:
  Reactor* reactor_ = nullptr;
  Poller* poller_ = nullptr;
};

// Something waiting for an io_uring completion. The reactor indexes these
// through a slot table, never by pointer in user_data, so a target may go away
// (cancel_io) while the kernel still owns the request.
struct IoTarget {
  void (*complete_)(IoTarget*, int res) = nullptr;
};

namespace detail {
// Root frame of a detached coroutine (spawn, when_all children). The reactor
// keeps the list so frames still suspended at shutdown are destroyed, not leaked.
struct DetachedFrame : ListHook {
  std::coroutine_handle<> frame_;
};
}  // namespace detail

class Reactor {
 public:
  using ErrorHandler = std::function<void(std::exception_ptr)>;

  explicit Reactor(ReactorOptions options = {});
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // The reactor created on this thread (the first, if several), or nullptr.
  static Reactor* current();
  static TimePoint now() { return Clock::now(); }
  // The clock as read at the start of the current loop iteration. Pollers
  // and timers use it instead of reading the clock again: a busy loop that
  // reads it several times per pass spends much of the pass there (a read is
  // ~29 ns here), and one pass of staleness is far below any timer's grain.
  // Where the CPU has a time-stamp counter, an iteration that starts fewer
  // than kLoopClockTicks ticks after the last read keeps that reading (the
  // counter costs ~11 ns): loop_time() then lags the clock by well under a
  // microsecond, so a timer may fire that much late and never early
  // (deadlines come from now()). A busy sender spent 7-8% of its core in the
  // clock (netbench throughput, 64 B), most of it in passes that found
  // nothing to do while it waited for send-buffer space.
  TimePoint loop_time() const { return loop_time_; }
  static constexpr std::uint64_t kLoopClockTicks = 1024;
  PollMode mode() const { return options_.mode; }

  // --- Owner thread only -------------------------------------------------
  // The one way to wake a coroutine: it resumes in a later loop step.
  void schedule(std::coroutine_handle<> h) { ready_.push(h); }

  // Drives the loop until the task finishes; returns its value or rethrows.
  template <typename T>
  T block_on(Task<T> task);

  // Runs until stop(); then drains work that is immediately runnable.
  void run();
  // One loop iteration; sleeps if allowed and nothing happened. Returns
  // whether anything did work.
  bool run_once(bool may_sleep = true);

  PollerHandle register_poller(Poller& poller);

  // co_await reactor.readable(fd): Result<uint32_t> with the poll(2) revents,
  // or operation_canceled. Cancellable through the ambient token.
  FdAwaiter readable(int fd);
  FdAwaiter writable(int fd);
  FdAwaiter poll_fd(int fd, std::uint32_t events);

  void add_timer(TimerNode& node) { timers_.push(node); }
  void cancel_timer(TimerNode& node) { timers_.remove(node); }
  std::size_t armed_timers() const { return timers_.size(); }

  // One-shot poll of fd for events; completion calls target->complete_(res)
  // with the revents or -errno. Returns the slot for cancel_io.
  std::uint32_t submit_poll(int fd, std::uint32_t events, IoTarget* target);
  // The target will not be called; the request is withdrawn from the kernel.
  void cancel_io(std::uint32_t slot);

  // Exceptions escaping spawned tasks land here. Default: print to stderr.
  void set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }
  void report_error(std::exception_ptr e);

  void adopt_detached(detail::DetachedFrame& frame) {
    detached_.push_back(frame);
    schedule(frame.frame_);
  }
  std::size_t detached_count() const { return detached_.size(); }

  // --- Any thread ------------------------------------------------------------
  void stop();
  // Ends an idle sleep; cheap when the reactor is awake (no syscall).
  void wake();
  // Runs fn on the reactor's thread. Takes a lock: not for per-packet paths
  // (those use pollers over lock-free rings).
  void post(std::function<void()> fn);

  // Counters for tests and benchmarks.
  std::uint64_t sleeps() const { return sleeps_; }
  // Busy mode with yield_when_idle: how many times the core was given away.
  std::uint64_t yields() const { return yields_; }

 private:
  friend class PollerHandle;
  struct PollerEntry;

  void unregister_poller(Poller* p);
  bool fire_timers();
  bool run_ready();
  bool poll_pollers();
  void flush_pollers();
  bool run_posts();
  bool reap_completions();
  void handle_completion(std::uint64_t user_data, int res);
  void sleep();
  io_uring_sqe* get_sqe();
  void arm_wake_read();
  void prepare_pollers_to_sleep();
  void arm_poller_fds();
  std::uint32_t alloc_slot(IoTarget* t);

  ReactorOptions options_;
  io_uring ring_{};
  int wake_fd_ = -1;
  std::uint64_t wake_buf_ = 0;
  bool wake_armed_ = false;

  ReadyQueue ready_;
  TimerHeap timers_;
  std::vector<PollerEntry*> pollers_;
  bool pollers_dirty_ = false;

  std::vector<IoTarget*> io_slots_;
  std::vector<std::uint32_t> free_slots_;

  IntrusiveList<detail::DetachedFrame> detached_;
  ErrorHandler error_handler_;

  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> has_posts_{false};
  std::mutex posts_mu_;
  std::vector<std::function<void()>> posts_;

  std::uint64_t sleeps_ = 0;
  std::uint64_t yields_ = 0;
  std::optional<TimePoint> idle_since_;
  TimePoint loop_time_ = Clock::now();
  std::uint64_t loop_time_tsc_ = 0;  // the counter when loop_time_ was read

  void refresh_loop_time();
};

template <typename T>
T Reactor::block_on(Task<T> task) {
  schedule(task.handle());
  while (!task.done()) run_once();
  return task.take_result();
}

// One-shot fd readiness through io_uring. Withdrawn from the kernel if
// cancelled or destroyed while pending.
class FdAwaiter : IoTarget {
 public:
  FdAwaiter(Reactor* r, int fd, std::uint32_t events) : reactor_(r), fd_(fd), events_(events) {
    complete_ = &on_complete;
  }
  FdAwaiter(FdAwaiter&& o) noexcept : FdAwaiter(o.reactor_, o.fd_, o.events_) {}
  ~FdAwaiter() {
    if (slot_ != kNoSlot) reactor_->cancel_io(slot_);
  }

  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!reg_.arm(detail::token_of(h), &on_cancel, this)) {
      result_ = std::errc::operation_canceled;
      return false;
    }
    handle_ = h;
    slot_ = reactor_->submit_poll(fd_, events_, this);
    return true;
  }
  Result<std::uint32_t> await_resume() { return result_; }

 private:
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};

  static void on_complete(IoTarget* t, int res) {
    auto* self = static_cast<FdAwaiter*>(t);
    self->slot_ = kNoSlot;
    self->reg_.disarm();
    if (res < 0) {
      self->result_ = std::error_code(-res, std::generic_category());
    } else {
      self->result_ = static_cast<std::uint32_t>(res);
    }
    self->reactor_->schedule(self->handle_);
  }
  static void on_cancel(void* p) {
    auto* self = static_cast<FdAwaiter*>(p);
    self->reactor_->cancel_io(self->slot_);
    self->slot_ = kNoSlot;
    self->result_ = std::errc::operation_canceled;
    self->reactor_->schedule(self->handle_);
  }

  Reactor* reactor_;
  int fd_;
  std::uint32_t events_;
  std::uint32_t slot_ = kNoSlot;
  std::coroutine_handle<> handle_;
  CancellationRegistration reg_;
  Result<std::uint32_t> result_{std::uint32_t{0}};
};

inline FdAwaiter Reactor::readable(int fd) { return FdAwaiter(this, fd, POLLIN); }
inline FdAwaiter Reactor::writable(int fd) { return FdAwaiter(this, fd, POLLOUT); }
inline FdAwaiter Reactor::poll_fd(int fd, std::uint32_t events) { return FdAwaiter(this, fd, events); }

// co_await yield(): let every other ready coroutine and poller run first.
struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { Reactor::current()->schedule(h); }
  void await_resume() const noexcept {}
};
inline YieldAwaiter yield() { return {}; }

}  // namespace xnet::rt
