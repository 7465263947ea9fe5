#pragma once
// ARP (RFC 826) and the neighbour table (arp_tbl / struct neighbour):
// resolution with a bounded queue of packets waiting per entry, retries, NUD
// states, aging, gratuitous ARP. Owned by the helper that implements
// neighbour.cc; the functions below are the contract the rest of the stack uses.

#include <chrono>
#include <cstdint>
#include <optional>

#include "stack/core/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

enum class NeighState : uint8_t { kIncomplete, kReachable, kStale, kFailed };

class NeighbourTable;  // defined in neighbour_table.h (NeighbourTable(Stack&), run_timers, next_deadline)

// neigh_output / ip_finish_output2's L2 step: pushes the Ethernet header for
// `next_hop` on `ifindex` and hands the frame to Stack::dev_queue_xmit; when
// the MAC is unknown, queues the packet on the entry (bounded: unres_qlen,
// DropReason::kNeighQueueFull) and sends an ARP request. Broadcast and
// multicast next hops map to their MACs without ARP. Packets dropped when
// resolution fails are reported to their source (ipv4_link_failure:
// ICMP host unreachable, EHOSTUNREACH for our own sockets) and counted (DropReason::kNeighFailed).
void neigh_output(Stack& stack, Packet pkt, uint16_t ifindex, wire::Ipv4Addr next_hop, TimePoint now);

// arp_rcv: data() at the ARP header, meta().ifindex and pkt_type set by eth_rcv.
void arp_rcv(Stack& stack, Packet pkt, TimePoint now);

// Gratuitous ARP (a request for our own address) when an address is added.
void arp_announce(Stack& stack, uint16_t ifindex, wire::Ipv4Addr addr, TimePoint now);

}  // namespace xnet::stack
