#pragma once
// Task<T>: a lazy coroutine. Nothing runs until it is awaited (or handed to
// spawn / block_on). Awaiting transfers control symmetrically into the task and
// back to the awaiter, so chains of synchronous completions use constant stack.
//
// Symmetric transfer goes through a per-thread resume loop: await_suspend and
// final_suspend hand the next coroutine to the loop in rt::resume() and return
// noop, and the loop resumes it. GCC 12 turns a returned handle into a tail
// call only with -foptimize-sibling-calls and never under ASan, so returning
// the handle directly would grow the stack by one frame per synchronous
// completion in fastbuild and asan builds. Outside the loop (a coroutine
// resumed by foreign code) the handle is returned as usual.
//
// GCC 12 pitfall: `if ((co_await sleep_for(d)).ok())` destroys the temporary
// awaiter at the suspension point. Our awaiters withdraw themselves when
// destroyed, so the coroutine then never resumes (a hang, not corruption).
// Bind the result first: `Result<void> r = co_await sleep_for(d); if (r) ...`.
// (while conditions, initialisers and co_return operands are fine.)
//
// Each task carries an ambient CancellationToken, inherited from its awaiter
// unless set explicitly: leaf awaitables (sleep, fd readiness, WaitQueue) read
// it when they suspend, which is how with_timeout and when_any reach them.

#include <cassert>
#include <concepts>
#include <cstddef>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/cancellation.h"
#include "runtime/frame_cache.h"

namespace xnet::rt {

template <typename T = void>
class Task;

namespace detail {

struct Trampoline {
  std::coroutine_handle<> next;
  bool active = false;
};
inline thread_local Trampoline tl_trampoline;

inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> h) noexcept {
  Trampoline& t = tl_trampoline;
  if (!t.active) return h;
  assert(!t.next);
  t.next = h;
  return std::noop_coroutine();
}

}  // namespace detail

// Resumes h and every coroutine it transfers to, in constant stack. The
// reactor resumes everything through this; so must anything else that resumes
// a Task-based coroutine by hand. Re-entrant.
inline void resume(std::coroutine_handle<> h) {
  detail::Trampoline& t = detail::tl_trampoline;
  std::coroutine_handle<> saved = std::exchange(t.next, nullptr);
  bool was_active = std::exchange(t.active, true);
  h.resume();
  while (t.next) std::exchange(t.next, nullptr).resume();
  t.next = saved;
  t.active = was_active;
}

namespace detail {

class PromiseBase {
 public:
  // Frames come from the per-thread cache (frame_cache.h), not malloc.
  static void* operator new(std::size_t bytes) { return alloc_frame(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { free_frame(p, bytes); }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return transfer_to(h.promise().continuation_);
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  const CancellationToken& cancellation_token() const { return token_; }
  void set_cancellation_token(CancellationToken t) {
    token_ = std::move(t);
    token_fixed_ = true;
  }
  void inherit_cancellation_token(const CancellationToken& t) {
    if (!token_fixed_) token_ = t;
  }

  // Where to go when done; noop for a root task (block_on polls done()).
  std::coroutine_handle<> continuation_ = std::noop_coroutine();

 protected:
  void rethrow_if_failed() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  }

 private:
  std::exception_ptr exception_;
  CancellationToken token_;
  bool token_fixed_ = false;
};

template <typename T>
class Promise final : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  void return_value(T v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    value_.emplace(std::move(v));
  }
  T take() {
    rethrow_if_failed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() { rethrow_if_failed(); }
};

template <typename P>
concept HasCancellationToken = requires(P& p) {
  { p.cancellation_token() } -> std::convertible_to<const CancellationToken&>;
};

// The ambient token of whoever is suspending; empty for foreign coroutines.
template <typename P>
CancellationToken token_of(std::coroutine_handle<P> h) {
  if constexpr (HasCancellationToken<P>) {
    return h.promise().cancellation_token();
  } else {
    return {};
  }
}

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  // Destroying a task that never ran frees its frame and its captured
  // arguments; destroying a suspended one unwinds its awaiters' destructors.
  ~Task() { reset(); }

  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_ && h_.done(); }
  Handle handle() const { return h_; }

  // Overrides the token the task would otherwise inherit from its awaiter.
  void set_cancellation_token(CancellationToken t) { h_.promise().set_cancellation_token(std::move(t)); }

  // Result of a finished task (rethrows its exception). For block_on and tests.
  T take_result() { return h_.promise().take(); }

  class Awaiter {
   public:
    explicit Awaiter(Handle h) : h_(h) {}
    bool await_ready() const noexcept { return h_.done(); }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      if constexpr (detail::HasCancellationToken<P>) {
        h_.promise().inherit_cancellation_token(caller.promise().cancellation_token());
      }
      h_.promise().continuation_ = caller;
      return detail::transfer_to(h_);
    }
    T await_resume() { return h_.promise().take(); }

   private:
    Handle h_;
  };

  Awaiter operator co_await() const& noexcept { return Awaiter(h_); }
  Awaiter operator co_await() const&& noexcept { return Awaiter(h_); }

 private:
  void reset() {
    if (h_) std::exchange(h_, nullptr).destroy();
  }
  Handle h_;
};

namespace detail {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

template <typename>
inline constexpr bool kIsTask = false;
template <typename T>
inline constexpr bool kIsTask<Task<T>> = true;

// co_await current_cancellation_token(): the ambient token of this coroutine,
// without suspending.
struct CurrentCancellationToken {
  bool await_ready() const noexcept { return false; }
  template <typename P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    token_ = detail::token_of(h);
    return false;
  }
  CancellationToken await_resume() noexcept { return std::move(token_); }
  CancellationToken token_;
};
inline CurrentCancellationToken current_cancellation_token() { return {}; }

}  // namespace xnet::rt
