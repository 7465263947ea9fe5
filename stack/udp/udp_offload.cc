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

// What the checksums of every segment share, summed once from the head's
// headers with the per-segment fields (IP total length, ID and checksum; UDP
// length and checksum) zeroed. Each segment's checksums are then that plus its
// own fields, added arithmetically: summing a header just after writing some
// of its 16-bit fields stalls on store forwarding (tx_bench BM_SendGso64k:
// the per-segment header sums were ~15% of the send).
struct SegmentSums {
  uint32_t ip = 0;      // the IPv4 header's words
  uint32_t pseudo = 0;  // the pseudo-header without its length
  uint32_t ports = 0;   // the UDP source and destination ports
};

SegmentSums segment_sums(std::span<std::byte> hdr, uint16_t hl) {
  const wire::Ipv4View ip = ipv4_at(hdr.data(), hl);
  ip.set_total_len(0);
  ip.set_ident(0);
  ip.set_checksum(0);
  const wire::ConstUdpView udp = udp_at(std::as_const(hdr).data() + hl, wire::kUdpHeaderLen);
  SegmentSums s;
  s.ip = wire::checksum_words(hdr.data(), hl);
  s.pseudo = wire::pseudo_header_sum(ip.src(), ip.dst(), ip.protocol(), 0);
  s.ports = uint32_t{udp.src_port()} + udp.dst_port();
  return s;
}

// Fills one finished segment's IPv4 length, ID and checksum and its UDP
// length and checksum (or, for the device, the pseudo-header sum).
void finish_segment(Packet& seg, const SegmentSums& sums, uint16_t hl, uint16_t payload, uint16_t id,
                    bool device_checksum) {
  const uint16_t tot_len = static_cast<uint16_t>(hl + wire::kUdpHeaderLen + payload);
  const uint16_t udp_len = static_cast<uint16_t>(wire::kUdpHeaderLen + payload);
  const wire::Ipv4View ip = ip_hdr(seg);
  ip.set_total_len(tot_len);
  ip.set_ident(id);
  ip.set_checksum(static_cast<uint16_t>(~wire::checksum_fold(sums.ip + tot_len + id)));  // ip_send_check
  const wire::UdpView udp = udp_hdr(seg);
  udp.set_length(udp_len);
  PacketMeta& m = seg.meta();
  if (device_checksum) {
    // udp4_hwcsum: the field holds the pseudo-header sum; the Link completes it.
    udp.set_checksum(wire::checksum_fold(sums.pseudo + udp_len));
    m.csum_state = ChecksumState::kPartial;
    m.csum_start = m.transport_off;
    m.csum_offset = wire::kUdpChecksumOffset;
    return;
  }
  // The payload's sum was taken during the copy into this frame, when it was.
  const uint32_t payload_sum = m.csum_state == ChecksumState::kComplete ? m.csum : wire::checksum_partial(udp.payload());
  // The pseudo-header's length and the UDP header's: the same value twice.
  const uint32_t headers = sums.pseudo + sums.ports + 2 * uint32_t{udp_len};
  udp.set_checksum_from_sum(wire::checksum_block_add(headers, payload_sum, 0));  // CSUM_MANGLED_0 too
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
  const SegmentSums sums = segment_sums(std::span(hdr).first(hdr_len), hl);

  // The head keeps its payload sum? Only later frames carry one from the copy:
  // the head is kPartial (its field holds the pseudo-header sum), so let
  // finish_segment sum its payload.
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
    const uint16_t payload = static_cast<uint16_t>(ip_hdr(std::as_const(seg)).size() - hdr_len);
    seg.meta().gso_size = 0;
    seg.meta().gso_segs = 0;
    finish_segment(seg, sums, hl, payload, static_cast<uint16_t>(id0 + index), device_checksum);
    segments.push_back(std::move(seg));
    seg = datagram.pop_front();
    ++index;
  }
}

}  // namespace xnet::stack
