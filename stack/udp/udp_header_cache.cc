#include "stack/udp/udp_header_cache.h"

#include <cstring>

#include "stack/core/headers.h"
#include "stack/core/hooks.h"
#include "stack/core/stack.h"
#include "stack/core/stage_trace.h"
#include "stack/ipv4/route_output.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/l2/eth_output.h"
#include "stack/l2/ethernet.h"
#include "stack/l2/neighbour_table.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

constexpr uint16_t kIpOff = kEthHeaderLen;
constexpr uint16_t kUdpOff = kEthHeaderLen + kIpv4HeaderLen;
constexpr uint16_t kHeaders = kIpv4HeaderLen + wire::kUdpHeaderLen;  // the IP datagram's overhead

UdpHeaderCache::Options options_of(const Stack& stack, const UdpSock& sk) {
  const UdpSendState& tx = sk.tx;
  return {tx.ttl,        tx.tos,          static_cast<uint8_t>(tx.pmtudisc), tx.no_check_tx, tx.dont_route,
          tx.gso_size,   sk.bound_ifindex, stack.config().ip_default_ttl,     sk.connected};
}

// Per-datagram options (cmsgs, MSG_*) all take the stages.
bool plain(const SendOptions& o) {
  return !o.more && !o.ttl && !o.tos && o.source.is_unspecified() && o.ifindex == 0 && !o.gso_size &&
         !o.dont_fragment && !o.dont_route && !o.oob;
}

// neigh_output does nothing but note the use and transmit for a reachable
// entry and for a stale one already in its delayed re-probe (the kernel's
// NUD_DELAY/PROBE): the template may stand in for it there. A stale entry not
// yet probing must start the re-probe on the stages.
bool neigh_sends_as_is(const NeighEntry& e) {
  return e.state == NeighState::kReachable || (e.state == NeighState::kStale && e.probing);
}

// The path of the last datagram still holds: route table, interface,
// neighbour state and MAC, no hooks on the output path. A connected socket
// also needs its route cache (connect resets it: the source may change).
NeighEntry* still_valid(Stack& stack, UdpSock& sk, const UdpHeaderCache& c, TimePoint now) {
  if (c.route_generation != stack.route_generation() || now >= c.pmtu_expires) return nullptr;
  if (sk.connected && (!sk.tx.dst_cache.valid || sk.tx.dst_cache.generation != c.route_generation)) return nullptr;
  if (stack.link(c.ifindex) != c.link || !stack.hooks().empty(HookPoint::kLocalOut) ||
      !stack.hooks().empty(HookPoint::kPostRouting)) {
    return nullptr;
  }
  if (!(c.options == options_of(stack, sk))) return nullptr;
  NeighEntry* e = stack.neighbours().find(c.ifindex, c.next_hop);
  if (e == nullptr || !neigh_sends_as_is(*e) || e->mac != c.neigh_mac) return nullptr;
  return e;
}

// The destination of this send is the template's.
bool same_destination(const UdpSock& sk, const UdpHeaderCache& c, const SockAddrIn* dest) {
  if (dest == nullptr) return sk.connected && sk.remote_addr == c.daddr && sk.remote_port == c.dport;
  return (dest->family == kAfInet || dest->family == kAfUnspec) && dest->to.addr == c.daddr && dest->to.port == c.dport;
}

}  // namespace

