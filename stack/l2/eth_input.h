#pragma once
// The link layer's receive side: eth_type_trans + __netif_receive_skb for
// Ethernet frames (pkt_type from the destination MAC, 802.1Q handling,
// EtherType dispatch to arp_rcv / ip_rcv). The transmit side: eth_output.h.

#include <chrono>
#include <cstdint>

#include "stack/l2/ethernet.h"
#include "stack/core/packet.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// A received frame (Ethernet header at data()) from interface `ifindex`.
// Drops: kRuntFrame, kOtherHost, kMulticastNotJoined, kVlanTagged,
// kUnknownEtherType (each a DropReason counter).
void eth_rcv(Stack& stack, uint16_t ifindex, Packet frame, TimePoint now);

}  // namespace xnet::stack
