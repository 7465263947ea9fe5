// ip_fragment / ip_do_fragment: the fast path over a frame chain that the cork
// laid out with fragment geometry (push a header in front of each frame), and
// the slow path that copies payload into new frames (forwarded packets, chains
// laid out for a larger MTU than the route has now).

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

#include "stack/core/headers.h"
#include "stack/ipv4/ipv4_output.h"

namespace xnet::stack {
namespace {

constexpr std::byte kOptEnd{0}, kOptNop{1};

// ip_options_fragment: after the first fragment only options with the copied
// flag stay; the others become NOPs so that the header length is unchanged.
void options_fragment(std::byte* opts, size_t len) {
  size_t i = 0;
  while (i < len) {
    const std::byte type = opts[i];
    if (type == kOptEnd) return;
    if (type == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return;
    const size_t olen = std::to_integer<size_t>(opts[i + 1]);
    if (olen < 2 || i + olen > len) return;
    if ((std::to_integer<uint8_t>(type) & 0x80) == 0) std::memset(opts + i, 1, olen);
    i += olen;
  }
}

void copy_route(PacketMeta& to, const PacketMeta& from) {
  to.out_ifindex = from.out_ifindex;
  to.next_hop = from.next_hop;
  to.route_type = from.route_type;
  to.pkt_type = from.pkt_type;
  to.ifindex = from.ifindex;
}

// Fast path precondition (ip_do_fragment's frag_list walk): every frame fits
// the MTU with a header, every payload but the last is a multiple of 8, later
// frames have room for a header in front.
bool has_fragment_geometry(const PacketQueue& dg, uint16_t hl, uint32_t mtu, uint16_t headroom) {
  bool ok = true;
  size_t index = 0;
  const size_t count = dg.size();
  dg.for_each([&](const PacketMeta& m, const std::byte*) {
    const bool last = index + 1 == count;
    const uint32_t payload = index == 0 ? m.len - hl : m.len;
    if (payload + hl > mtu) ok = false;
    if (!last && (payload & 7) != 0) ok = false;
    if (index != 0 && m.head < hl + headroom) ok = false;
    ++index;
  });
  return ok;
}

}  // namespace

Result<uint32_t> ip_fragment(PacketQueue& datagram, uint32_t mtu, FramePool& pool,
                             uint16_t headroom, PacketQueue& fragments) {
  if (datagram.empty()) return uint32_t{0};
  const PacketMeta& hm = *datagram.front_meta();
  const std::byte* hip = datagram.front_frame() + hm.network_off;
  const wire::ConstIpv4View hview = ipv4_at(hip, size_t{hm.head} + hm.len - hm.network_off);
  const uint16_t hl = static_cast<uint16_t>(hview.header_len());
  if (hview.dont_frag()) {
    datagram.clear();
    return std::errc::message_size;
  }
  // A fragment being refragmented (forwarding) keeps its offset and, for its
  // last piece, its MF.
  const uint32_t base_off = hview.frag_offset();
  const bool base_mf = hview.more_frags();
  if (mtu < hl + 8u) {
    datagram.clear();
    return std::errc::message_size;
  }

  std::array<std::byte, 60> hdr;
  std::memcpy(hdr.data(), hip, hl);
  ipv4_at(hdr.data(), hl).set_checksum(0);
  const PacketMeta route = hm;

  if (datagram.size() > 1 && has_fragment_geometry(datagram, hl, mtu, headroom)) {
    uint32_t offset = 0;
    uint32_t created = 0;
    while (!datagram.empty()) {
      Packet f = datagram.pop_front();
      const bool last = datagram.empty();
      if (created != 0) {
        std::memcpy(f.push(hl), hdr.data(), hl);
        f.set_network_header();
        copy_route(f.meta(), route);
      }
      const uint32_t payload = f.size() - hl;
      ip_hdr(f).set_frag(false, !last || base_mf, static_cast<uint16_t>(base_off + offset));
      ip_send_check(f, static_cast<uint16_t>(f.size()));
      if (created == 0) options_fragment(hdr.data() + kIpv4HeaderLen, hl - kIpv4HeaderLen);
      offset += payload;
      fragments.push_back(std::move(f));
      ++created;
    }
    return created;
  }

  // Slow path: copy the payload, in order across the chain, into new frames.
  PacketQueue out;
  Packet src = datagram.pop_front();
  const std::byte* sp = src.network_header() + hl;
  uint32_t sleft = static_cast<uint32_t>(src.data() + src.size() - sp);
  uint32_t left = sleft;
  datagram.for_each([&](const PacketMeta& m, const std::byte*) { left += m.len; });

  uint32_t offset = 0;
  bool first = true;
  while (left > 0) {
    uint32_t len = std::min(left, mtu - hl);
    if (len < left) len &= ~7u;
    Packet f = Packet::allocate(pool, headroom);
    if (!f || f.tailroom() < hl + len) {
      datagram.clear();
      return std::errc::no_buffer_space;  // `out` frees what was built
    }
    std::byte* ip = f.put(static_cast<uint16_t>(hl + len));
    f.set_network_header();
    copy_route(f.meta(), route);
    std::memcpy(ip, hdr.data(), hl);
    std::byte* dst = ip + hl;
    for (uint32_t need = len; need > 0;) {
      if (sleft == 0) {
        src = datagram.pop_front();
        sp = src.data();
        sleft = src.size();
        continue;
      }
      const uint32_t n = std::min(need, sleft);
      std::memcpy(dst, sp, n);
      dst += n;
      sp += n;
      sleft -= n;
      need -= n;
    }
    left -= len;
    const bool last = left == 0;
    ip_hdr(f).set_frag(false, !last || base_mf, static_cast<uint16_t>(base_off + offset));
    ip_send_check(f, static_cast<uint16_t>(hl + len));
    if (first) {
      options_fragment(hdr.data() + kIpv4HeaderLen, hl - kIpv4HeaderLen);
      first = false;
    }
    offset += len;
    out.push_back(std::move(f));
  }
  const uint32_t created = static_cast<uint32_t>(out.size());
  fragments.splice_back(out);
  return created;
}

}  // namespace xnet::stack