void udp_header_cache_fill(Stack& stack, UdpSock& sk, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint16_t dport,
                           uint8_t tos, uint8_t ttl, const ResolvedRoute& rt, uint64_t route_generation,
                           TimePoint now) {
  UdpHeaderCache& c = sk.tx.hdr_cache;
  c.valid = false;
  UdpSendState& tx = sk.tx;
  if (rt.type != RouteType::kUnicast || tx.gso_size != 0) return;
  if (sk.connected && !tx.inet_id_seeded) return;
  Link* link = stack.link(rt.ifindex);
  if (link == nullptr) return;
  c.saddr = saddr;
  c.daddr = daddr;
  c.dport = dport;
  c.route_generation = route_generation;
  c.link = link;
  c.pool = &link->pool();
  c.ifindex = rt.ifindex;
  c.next_hop = rt.next_hop;
  // The MTU setup_cork chose below the device's (the path's in modes
  // dont/want/do), good until a learned path MTU expires.
  const bool pmtu_applies = rt.pmtu != 0 && now < rt.pmtu_expires;
  c.route_mtu = !ip_sk_use_pmtu(tx.pmtudisc) ? 0 : pmtu_applies ? rt.pmtu : rt.mtu;
  c.pmtu_expires = pmtu_applies ? rt.pmtu_expires : TimePoint::max();
  c.device_checksum = link->features().tx_checksum;
  c.options = options_of(stack, sk);
  // neigh_output maps these without the table; they keep the stages.
  if (c.next_hop.is_broadcast() || c.next_hop.is_multicast() || stack.is_broadcast_on(c.ifindex, c.next_hop)) return;
  NeighEntry* e = stack.neighbours().find(c.ifindex, c.next_hop);
  if (e == nullptr || !neigh_sends_as_is(*e)) return;
  c.neigh_mac = e->mac;

  std::byte* b = c.bytes;
  eth_write_header(b, e->mac, link->mac(), kEtherTypeIpv4);
  // As ip_make_datagram writes it for a datagram that fits the path: DF in
  // "do" and "probe", in "want" unless the path MTU is locked, never in the
  // other modes; ID, length, checksum later.
  IpHeaderParams ip;
  ip.saddr = saddr;
  ip.daddr = daddr;
  ip.protocol = static_cast<uint8_t>(wire::IpProtocol::kUdp);
  ip.tos = tos;
  ip.ttl = ttl;
  ip.df = ip_sk_df(tx.pmtudisc, /*fits=*/true, dst_mtu_locked(rt, now));
  c.df = ip.df;
  write_ipv4_header(ipv4_at(b + kIpOff, kIpv4HeaderLen), ip, 0);
  const wire::UdpView uh = udp_at(b + kUdpOff, wire::kUdpHeaderLen);
  uh.set_src_port(sk.local_port);
  uh.set_dst_port(dport);
  uh.set_length(0);
  uh.set_checksum(0);
  c.ip_sum = wire::checksum_words(b + kIpOff, kIpv4HeaderLen);
  c.ports_sum = wire::checksum_words(b + kUdpOff, wire::kUdpHeaderLen);
  c.pseudo_sum = wire::pseudo_header_sum(saddr, daddr, static_cast<uint8_t>(wire::IpProtocol::kUdp), 0);
  c.valid = true;
}

