#pragma once
// Result<T, E>: a value or an error — the one result type of the tree, with no
// exceptions on any path. E is what the caller needs to act on:
//   - std::error_code (the default): POSIX errnos in the generic category,
//     because the stack reports the kernel's errors;
//   - wire::WireError (stack/wire: WireResult): why bytes are not a header;
//   - xdp::Error (xdp: XdpResult): an errno plus a sentence for the operator.
// error() gives the error's code (E itself, or E::code when E carries a
// message too); message() exists when E has one; failure() / take_error()
// give the whole E.

#include <cassert>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace xnet {

inline std::error_code make_error(std::errc e) { return std::make_error_code(e); }

namespace detail {

template <typename E>
concept ErrorWithCode = requires(const E& e) { e.code; };
template <typename E>
concept ErrorWithMessage = requires(const E& e) {
  { e.message } -> std::convertible_to<const std::string&>;
};

// Whether a stored E means failure: an error_code (or an E carrying one) may
// hold "no error", an enumerator always names one.
template <typename E>
bool is_failure(const E& e) {
  if constexpr (std::is_same_v<E, std::error_code>) {
    return static_cast<bool>(e);
  } else if constexpr (ErrorWithCode<E>) {
    return static_cast<bool>(e.code);
  } else {
    return true;
  }
}

template <typename E>
auto code_of(const E& e) {
  if constexpr (ErrorWithCode<E>) {
    return e.code;
  } else {
    return e;
  }
}

}  // namespace detail

template <typename T, typename E = std::error_code>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(std::errc e) requires std::is_same_v<E, std::error_code>    // NOLINT
      : v_(std::in_place_index<1>, make_error(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error's code; for an error_code-like E, the empty code when ok().
  auto error() const {
    if constexpr (std::is_same_v<E, std::error_code> || detail::ErrorWithCode<E>) {
      if (ok()) return decltype(detail::code_of(std::declval<const E&>())){};
    } else {
      assert(!ok());
    }
    return detail::code_of(std::get<1>(v_));
  }
  const E& failure() const { assert(!ok()); return std::get<1>(v_); }
  E take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }
  const std::string& message() const requires detail::ErrorWithMessage<E> {
    static const std::string kNone;
    return ok() ? kNone : std::get<1>(v_).message;
  }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) {  // NOLINT: an error_code-like E without an error is success
    if (detail::is_failure(error)) e_ = std::move(error);
  }
  Result(std::errc e) requires std::is_same_v<E, std::error_code> : e_(make_error(e)) {}  // NOLINT

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const { assert(ok()); }

  auto error() const {
    if constexpr (std::is_same_v<E, std::error_code> || detail::ErrorWithCode<E>) {
      if (ok()) return decltype(detail::code_of(std::declval<const E&>())){};
    } else {
      assert(!ok());
    }
    return detail::code_of(*e_);
  }
  const E& failure() const { assert(!ok()); return *e_; }
  E take_error() { assert(!ok()); return std::move(*e_); }
  const std::string& message() const requires detail::ErrorWithMessage<E> {
    static const std::string kNone;
    return ok() ? kNone : e_->message;
  }

 private:
  std::optional<E> e_;
};

}  // namespace xnet
