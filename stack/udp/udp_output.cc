// udp_sendmsg, udp_send_skb, udp_push_pending_frames and the send-side socket
// options.

#include "stack/udp/udp_output.h"
#include "stack/core/stage_trace.h"

#include <algorithm>
#include <cassert>

#include "stack/ipv4/cork.h"
#include "stack/core/headers.h"
#include "stack/core/route.h"
#include "stack/ipv4/route_output.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_header_cache.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

// The flow of one send (flowi4 + ipcm_cookie after route resolution).
struct Flow {
  wire::Ipv4Addr saddr;
  wire::Ipv4Addr daddr;
  uint16_t dport = 0;
  uint16_t oif = 0;
  int ttl = 0;  // 0: not given per send
  uint8_t tos = 0;
  uint16_t gso_size = 0;
  bool has_cmsg = false;
  PmtuDisc pmtudisc = PmtuDisc::kWant;  // the socket's mode, or this datagram's (dont_fragment)
};

uint8_t choose_ttl(const Stack& stack, const UdpSendState& tx, const Flow& fl, RouteType type) {
  if (fl.ttl != 0) return static_cast<uint8_t>(fl.ttl);
  if (type == RouteType::kMulticast) return tx.mc_ttl;
  if (tx.ttl >= 0) return static_cast<uint8_t>(tx.ttl);
  return stack.config().ip_default_ttl;
}

// ip_setup_cork.
void setup_cork(Stack& stack, UdpSock& sk, const Flow& fl, const ResolvedRoute& rt, Cork& cork, TimePoint now) {
  UdpSendState& tx = sk.tx;
  Link* link = stack.link(rt.ifindex);
  assert(link != nullptr);
  CorkParams& p = cork.params;
  p = CorkParams{};
  p.pool = &link->pool();
  p.headroom = kDefaultHeadroom;
  // Through the loopback device (our own address) the MTU is lo's, whatever
  // the interface that owns the address.
  const bool local = rt.type == RouteType::kLocal;
  const uint32_t dev_mtu = local ? kLoopbackMtu : link->mtu();
  // cork->fragsize: the path's MTU (learned from ICMP, else the route's) in
  // modes dont/want/do, the device's in probe/interface/omit.
  const uint32_t mtu = ip_sk_use_pmtu(fl.pmtudisc) ? dst_mtu(rt, dev_mtu, now) : dev_mtu;
  // Frames must hold the MTU: never lay out more than one frame carries. (A
  // local datagram larger than a frame stays one packet: a chain of frames,
  // so only there the route's MTU exceeds the layout's.)
  p.fragsize = std::min<uint32_t>(mtu, link->pool().frame_size() - p.headroom);
  p.route_mtu = local ? mtu : p.fragsize;
  p.gso_size = fl.gso_size;
  p.ignore_df = ip_sk_ignore_df(fl.pmtudisc);
  p.pmtudisc_do = ip_sk_df(fl.pmtudisc, /*fits=*/false, /*mtu_locked=*/false);
  p.pmtudisc_want = ip_sk_df(fl.pmtudisc, /*fits=*/true, dst_mtu_locked(rt, now));
  // lo completes no checksum either: its receive side takes the partial sum
  // as verified (CHECKSUM_PARTIAL counts as checked), so none is computed.
  p.device_checksum = local || link->features().tx_checksum;
  p.can_offload = p.device_checksum || fl.gso_size != 0;
  p.no_checksum = tx.no_check_tx;
  p.ip.saddr = fl.saddr;
  p.ip.daddr = fl.daddr;
  p.ip.protocol = static_cast<uint8_t>(wire::IpProtocol::kUdp);
  p.ip.tos = fl.tos;
  p.ip.ttl = choose_ttl(stack, tx, fl, rt.type);
  p.out_ifindex = rt.ifindex;
  p.next_hop = rt.next_hop;
  p.route_type = rt.type;
  p.sndbuf = tx.sndbuf.get();
  p.inet_dport = sk.connected ? sk.remote_port : 0;
  p.sk_err = &sk.sk_err;
  if (sk.connected && !sk.remote_addr.is_unspecified()) {
    if (!tx.inet_id_seeded) {
      tx.inet_id = static_cast<uint16_t>(stack.random());
      tx.inet_id_seeded = true;
    }
    p.sock_ident = &tx.inet_id;
  }
  cork.length = 0;
  cork.partial = false;
}