bool udp_sendmsg_cached(Stack& stack, UdpSock& sk, std::span<const std::byte> payload, const SockAddrIn* dest,
                        const SendOptions& opts, TimePoint now) {
  UdpHeaderCache& c = sk.tx.hdr_cache;
  UdpSendState& tx = sk.tx;
  if (!c.valid || !stack.config().udp_header_cache || tx.cork || tx.pending != 0 || !plain(opts) ||
      !same_destination(sk, c, dest)) {
    return false;
  }
  const uint32_t dev_mtu = c.link->mtu();
  const uint32_t mtu = c.route_mtu != 0 ? std::min(c.route_mtu, dev_mtu) : dev_mtu;
  const size_t len = payload.size() + kHeaders;  // the IP datagram
  if (len > mtu || kDefaultHeadroom + len > c.pool->frame_size()) return false;
  NeighEntry* e = still_valid(stack, sk, c, now);
  if (e == nullptr) {
    c.valid = false;
    return false;
  }

  // Whatever fails takes the stages, which report and count it as the kernel
  // does: the pending socket error, a full send buffer, no frame.
  SendBuffer* sb = tx.sndbuf.get();
  if (sk.sk_err != std::errc{} || sb->allocated >= sb->limit) return false;
  Packet f = Packet::allocate(*c.pool, kDefaultHeadroom - kEthHeaderLen);
  if (!f) return false;
  SendBuffer::charge(sb, f, skb_truesize(static_cast<uint32_t>(len) + kSkbAllocExtra));
  const uint16_t ip_len = static_cast<uint16_t>(len);
  const uint16_t udp_len = static_cast<uint16_t>(len - kIpv4HeaderLen);
  std::byte* b = f.put(static_cast<uint16_t>(kEthHeaderLen + len));
  // Two fixed 32- and 16-byte copies that overlap: a 42-byte memcpy became
  // rep movsb, whose start-up was 30% of this function in tx_bench.
  static_assert(kUdpTemplateLen > 32 && kUdpTemplateLen <= 48);
  std::memcpy(b, c.bytes, 32);
  std::memcpy(b + kUdpTemplateLen - 16, c.bytes + kUdpTemplateLen - 16, 16);
  PacketMeta& m = f.meta();
  m.mac_off = m.head;
  m.network_off = static_cast<uint16_t>(m.head + kIpOff);
  m.transport_off = static_cast<uint16_t>(m.head + kUdpOff);
  m.out_ifindex = c.ifindex;
  m.next_hop = c.next_hop;
  m.route_type = RouteType::kUnicast;
  m.pkt_type = PacketType::kOutgoing;

  // UDP: the payload summed while copied (unless the device sums it), the
  // length, the checksum (udp_send_skb's three cases).
  std::byte* data = b + kUdpOff + wire::kUdpHeaderLen;
  const wire::UdpView uh = udp_at(b + kUdpOff, wire::kUdpHeaderLen);
  uh.set_length(udp_len);
  if (c.options.no_check_tx) {
    std::memcpy(data, payload.data(), payload.size());
    m.csum_state = ChecksumState::kNone;
  } else if (c.device_checksum) {
    // udp4_hwcsum: the pseudo-header sum, completed by the device.
    std::memcpy(data, payload.data(), payload.size());
    uh.set_checksum(wire::checksum_fold(c.pseudo_sum + udp_len));
    m.csum_state = ChecksumState::kPartial;
    m.csum_start = m.transport_off;
    m.csum_offset = wire::kUdpChecksumOffset;
  } else {
    const uint32_t sum = wire::checksum_copy(data, payload.data(), payload.size());
    uh.set_checksum_from_sum(wire::checksum_block_add(c.ports_sum + c.pseudo_sum + 2 * uint32_t{udp_len}, sum, 0));
    m.csum_state = ChecksumState::kNone;
  }

  // IPv4: the ID as ip_make_datagram chooses it for a datagram that fits
  // (a connected socket's own counter; 0 for DF that nobody may fragment
  // locally, modes do and probe; else ip_idents),
  // the total length, the header checksum from the template's sum.
  uint16_t id = 0;
  if (c.options.connected) {
    tx.inet_id = static_cast<uint16_t>(tx.inet_id + 1);
    id = tx.inet_id;
  } else if (!c.df || ip_sk_ignore_df(tx.pmtudisc)) {
    id = stack.ip_idents().next(c.saddr, c.daddr, static_cast<uint8_t>(wire::IpProtocol::kUdp), 1);
  }
  const wire::Ipv4View ip = ipv4_at(b + kIpOff, kIpv4HeaderLen);
  ip.set_total_len(ip_len);
  ip.set_ident(id);
  ip.set_checksum(static_cast<uint16_t>(~wire::checksum_fold(c.ip_sum + ip_len + id)));

  // ip_local_out's, ip_finish_output2's and udp_send_skb's counters;
  // neigh_output's use of the entry; the qdisc's drop, if any, is its own.
  stage::mark(stage::Point::kIpLocalOut);
  stack.stats().ip.OutRequests++;
  ip_count_transmit(stack, RouteType::kUnicast, ip_len);
  e->used = now;
  stack.dev_queue_xmit(c.ifindex, std::move(f));
  stack.stats().udp.OutDatagrams++;
  return true;
}

}  // namespace xnet::stack
