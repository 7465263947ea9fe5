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
// A datagram routed here then has its Record Route and Timestamp options
// filled in as the kernel fills them on receive (ip_options_record; a
// forwarded one names the way out, ip_forward_options), and ICMP
// replies and errors echo them (ip_options_echo, then ip_options_build once
// the reply's header is written): Linux 6.18's `ping -R` to a host shows that
// host twice, once from the request's arrival and once from the reply.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/result.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

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

// What __ip_options_compile writes into a received header that was routed
// (`opt` from ip_options_compile on it): `spec_dst` into a Record Route with
// room, the time (ms since midnight UT) and `spec_dst` into a Timestamp by its
// flag (a prespecified slot only when its address is not a unicast one of
// somebody else), the overflow count of a full one. The header checksum is
// left as it was, as the kernel leaves it for a datagram delivered here.
// Returns what ip_forward_options needs of it (RecordedOptions bits).
enum RecordedOptions : uint8_t {
  kRecordedRouteAddr = 1,      // rr_needaddr: our address went into Record Route
  kRecordedTimestampAddr = 2,  // ts_needaddr: and into a Timestamp pair
  kRecordedChanged = 4,        // is_changed: the header is no longer what arrived
};
uint8_t ip_options_record(const Stack& stack, std::span<std::byte> ip, const IpOptions& opt,
                          wire::Ipv4Addr spec_dst, uint32_t now_ms);

// ip_forward_options: a forwarded datagram's Record Route and Timestamp pair
// name the address it leaves by (`out_src`) instead of the one it came in
// on; a changed header gets its checksum again.
void ip_forward_options(std::span<std::byte> ip, const IpOptions& opt, uint8_t recorded, wire::Ipv4Addr out_src);

// The options a reply carries (struct ip_options of __ip_options_echo):
// Record Route, then Timestamp, padded to a multiple of 4.
struct EchoedOptions {
  std::array<std::byte, 40> bytes{};
  uint8_t len = 0;
  uint8_t rr = 0, ts = 0;  // offsets in `bytes` (0xff: absent)
  bool rr_needaddr = false, ts_needaddr = false, ts_needtime = false;
};

// __ip_options_echo from a received header as ip_options_record left it.
// An error means no reply at all (a slot the reply cannot fill). Source
// routes are not echoed: xnet does not accept them (accept_source_route = 0
// drops them before anything answers).
Result<EchoedOptions> ip_options_echo(const Stack& stack, std::span<const std::byte> ip);

// ip_options_build: the reply's own entries, once its header (options at
// byte 20) is written: `src` into the Record Route and Timestamp slots the
// echo left open, the time into the Timestamp.
void ip_options_build(std::span<std::byte> ip, const EchoedOptions& opt, wire::Ipv4Addr src, uint32_t now_ms);

}  // namespace xnet::stack
