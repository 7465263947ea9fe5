// ARP (RFC 826) as net/ipv4/arp.c runs it with the default sysctls
// (arp_accept = 0, arp_ignore = 0, arp_announce = 0, arp_filter = 0), and the
// neighbour state machine of net/core/neighbour.c reduced to four states (see
// neighbour_table.h).

#include "stack/l2/neighbour.h"

#include "stack/core/skb_truesize.h"

#include <cstring>

#include "stack/l2/eth_output.h"
#include "stack/core/headers.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/arp.h"

namespace xnet::stack {
namespace {

// arp_create + arp_xmit: one ARP message in a frame of the interface's pool.
// No frame: kNeighNoFrame (the kernel's arp_send gives up silently).
void arp_send(Stack& stack, uint16_t ifindex, wire::ArpOperation op, const wire::MacAddr& dst,
              wire::Ipv4Addr sip, const wire::MacAddr& tha, wire::Ipv4Addr tip) {
  Link* link = stack.link(ifindex);
  if (link == nullptr) return;
  Packet pkt = Packet::allocate(link->pool(), kDefaultHeadroom);
  if (!pkt) {
    stack.stats().drop(DropReason::kNeighNoFrame);
    return;
  }
  wire::ArpPacket arp;
  arp.operation = op;
  arp.sender_mac = link->mac();
  arp.sender_ip = sip;
  arp.target_mac = tha;
  arp.target_ip = tip;
  std::byte* p = pkt.put(static_cast<uint16_t>(wire::ArpPacket::buffer_len()));
  arp.emit(wire::ArpView::unchecked({p, wire::ArpPacket::buffer_len()}));
  pkt.set_network_header();
  eth_push_header(pkt, dst, link->mac(), kEtherTypeArp);
  stack.dev_queue_xmit(ifindex, std::move(pkt));
}

void neigh_xmit(Stack& stack, Packet pkt, uint16_t ifindex, const wire::MacAddr& dst) {
  Link* link = stack.link(ifindex);
  eth_push_header(pkt, dst, link->mac(), kEtherTypeIpv4);
  stack.dev_queue_xmit(ifindex, std::move(pkt));
}

// The entry learned its MAC: everything that waited goes out (neigh_update's
// arp_queue flush).
// What a queued packet counts against unres_qlen_bytes: a socket's frame its
// charge, any other (forwarded, ICMP) what an skb of its length costs.
uint32_t queue_truesize(const PacketMeta& m) {
  return m.truesize != 0 ? m.truesize : skb_truesize(m.len + kSkbAllocExtra);
}

void neigh_flush_pending(Stack& stack, NeighEntry& e, TimePoint now) {
  if (e.pending.empty()) return;
  e.used = now;
  PacketQueue q = std::move(e.pending);
  while (!q.empty()) neigh_xmit(stack, q.pop_front(), e.ifindex, e.mac);
}

// neigh_update for ARP: `override` unless the entry changed within locktime
// (arp_process: the first of several back-to-back replies wins) or the message
// is gratuitous. A valid entry ignores a different MAC without override; the
// same MAC with a weaker state (stale) keeps the stronger one. Returns whether
// the entry took the update. `announce`: tell the table's observer (the other
// shards); false for what came from another shard, so nothing loops.
bool neigh_update(Stack& stack, NeighEntry& e, const wire::MacAddr& mac, NeighState state,
                  bool override, TimePoint now, bool announce = true) {
  const NeighState old = e.state;
  const bool valid = old == NeighState::kReachable || old == NeighState::kStale;
  if (valid) {
    if (mac != e.mac && !override) return false;
    if (mac == e.mac && state == NeighState::kStale) state = old;
  }
  const StackConfig& cfg = stack.config();
  const bool changed = !valid || mac != e.mac || state != old;
  if (!valid || mac != e.mac) {
    e.mac = mac;
    e.updated = now;
    e.probing = false;
    e.probes = 0;
  }
  if (state != old) e.updated = now;
  e.state = state;
  if (state == NeighState::kReachable) {
    e.confirmed = now;
    e.probing = false;
    e.probes = 0;
    stack.neighbours().arm(e, now + cfg.neigh_reachable_time);
  } else if (!e.probing) {
    stack.neighbours().arm(e, std::max(e.used, now) + cfg.neigh_gc_stale_time);
  }
  if (announce) stack.neighbours().announce(e, changed, now);
  neigh_flush_pending(stack, e, now);
  return true;
}

// Source address of a request: the waiting packet's source when it is ours
// (arp_announce = 0), else the interface's address for the target.
wire::Ipv4Addr solicit_source(Stack& stack, const NeighEntry& e) {
  if (const PacketMeta* m = e.pending.front_meta(); m != nullptr && m->network_off != kNoOffset) {
    const wire::Ipv4Addr src = ip_hdr(e.pending.front_frame(), *m).src();
    if (stack.is_local_address(src)) return src;
  }
  return stack.select_source(e.ifindex, e.ip);
}

bool is_martian_sender(wire::Ipv4Addr a) {
  return a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback() || a.is_class_e();
}

}  // namespace

void neigh_solicit(Stack& stack, NeighEntry& e, TimePoint now) {
  // Probes of a stale entry are unicast to the MAC we have (arp_solicit with
  // probes < ucast_probes); a resolution broadcasts.
  const wire::MacAddr dst = e.probing ? e.mac : wire::kMacBroadcast;
  ++e.probes;
  e.last_request = now;
  // Shared mode: the kernel resolves (NeighbourTable::set_solicitor).
  if (const auto& solicit = stack.neighbours().solicitor()) return solicit(e.ifindex, e.ip);
  arp_send(stack, e.ifindex, wire::ArpOperation::kRequest, dst, solicit_source(stack, e),
           wire::MacAddr(), e.ip);
}

void neigh_fail(Stack& stack, NeighEntry& e, TimePoint now) {
  e.state = NeighState::kFailed;
  e.probing = false;
  e.updated = now;
  stack.neighbours().arm(e, now + stack.config().neigh_gc_stale_time);
  PacketQueue q = std::move(e.pending);
  // From here `e` may go away: reporting can send packets that create entries.
  while (!q.empty()) {
    Packet pkt = q.pop_front();
    // arp_error_report → the network layer's link failure (ipv4_link_failure).
    if (const auto link_failure = stack.neighbours().link_failure()) link_failure(stack, pkt, now);
    stack.stats().drop(DropReason::kNeighFailed);
  }
}

void neigh_output(Stack& stack, Packet pkt, uint16_t ifindex, wire::Ipv4Addr next_hop, TimePoint now) {
  if (stack.link(ifindex) == nullptr) {
    stack.stats().drop(DropReason::kNeighFailed);  // no such device: nothing to resolve on
    return;
  }
  // arp_mc_map: broadcast and multicast next hops need no resolution.
  if (next_hop.is_broadcast() || stack.is_broadcast_on(ifindex, next_hop)) {
    neigh_xmit(stack, std::move(pkt), ifindex, wire::kMacBroadcast);
    return;
  }
  if (next_hop.is_multicast()) {
    neigh_xmit(stack, std::move(pkt), ifindex, wire::MacAddr::for_ipv4_multicast(next_hop));
    return;
  }
  NeighbourTable& table = stack.neighbours();
  const StackConfig& cfg = stack.config();
  NeighEntry* e = table.find(ifindex, next_hop);
  if (e == nullptr) {
    e = table.create(ifindex, next_hop, now);
    if (e == nullptr) {
      stack.stats().drop(DropReason::kArpTableFull);  // "neighbour table overflow"
      return;
    }
    e->state = NeighState::kFailed;  // resolution starts below like after a failure
  }
  switch (e->state) {
    case NeighState::kReachable:
      e->used = now;
      neigh_xmit(stack, std::move(pkt), ifindex, e->mac);
      return;
    case NeighState::kStale:
      // Sent with the MAC we have; the first use starts the delayed re-probe.
      e->used = now;
      if (!e->probing) {
        e->probing = true;
        e->probes = 0;
        table.arm(*e, now + kNeighDelayFirstProbe);
      }
      neigh_xmit(stack, std::move(pkt), ifindex, e->mac);
      return;
    case NeighState::kFailed:
      // __neigh_event_send: a new resolution. Requests stay ≤ 1 per
      // retrans_time per destination, however often packets arrive.
      e->state = NeighState::kIncomplete;
      e->probing = false;
      e->probes = 0;
      e->updated = now;
      e->pending.push_back(std::move(pkt));
      if (!e->last_request || now >= *e->last_request + cfg.neigh_retrans_time) {
        neigh_solicit(stack, *e, now);
        table.arm(*e, now + cfg.neigh_retrans_time);
      } else {
        table.arm(*e, *e->last_request + cfg.neigh_retrans_time);
      }
      return;
    case NeighState::kIncomplete: {
      // __neigh_event_send: the queue holds unres_qlen_bytes of truesize; the
      // oldest packets make room (NEIGH_QUEUEFULL), and one packet is always
      // queued.
      uint64_t queued = 0;
      e->pending.for_each([&](const PacketMeta& m, const std::byte*) { queued += queue_truesize(m); });
      const uint32_t mine = queue_truesize(pkt.meta());
      while (!e->pending.empty() && queued + mine > cfg.neigh_unres_qlen_bytes) {
        queued -= queue_truesize(*e->pending.front_meta());
        e->pending.pop_front();
        stack.stats().drop(DropReason::kNeighQueueFull);
      }
      e->pending.push_back(std::move(pkt));
      return;
    }
  }
}

void arp_announce(Stack& stack, uint16_t ifindex, wire::Ipv4Addr addr, TimePoint /*now*/) {
  // A request for our own address, target MAC zero (inet_gratuitous_arp).
  arp_send(stack, ifindex, wire::ArpOperation::kRequest, wire::kMacBroadcast, addr, wire::MacAddr(), addr);
}

// arp_rcv + arp_process. Every way out either answers, updates the cache, or
// moves one DropReason; a message that is only information about a neighbour
// we do not track (arp_accept = 0) ends as kArpNotForUs unless it was for us.
void arp_rcv(Stack& stack, Packet pkt, TimePoint now) {
  const uint16_t ifindex = pkt.meta().ifindex;
  auto view = wire::ConstArpView::checked(std::span<const std::byte>(pkt.bytes()));
  if (!view) {
    stack.stats().drop(DropReason::kArpMalformed);  // truncated, or lengths not 6/4
    return;
  }
  auto parsed = wire::ArpPacket::parse(*view);
  if (!parsed) {
    stack.stats().drop(DropReason::kArpMalformed);  // htype not Ethernet or ptype not IPv4
    return;
  }
  const wire::ArpPacket& arp = *parsed;
  const auto op = static_cast<uint16_t>(arp.operation);
  if (op != static_cast<uint16_t>(wire::ArpOperation::kRequest) &&
      op != static_cast<uint16_t>(wire::ArpOperation::kReply)) {
    stack.stats().drop(DropReason::kArpMalformed);
    return;
  }
  const bool request = op == static_cast<uint16_t>(wire::ArpOperation::kRequest);
  const wire::Ipv4Addr sip = arp.sender_ip;
  const wire::Ipv4Addr tip = arp.target_ip;

  if (arp.sender_mac.is_multicast() || arp.sender_mac.is_zero()) {
    stack.stats().drop(DropReason::kArpBogusSender);
    return;
  }
  // Requests about multicast or loopback targets are nonsense (arp_process).
  if (tip.is_multicast() || tip.is_loopback()) {
    stack.stats().drop(DropReason::kArpNotForUs);
    return;
  }
  // arp_ignore = 0: we answer for any of our addresses, whatever the interface.
  const bool for_us = stack.is_local_address(tip);

  // Duplicate address detection probe (RFC 5227): answer, never learn.
  if (sip.is_unspecified()) {
    if (request && for_us) {
      arp_send(stack, ifindex, wire::ArpOperation::kReply, arp.sender_mac, tip, arp.sender_mac, sip);
    } else {
      stack.stats().drop(DropReason::kArpNotForUs);
    }
    return;
  }
  // The sender passes what ip_route_input passes as a source with rp_filter =
  // 0: not a martian, not one of our addresses. It need not be on the
  // interface's subnet (Linux 6.18 answered and learned 192.168.9.9, 0.1.2.3
  // and the network address 10.0.0.0 asking for 10.0.0.1/24). Class E stays a
  // martian, as in route_input.cc (Linux answered 240.0.0.1).
  if (is_martian_sender(sip) || stack.is_local_address(sip)) {
    stack.stats().drop(DropReason::kArpBogusSender);
    return;
  }
  // A subnet broadcast sender gets its answer but no entry: the kernel's entry
  // for a broadcast address is NUD_NOARP (arp_constructor), which no ARP
  // message updates.
  const bool learnable = !stack.is_broadcast_on(ifindex, sip);

  NeighbourTable& table = stack.neighbours();
  if (request && for_us) {
    if (!learnable) {
      arp_send(stack, ifindex, wire::ArpOperation::kReply, arp.sender_mac, tip, arp.sender_mac, sip);
      return;
    }
    // neigh_event_ns: the requester is about to talk to us; learn it (stale,
    // override), then answer.
    NeighEntry* e = table.find(ifindex, sip);
    if (e == nullptr) {
      e = table.create(ifindex, sip, now);
      if (e == nullptr) {
        stack.stats().drop(DropReason::kArpTableFull);  // no entry, no reply
        return;
      }
    }
    neigh_update(stack, *e, arp.sender_mac, NeighState::kStale, true, now);
    arp_send(stack, ifindex, wire::ArpOperation::kReply, arp.sender_mac, tip, arp.sender_mac, sip);
    return;
  }

  // arp_is_garp: sender = target, and a reply's target MAC (when given) is the sender's.
  const bool garp = sip == tip && (request || arp.target_mac.is_zero() || arp.target_mac == arp.sender_mac);
  // Only a unicast reply proves reachability; requests and broadcast replies say stale.
  const NeighState state = !request && pkt.meta().pkt_type == PacketType::kHost
                               ? NeighState::kReachable
                               : NeighState::kStale;
  if (!learnable) {
    if (!for_us) stack.stats().drop(DropReason::kArpNotForUs);
    return;
  }
  NeighEntry* e = table.find(ifindex, sip);
  if (e == nullptr) {
    // arp_accept = 0: unsolicited information creates nothing. With several
    // shards it may answer another shard's request (the device chose this
    // queue): the other shards apply it to an entry they have.
    table.announce_unknown(NeighAnnouncement{ifindex, sip, arp.sender_mac, state, false, garp}, now);
    if (!for_us) stack.stats().drop(DropReason::kArpNotForUs);
    return;
  }
  const bool override = now >= e->updated + stack.config().neigh_locktime || garp;
  neigh_update(stack, *e, arp.sender_mac, state, override, now);
}

bool NeighbourTable::learn_from_peer(uint16_t ifindex, wire::Ipv4Addr ip, const wire::MacAddr& mac,
                                     TimePoint now) {
  return learn_from_peer(NeighAnnouncement{ifindex, ip, mac, NeighState::kReachable, true, false}, now);
}

// The peer ran arp_rcv's checks on the message; what is left is this table's
// own view: no entry for our own addresses or for an interface we lack, and
// the update rules of neigh_update. Nothing is announced back.
bool NeighbourTable::learn_from_peer(const NeighAnnouncement& a, TimePoint now) {
  if (stack_.link(a.ifindex) == nullptr || stack_.is_local_address(a.ip)) return false;
  if (a.mac.is_multicast() || a.mac.is_zero()) return false;
  const NeighState state = a.state == NeighState::kStale ? NeighState::kStale : NeighState::kReachable;
  bool override = true;  // a peer's entry already went through locktime
  NeighEntry* e = find(a.ifindex, a.ip);
  if (e == nullptr) {
    if (!a.known) return false;  // arp_accept = 0, host-wide
    e = create(a.ifindex, a.ip, now);
    if (e == nullptr) return false;  // table full: the peer's entry still serves its shard
  } else if (!a.known) {
    override = a.garp || now >= e->updated + stack_.config().neigh_locktime;
  }
  return neigh_update(stack_, *e, a.mac, state, override, now, /*announce=*/false);
}

}  // namespace xnet::stack
