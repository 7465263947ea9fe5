#pragma once
// Why a byte buffer is not a valid header. Kept coarse: each value maps to a
// distinct drop reason / counter in the stack (truncated vs. header error vs.
// checksum error are different counters in /proc/net/snmp).

#include <cassert>
#include <cstdint>
#include <optional>
#include <utility>

namespace xnet::wire {

enum class WireError : uint8_t {
  kTruncated,        // buffer shorter than the header or its length field (IPv4: see checked)
  kBadVersion,       // IP version is not 4
  kBadHeaderLength,  // IHL < 5, or a length field smaller than its own header
  kBadLength,        // a length field that contradicts another one
  kBadChecksum,
  kUnsupported,      // well-formed but not a kind this code decodes (e.g. ARP for non-IPv4)
  kMalformed,        // any other inconsistency (IPv4 options: see Ipv4OptionError)
};

const char* to_string(WireError e);

// A value or the reason there is none; no exceptions on the packet path.
// E is WireError except where a caller needs more (IPv4 options: the byte
// offset for an ICMP parameter problem).
template <typename T, typename E = WireError>
class [[nodiscard]] WireResult {
 public:
  WireResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  WireResult(E error) : error_(error) {}             // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  E error() const {
    assert(!ok());
    return error_;
  }
  T& value() {
    assert(ok());
    return *value_;
  }
  const T& value() const {
    assert(ok());
    return *value_;
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  E error_{};
};

}  // namespace xnet::wire
