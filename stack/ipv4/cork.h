#pragma once
// The cork: ip_setup_cork, ip_append_data, __ip_make_skb, ip_flush_pending_frames.
//
// Everything about a datagram that does not change while its data is appended
// (route, MTU, fragment size, header fields, checksum mode) is decided once, in
// CorkParams. ip_append_data then lays the payload into frames that are ready
// to become wire packets without another copy:
//  - without GSO, frames are sized to the MTU; every frame but the last carries
//    a multiple of 8 payload bytes (maxfraglen), so ip_fragment only pushes a
//    header in front of each; the bytes past maxfraglen of a full frame (the
//    fraggap) move to the next frame when one is started;
//  - with GSO, every frame carries exactly one segment (gso_size bytes), so the
//    software segmentation only pushes headers too;
//  - the transport header is reserved in the first frame only; every frame keeps
//    headroom for the L2 header and the IPv4 header pushed later.
// When the checksum is computed in software, each frame's payload sum is taken
// during the copy (meta().csum, csum_state kComplete) so that neither the UDP
// checksum nor the per-segment GSO checksums read the payload again.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "runtime/result.h"
#include "stack/core/ip_ident.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/core/packet.h"
#include "stack/core/packet_meta.h"
#include "stack/core/skb_truesize.h"
#include "stack/core/sock_error.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// sk_wmem_alloc / sk_sndbuf of one socket. Lives on the heap, apart from the
// socket, so that frames still in flight when the socket closes release into
// it safely (sock_wfree after the socket is gone): the socket orphans it and
// the last release deletes it.
struct SendBuffer {
  uint32_t limit = 212992;  // sk_sndbuf, net.core.wmem_default
  uint32_t allocated = 0;   // truesize of this socket's frames not yet freed
  bool orphaned = false;
  // The socket that owns the buffer and how to tell it about a transmit error
  // of one of its frames (ip_local_error); null once
  // orphaned. IPv4 does not know which transport the socket belongs to.
  void* owner = nullptr;
  void (*error_report)(void* owner, const SockError& err) = nullptr;
  // Called when space frees (sk_write_space): at most once per release that
  // brings `allocated` to half the limit or below. Null when nobody waits.
  void (*on_space)(void* ctx) = nullptr;
  void* on_space_ctx = nullptr;

  // The frame destructor installed on every charged frame.
  static void release(void* ctx, uint32_t truesize);
  // Charges `pkt` `truesize` bytes to `sb` and installs the destructor.
  static void charge(SendBuffer* sb, Packet& pkt, uint32_t truesize);
  // Bytes appended to a charged frame as the kernel appends them on a
  // scatter-gather device: into page fragments, charged byte for byte.
  static void grow(Packet& pkt, uint32_t bytes);
};


// ip_local_error: an error the send path found itself, for the socket that
// owns `sb` (null, orphaned or ownerless: nobody to tell): origin local,
// ee_info `info` (the MTU for EMSGSIZE), the datagram's destination and the
// socket's connected port (inet_dport: 0 when unconnected, whatever sendto
// named). The socket queues it only with IP_RECVERR.
void ip_local_error(const SendBuffer* sb, std::errc err, wire::Ipv4Addr daddr, uint16_t port, uint32_t info);

// ip_setup_cork: what stays fixed for one datagram.
struct CorkParams {
  // Egress: frames come from the egress link's pool, with `headroom` bytes in
  // front for the L2 header (and the Link's own metadata).
  FramePool* pool = nullptr;
  uint16_t headroom = kDefaultHeadroom;
  uint32_t fragsize = 1500;  // the route's MTU (cork->fragsize)
  uint16_t gso_size = 0;     // UDP_SEGMENT, 0 = none
  // PMTU discovery: DF allowed to be ignored locally (ip_sk_ignore_df: modes
  // dont and want). When false the datagram is limited to the MTU.
  bool ignore_df = true;
  // The datagram may leave its checksum to the device (NETIF_F_HW_CSUM, or GSO
  // whose software segmentation completes it).
  bool can_offload = false;
  // Whether the device really completes checksums (LinkFeatures::tx_checksum);
  // when it does not, payload sums are taken during the copy.
  bool device_checksum = false;
  // SO_NO_CHECK: the UDP checksum is 0, so nothing is summed.
  bool no_checksum = false;

