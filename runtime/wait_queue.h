#pragma once
// WaitQueue<T>: the building block for awaitables that other layers own.
//
// Coroutines wait on the queue; a producer wakes the first waiter with a value
// or an error. Each waiter is an intrusive node in the waiting coroutine's
// frame (no allocation), and leaves the queue by itself when it is cancelled
// (ambient token, so with_timeout / when_any reach it) or destroyed.
//
// Guarantees that make "cancellable and loses nothing" possible:
//  - wake_one() hands the value to a waiter that is still queued; if the queue
//    is empty it returns false and does NOT consume the value, so the producer
//    keeps it (e.g. in the socket's receive queue).
//  - Once woken, a waiter's outcome is fixed: a cancellation that arrives before
//    it resumes is ignored and the value is still delivered.
//  - A woken waiter resumes from the ready queue, never inside wake_one(), so
//    producers may call wake_one() from a Poller's poll().
//
// Example (the shape of UdpSocket::recv_from):
//
//   class Socket {
//    public:
//     Task<Result<Datagram>> recv_from() {
//       if (!rx_.empty()) co_return pop_front(rx_);
//       co_return co_await readers_.wait();   // Result<Datagram>
//     }
//     void deliver(Datagram d) {              // called from the stack's poll()
//       if (!readers_.wake_one(std::move(d))) rx_.push_back(std::move(d));
//     }
//    private:
//     std::deque<Datagram> rx_;
//     WaitQueue<Datagram> readers_;
//   };
//
//   auto r = co_await with_timeout(sock.recv_from(), 50ms);  // timed_out, or
//                                                            // the datagram
// T may be void (a plain signal).

#include <coroutine>
#include <cstddef>
#include <optional>
#include <system_error>
#include <utility>

#include "runtime/cancellation.h"
#include "runtime/clock.h"
#include "runtime/intrusive_list.h"
#include "runtime/reactor.h"
#include "runtime/result.h"
#include "runtime/task.h"
#include "runtime/timer_heap.h"

namespace xnet::rt {

template <typename T>
class WaitQueue {
 public:
  class Waiter;

  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  // Waiters still queued would point at a dead queue: fail them instead.
  ~WaitQueue() { wake_all_error(std::make_error_code(std::errc::operation_canceled)); }

  // Awaitable yielding Result<T>. Uses the awaiting task's ambient token.
  Waiter wait() { return Waiter(this); }
  // Same, with an explicit token instead of the ambient one.
  Waiter wait(CancellationToken token) { return Waiter(this, std::move(token)); }
  // Same, failing with timed_out once `deadline` passes (at once if it has):
  // a timer node inside the waiter, armed only if it really suspends, so a
  // per-operation timeout (SO_RCVTIMEO's) costs no allocation and no extra
  // coroutine, unlike wrapping the operation in with_timeout.
  Waiter wait_until(TimePoint deadline) { return Waiter(this, deadline); }

  bool empty() const { return waiters_.empty(); }
  std::size_t size() const { return waiters_.size(); }

  // Moves from value only if a waiter was queued (and then returns true).
  template <typename U = T>
    requires(!std::is_void_v<U>)
  bool wake_one(U&& value) {
    Waiter* w = waiters_.pop_front();
    if (w == nullptr) return false;
    w->complete(Result<T>(std::forward<U>(value)));
    return true;
  }
  template <typename U = T>
    requires std::is_void_v<U>
  bool wake_one() {
    Waiter* w = waiters_.pop_front();
    if (w == nullptr) return false;
    w->complete(Result<void>());
    return true;
  }
  template <typename U = T>
    requires std::is_void_v<U>
  std::size_t wake_all() {
    std::size_t n = 0;
    while (wake_one()) ++n;
    return n;
  }

  bool wake_one_error(std::error_code ec) {
    Waiter* w = waiters_.pop_front();
    if (w == nullptr) return false;
    w->complete(Result<T>(ec));
    return true;
  }
  std::size_t wake_all_error(std::error_code ec) {
    std::size_t n = 0;
    while (wake_one_error(ec)) ++n;
    return n;
  }

  class Waiter : public ListHook {
   public:
    explicit Waiter(WaitQueue* q) : queue_(q) {}
    Waiter(WaitQueue* q, CancellationToken token)
        : queue_(q), token_(std::move(token)), explicit_token_(true) {}
    Waiter(WaitQueue* q, TimePoint deadline) : queue_(q), has_deadline_(true) { timer_.deadline_ = deadline; }
    // An already-completed waiter: lets a fast path (Event already set) return
    // the same awaitable type as the slow path.
    explicit Waiter(Result<T> ready) : result_(std::move(ready)) {}
    // Only an idle waiter may move (e.g. into with_timeout's wrapper task).
    Waiter(Waiter&& o) noexcept
        : queue_(o.queue_), token_(std::move(o.token_)), explicit_token_(o.explicit_token_),
          has_deadline_(o.has_deadline_), result_(std::move(o.result_)) {
      timer_.deadline_ = o.timer_.deadline_;
    }
    ~Waiter() {
      unlink();
      disarm_timer();
    }

    bool await_ready() const noexcept { return result_.has_value(); }
    template <typename P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!reg_.arm(explicit_token_ ? token_ : detail::token_of(h), &on_cancel, this)) {
        result_.emplace(std::errc::operation_canceled);
        return false;
      }
      reactor_ = Reactor::current();
      if (has_deadline_) {
        if (timer_.deadline_ <= Reactor::now()) {
          reg_.disarm();
          result_.emplace(std::errc::timed_out);
          return false;
        }
        timer_.fire_ = &on_timeout;
        timer_.ctx_ = this;
        reactor_->add_timer(timer_);
      }
      handle_ = h;
      queue_->waiters_.push_back(*this);
      return true;
    }
    Result<T> await_resume() { return std::move(*result_); }

   private:
    friend class WaitQueue;

    void complete(Result<T>&& r) {
      reg_.disarm();
      disarm_timer();
      result_.emplace(std::move(r));
      reactor_->schedule(handle_);
    }
    static void on_cancel(void* p) {
      auto* self = static_cast<Waiter*>(p);
      self->unlink();
      self->disarm_timer();
      self->result_.emplace(std::errc::operation_canceled);
      self->reactor_->schedule(self->handle_);
    }
    // The reactor popped the node before calling: nothing to withdraw.
    static void on_timeout(void* p) {
      auto* self = static_cast<Waiter*>(p);
      self->unlink();
      self->reg_.disarm();
      self->result_.emplace(std::errc::timed_out);
      self->reactor_->schedule(self->handle_);
    }
    void disarm_timer() {
      if (timer_.armed()) reactor_->cancel_timer(timer_);
    }

    WaitQueue* queue_ = nullptr;
    CancellationToken token_;
    bool explicit_token_ = false;
    bool has_deadline_ = false;
    TimerNode timer_;
    Reactor* reactor_ = nullptr;
    std::coroutine_handle<> handle_;
    CancellationRegistration reg_;
    std::optional<Result<T>> result_;
  };

 private:
  IntrusiveList<Waiter> waiters_;
};

}  // namespace xnet::rt
