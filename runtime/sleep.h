#pragma once
// sleep_for / sleep_until on the current thread's reactor. Both complete with
// Result<void>: ok at the deadline, operation_canceled if the ambient (or the
// given) token is cancelled first. The timer is withdrawn on cancellation and
// on destruction, so nothing dangles.

#include <coroutine>

#include "runtime/cancellation.h"
#include "runtime/clock.h"
#include "runtime/reactor.h"
#include "runtime/result.h"
#include "runtime/task.h"
#include "runtime/timer_heap.h"

namespace xnet::rt {

class SleepAwaiter {
 public:
  explicit SleepAwaiter(TimePoint deadline) : deadline_(deadline) {}
  SleepAwaiter(TimePoint deadline, CancellationToken token)
      : deadline_(deadline), token_(std::move(token)), explicit_token_(true) {}
  SleepAwaiter(SleepAwaiter&& o) noexcept
      : deadline_(o.deadline_), token_(std::move(o.token_)), explicit_token_(o.explicit_token_) {}
  ~SleepAwaiter() {
    if (node_.armed()) reactor_->cancel_timer(node_);
  }

  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!reg_.arm(explicit_token_ ? token_ : detail::token_of(h), &on_cancel, this)) {
      result_ = std::errc::operation_canceled;
      return false;
    }
    reactor_ = Reactor::current();
    if (deadline_ <= reactor_->now()) {
      reg_.disarm();
      return false;
    }
    handle_ = h;
    node_.deadline_ = deadline_;
    node_.fire_ = &on_fire;
    node_.ctx_ = this;
    reactor_->add_timer(node_);
    return true;
  }
  Result<void> await_resume() const noexcept { return result_; }

 private:
  static void on_fire(void* p) {
    auto* self = static_cast<SleepAwaiter*>(p);
    self->reg_.disarm();
    self->reactor_->schedule(self->handle_);
  }
  static void on_cancel(void* p) {
    auto* self = static_cast<SleepAwaiter*>(p);
    self->reactor_->cancel_timer(self->node_);
    self->result_ = std::errc::operation_canceled;
    self->reactor_->schedule(self->handle_);
  }

  TimePoint deadline_;
  CancellationToken token_;
  bool explicit_token_ = false;
  Reactor* reactor_ = nullptr;
  std::coroutine_handle<> handle_;
  TimerNode node_;
  CancellationRegistration reg_;
  Result<void> result_;
};

inline SleepAwaiter sleep_until(TimePoint deadline) { return SleepAwaiter(deadline); }
inline SleepAwaiter sleep_until(TimePoint deadline, CancellationToken token) {
  return SleepAwaiter(deadline, std::move(token));
}
inline SleepAwaiter sleep_for(Duration d) { return SleepAwaiter(Reactor::now() + d); }
inline SleepAwaiter sleep_for(Duration d, CancellationToken token) {
  return SleepAwaiter(Reactor::now() + d, std::move(token));
}

// RAII one-shot timer with a plain callback, for components (and tests) that
// are not coroutines. The callback must only schedule work.
class Timer {
 public:
  explicit Timer(Reactor& reactor) : reactor_(&reactor) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  void arm(TimePoint deadline, void (*fn)(void*), void* ctx) {
    cancel();
    node_.deadline_ = deadline;
    node_.fire_ = fn;
    node_.ctx_ = ctx;
    reactor_->add_timer(node_);
  }
  bool cancel() {
    if (!node_.armed()) return false;
    reactor_->cancel_timer(node_);
    return true;
  }
  bool armed() const { return node_.armed(); }
  TimePoint deadline() const { return node_.deadline_; }

 private:
  Reactor* reactor_;
  TimerNode node_;
};

}  // namespace xnet::rt
