// Software UDP GSO: the __udp_gso_segment / skb_segment analog, over the frame
// layout of stack/cork (one segment per frame), so segmenting pushes headers and
// never copies payload.

#include <array>
#include <cassert>
#include <cstring>

#include "stack/checksum_offload.h"
#include "stack/hdr_bytes.h"
#include "stack/ipv4_output.h"
#include "stack/udp_offload.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

// Fills the UDP checksum of one finished segment.
void segment_checksum(Packet& seg, uint16_t hl, bool device_checksum) {
  std::byte* ip = seg.network_header();
  std::byte* udp = ip + hl;
  const uint16_t udp_len = load_be16(udp + kUdpLen);
  const uint32_t pseudo = wire::pseudo_header_sum(wire::Ipv4Addr(load_be32(ip + kIpSrc)),
                                                  wire::Ipv4Addr(load_be32(ip + kIpDst)),
                                                  kIpProtoUdp, udp_len);
  PacketMeta& m = seg.meta();
  if (device_checksum) {
    // udp4_hwcsum: the field holds the pseudo-header sum; the Link completes it.
    store_be16(udp + kUdpCsum, csum_fold16(pseudo));
    m.csum_state = ChecksumState::kPartial;
    m.csum_start = m.transport_off;
    m.csum_offset = kUdpCsum;
    return;
  }
  uint32_t payload;
  if (m.csum_state == ChecksumState::kComplete) {
    payload = m.csum;  // taken during the copy into this frame
  } else {
    payload = wire::checksum_partial({udp + kUdpHeaderLen, static_cast<size_t>(udp_len - kUdpHeaderLen)});
  }
  store_be16(udp + kUdpCsum, 0);
  uint32_t sum = csum_block_add(pseudo, wire::checksum_partial({udp, kUdpHeaderLen}), 0);
  sum = csum_block_add(sum, payload, 0);
  uint16_t check = static_cast<uint16_t>(~csum_fold16(sum));
  if (check == 0) check = 0xffff;  // CSUM_MANGLED_0: 0 means "no checksum"
  store_be16(udp + kUdpCsum, check);
  m.csum_state = ChecksumState::kNone;
}

}  // namespace

void udp_gso_segment(PacketQueue& datagram, bool device_checksum, PacketQueue& segments) {
  Packet head = datagram.pop_front();
  if (!head) return;
  const PacketMeta route = head.meta();
  const uint16_t hl = static_cast<uint16_t>(route.transport_off - route.network_off);
  const uint16_t hdr_len = static_cast<uint16_t>(hl + kUdpHeaderLen);

  // The head's headers, copied in front of every later segment.
  std::array<std::byte, 60 + kUdpHeaderLen> hdr;
  std::memcpy(hdr.data(), head.network_header(), hdr_len);
  const uint16_t id0 = load_be16(hdr.data() + kIpId);

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
    std::byte* ip = seg.network_header();
    const uint16_t payload = static_cast<uint16_t>(seg.size() - (ip - seg.data()) - hdr_len);
    store_be16(ip + kIpId, static_cast<uint16_t>(id0 + index));
    store_be16(ip + hl + kUdpLen, static_cast<uint16_t>(kUdpHeaderLen + payload));
    seg.meta().gso_size = 0;
    seg.meta().gso_segs = 0;
    segment_checksum(seg, hl, device_checksum);
    ip_send_check(seg, static_cast<uint16_t>(hdr_len + payload));
    segments.push_back(std::move(seg));
    seg = datagram.pop_front();
    ++index;
  }
}

}  // namespace xnet::stack
