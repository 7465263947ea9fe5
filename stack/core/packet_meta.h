#pragma once
// Per-frame metadata: what the kernel keeps in struct sk_buff besides the bytes.

#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

class Packet;

// skb->pkt_type
enum class PacketType : uint8_t { kHost, kBroadcast, kMulticast, kOtherHost, kOutgoing };

// skb->ip_summed
enum class ChecksumState : uint8_t {
  kNone,         // nothing verified / to be computed in software
  kUnnecessary,  // verified (by the device or by us)
  kPartial,      // to be completed: sum from csum_start, result stored at csum_start + csum_offset
  kComplete,     // (rx) device supplied the full sum in `csum`
};

// What the route lookup decided for this packet (the dst_entry's input/output choice).
enum class RouteType : uint8_t {
  kNone,
  kLocal,       // ip_local_deliver
  kBroadcast,   // local delivery of a broadcast
  kMulticast,   // local delivery of a joined group
  kUnicast,     // ip_output / ip_forward towards next_hop
  kUnreachable,
  kBlackhole,
};

// skb->destructor analog: called when the frame is freed (e.g. after tx
// completion), used for send-buffer accounting (sock_wfree). `ctx` is opaque.
using FrameDestructor = void (*)(void* ctx, uint32_t truesize);

inline constexpr uint16_t kNoOffset = 0xffff;

// One cache line, aligned: a received frame touches its metadata at every
// stage, and at 72 bytes seven of eight entries of the pool's array straddled
// two lines. Field order packs it without holes; the sizes are asserted below.
struct alignas(64) PacketMeta {
  // Bytes: [head, head + len) of the frame hold the packet.
  uint16_t head = 0;
  uint16_t len = 0;
  // Header offsets from the frame start (kNoOffset when unset).
  uint16_t mac_off = kNoOffset;
  uint16_t network_off = kNoOffset;
  uint16_t transport_off = kNoOffset;

  uint16_t ifindex = 0;  // ingress interface (rx) or egress interface (tx)
  PacketType pkt_type = PacketType::kHost;
  ChecksumState csum_state = ChecksumState::kNone;
  RouteType route_type = RouteType::kNone;
  // IPSKB_DOREDIRECT: forwarded out of the interface it came in on, from a
  // sender on that link (route input sets it, ip_forward acts on it).
  bool do_redirect = false;

  // As in sk_buff, the sum and the offsets share their bytes: a packet is
  // either kComplete (or summing during a copy) or kPartial, never both; the
  // stage that makes it kPartial writes both offsets (udp4_hwcsum).
  union {
    uint32_t csum = 0;  // kComplete: the full sum (the device's, or taken during a copy)
    struct {
      uint16_t csum_start;   // kPartial: frame offset where the sum starts
      uint16_t csum_offset;  // kPartial: where the result goes, relative to csum_start
    };
  };

  uint16_t gso_size = 0;  // payload bytes per segment, 0 = not GSO
  uint16_t gso_segs = 0;

  // What ip_options_record wrote on arrival (its RecordedOptions bits), for
  // ip_forward_options.
  uint8_t opt_recorded = 0;
  uint16_t out_ifindex = 0;
  wire::Ipv4Addr next_hop;  // gateway or the destination itself

  uint32_t truesize = 0;
  // Intrusive link: queues (socket receive queue, ARP pending queue, cork
  // queue, GSO segment list) chain frames here without allocating.
  uint32_t next = 0xffffffffu;

  uint64_t timestamp_ns = 0;

  FrameDestructor destructor = nullptr;
  void* destructor_ctx = nullptr;
};
static_assert(sizeof(PacketMeta) == 64, "PacketMeta grew past one cache line");

}  // namespace xnet::stack
