// Software UDP GSO: the __udp_gso_segment / skb_segment analog, over the frame
// layout of stack/cork (one segment per frame), so segmenting pushes headers and
// never copies payload.

#include <array>
#include <cassert>
#include <cstring>
#include <utility>

#include "stack/core/headers.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/udp/udp_offload.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

// Fills the UDP checksum of one finished segment.
void segment_checksum(Packet& seg, bool device_checksum) {
  const wire::ConstIpv4View ip = ip_hdr(std::as_const(seg));
  const wire::UdpView udp = udp_hdr(seg);
  const uint32_t pseudo = wire::pseudo_header_sum(ip.src(), ip.dst(), ip.protocol(), udp.length());
  PacketMeta& m = seg.meta();
  if (device_checksum) {
    // udp4_hwcsum: the field holds the pseudo-header sum; the Link completes it.
    udp.set_checksum(wire::checksum_fold(pseudo));
    m.csum_state = ChecksumState::kPartial;
    m.csum_start = m.transport_off;
    m.csum_offset = wire::kUdpChecksumOffset;
    return;
  }
  // The payload's sum was taken during the copy into this frame, when it was.
  const uint32_t payload =
      m.csum_state == ChecksumState::kComplete ? m.csum : wire::checksum_partial(udp.payload());
  udp.set_checksum(0);
  const uint32_t sum =
      wire::checksum_block_add(pseudo, wire::checksum_partial(udp.bytes().first(wire::kUdpHeaderLen)), 0);
  udp.set_checksum_from_sum(wire::checksum_block_add(sum, payload, 0));  // CSUM_MANGLED_0 too
  m.csum_state = ChecksumState::kNone;
}

}  // namespace

void udp_gso_segment(PacketQueue& datagram, bool device_checksum, PacketQueue& segments) {
  Packet head = datagram.pop_front();
  if (!head) return;
  const PacketMeta route = head.meta();
  const uint16_t hl = static_cast<uint16_t>(route.transport_off - route.network_off);
  const uint16_t hdr_len = static_cast<uint16_t>(hl + wire::kUdpHeaderLen);

  // The head's headers, copied in front of every later segment.
  std::array<std::byte, wire::kIpv4MaxHeaderLen + wire::kUdpHeaderLen> hdr;
  std::memcpy(hdr.data(), head.network_header(), hdr_len);
  const uint16_t id0 = ipv4_at(hdr.data(), hdr_len).ident();

  // The head keeps its payload sum? Only later frames carry one from the copy:
  // the head is kPartial (its field holds the pseudo-header sum), so let
  // segment_checksum sum its payload.
  head.meta().csum_state = ChecksumState::kNone;

  uint16_t index = 0;
  Packet seg = std::move(head);
  while (seg) {
    if (index != 0) {
      std::byte* p = seg.push(hdr_len);
      std::memcpy(p, hdr.data(), hdr_len);
      seg.set_network_header();
      seg.set_transport_header(hl);
      PacketMeta& m = seg.meta();
      m.out_ifindex = route.out_ifindex;
      m.next_hop = route.next_hop;
      m.route_type = route.route_type;
      m.pkt_type = route.pkt_type;
    }
    const wire::Ipv4View ip = ip_hdr(seg);
    const uint16_t payload = static_cast<uint16_t>(ip.size() - hdr_len);
    ip.set_ident(static_cast<uint16_t>(id0 + index));
    udp_hdr(seg).set_length(static_cast<uint16_t>(wire::kUdpHeaderLen + payload));
    seg.meta().gso_size = 0;
    seg.meta().gso_segs = 0;
    segment_checksum(seg, device_checksum);
    ip_send_check(seg, static_cast<uint16_t>(hdr_len + payload));
    segments.push_back(std::move(seg));
    seg = datagram.pop_front();
    ++index;
  }
}

}  // namespace xnet::stack
