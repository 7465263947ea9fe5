#pragma once
// Event: a shard-local manual-reset flag coroutines can wait for.
// co_await event.wait() yields Result<void>: ok once set, operation_canceled if
// the waiter is cancelled first.

#include "runtime/cancellation.h"
#include "runtime/wait_queue.h"

namespace xnet::rt {

class Event {
 public:
  bool is_set() const { return set_; }
  // Wakes every waiter (through the ready queue); later waits complete at once.
  void set() {
    set_ = true;
    waiters_.wake_all();
  }
  void reset() { set_ = false; }

  WaitQueue<void>::Waiter wait() {
    if (set_) return WaitQueue<void>::Waiter(Result<void>());
    return waiters_.wait();
  }
  WaitQueue<void>::Waiter wait(CancellationToken token) {
    if (set_) return WaitQueue<void>::Waiter(Result<void>());
    return waiters_.wait(std::move(token));
  }

 private:
  bool set_ = false;
  WaitQueue<void> waiters_;
};

}  // namespace xnet::rt