// ip_append_data, counted as __ip_append_data counts its failures: every one
// but the datagram-too-large check moves Ip OutDiscards (Linux 6.18: a send
// that returned a pending ECONNREFUSED moved OutDiscards 1; an EMSGSIZE, none).
Result<void> append_data(Stack& stack, Cork& cork, std::span<const std::byte> data,
                         uint16_t transhdrlen, bool more) {
  auto r = ip_append_data(cork, data, transhdrlen, more);
  if (!r && r.error() != std::errc::message_size) stack.stats().ip.OutDiscards++;
  return r;
}

// udp_send_skb: UDP header, GSO checks, checksum; then ip_send_skb.
Result<void> udp_send_skb(Stack& stack, UdpSock& sk, Cork& cork, uint16_t dport, TimePoint now) {
  const CorkParams& p = cork.params;
  const bool sum_on_copy = cork.sum_on_copy;
  const bool partial = cork.partial;
  PacketQueue dg = ip_make_datagram(cork, stack.ip_idents());
  if (dg.empty()) return {};
  Packet head = dg.pop_front();
  PacketMeta& m = head.meta();
  const uint16_t iphl = static_cast<uint16_t>(m.transport_off - m.network_off);
  const uint32_t len = head.size() + static_cast<uint32_t>(dg.bytes()) - iphl;  // UDP length
  const uint32_t datalen = len - wire::kUdpHeaderLen;
  const wire::UdpView uh = udp_hdr(head);
  uh.set_src_port(sk.local_port);
  uh.set_dst_port(dport);
  uh.set_length(static_cast<uint16_t>(len));
  uh.set_checksum(0);

  const uint32_t pseudo = wire::pseudo_header_sum(p.ip.saddr, p.ip.daddr, p.ip.protocol, static_cast<uint16_t>(len));
  bool do_partial = false;
  if (p.gso_size != 0) {
    const uint32_t hlen = iphl + wire::kUdpHeaderLen;
    if (hlen + std::min<uint32_t>(datalen, p.gso_size) > p.fragsize) return kGsoSegmentTooBigError;
    if (datalen > p.gso_size * kUdpMaxSegments) return std::errc::invalid_argument;
    if (p.no_checksum) return std::errc::invalid_argument;
    if (!partial) return std::errc::io_error;
    if (datalen > p.gso_size) {
      m.gso_size = p.gso_size;
      m.gso_segs = static_cast<uint16_t>((datalen + p.gso_size - 1) / p.gso_size);
    }
    do_partial = true;
  } else if (p.no_checksum) {
    m.csum_state = ChecksumState::kNone;  // check stays 0: "no checksum"
  } else if (partial) {
    do_partial = true;
  }

  if (do_partial && (p.device_checksum || m.gso_size != 0)) {
    // udp4_hwcsum: the field holds the pseudo-header sum; the device (or the
    // software GSO, per segment) completes it.
    uh.set_checksum(wire::checksum_fold(pseudo));
    m.csum_state = ChecksumState::kPartial;
    m.csum_start = m.transport_off;
    m.csum_offset = wire::kUdpChecksumOffset;
  } else if (!p.no_checksum) {
    // Software: the payload sums were taken while copying, frame by frame; every
    // frame after the first starts at an even offset of the UDP datagram.
    uint32_t sum = sum_on_copy ? m.csum
                               : wire::checksum_partial(uh.bytes());
    dg.for_each([&](const PacketMeta& fm, const std::byte* frame) {
      sum = wire::checksum_block_add(sum,
                           fm.csum_state == ChecksumState::kComplete
                               ? fm.csum
                               : wire::checksum_partial({frame + fm.head, fm.len}),
                           0);
    });
    if (sum_on_copy) sum = wire::checksum_block_add(sum, wire::checksum_words(uh.bytes().data(), wire::kUdpHeaderLen), 0);
    uh.set_checksum_from_sum(wire::checksum_block_add(sum, pseudo, 0));  // CSUM_MANGLED_0 too
    m.csum_state = ChecksumState::kNone;
  }

  dg.push_front(std::move(head));
  // Out at the MTU the frames were laid out for (ip_skb_dst_mtu).
  auto res = ip_local_out(stack, std::move(dg), now, p.fragsize);
  if (!res) {
    if (res.error() == std::errc::no_buffer_space && !sk.recverr) {
      // ip_send_skb: ENOBUFS without IP_RECVERR is counted, not reported
      // (with IP_RECVERR udp_sendmsg counts it and returns it).
      stack.stats().udp.SndbufErrors++;
      return {};
    }
    return res;
  }
  stack.stats().udp.OutDatagrams++;
  return {};
}

}  // namespace

