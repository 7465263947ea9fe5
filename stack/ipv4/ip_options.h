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
// reads them back (no IP_OPTIONS / IP_RETOPTS echo on receive). The one place
// that shows them, ICMP replies, gets them from ip_options_echo below, which
// does that receive-side fill on its own copy.

#include <cstddef>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "runtime/result.h"
#include "stack/wire/addr.h"

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

// The options of an ICMP reply (echo, timestamp) to a locally delivered
// request whose header `ip` compiled to `opt`: what the kernel sends after
// ip_options_compile filled the request's Record Route / Timestamp on receive
// (our address `local`, the time `ms`: milliseconds since midnight UT),
// ip_options_echo copied them (Record Route first, then Timestamp) and
// ip_options_build filled the next slots on output; padded with EOL to a
// multiple of 4. Other options are not echoed (source-routed requests never
// get here: accept_source_route = 0). A prespecified timestamp slot is ours
// when `is_local` says so. Returns the encoded length (0: no options), or
// nullopt when the kernel's ip_options_echo refuses (then no reply is sent).
std::optional<size_t> ip_options_echo(std::span<const std::byte> ip, const IpOptions& opt, wire::Ipv4Addr local,
                                      uint32_t ms, const std::function<bool(wire::Ipv4Addr)>& is_local,
                                      std::array<std::byte, 40>& out);

}  // namespace xnet::stack
