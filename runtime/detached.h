#pragma once
// DetachedTask: an eagerly-scheduled, self-destroying root coroutine owned by a
// reactor. The machinery under spawn, when_all and when_any; not for users.

#include <coroutine>
#include <exception>

#include "runtime/reactor.h"

namespace xnet::rt::detail {

class DetachedTask {
 public:
  struct promise_type : DetachedFrame {
    DetachedTask get_return_object() noexcept {
      frame_ = std::coroutine_handle<promise_type>::from_promise(*this);
      return DetachedTask(frame_);
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    // Frees itself on completion: nobody awaits a detached task.
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    // Bodies catch everything themselves; reaching this is a bug.
    void unhandled_exception() const noexcept { std::terminate(); }
    ~promise_type() { unlink(); }
  };

  // Hands the frame to the reactor, which starts it from its ready queue.
  void start(Reactor& reactor) {
    auto h = std::coroutine_handle<promise_type>::from_address(frame_.address());
    reactor.adopt_detached(h.promise());
  }

 private:
  explicit DetachedTask(std::coroutine_handle<> h) : frame_(h) {}
  std::coroutine_handle<> frame_;
};

}  // namespace xnet::rt::detail