Result<size_t> udp_sendmsg(Stack& stack, UdpSock& sk, std::span<const std::byte> payload,
                           const SockAddrIn* dest, const SendOptions& opts, TimePoint now) {
  stage::mark(stage::Point::kSendmsg);
  UdpSendState& tx = sk.tx;
  // The socket a frame's local transmit error is reported to (ip_local_error).
  // Set on every send rather than once at open: one store, and it stays right
  // whoever creates the socket and wherever the table keeps it.
  udp_claim_send_buffer(sk);
  // inet_send_prepare → inet_autobind: an unbound socket gets its ephemeral port.
  if (sk.local_port == 0) {
    if (auto r = udp_autobind(stack, sk); !r) return std::errc::resource_unavailable_try_again;
  }
  if (payload.size() > 0xffff) return std::errc::message_size;
  if (opts.oob) return std::errc::operation_not_supported;
  // The socket's prebuilt headers for the destination it last sent to, while
  // the path they were built for holds (udp_header_cache.h); anything else
  // goes through the stages.
  if (udp_sendmsg_cached(stack, sk, payload, dest, opts, now)) return payload.size();

  const bool corkreq = tx.cork || opts.more;
  auto finish = [&](Result<void> r) -> Result<size_t> {
    if (r) return payload.size();
    if (r.error() == std::errc::no_buffer_space ||
        r.error() == std::errc::resource_unavailable_try_again) {
      stack.stats().udp.SndbufErrors++;
    }
    return r.error();
  };

  if (tx.pending != 0) {
    // A datagram is being corked: append to it; destination and cmsgs of this
    // call are ignored, as in the kernel. One started by another family (an
    // IPv6 socket's v4-mapped send) cannot be continued here.
    if (tx.pending != kAfInet) return std::errc::invalid_argument;
    auto r = append_data(stack, tx.pending_cork, payload, 0, corkreq);
    if (!r) {
      udp_flush_pending_frames(sk);
      return finish(r);
    }
    if (!corkreq) return finish(udp_push_pending_frames(stack, sk, now));
    return payload.size();
  }

  Flow fl;
  bool connected = false;
  if (dest != nullptr) {
    if (dest->family != kAfInet && dest->family != kAfUnspec) return std::errc::address_family_not_supported;
    if (dest->to.port == 0) return std::errc::invalid_argument;
    fl.daddr = dest->to.addr;
    fl.dport = dest->to.port;
  } else {
    if (!sk.connected) return std::errc::destination_address_required;
    fl.daddr = sk.remote_addr;
    fl.dport = sk.remote_port;
    connected = true;
  }

  // Control messages (udp_cmsg_send, ip_cmsg_send).
  fl.gso_size = opts.gso_size.value_or(tx.gso_size);
  fl.pmtudisc = !opts.dont_fragment ? tx.pmtudisc : *opts.dont_fragment ? PmtuDisc::kDo : PmtuDisc::kDont;
  fl.tos = tx.tos;
  if (opts.ttl) {
    if (*opts.ttl < 1 || *opts.ttl > 255) return std::errc::invalid_argument;
    fl.ttl = *opts.ttl;
    fl.has_cmsg = true;
  }
  if (opts.tos) {
    if (*opts.tos < 0 || *opts.tos > 255) return std::errc::invalid_argument;
    fl.tos = static_cast<uint8_t>(*opts.tos);
    fl.has_cmsg = true;
  }
  if (opts.gso_size) fl.has_cmsg = true;
  if (!opts.source.is_unspecified() || opts.ifindex != 0) {
    fl.saddr = opts.source;
    fl.oif = opts.ifindex;
    fl.has_cmsg = true;
  }
  if (fl.has_cmsg) connected = false;
  // What may build the header cache: a send whose headers only the socket,
  // the destination and the route decide.
  bool cacheable = !fl.has_cmsg;
  if (fl.saddr.is_unspecified()) fl.saddr = sk.local_addr;
  if (fl.oif == 0) fl.oif = sk.bound_ifindex;

  const bool only_link = tx.dont_route || opts.dont_route;
  if (only_link) connected = cacheable = false;
  if (fl.daddr.is_multicast()) {
    cacheable = false;
    if (fl.oif == 0) fl.oif = tx.mc_ifindex;
    if (fl.saddr.is_unspecified()) fl.saddr = tx.mc_addr;
    connected = false;
  }

  // Route: the connected socket's cache while the table is unchanged
  // (sk_dst_check), else a lookup.
  ResolvedRoute rt;
  const uint64_t gen = stack.route_generation();
  if (connected && tx.dst_cache.valid && tx.dst_cache.generation == gen) {
    rt = tx.dst_cache.route;
  } else {
    OutputFlow key{fl.saddr, fl.daddr, fl.oif, only_link};
    auto r = route_output(stack, key);
    fl.daddr = key.daddr;  // 0.0.0.0 became this host
    if (!r) {
      if (r.error() == std::errc::network_unreachable) stack.stats().ip.OutNoRoutes++;
      return r.error();
    }
    rt = *r;
    if (connected) {
      tx.dst_cache = CachedRoute{true, gen, rt};
    }
  }
  if (rt.type == RouteType::kBroadcast && !tx.broadcast) return std::errc::permission_denied;
  if (fl.saddr.is_unspecified()) {
    fl.saddr = !rt.prefsrc.is_unspecified() ? rt.prefsrc : stack.select_source(rt.ifindex, fl.daddr);
  }

  // A pending error (ECONNREFUSED ...) is reported once, and cleared, by the
  // first frame's allocation in ip_append_data (sock_alloc_send_pskb): after
  // the destination, route and permission checks above and after the
  // datagram's own EMSGSIZE, all of which leave it pending. Appending to a
  // corked datagram (above) allocates without looking.
  if (!corkreq) {
    // ip_make_skb: a private cork, no socket-wide queue.
    Cork cork;
    setup_cork(stack, sk, fl, rt, cork, now);
    auto r = append_data(stack, cork, payload, wire::kUdpHeaderLen, opts.more);
    if (!r) return finish(r);  // the private cork frees its frames
    Result<void> sent = udp_send_skb(stack, sk, cork, fl.dport, now);
    if (sent && cacheable) {
      udp_header_cache_fill(stack, sk, fl.saddr, fl.daddr, fl.dport, fl.tos, cork.params.ip.ttl, rt, gen, now);
    }
    return finish(sent);
  }

  setup_cork(stack, sk, fl, rt, tx.pending_cork, now);
  tx.pending = kAfInet;
  tx.pending_dport = fl.dport;
  auto r = append_data(stack, tx.pending_cork, payload, wire::kUdpHeaderLen, true);
  if (!r) {
    udp_flush_pending_frames(sk);
    return finish(r);
  }
  return payload.size();
}

