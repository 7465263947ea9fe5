#pragma once
// ICMP (RFC 792, RFC 1122 §3.2.2): icmp_rcv (echo, errors to the transport
// that sent the quoted datagram), icmp_send (error generation with the RFC's
// suppression rules and the kernel's rate limits).

#include <chrono>
#include <cstdint>
#include <type_traits>

#include "stack/core/packet.h"
#include "stack/wire/icmp.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

class IcmpState;  // defined in icmp_state.h: IcmpState(Stack&) — rate limiter buckets

// data() at the ICMP header (network header set); `rest` for a reassembled message.
void icmp_rcv(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now);

// icmp_send / __icmp_send: an error of `type`/`code` about `offending`, whose
// network header is set (the quote runs from it to the end of the packet's
// data). `info`: the next-hop MTU for fragmentation needed, the pointer for
// parameter problem (the pointer value itself, e.g. 20: it goes to the first
// byte after the checksum). Suppressed (no counter but a DropReason) for errors about
// ICMP errors, non-first fragments, broadcast/multicast destinations or
// link-layer broadcasts, invalid sources; rate limited per destination and globally.
void icmp_send(Stack& stack, const Packet& offending, uint8_t type, uint8_t code, uint32_t info,
               TimePoint now);

// The same with wire's names: icmp_send(s, p, IcmpType::kDestUnreachable,
// IcmpUnreachCode::kPort, 0, now). Codes are per type (IcmpUnreachCode,
// IcmpTimeExceededCode, ...), so any of those enums is accepted.
template <typename Code>
  requires std::is_enum_v<Code>
inline void icmp_send(Stack& stack, const Packet& offending, wire::IcmpType type, Code code, uint32_t info,
                      TimePoint now) {
  icmp_send(stack, offending, static_cast<uint8_t>(type), static_cast<uint8_t>(code), info, now);
}

}  // namespace xnet::stack
