#pragma once
// when_any(tasks...) -> Task<WhenAnyResult<...>>: run children concurrently;
// when the first finishes, cancel the others (through a token linked to the
// caller's) and wait for them to wind down, then return the winner's index and
// value. A loser that completes with a value anyway has it discarded: use
// cancellable operations (WaitQueue based) where that matters. If the winner
// threw, its exception is rethrown.

#include <cstddef>
#include <exception>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/cancellation.h"
#include "runtime/detached.h"
#include "runtime/reactor.h"
#include "runtime/task.h"
#include "runtime/when_all.h"

namespace xnet::rt {

template <typename... Ts>
struct WhenAnyResult {
  std::size_t index;                           // which child won
  std::variant<detail::NonVoid<Ts>...> value;  // value.index() == index
};

namespace detail {

struct RaceState {
  JoinState join;
  std::optional<std::size_t> winner;
  std::exception_ptr winner_error;
  LinkedCancellationSource* cancel = nullptr;

  void finished(std::size_t i, std::exception_ptr e) {
    if (!winner) {
      winner = i;
      winner_error = e;
      cancel->cancel();  // only schedules the losers' wake-ups
    }
    join.child_done();
  }
};

// I: the child's position; its alternative in *out is I + 1 (0 is "none yet").
template <std::size_t I, typename V, typename T>
DetachedTask race_child(Task<T> task, V* out, RaceState* race) {
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      if (!race->winner) out->template emplace<I + 1>();
    } else {
      auto v = co_await std::move(task);
      if (!race->winner) out->template emplace<I + 1>(std::move(v));
    }
  } catch (...) {
    error = std::current_exception();
  }
  race->finished(I, error);
}

}  // namespace detail

template <typename... Ts>
Task<WhenAnyResult<Ts...>> when_any(Task<Ts>... tasks) {
  static_assert(sizeof...(Ts) > 0);
  // Two steps: GCC 12 mishandles a co_await inside this initializer.
  CancellationToken parent = co_await current_cancellation_token();
  LinkedCancellationSource cancel(parent);
  using Value = std::variant<detail::NonVoid<Ts>...>;
  // variant needs a first alternative to exist before emplace<I>: build it
  // lazily through a holder that is default constructible.
  std::variant<std::monostate, detail::NonVoid<Ts>...> out;
  detail::RaceState race;
  race.cancel = &cancel;
  race.join.remaining = sizeof...(Ts);
  race.join.reactor = Reactor::current();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    auto refs = std::forward_as_tuple(tasks...);
    ((std::get<I>(refs).set_cancellation_token(cancel.token()),
      detail::race_child<I>(std::move(std::get<I>(refs)), &out, &race).start(*race.join.reactor)),
     ...);
  }(std::index_sequence_for<Ts...>{});
  co_await race.join;  // never throws: children catch
  if (race.winner_error) std::rethrow_exception(race.winner_error);
  std::size_t w = *race.winner;
  Value v = [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::optional<Value> result;
    ((w == I ? (void)result.emplace(std::in_place_index<I>, std::move(std::get<I + 1>(out))) : (void)0), ...);
    return std::move(*result);
  }(std::index_sequence_for<Ts...>{});
  co_return WhenAnyResult<Ts...>{w, std::move(v)};
}

}  // namespace xnet::rt
