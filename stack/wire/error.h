#pragma once
// Why a byte buffer is not a valid header. Kept coarse: each value maps to a
// distinct drop reason / counter in the stack (truncated vs. header error vs.
// checksum error are different counters in /proc/net/snmp).

#include <cstdint>

#include "runtime/result.h"

namespace xnet::wire {

enum class WireError : uint8_t {
  kTruncated,        // buffer shorter than the header or its length field (IPv4: see checked)
  kBadVersion,       // IP version is not 4
  kBadHeaderLength,  // IHL < 5, or a length field smaller than its own header
  kBadLength,        // a length field that contradicts another one
  kBadChecksum,
  kUnsupported,      // well-formed but not a kind this code decodes (e.g. ARP for non-IPv4)
  kMalformed,        // any other inconsistency
};

const char* to_string(WireError e);

// A value or the reason there is none: the tree's one Result type with the
// wire's error. E is WireError except where a caller needs more (IPv4
// options: the byte offset for an ICMP parameter problem).
template <typename T, typename E = WireError>
using WireResult = xnet::Result<T, E>;

}  // namespace xnet::wire
