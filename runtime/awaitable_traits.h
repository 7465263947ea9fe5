#pragma once
// What co_await yields for a given awaitable type (awaiter or a type with
// operator co_await).

#include <utility>

namespace xnet::rt::detail {

template <typename A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}

template <typename A>
using AwaitResult = decltype(get_awaiter(std::declval<A>()).await_resume());

}  // namespace xnet::rt::detail
