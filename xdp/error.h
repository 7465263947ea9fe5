#pragma once
// Errors of the privileged setup path: an errno-style std::error_code (what a
// program tests) plus a sentence a human can act on (what an operator reads).
// The data path does not use this type.

#include <cassert>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace xnet::xdp {

struct Error {
  std::error_code code;
  std::string message;
};

inline Error make_error(std::errc e, std::string message) {
  return Error{std::make_error_code(e), std::move(message)};
}
inline Error errno_error(int err, std::string message) {
  return Error{std::error_code(err, std::generic_category()), std::move(message)};
}

// Result<T> (runtime/result.h) with a message attached to the error.
template <typename T>
class [[nodiscard]] XdpResult {
 public:
  XdpResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  XdpResult(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  std::error_code error() const { return ok() ? std::error_code{} : std::get<1>(v_).code; }
  const std::string& message() const {
    static const std::string kNone;
    return ok() ? kNone : std::get<1>(v_).message;
  }
  Error take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] XdpResult<void> {
 public:
  XdpResult() = default;
  XdpResult(Error e) : e_(std::move(e)) {}  // NOLINT
  bool ok() const { return !e_.code; }
  explicit operator bool() const { return ok(); }
  std::error_code error() const { return e_.code; }
  const std::string& message() const { return e_.message; }
  Error take_error() { return std::move(e_); }

 private:
  Error e_;
};

}  // namespace xnet::xdp
