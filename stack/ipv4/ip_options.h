#pragma once
// IPv4 options on receive (ip_options_compile, RFC 791 §3.1, RFC 1122
// §3.2.1.8): xnet's one option validator. Validates every option the way the
// kernel does for a received packet, records where the interesting ones are,
// and reports the parameter-problem pointer of the first malformed one: a bad
// length at the option's type octet (its length octet for a type-specific
// minimum), a bad pointer at the pointer octet, an overflowing timestamp
// counter at the flags octet. Unknown options, security and stream id, and
// unknown timestamp flags are accepted and skipped by their length, as the
// kernel does for a received packet (it refuses them only from unprivileged
// local senders). The option types are wire::Ipv4OptionType.
//
// Unlike the kernel, the receive path does not write our address / a timestamp
// into Record Route and Timestamp options on local delivery: nothing in xnet
// reads them back (no IP_OPTIONS / IP_RETOPTS echo on receive).

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/result.h"

namespace xnet::stack {

// struct ip_options, reduced to what the receive path consults. Offsets are
// from the start of the IPv4 header (0: absent).
struct IpOptions {
  uint8_t optlen = 0;
  uint8_t srr = 0;  // LSRR or SSRR
  bool is_strictroute = false;
  uint8_t rr = 0;
  uint8_t ts = 0;
  uint8_t router_alert = 0;
};

// Why a header's options were refused: the parameter-problem pointer (offset
// of the offending octet from the start of the IPv4 header).
struct IpOptionsProblem {
  uint8_t pointer = 0;
};

// __ip_options_compile for a received header: `ip` is the whole IPv4 header
// (IHL*4 bytes, options from byte 20).
Result<void, IpOptionsProblem> ip_options_compile(std::span<const std::byte> ip, IpOptions& opt);

}  // namespace xnet::stack
