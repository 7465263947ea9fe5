#pragma once
// when_all(tasks...) -> Task<std::tuple<...>>, when_all(vector<Task<T>>) ->
// Task<vector<T>>: run children concurrently on this reactor, resume when all
// are done. void children yield std::monostate. Children share the caller's
// ambient token. If any child throws, the first exception is rethrown after
// all children have finished (no child outlives the call).

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/cancellation.h"
#include "runtime/detached.h"
#include "runtime/reactor.h"
#include "runtime/task.h"

namespace xnet::rt {

namespace detail {

template <typename T>
using NonVoid = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

struct JoinState {
  std::size_t remaining = 0;
  std::coroutine_handle<> parent;
  std::exception_ptr error;
  Reactor* reactor = nullptr;

  void child_done() {
    if (--remaining == 0 && parent) reactor->schedule(parent);
  }

  // co_await join: suspends until every child has called child_done().
  bool await_ready() const noexcept { return remaining == 0; }
  void await_suspend(std::coroutine_handle<> h) noexcept { parent = h; }
  void await_resume() {
    if (error) std::rethrow_exception(error);
  }
};

template <typename T>
DetachedTask join_child(Task<T> task, std::optional<NonVoid<T>>* slot, JoinState* join) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      slot->emplace();
    } else {
      slot->emplace(co_await std::move(task));
    }
  } catch (...) {
    if (!join->error) join->error = std::current_exception();
  }
  join->child_done();
}

template <typename T>
void start_join_child(Task<T>& task, std::optional<NonVoid<T>>* slot, JoinState* join,
                      const CancellationToken& token) {
  task.set_cancellation_token(token);
  join_child(std::move(task), slot, join).start(*join->reactor);
}

}  // namespace detail

template <typename... Ts>
Task<std::tuple<detail::NonVoid<Ts>...>> when_all(Task<Ts>... tasks) {
  CancellationToken token = co_await current_cancellation_token();
  std::tuple<std::optional<detail::NonVoid<Ts>>...> slots;
  detail::JoinState join;
  join.remaining = sizeof...(Ts);
  join.reactor = Reactor::current();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    auto refs = std::forward_as_tuple(tasks...);
    (detail::start_join_child(std::get<I>(refs), &std::get<I>(slots), &join, token), ...);
  }(std::index_sequence_for<Ts...>{});
  co_await join;
  co_return std::apply([](auto&... s) { return std::tuple<detail::NonVoid<Ts>...>(std::move(*s)...); },
                       slots);
}

template <typename T>
Task<std::vector<detail::NonVoid<T>>> when_all(std::vector<Task<T>> tasks) {
  CancellationToken token = co_await current_cancellation_token();
  std::vector<std::optional<detail::NonVoid<T>>> slots(tasks.size());
  detail::JoinState join;
  join.remaining = tasks.size();
  join.reactor = Reactor::current();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    detail::start_join_child(tasks[i], &slots[i], &join, token);
  }
  co_await join;
  std::vector<detail::NonVoid<T>> out;
  out.reserve(slots.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  co_return out;
}

}  // namespace xnet::rt
