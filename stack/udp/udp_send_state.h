#pragma once
// The send-side state of a UDP socket: socket options, the cork with the
// pending datagram, the connected socket's cached route and the send buffer.
// UdpSock holds one (in its "send side (stack-tx)" block); stack/udp_output
// reads and writes it.

#include <cstdint>

#include "stack/ipv4/cork.h"
#include "stack/ipv4/route_output.h"
#include "stack/core/packet_meta.h"
#include "stack/udp/udp_header_cache.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// IP_MTU_DISCOVER values.
enum class PmtuDisc : uint8_t {
  kDont,       // IP_PMTUDISC_DONT: never DF; fragments at the path MTU
  kWant,       // IP_PMTUDISC_WANT: DF when the datagram fits the path MTU (and it is not locked), else fragment
  kDo,         // IP_PMTUDISC_DO: always DF, larger than the path MTU is EMSGSIZE
  kProbe,      // IP_PMTUDISC_PROBE: always DF, the device MTU instead of the path MTU
  kInterface,  // IP_PMTUDISC_INTERFACE: the device MTU, larger is EMSGSIZE; no DF; ICMPs teach nothing
  kOmit,       // IP_PMTUDISC_OMIT: the device MTU, fragments above it; no DF; ICMPs teach nothing
};

// ip_sk_use_pmtu: the path's MTU (learned or the route's) rather than the device's.
constexpr bool ip_sk_use_pmtu(PmtuDisc m) { return m < PmtuDisc::kProbe; }
// ip_sk_ignore_df: a datagram above the MTU is fragmented locally, not EMSGSIZE.
constexpr bool ip_sk_ignore_df(PmtuDisc m) { return m < PmtuDisc::kDo || m == PmtuDisc::kOmit; }
// ip_sk_accept_pmtu: an ICMP "fragmentation needed" to this socket lowers the path MTU.
constexpr bool ip_sk_accept_pmtu(PmtuDisc m) { return m != PmtuDisc::kInterface && m != PmtuDisc::kOmit; }
// __ip_make_skb's DF: always in do/probe; in want when the datagram fits the
// path MTU and that MTU is not locked (ip_dont_fragment); never otherwise
// (Linux 6.18: interface and omit sent 1500-byte datagrams without DF).
constexpr bool ip_sk_df(PmtuDisc m, bool fits, bool mtu_locked) {
  return m == PmtuDisc::kDo || m == PmtuDisc::kProbe || (m == PmtuDisc::kWant && fits && !mtu_locked);
}

// Owner of the heap SendBuffer (see cork.h): frames in flight release into it
// after the socket is gone, and the last one frees it.
class SendBufferRef {
 public:
  SendBufferRef() : sb_(new SendBuffer) {}
  ~SendBufferRef() {
    if (sb_ == nullptr) return;
    sb_->on_space = nullptr;
    sb_->owner = nullptr;
    if (sb_->allocated == 0) {
      delete sb_;
    } else {
      sb_->orphaned = true;
    }
  }
  SendBufferRef(const SendBufferRef&) = delete;
  SendBufferRef& operator=(const SendBufferRef&) = delete;
  SendBuffer* get() const { return sb_; }
  SendBuffer* operator->() const { return sb_; }

 private:
  SendBuffer* sb_;
};

// sk_dst_cache of a connected socket: the route looked up at the last send
// (or by IP_MTU), valid while Stack::route_generation is unchanged
// (sk_dst_check).
struct CachedRoute {
  bool valid = false;
  uint64_t generation = 0;
  ResolvedRoute route;
};

struct UdpSendState {
  // Socket options (defaults as a fresh Linux socket).
  int ttl = -1;                        // IP_TTL; -1: net.ipv4.ip_default_ttl
  uint8_t tos = 0;                     // IP_TOS
  bool broadcast = false;              // SO_BROADCAST
  bool no_check_tx = false;            // SO_NO_CHECK
  bool dont_route = false;             // SO_DONTROUTE
  bool cork = false;                   // UDP_CORK
  PmtuDisc pmtudisc = PmtuDisc::kWant;  // IP_MTU_DISCOVER (ip_no_pmtu_disc = 0)
  uint16_t gso_size = 0;               // UDP_SEGMENT
  uint8_t mc_ttl = 1;                  // IP_MULTICAST_TTL
  uint16_t mc_ifindex = 0;             // IP_MULTICAST_IF
  wire::Ipv4Addr mc_addr;              // IP_MULTICAST_IF source address

  // The pending (corked) datagram: up->pending (the family it was started
  // for, AF_INET = 2; 0: none), up->len, inet->cork.
  uint16_t pending = 0;
  uint16_t pending_dport = 0;
  Cork pending_cork;

  // inet_id: a connected socket's private IP ID counter (Linux ≥ 5.19 uses it
  // for every datagram of a socket with a peer, not the shared ip_idents).
  // The kernel seeds it randomly at connect; here it is seeded at the first
  // send after connect (the same thing as far as anyone can observe).
  uint16_t inet_id = 0;
  bool inet_id_seeded = false;

  CachedRoute dst_cache;
  UdpHeaderCache hdr_cache;  // the headers of the last datagram to the connected peer
  SendBufferRef sndbuf;
};

}  // namespace xnet::stack
