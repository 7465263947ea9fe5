#pragma once
// spawn(task): run a task detached on the current reactor. It starts from the
// ready queue (never inline, so pollers may spawn). Its result is discarded;
// an exception that escapes it goes to Reactor::set_error_handler (default:
// printed to stderr), never silently lost. A spawned task still suspended when
// the reactor is destroyed is destroyed with it.

#include <exception>
#include <utility>

#include "runtime/cancellation.h"
#include "runtime/detached.h"
#include "runtime/reactor.h"
#include "runtime/task.h"

namespace xnet::rt {

namespace detail {
template <typename T>
DetachedTask run_detached(Task<T> task, Reactor* reactor) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
    } else {
      [[maybe_unused]] T discarded = co_await std::move(task);
    }
  } catch (...) {
    reactor->report_error(std::current_exception());
  }
}
}  // namespace detail

template <typename T>
void spawn(Reactor& reactor, Task<T> task) {
  detail::run_detached(std::move(task), &reactor).start(reactor);
}

template <typename T>
void spawn(Task<T> task) {
  spawn(*Reactor::current(), std::move(task));
}

// Detached, but stoppable: the token becomes the task's ambient token.
template <typename T>
void spawn(Task<T> task, CancellationToken token) {
  task.set_cancellation_token(std::move(token));
  spawn(*Reactor::current(), std::move(task));
}

}  // namespace xnet::rt
