#pragma once
// The IPv4 output path: ip_local_out → (LOCAL_OUT) → ip_output → (POST_ROUTING)
// → ip_finish_output (GSO segmentation / ip_fragment / as is) → ip_finish_output2
// (next hop → neigh_output). Also the header builder that ICMP and the UDP cork
// code share (the __ip_make_skb / ip_build_and_send_pkt pieces).
//
// A datagram larger than one frame travels as a PacketQueue whose first frame
// holds the IPv4 header (and the transport header) and whose other frames hold
// the rest of the payload, each with headroom for the headers that fragmentation
// or GSO segmentation will push in front of it: the frag_list analog, laid out by
// stack/cork so that neither stage copies payload.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/result.h"
#include "stack/core/packet.h"
#include "stack/wire/addr.h"
#include "stack/wire/ipv4.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

inline constexpr uint16_t kIpv4HeaderLen = 20;
inline constexpr uint16_t kIpv4MaxOptionsLen = 40;
inline constexpr uint32_t kIpMaxMtu = 0xffff;  // IP_MAX_MTU
inline constexpr uint8_t kIpDefaultTtl = 64;    // sysctl ip_default_ttl

// What goes into the IPv4 header that ip_build_header pushes.
struct IpHeaderParams {
  wire::Ipv4Addr saddr;
  wire::Ipv4Addr daddr;
  uint8_t protocol = 0;
  uint8_t tos = 0;
  uint8_t ttl = kIpDefaultTtl;
  bool df = false;
  // Encoded options (already padded to a multiple of 4, at most 40 bytes).
  std::span<const std::byte> options = {};
};

// Pushes an IPv4 header (version, IHL with options, TOS, DF, TTL, protocol,
// addresses, an IP ID from the stack's per-destination generator reserving
// `segs` consecutive IDs) in front of the packet's data and sets the network
// header. Total length and header checksum are filled by ip_local_out.
// Requires kIpv4HeaderLen + options.size() bytes of headroom.
void ip_build_header(Stack& stack, Packet& pkt, const IpHeaderParams& params, uint16_t segs = 1);

// The stages below work on packets alone (no Stack), so they can be tested and
// benchmarked directly; ip_local_out and ip_forward call them.

// Writes the IPv4 header in front of data() with the given ID (ip_build_header
// without the generator). Total length and checksum are left 0.
void push_ipv4_header(Packet& pkt, const IpHeaderParams& params, uint16_t id);
// The same header written into `h` (total length and checksum zero): for a
// header built outside a packet (udp_header_cache's template).
void write_ipv4_header(const wire::Ipv4View& h, const IpHeaderParams& params, uint16_t id);

// ip_finish_output2's counters for a packet of `ip_len` bytes handed to the
// neighbour layer (IP_UPD_PO_STATS: OutTransmits and OutOctets, 6.3+, and by
// the route OutBcast/OutMcast), before ARP or the qdisc may hold or drop it.
// A GSO datagram counts once, whole, as the kernel segments it at the device.
void ip_count_transmit(Stack& stack, RouteType route, uint64_t ip_len);

// ip_send_check: sets total length and the header checksum of the header at
// the packet's network header.
void ip_send_check(Packet& pkt, uint16_t tot_len);

// ip_fragment: splits a datagram (one frame, or a frame chain laid out by the
// cork) into fragments of at most `mtu` bytes: payload offsets multiples of 8,
// MF on all but the last (the last keeps the original MF when a fragment is
// refragmented), options with the copied bit only in fragments after the first
// (others become NOPs), each with its own total length and header checksum; all
// share the datagram's ID. A chain whose frames already have the fragment
// geometry is fragmented in place (headers pushed, no payload copy); otherwise
// payload is copied into new frames from `pool` with `headroom`. Returns the
// number of fragments appended to `fragments`; EMSGSIZE when DF is set, ENOBUFS
// when the pool runs dry (both: nothing appended). Consumes `datagram`.
Result<uint32_t> ip_fragment(PacketQueue& datagram, uint32_t mtu, FramePool& pool,
                             uint16_t headroom, PacketQueue& fragments);

// Sends a locally generated IPv4 datagram whose header is at data(). The route
// comes from meta(): when meta().out_ifindex is 0 it is looked up here by the
// destination (no route: OutNoRoutes, ENETUNREACH). Sets total length and header
// checksum, runs LOCAL_OUT then ip_output. Counts Ip OutRequests.
// Errors reported to the caller: ENETUNREACH, EMSGSIZE (DF and over the MTU),
// EPERM (a hook dropped it), ENOBUFS (no frame for a fragment). Transmission
// failures later (neighbour resolution) go to the owning socket's error queue.
Result<void> ip_local_out(Stack& stack, Packet pkt, TimePoint now);

// ip_output: POST_ROUTING, then ip_finish_output at the path MTU `mtu` (0:
// the egress link's MTU). The route is in meta(). ip_forward_finish enters here.
Result<void> ip_output(Stack& stack, Packet pkt, uint32_t mtu, TimePoint now);

// The same for a datagram laid out over several frames (see the top comment).
// The queue is consumed. `mtu` is the MTU the cork laid the datagram out for
// (its fragsize): ip_finish_output fragments at that same MTU, as the kernel's
// ip_skb_dst_mtu repeats ip_setup_cork's choice, so that a chain laid out for
// a route MTU below the device's is never sent as if it fitted the device.
// 0: the route's MTU when the route is looked up here, else the device's.
Result<void> ip_local_out(Stack& stack, PacketQueue datagram, TimePoint now, uint32_t mtu = 0);

// ipv4_link_failure (arp_error_report → dst_link_failure): the neighbour
// table gave up on `pkt`'s next hop; ICMP host unreachable goes to its source
// (for our own packet: over the loopback to its socket, which hears
// EHOSTUNREACH). The neighbour layer reaches it through NeighbourTable's
// link-failure callback, which the Stack sets.
void ipv4_link_failure(Stack& stack, const Packet& pkt, TimePoint now);

}  // namespace xnet::stack
