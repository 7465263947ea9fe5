#pragma once
// The IPv4 receive path: ip_rcv → (PRE_ROUTING) → ip_rcv_finish (input route,
// options, broadcast rules) → dst_input → ip_local_deliver (reassembly) →
// (LOCAL_IN) → ip_local_deliver_finish (protocol demux), or ip_forward /
// ip_error.
//
// The stages take the packet by rvalue reference: a stage moves out what it
// keeps (a socket queue, a reassembly queue, the forward path) and leaves what
// it drops to the owner that called eth_rcv (Stack::poll's burst), which
// frees it when the call returns. Passing it by value made every stage build
// and destroy a moved-from Packet (and PacketQueue): ~230 of the ~1,100
// instructions from a frame to a socket queue (callgrind, recv_bench).

#include <chrono>
#include <cstdint>

#include "stack/core/packet.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// data() at the IPv4 header; meta().ifindex and pkt_type set by eth_rcv.
// Header checks (ip_rcv_core) and their counters, trim of link padding.
void ip_rcv(Stack& stack, Packet&& pkt, TimePoint now);

// After PRE_ROUTING: input route, options, InMcast/InBcast, then dst_input.
void ip_rcv_finish(Stack& stack, Packet&& pkt, TimePoint now);

// Local delivery of a routed packet (network header at data()): reassembly,
// LOCAL_IN hook, ip_local_deliver_finish.
void ip_local_deliver(Stack& stack, Packet&& pkt, TimePoint now);

// What the loopback device hands back (ip_loopback_xmit): a whole datagram to
// one of our own addresses, `head` with data() at its IPv4 header (total
// length covering `rest`, the chain of its other frames, data() at their
// payload). Its header is ours and valid, so ip_rcv_core's checks pass; it
// moves ip_rcv's counters and hooks and is delivered locally (RTN_LOCAL on
// lo: no source validation), meta().ifindex the interface that owns the
// address (the kernel's rt_iif, what IP_PKTINFO reports). With kBroadcast or
// kMulticast it is the copy ip_mc_output loops back of a datagram we send to
// a broadcast or a joined group (dev_loopback_xmit: it keeps its output route,
// so it is ours without a lookup), counted as such a datagram received.
void ip_rcv_looped(Stack& stack, Packet head, PacketQueue rest, TimePoint now,
                   RouteType type = RouteType::kLocal);

// ip_local_deliver_finish for a whole datagram: `head` with data() at the
// transport header (or still at the network header: then the IPv4 header is
// pulled here, as the kernel does), network header set; `rest` the other
// fragments' frames (data() at their payload) when it was reassembled.
// Dispatches through the stack's protocol table (stack/core/protocol.h), or answers
// protocol unreachable (InUnknownProtos). Counts InDelivers.
void ip_local_deliver_finish(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now);

}  // namespace xnet::stack
