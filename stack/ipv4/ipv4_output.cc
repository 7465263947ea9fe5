// ip_local_out → LOCAL_OUT → ip_output → POST_ROUTING → ip_finish_output →
// ip_finish_output2 → neigh_output.

#include "stack/ipv4/ipv4_output.h"
#include "stack/core/stage_trace.h"

#include <cassert>
#include <cstring>

#include "stack/core/checksum_offload.h"
#include "stack/ipv4/cork.h"
#include "stack/core/headers.h"
#include "stack/core/hooks.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/ipv4_input.h"
#include "stack/l2/neighbour.h"
#include "stack/core/route.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/core/protocol.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"

namespace xnet::stack {

void ip_count_transmit(Stack& stack, RouteType route, uint64_t ip_len) {
  Stats& st = stack.stats();
  st.ip.OutTransmits++;
  st.ip_ext.OutOctets += ip_len;
  if (route == RouteType::kBroadcast) {
    st.ip_ext.OutBcastPkts++;
    st.ip_ext.OutBcastOctets += ip_len;
  } else if (route == RouteType::kMulticast) {
    st.ip_ext.OutMcastPkts++;
    st.ip_ext.OutMcastOctets += ip_len;
  }
}

void ip_build_header(Stack& stack, Packet& pkt, const IpHeaderParams& params, uint16_t segs) {
  push_ipv4_header(pkt, params,
                   stack.ip_idents().next(params.saddr, params.daddr, params.protocol, segs));
}

namespace {


uint32_t datagram_bytes(const Packet& head, const PacketQueue& rest) {
  return head.size() + static_cast<uint32_t>(rest.bytes());
}

// ip_finish_output2: the transmit counters (not for the segments of a GSO
// datagram, counted whole before segmentation), checksum completion the device
// cannot do, a frame from the egress link's pool, then the neighbour layer.
void ip_finish_output2(Stack& stack, Link& link, Packet pkt, TimePoint now, bool count = true) {
  if (count) ip_count_transmit(stack, pkt.meta().route_type, pkt.size());
  if (pkt.meta().csum_state == ChecksumState::kPartial && !link.features().tx_checksum) {
    checksum_help(pkt);
  }
  if (pkt.pool() != &link.pool()) {
    // A frame of another pool (forwarded from another link) cannot go to this
    // device's ring: copy it (skb_cow onto the egress device's memory).
    Packet copy = pkt.clone(link.pool());
    if (!copy) {
      stack.stats().ip.OutDiscards++;
      return;
    }
    pkt = std::move(copy);
  }
  const PacketMeta& m = pkt.meta();
  const uint16_t ifindex = m.out_ifindex;
  const wire::Ipv4Addr nh = m.next_hop;
  neigh_output(stack, std::move(pkt), ifindex, nh, now);
}

Result<void> ip_finish_output(Stack& stack, Packet head, PacketQueue rest, uint32_t mtu,
                              TimePoint now) {
  Link* link = stack.link(head.meta().out_ifindex);
  if (link == nullptr) {
    stack.stats().ip.OutDiscards++;
    return std::errc::network_unreachable;
  }
  const PacketMeta& m = head.meta();
  if (m.gso_size != 0) {
    // Software GSO (validate_xmit_skb → skb_gso_segment): no Link segments UDP.
    const auto gso_segment = stack.protocols()[ip_hdr(head).protocol()].gso_segment;
    if (gso_segment == nullptr) {
      stack.stats().ip.OutDiscards++;  // nothing can segment it (only UDP sets gso_size)
      return std::errc::invalid_argument;
    }
    ip_count_transmit(stack, m.route_type, head.size() + rest.bytes());
    PacketQueue dg;
    dg.push_back(std::move(head));
    dg.splice_back(rest);
    PacketQueue segs;
    gso_segment(dg, link->features().tx_checksum, segs);
    Result<void> res;
    while (!segs.empty()) {
      Packet s = segs.pop_front();
      if (s.size() > mtu) {
        // A segment over the path MTU (the route changed under the datagram):
        // fragment it like any other packet.
        PacketQueue one, frags;
        one.push_back(std::move(s));
        auto n = ip_fragment(one, mtu, link->pool(), kDefaultHeadroom, frags);
        if (!n) {
          stack.stats().ip.FragFails++;
          res = n.error();
          continue;
        }
        stack.stats().ip.FragOKs++;
        stack.stats().ip.FragCreates += *n;
        while (!frags.empty()) ip_finish_output2(stack, *link, frags.pop_front(), now, /*count=*/false);
        continue;
      }
      ip_finish_output2(stack, *link, std::move(s), now, /*count=*/false);
    }
    return res;
  }
  if (datagram_bytes(head, rest) > mtu) {
    PacketQueue dg, frags;
    dg.push_back(std::move(head));
    dg.splice_back(rest);
    auto n = ip_fragment(dg, mtu, link->pool(), kDefaultHeadroom, frags);
    if (!n) {
      stack.stats().ip.FragFails++;
      return n.error();
    }
    stack.stats().ip.FragOKs++;
    stack.stats().ip.FragCreates += *n;
    while (!frags.empty()) ip_finish_output2(stack, *link, frags.pop_front(), now);
    return {};
  }
  assert(rest.empty());
  ip_finish_output2(stack, *link, std::move(head), now);
  return {};
}

// The loopback device (loopback_xmit): a datagram to one of our own addresses
// comes back in on this shard without touching a link, never fragmented (lo's
// MTU exceeds any datagram). Counted as transmitted (ip_finish_output2's
// OutTransmits), out of its sender's buffer (skb_orphan), then received. lo
// has every GSO feature, so a UDP_SEGMENT datagram crosses it whole, one IP
// packet, and the receiving UDP segments it (udp_rcv_segment).
void ip_loopback_xmit(Stack& stack, Packet head, PacketQueue rest, TimePoint now) {
  stack.stats().ip.OutTransmits++;
  stack.stats().ip_ext.OutOctets += head.size() + rest.bytes();
  head.orphan();
  PacketQueue chain;
  while (!rest.empty()) {
    Packet f = rest.pop_front();
    f.orphan();
    chain.push_back(std::move(f));
  }
  ip_rcv_looped(stack, std::move(head), std::move(chain), now);
}

// ip_mc_output: a datagram we send to a broadcast, or to a group this
// interface joined (IP_MULTICAST_LOOP, on by default), is also ours: a copy,
// whole (before fragmentation), comes back in through the loopback
// (dev_loopback_xmit) while the original goes to the wire. Linux 6.18: a
// 3000-byte broadcast moved InReceives and InBcastPkts once and OutTransmits
// for its 3 fragments only. A copy that finds no frame is simply not made.
void ip_mc_loopback(Stack& stack, const Packet& head, PacketQueue& rest, TimePoint now) {
  const PacketMeta& m = head.meta();
  const bool broadcast = m.route_type == RouteType::kBroadcast;
  if (!broadcast && !(m.route_type == RouteType::kMulticast &&
                      stack.is_joined(m.out_ifindex, ip_hdr(head).dst()))) {
    return;
  }
  FramePool& pool = *head.pool();
  Packet copy = head.clone(pool);
  if (!copy) {
    stack.stats().drop(DropReason::kNoFrame);
    return;
  }
  PacketQueue copies, again;
  bool ok = true;
  while (!rest.empty()) {
    Packet f = rest.pop_front();
    if (ok) {
      Packet c = f.clone(pool);
      ok = static_cast<bool>(c);
      if (ok) copies.push_back(std::move(c));
    }
    again.push_back(std::move(f));
  }
  rest = std::move(again);
  if (!ok) {
    stack.stats().drop(DropReason::kNoFrame);
    return;
  }
  ip_rcv_looped(stack, std::move(copy), std::move(copies), now,
                broadcast ? RouteType::kBroadcast : RouteType::kMulticast);
}

// Runs one hook point; false when the packet is gone (dropped or stolen), with
// `err` telling the caller what to report (NF_DROP is EPERM, as in the kernel).
bool run_hook(Stack& stack, HookPoint point, Packet& head, TimePoint now, Result<void>& err) {
  if (stack.hooks().empty(point)) return true;
  switch (stack.hooks().run(point, head, now)) {
    case HookVerdict::kAccept:
      return true;
    case HookVerdict::kStolen:
      // The hook moved the packet out (hooks.h); the rest of a multi-frame
      // datagram is freed by the caller's queue (NF_STOLEN is success).
      return false;
    case HookVerdict::kDrop:
      stack.stats().drop(DropReason::kHookDrop);  // NF_DROP: no SNMP counter
      err = std::errc::operation_not_permitted;
      return false;
  }
  return true;
}

Result<void> ip_output_queue(Stack& stack, Packet head, PacketQueue rest, uint32_t mtu,
                             TimePoint now) {
  Link* link = stack.link(head.meta().out_ifindex);
  if (link == nullptr) {
    stack.stats().ip.OutNoRoutes++;
    return std::errc::network_unreachable;
  }
  if (mtu == 0 || mtu > link->mtu()) mtu = link->mtu();
  Result<void> err;
  if (!run_hook(stack, HookPoint::kPostRouting, head, now, err)) return err;
  if (head.meta().route_type == RouteType::kLocal) {
    ip_loopback_xmit(stack, std::move(head), std::move(rest), now);
    return {};
  }
  ip_mc_loopback(stack, head, rest, now);
  return ip_finish_output(stack, std::move(head), std::move(rest), mtu, now);
}

}  // namespace

Result<void> ip_output(Stack& stack, Packet pkt, uint32_t mtu, TimePoint now) {
  return ip_output_queue(stack, std::move(pkt), PacketQueue(), mtu, now);
}

Result<void> ip_local_out(Stack& stack, Packet pkt, TimePoint now) {
  PacketQueue dg;
  dg.push_back(std::move(pkt));
  return ip_local_out(stack, std::move(dg), now);
}

Result<void> ip_local_out(Stack& stack, PacketQueue datagram, TimePoint now, uint32_t mtu) {
  stage::mark(stage::Point::kIpLocalOut);
  Packet head = datagram.pop_front();
  if (!head) return {};
  PacketMeta& m = head.meta();
  if (m.out_ifindex == 0) {
    const wire::Ipv4Addr daddr = ip_hdr(head).dst();
    const auto rt = stack.routes().lookup(daddr);
    if (!rt || rt->type == RouteType::kUnreachable || rt->type == RouteType::kBlackhole) {
      stack.stats().ip.OutNoRoutes++;
      return std::errc::network_unreachable;
    }
    m.out_ifindex = rt->ifindex;
    m.route_type = rt->type;
    m.next_hop = rt->gateway.is_unspecified() ? daddr : rt->gateway;
    if (mtu == 0) {
      mtu = rt->mtu;
      // A path MTU learned from a socket's ICMP holds for every sender to
      // that destination (the exception hangs off the route), ICMP replies too.
      const PmtuException* e = stack.pmtu().find(rt->ifindex, m.next_hop, daddr);
      if (e != nullptr && now < e->expires && (mtu == 0 || e->mtu < mtu)) mtu = e->mtu;
    }
  }
  m.pkt_type = PacketType::kOutgoing;

  // __ip_local_out: length and header checksum, then LOCAL_OUT. OutRequests
  // counts here, for local traffic only (Linux 6.4+ moved it out of ip_output,
  // so forwarded packets no longer count).
  ip_send_check(head, static_cast<uint16_t>(datagram_bytes(head, datagram)));
  stack.stats().ip.OutRequests++;
  Result<void> err;
  if (!run_hook(stack, HookPoint::kLocalOut, head, now, err)) return err;
  return ip_output_queue(stack, std::move(head), std::move(datagram), mtu, now);
}

void ipv4_link_failure(Stack& stack, const Packet& pkt, TimePoint now) {
  // dst_link_failure: icmp_send(host unreachable) to the packet's source,
  // ours or a forwarded packet's sender alike. Ours comes back over the
  // loopback to icmp_rcv and the transport's err_handler (__udp4_lib_err: sk_err
  // on a connected socket, the error queue with IP_RECVERR), counted on the
  // way as the kernel counts it (Icmp Out and In, Ip InReceives, InDelivers).
  if (pkt.meta().network_off == kNoOffset) return;
  icmp_send(stack, pkt, wire::IcmpType::kDestUnreachable, wire::IcmpUnreachCode::kHost, 0, now);
}

}  // namespace xnet::stack