Result<void> udp_push_pending_frames(Stack& stack, UdpSock& sk, TimePoint now) {
  UdpSendState& tx = sk.tx;
  if (tx.pending == 0) return {};
  tx.pending = 0;
  return udp_send_skb(stack, sk, tx.pending_cork, tx.pending_dport, now);
}

void udp_flush_pending_frames(UdpSock& sk) {
  sk.tx.pending_cork.flush();
  sk.tx.pending = 0;
}

Result<void> udp_set_ttl(UdpSock& sk, int ttl) {
  if (ttl != -1 && (ttl < 1 || ttl > 255)) return std::errc::invalid_argument;
  sk.tx.ttl = ttl;
  return {};
}

Result<void> udp_set_tos(UdpSock& sk, int tos) {
  // inet->tos is a byte: any int is taken and its low byte kept (Linux 6.18:
  // -1 reads back 0xff, 256 reads 0, 0x12345678 reads 0x78). Only the IP_TOS
  // cmsg checks its range.
  sk.tx.tos = static_cast<uint8_t>(tos);
  return {};
}

void udp_set_broadcast(UdpSock& sk, bool on) { sk.tx.broadcast = on; }
void udp_set_no_check_tx(UdpSock& sk, bool on) { sk.tx.no_check_tx = on; }
void udp_set_dont_route(UdpSock& sk, bool on) { sk.tx.dont_route = on; }
void udp_set_pmtudisc(UdpSock& sk, PmtuDisc mode) { sk.tx.pmtudisc = mode; }

