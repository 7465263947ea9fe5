#pragma once
// Errors of the privileged setup path: an errno-style std::error_code (what a
// program tests) plus a sentence a human can act on (what an operator reads).
// The data path does not use this type.

#include <string>
#include <system_error>
#include <utility>

#include "runtime/result.h"

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

// The tree's one Result type with a message attached to the error.
template <typename T>
using XdpResult = xnet::Result<T, Error>;

}  // namespace xnet::xdp
