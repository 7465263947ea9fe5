#pragma once
// with_timeout(task_or_awaitable, duration) -> Task<Result<U>>
//
// Runs the operation with a child cancellation token (linked to the caller's)
// and arms a timer. If the timer fires first the child is cancelled, the
// operation winds down through its own cancellation path (a WaitQueue waiter
// leaves its queue, an fd poll is withdrawn ...) and the result is
// std::errc::timed_out. If the operation finishes first the timer is withdrawn.
// Either way nothing outlives the call.
//
// Result type: an operation yielding Result<U> gives Result<U> (its
// operation_canceled becomes timed_out when the timer caused it); one yielding
// a plain U gives Result<U>; void gives Result<void>. An operation that ignores
// cancellation simply runs to its end; a value it produced is returned, never
// dropped. Exceptions propagate.

#include <type_traits>
#include <utility>

#include "runtime/awaitable_traits.h"
#include "runtime/cancellation.h"
#include "runtime/clock.h"
#include "runtime/reactor.h"
#include "runtime/result.h"
#include "runtime/sleep.h"
#include "runtime/task.h"

namespace xnet::rt {

namespace detail {

template <typename T>
struct TimeoutResult {
  using type = Result<T>;
};
template <typename U>
struct TimeoutResult<Result<U>> {
  using type = Result<U>;
};

template <typename A>
Task<AwaitResult<A>> as_task(A awaitable) {
  co_return co_await std::move(awaitable);
}

struct TimeoutState {
  explicit TimeoutState(const CancellationToken& parent) : source(parent) {}
  LinkedCancellationSource source;
  bool fired = false;
  static void on_fire(void* p) {
    auto* s = static_cast<TimeoutState*>(p);
    s->fired = true;
    s->source.cancel();
  }
};

}  // namespace detail

template <typename T>
Task<typename detail::TimeoutResult<T>::type> with_timeout(Task<T> task, Duration timeout) {
  CancellationToken parent = co_await current_cancellation_token();
  detail::TimeoutState state(parent);
  task.set_cancellation_token(state.source.token());
  Timer timer(*Reactor::current());
  timer.arm(Reactor::now() + timeout, &detail::TimeoutState::on_fire, &state);

  if constexpr (std::is_void_v<T>) {
    co_await std::move(task);
    timer.cancel();
    if (state.fired) co_return std::errc::timed_out;
    co_return Result<void>();
  } else {
    T r = co_await std::move(task);
    timer.cancel();
    if constexpr (!std::is_same_v<typename detail::TimeoutResult<T>::type, Result<T>>) {
      if (state.fired && !r.ok() && r.error() == std::errc::operation_canceled) {
        co_return std::errc::timed_out;
      }
    }
    co_return std::move(r);
  }
}

template <typename A>
  requires(!kIsTask<std::remove_cvref_t<A>>)
auto with_timeout(A awaitable, Duration timeout) {
  return with_timeout(detail::as_task(std::move(awaitable)), timeout);
}

}  // namespace xnet::rt