  IpHeaderParams ip;  // ip.options points into `options` below
  std::array<std::byte, kIpv4MaxOptionsLen> options{};
  uint8_t options_len = 0;

  // Route (the dst_entry the datagram holds).
  uint16_t out_ifindex = 0;
  wire::Ipv4Addr next_hop;
  RouteType route_type = RouteType::kUnicast;
  uint32_t route_mtu = 1500;  // dst_mtu, for the DF decision in "want" mode
  bool pmtudisc_do = false;   // IP_PMTUDISC_DO / PROBE: DF always
  bool pmtudisc_want = false;  // IP_PMTUDISC_WANT: DF when it fits

  SendBuffer* sndbuf = nullptr;  // null: frames are not charged (ICMP, tests)
  uint16_t inet_dport = 0;       // the socket's connected port, for ip_local_error
  // The socket's pending error (sk_err), null for none: sock_alloc_send_skb
  // reports it, once, when the first frame of a datagram is allocated, so the
  // datagram's own EMSGSIZE wins over it and appending to a corked datagram
  // never sees it.
  std::errc* sk_err = nullptr;
  // A connected socket's private IP ID counter (UdpSendState::inet_id); null
  // for unconnected senders, which use the shared generator or ID 0.
  uint16_t* sock_ident = nullptr;

  uint16_t fragheaderlen() const { return static_cast<uint16_t>(kIpv4HeaderLen + options_len); }
};

// inet_cork + the pending queue of one socket (or a private one for an
// uncorked send).
struct Cork {
  CorkParams params;
  uint32_t length = 0;    // bytes appended, transport header included
  bool partial = false;   // the datagram's checksum is CHECKSUM_PARTIAL
  bool sum_on_copy = true;
  PacketQueue frames;     // full frames, in order
  Packet tail;            // the frame being filled (the queue's tail skb)

  bool empty() const { return !tail.valid() && frames.empty(); }
  // ip_flush_pending_frames: frees everything appended.
  void flush() {
    frames.clear();
    tail.reset();
    length = 0;
    partial = false;
  }
};

// __ip_append_data: appends `data` (and, on the first call of a datagram,
// `transhdrlen` zeroed bytes for the transport header) to the cork. `more` is
// MSG_MORE (it disables checksum offload for the first frame, as the kernel
// does without GSO). On failure the bytes of this call are not counted
// (cork.length restored); the caller decides whether to flush.
// Errors: EMSGSIZE (over 65535, or over the MTU when DF may not be ignored;
// checked before anything else, and reported to the sending socket's error
// queue by ip_local_error with the MTU), then on the first frame of a datagram the
// socket's pending error (taken from params.sk_err) and EAGAIN (send buffer
// full), and ENOBUFS (no free frame, or the send buffer overshot twice its
// limit). The kernel counts every one of them but that first EMSGSIZE in Ip
// OutDiscards (__ip_append_data's error path); the caller, who holds the
// counters, does.
Result<void> ip_append_data(Cork& cork, std::span<const std::byte> data, uint16_t transhdrlen,
                            bool more);

// __ip_make_skb: turns the cork's frames into a datagram: the IPv4 header
// (with options, DF from the PMTU mode, and the IP ID of ip_select_ident_segs
// as of Linux ≥ 5.19: a connected socket's own counter; else 0 for a DF
// datagram that may not be fragmented locally (PMTU modes do/probe); else
// reserved from the per-destination `idents`; one ID per GSO segment) is pushed in front of the first frame, whose meta() gets the
// route and the checksum state. The cork is left empty. Total length and header
// checksum are set by ip_local_out.
PacketQueue ip_make_datagram(Cork& cork, IpIdentGenerator& idents);

}  // namespace xnet::stack
