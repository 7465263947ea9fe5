#pragma once
// Result<T>: a value or a std::error_code. Error codes are POSIX errnos in the
// generic category, because the stack reports the kernel's errors.

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace xnet {

inline std::error_code make_error(std::errc e) { return std::make_error_code(e); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(std::error_code ec) : v_(std::in_place_index<1>, ec) {}    // NOLINT
  Result(std::errc e) : v_(std::in_place_index<1>, make_error(e)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  std::error_code error() const { return ok() ? std::error_code{} : std::get<1>(v_); }

 private:
  std::variant<T, std::error_code> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(std::error_code ec) : ec_(ec) {}           // NOLINT
  Result(std::errc e) : ec_(make_error(e)) {}       // NOLINT
  bool ok() const { return !ec_; }
  explicit operator bool() const { return ok(); }
  std::error_code error() const { return ec_; }
  void value() const { assert(ok()); }

 private:
  std::error_code ec_;
};

}  // namespace xnet
