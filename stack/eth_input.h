#pragma once
// The link layer: eth_type_trans + __netif_receive_skb for Ethernet frames
// (pkt_type from the destination MAC, 802.1Q handling, EtherType dispatch to
// arp_rcv / ip_rcv), and the header push of the transmit side.

#include <chrono>
#include <cstdint>

#include "stack/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

inline constexpr uint16_t kEthHeaderLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;

// A received frame (Ethernet header at data()) from interface `ifindex`.
// Drops: kRuntFrame, kOtherHost, kMulticastNotJoined, kVlanTagged,
// kUnknownEtherType (each a DropReason counter).
void eth_rcv(Stack& stack, uint16_t ifindex, Packet frame, TimePoint now);

// Pushes an Ethernet header in front of data() and sets the MAC header.
void eth_push_header(Packet& pkt, const wire::MacAddr& dst, const wire::MacAddr& src, uint16_t ethertype);

}  // namespace xnet::stack