Result<void> udp_set_gso_size(UdpSock& sk, int size) {
  if (size < 0 || size > 0xffff) return std::errc::invalid_argument;
  sk.tx.gso_size = static_cast<uint16_t>(size);
  return {};
}

Result<void> udp_set_multicast_ttl(UdpSock& sk, int ttl) {
  if (ttl == -1) ttl = 1;
  if (ttl < 0 || ttl > 255) return std::errc::invalid_argument;
  sk.tx.mc_ttl = static_cast<uint8_t>(ttl);
  return {};
}

void udp_set_multicast_if(UdpSock& sk, wire::Ipv4Addr addr, uint16_t ifindex) {
  sk.tx.mc_addr = addr;
  sk.tx.mc_ifindex = ifindex;
}

Result<void> udp_set_sndbuf(UdpSock& sk, int bytes) {
  // sock_setsockopt SO_SNDBUF: doubled for bookkeeping overhead, at least
  // SOCK_MIN_SNDBUF; capped by wmem_max (212992) before doubling.
  constexpr int kWmemMax = 212992;
  constexpr int kMinSndbuf = 4608;
  if (bytes < 0) bytes = 0;
  bytes = std::min(bytes, kWmemMax);
  sk.tx.sndbuf->limit = static_cast<uint32_t>(std::max(bytes * 2, kMinSndbuf));
  return {};
}

Result<void> udp_set_cork(Stack& stack, UdpSock& sk, bool on, TimePoint now) {
  sk.tx.cork = on;
  // udp_lib_setsockopt pushes and drops the push's result: the option was set
  // (Linux 6.18: a corked UDP_SEGMENT datagram with SO_NO_CHECK, which
  // udp_send_skb refuses with EINVAL, was dropped and UDP_CORK off returned
  // 0, counting nothing). udp_send_skb has counted what it counts.
  if (!on) (void)udp_push_pending_frames(stack, sk, now);
  return {};
}

uint32_t udp_wmem_alloc(const UdpSock& sk) { return sk.tx.sndbuf->allocated; }

Result<uint32_t> udp_get_mtu(Stack& stack, UdpSock& sk, TimePoint now) {
  // do_ip_getsockopt(IP_MTU): dst_mtu of the socket's route, which only a
  // connected socket has (Linux 6.18: ENOTCONN unconnected; after a 3/4
  // saying 1400 the connected socket read 1400, in every PMTU mode).
  if (!sk.connected) return std::errc::not_connected;
  UdpSendState& tx = sk.tx;
  const uint64_t gen = stack.route_generation();
  if (!tx.dst_cache.valid || tx.dst_cache.generation != gen) {
    // sk_dst_get after the cached route went stale: look it up again, as the
    // next send would.
    OutputFlow key{sk.local_addr, sk.remote_addr, sk.bound_ifindex, false};
    auto r = route_output(stack, key);
    if (!r) return std::errc::not_connected;
    tx.dst_cache = CachedRoute{true, gen, *r};
  }
  const ResolvedRoute& rt = tx.dst_cache.route;
  const Link* link = stack.link(rt.ifindex);
  if (link == nullptr) return std::errc::not_connected;
  return dst_mtu(rt, rt.type == RouteType::kLocal ? kLoopbackMtu : link->mtu(), now);
}

}  // namespace xnet::stack
