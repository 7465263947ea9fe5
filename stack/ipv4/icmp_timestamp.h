#pragma once
// icmp_timestamp: the answer to an ICMP timestamp request (RFC 792 type 13;
// RFC 1122 3.2.2.8 makes it optional, Linux answers it).

#include <chrono>
#include <cstdint>

#include "stack/core/packet.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// Milliseconds since midnight UT of `t`, the unit of RFC 792's times.
uint32_t ms_since_midnight_utc(std::chrono::system_clock::time_point t);

// Answers the request whose ICMP header is at `head.data()` (`rest`: the other
// frames of a reassembled one) with a 20-byte timestamp reply, whatever the
// request's length: identifier and sequence copied, code 0, originate copied,
// receive = transmit = the wall clock at `now` (IcmpState::wall_clock). The
// IP header as for an echo reply: from the address the request went to, the
// request's TOS, the default TTL, no DF. A request with fewer than the 4 bytes
// of the originate time after the header is counted in Icmp InErrors (drop
// kIcmpBadType) and not answered. The caller has counted it in InMsgs and
// InType13. No frame for the reply: Icmp OutErrors (drop kNoFrame).
void icmp_timestamp(Stack& stack, const Packet& head, const PacketQueue& rest, TimePoint now);

}  // namespace xnet::stack
