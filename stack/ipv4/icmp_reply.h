#pragma once
// What ICMP's replies and errors share (icmp_reply / __icmp_send): the egress
// link's frames and the IP options a reply echoes.

#include <chrono>
#include <optional>

#include "stack/core/packet.h"
#include "stack/ipv4/ip_options.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// The pool of the link a reply to `dst` leaves by (null: no route or link).
FramePool* icmp_egress_pool(Stack& stack, wire::Ipv4Addr dst);

// __ip_options_echo of the header at `req`'s network header: the options its
// reply carries (none for a plain header); nullopt means no reply at all.
std::optional<EchoedOptions> icmp_reply_options(const Stack& stack, const Packet& req);

// ip_options_build on the reply's header, just pushed at `reply`'s network
// header with `opt` as its options: our address and the time where the echo
// left room.
void icmp_fill_reply_options(Stack& stack, Packet& reply, const EchoedOptions& opt, wire::Ipv4Addr src,
                             std::chrono::steady_clock::time_point now);

}  // namespace xnet::stack
