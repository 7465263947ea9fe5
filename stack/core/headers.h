#pragma once
// ip_hdr(skb) / udp_hdr(skb): the wire views (stack/wire) over a packet's
// headers, from the offset a stage recorded to the end of the packet's data.
// Unchecked: the input path checked the header once (ip_rcv, udp_rcv) and the
// output path built it, so stages read and write fields through the view
// without checking again. All inline: the same loads and stores as raw offsets.

#include <cstddef>
#include <span>

#include "stack/core/packet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace xnet::stack {

namespace detail {
template <typename B>
std::span<B> from_offset_to_end(B* frame, uint16_t offset, const PacketMeta& m) {
  return {frame + offset, size_t{m.head} + m.len - offset};
}
}  // namespace detail

inline wire::Ipv4View ip_hdr(Packet& pkt) {
  return wire::Ipv4View::unchecked(detail::from_offset_to_end(pkt.frame_start(), pkt.meta().network_off, pkt.meta()));
}
inline wire::ConstIpv4View ip_hdr(const Packet& pkt) {
  return wire::ConstIpv4View::unchecked(
      detail::from_offset_to_end(pkt.frame_start(), pkt.meta().network_off, pkt.meta()));
}
inline wire::UdpView udp_hdr(Packet& pkt) {
  return wire::UdpView::unchecked(detail::from_offset_to_end(pkt.frame_start(), pkt.meta().transport_off, pkt.meta()));
}
inline wire::ConstUdpView udp_hdr(const Packet& pkt) {
  return wire::ConstUdpView::unchecked(
      detail::from_offset_to_end(pkt.frame_start(), pkt.meta().transport_off, pkt.meta()));
}

// The IPv4 header of a frame known by its data and metadata (frames held in a
// queue by index: reassembly, neighbour pending queues).
inline wire::ConstIpv4View ip_hdr(const std::byte* frame, const PacketMeta& m) {
  return wire::ConstIpv4View::unchecked(detail::from_offset_to_end(frame, m.network_off, m));
}

// A header somewhere inside a buffer (a quoted datagram, a header being built
// in a frame's headroom): `len` bytes available from `p`.
inline wire::Ipv4View ipv4_at(std::byte* p, size_t len) { return wire::Ipv4View::unchecked({p, len}); }
inline wire::ConstIpv4View ipv4_at(const std::byte* p, size_t len) { return wire::ConstIpv4View::unchecked({p, len}); }
inline wire::UdpView udp_at(std::byte* p, size_t len) { return wire::UdpView::unchecked({p, len}); }
inline wire::ConstUdpView udp_at(const std::byte* p, size_t len) { return wire::ConstUdpView::unchecked({p, len}); }

}  // namespace xnet::stack
