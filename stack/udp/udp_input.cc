#include "stack/udp/udp_input.h"
#include "stack/core/stage_trace.h"

#include <cerrno>
#include <utility>

#include "stack/core/checksum_offload.h"
#include "stack/core/headers.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/route_pmtu.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_offload.h"
#include "stack/udp/udp_table.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {

namespace {

using wire::IcmpType;
using wire::IcmpUnreachCode;
// Truesize charged to rmem_alloc for one error-queue entry (the kernel charges
// the ICMP skb it queues, a few hundred bytes).
constexpr uint32_t kErrEntryTruesize = 768;

uint32_t frame_truesize(const Packet& p) { return p.pool()->frame_size(); }

// Adds a block's partial sum at a byte offset of the summed data: a block
// starting at an odd offset contributes its sum byte-swapped (RFC 1071 §2(B)).
// skb_trim over a chain: keeps the first `len` bytes (head counted from data()).
void trim_chain(Packet& head, PacketQueue& rest, uint32_t len) {
  if (len <= head.size()) {
    head.trim(static_cast<uint16_t>(len));
    rest.clear();
    return;
  }
  uint32_t left = len - head.size();
  PacketQueue kept;
  while (!rest.empty()) {
    Packet p = rest.pop_front();
    if (left == 0) continue;  // freed
    if (p.size() > left) p.trim(static_cast<uint16_t>(left));
    left -= p.size();
    kept.push_back(std::move(p));
  }
  rest = std::move(kept);
}

// udp_lib_checksum_complete: the UDP checksum over the pseudo-header, the
// header and the payload in every frame.
bool checksum_ok(const Packet& head, const PacketQueue& rest, wire::Ipv4Addr saddr,
                 wire::Ipv4Addr daddr, uint16_t ulen) {
  const uint32_t pseudo = wire::pseudo_header_sum(saddr, daddr, static_cast<uint8_t>(wire::IpProtocol::kUdp), ulen);
  return wire::checksum_fold(datagram_checksum_partial(head, rest, pseudo)) == 0xffff;
}

// A copy of the whole datagram (head and every fragment frame), for the
// broadcast/multicast fan-out. Invalid head when the pool ran dry.
RxDatagram clone_datagram(const Packet& head, PacketQueue& rest) {
  RxDatagram d;
  d.head = head.clone(*head.pool());
  if (!d.head) return d;
  PacketQueue again;
  bool ok = true;
  while (!rest.empty()) {
    Packet p = rest.pop_front();
    if (ok) {
      Packet c = p.clone(*p.pool());
      if (c) {
        d.rest.push_back(std::move(c));
      } else {
        ok = false;
      }
    }
    again.push_back(std::move(p));
  }
  rest = std::move(again);
  if (!ok) {
    d.head.reset();
    d.rest.clear();
  }
  return d;
}

// The receive-buffer charge of a datagram whose frames are all from one pool.
uint32_t datagram_truesize(const RxDatagram& d) {
  return frame_truesize(d.head) * static_cast<uint32_t>(1 + d.rest.size());
}

// udp_queue_rcv_skb → udp_rcv_segment: a UDP_SEGMENT datagram that crossed
// the loopback whole reaches a socket without UDP_GRO, which gets it as the
// segments the wire would have carried (each its own datagram, counted
// InDatagrams when read). Its checksum was never finished: lo's receive
// counts it verified, and so does every segment.
void udp_rcv_segment(Stack& stack, UdpSock& sk, Packet head, PacketQueue rest) {
  const uint16_t ifindex = head.meta().ifindex;
  head.push(static_cast<uint16_t>(head.data() - head.network_header()));  // back to the IPv4 header
  PacketQueue dg, segs;
  dg.push_back(std::move(head));
  dg.splice_back(rest);
  udp_gso_segment(dg, /*device_checksum=*/true, segs);
  while (!segs.empty()) {
    Packet seg = segs.pop_front();
    seg.meta().csum_state = ChecksumState::kUnnecessary;
    seg.meta().ifindex = ifindex;  // IP_PKTINFO's, for the segments after the first too
    seg.pull(static_cast<uint16_t>(seg.meta().transport_off - seg.meta().network_off + wire::kUdpHeaderLen));
    RxDatagram d;
    d.head = std::move(seg);
    udp_queue_rcv(stack, sk, std::move(d));
  }
}

}  // namespace

IcmpErrno icmp_err_convert(uint8_t type, uint8_t code) {
  // icmp_err_convert[] for destination unreachable codes 0..15.
  static constexpr struct {
    int err;
    bool fatal;
  } kUnreach[16] = {
      {ENETUNREACH, false},  {EHOSTUNREACH, false}, {ENOPROTOOPT, true},   {ECONNREFUSED, true},
      {EMSGSIZE, false},     {EOPNOTSUPP, false},   {ENETUNREACH, true},   {EHOSTDOWN, true},
      {ENONET, true},        {ENETUNREACH, true},   {EHOSTUNREACH, true},  {ENETUNREACH, false},
      {EHOSTUNREACH, false}, {EHOSTUNREACH, true},  {EHOSTUNREACH, true},  {EHOSTUNREACH, true},
  };
  switch (IcmpType{type}) {
    case IcmpType::kDestUnreachable:
      if (code < 16) return {static_cast<std::errc>(kUnreach[code].err), kUnreach[code].fatal};
      return {std::errc::host_unreachable, false};
    case IcmpType::kParameterProblem:
      return {std::errc::protocol_error, true};
    default:  // time exceeded and anything else
      return {std::errc::host_unreachable, false};
  }
}

bool udp_queue_rcv(Stack& stack, UdpSock& sk, RxDatagram&& dgram) {
  const uint32_t truesize = datagram_truesize(dgram);
  // __udp_enqueue_schedule_skb (6.15+): over rcvbuf is a drop unless the queue
  // is empty (one datagram is always accepted).
  if (sk.rmem_alloc + truesize > sk.rcvbuf && sk.rmem_alloc != 0) {
    sk.drops++;
    stack.stats().udp.RcvbufErrors++;  // __udp_queue_rcv_skb: -ENOMEM
    stack.stats().udp.InErrors++;
    return false;  // dgram's frames go with the caller's RxDatagram
  }
  sk.rmem_alloc += truesize;
  stage::mark(stage::Point::kUdpQueued);
  RxDatagram& q = sk.rxq.push_back_slot();
  q.size = static_cast<uint32_t>(dgram.head.size() + dgram.rest.bytes());
  q.truesize = truesize;
  q.head = std::move(dgram.head);
  q.rest = std::move(dgram.rest);
  if (sk.waker.readable != nullptr) sk.waker.readable(sk.waker.ctx);
  return true;
}

namespace {

void udp_rcv_from(Stack& stack, Packet&& head, PacketQueue&& rest, ShardMask tried, TimePoint now) {
  UdpStats& us = stack.stats().udp;
  if (head.size() < wire::kUdpHeaderLen) {
    // pskb_may_pull failed: InErrors.
    us.InErrors++;
    stack.stats().drop(DropReason::kUdpShortPacket);
    return;
  }
  const wire::ConstUdpView uh = udp_at(std::as_const(head).data(), head.size());
  const uint16_t ulen = uh.length();
  const size_t total = head.size() + rest.bytes();
  if (ulen > total || ulen < wire::kUdpHeaderLen) {
    // short_packet: InErrors.
    us.InErrors++;
    stack.stats().drop(DropReason::kUdpShortPacket);
    return;
  }
  if (ulen < total) trim_chain(head, rest, ulen);

  const wire::ConstIpv4View iph = ip_hdr(std::as_const(head));
  const wire::Ipv4Addr saddr = iph.src();
  const wire::Ipv4Addr daddr = iph.dst();
  const uint16_t sport = uh.src_port();
  const uint16_t dport = uh.dst_port();
  const uint16_t ifindex = head.meta().ifindex;
  // udp4_csum_init: a zero checksum means none; a verified one needs no work.
  // The kernel completes the check in udp_recvmsg for delivered datagrams; here
  // it is done once on arrival (same counters, so zero-copy receivers get
  // verified data), before the port-unreachable answer as the kernel does.
  const bool need_csum =
      uh.checksum() != 0 && head.meta().csum_state != ChecksumState::kUnnecessary;
  auto csum_bad = [&]() {
    if (!need_csum || checksum_ok(head, rest, saddr, daddr, ulen)) {
      head.meta().csum_state = ChecksumState::kUnnecessary;
      return false;
    }
    us.InCsumErrors++;  // csum_error: InCsumErrors + InErrors
    us.InErrors++;
    return true;
  };

  const RouteType rt = head.meta().route_type;
  if (rt == RouteType::kBroadcast || rt == RouteType::kMulticast) {
    // __udp4_lib_mcast_deliver: every matching socket gets the datagram
    // (clones for all but the last).
    size_t n = 0;
    stack.udp().for_each_mcast(saddr, sport, daddr, dport, ifindex, [&](UdpSock&) { ++n; });
    if (n == 0) {
      us.IgnoredMulti++;
      stack.stats().drop(DropReason::kUdpBroadcastNoPort);
      return;
    }
    if (csum_bad()) return;
    head.set_transport_header();
    head.pull(wire::kUdpHeaderLen);
    size_t i = 0;
    stack.udp().for_each_mcast(saddr, sport, daddr, dport, ifindex, [&](UdpSock& sk) {
      if (++i < n) {
        RxDatagram c = clone_datagram(head, rest);
        if (!c.head) {
          sk.drops++;
          us.RcvbufErrors++;
          us.InErrors++;
          stack.stats().drop(DropReason::kNoFrame);
          return;
        }
        udp_queue_rcv(stack, sk, std::move(c));
      } else {
        RxDatagram d;
        d.head = std::move(head);
        d.rest = std::move(rest);
        udp_queue_rcv(stack, sk, std::move(d));
      }
    });
    return;
  }

  UdpSock* sk = stack.udp().lookup(saddr, sport, daddr, dport, ifindex);
  if (sk == nullptr) {
    // No socket: silently dropped if the checksum is wrong; else another
    // shard's socket may own it (the kernel's lookup is global); else NoPorts
    // and port unreachable (icmp_send applies the broadcast/fragment rules).
    if (csum_bad()) return;
    if (UdpHandoff* h = stack.udp().handoff(); h != nullptr && h->hand_over_datagram(head, rest, dport, tried)) {
      return;
    }
    // No shard has it; on a shared address the port may be the kernel's (stack/core/port_claims.h).
    if (PortClaims* claims = stack.port_claims(); claims != nullptr && claims->hand_back(head, rest)) return;
    us.NoPorts++;
    icmp_send(stack, head, IcmpType::kDestUnreachable, IcmpUnreachCode::kPort, 0, now);
    return;
  }
  if (csum_bad()) return;
  if (head.meta().gso_size != 0) {
    udp_rcv_segment(stack, *sk, std::move(head), std::move(rest));
    return;
  }
  head.set_transport_header();
  head.pull(wire::kUdpHeaderLen);
  RxDatagram d;
  d.head = std::move(head);
  d.rest = std::move(rest);
  udp_queue_rcv(stack, *sk, std::move(d));
}

}  // namespace

void udp_rcv(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now) {
  udp_rcv_from(stack, std::move(head), std::move(rest), 0, now);
}

void udp_rcv_handed_over(Stack& stack, Packet&& head, PacketQueue&& rest, ShardMask tried, TimePoint now) {
  udp_rcv_from(stack, std::move(head), std::move(rest), tried, now);
}

namespace {

void wake_error(UdpSock& sk) {
  if (sk.waker.error != nullptr) sk.waker.error(sk.waker.ctx);
}

// sock_queue_err_skb: bounded by rcvbuf like the receive queue.
bool queue_error(UdpSock& sk, SockError e) {
  if (sk.rmem_alloc + kErrEntryTruesize >= sk.rcvbuf) return false;
  sk.rmem_alloc += kErrEntryTruesize;
  sk.errq.push_back(std::move(e));
  return true;
}

}  // namespace

uint32_t udp_error_entry_truesize() { return kErrEntryTruesize; }

namespace {

bool udp_err_from(Stack& stack, const IcmpErrorInfo& e, ShardMask tried, TimePoint now) {
  // The quoted datagram went saddr:sport → daddr:dport; its socket is the one
  // that would receive daddr:dport → saddr:sport.
  UdpSock* sk = stack.udp().lookup(e.daddr, e.dport, e.saddr, e.sport, e.ifindex);
  if (sk == nullptr) {
    // Perhaps a socket of another shard sent it.
    UdpHandoff* h = stack.udp().handoff();
    return h != nullptr && h->hand_over_error(e, tried);
  }

  std::errc err = std::errc::host_unreachable;
  bool harderr = false;
  switch (IcmpType{e.type}) {
    case IcmpType::kSourceQuench:
    case IcmpType::kRedirect:  // no route changes from redirects
      return true;
    case IcmpType::kParameterProblem:
      err = std::errc::protocol_error;
      harderr = true;
      break;
    case IcmpType::kDestUnreachable:
      if (IcmpUnreachCode{e.code} == IcmpUnreachCode::kFragNeeded) {
        // Path MTU discovery (ipv4_sk_update_pmtu): the path to the quoted
        // destination learns the MTU unless the socket ignores path MTUs.
        // Every mode but "dont" then hears EMSGSIZE as a hard error (Linux
        // 6.18: interface and omit taught the route nothing and still got
        // SO_ERROR EMSGSIZE; dont taught it and heard nothing).
        if (ip_sk_accept_pmtu(sk->tx.pmtudisc)) {
          ipv4_update_pmtu(stack, e.saddr, e.daddr, sk->bound_ifindex, e.info, now);
        }
        if (sk->tx.pmtudisc == PmtuDisc::kDont) return true;
        err = std::errc::message_size;
        harderr = true;
        break;
      }
      if (e.code < 16) {
        const IcmpErrno c = icmp_err_convert(e.type, e.code);
        err = c.err;
        harderr = c.fatal;
      }
      break;
    case IcmpType::kTimeExceeded:
    default:
      break;
  }
  // RFC 1122 4.1.3.3: hard errors reach connected sockets; IP_RECVERR sees all.
  if (!sk->recverr) {
    if (!harderr || !sk->connected) return true;
  } else {
    SockError se;
    se.err = err;
    se.origin = ErrOrigin::kIcmp;
    se.type = e.type;
    se.code = e.code;
    se.info = e.info;
    se.offender = e.offender;
    se.dest_addr = e.daddr;
    se.dest_port = e.dport;
    // ip_icmp_error's payload: what follows the quoted UDP header.
    if (e.quoted_transport.size() > wire::kUdpHeaderLen) {
      const std::span<const std::byte> after_udp = e.quoted_transport.subspan(wire::kUdpHeaderLen);
      se.payload.assign(after_udp.begin(), after_udp.end());
    }
    queue_error(*sk, std::move(se));
  }
  sk->sk_err = err;
  wake_error(*sk);
  return true;
}

}  // namespace

bool udp_err(Stack& stack, const IcmpErrorInfo& e, TimePoint now) { return udp_err_from(stack, e, 0, now); }

void udp_err_handed_over(Stack& stack, const IcmpErrorInfo& e, ShardMask tried, TimePoint now) {
  if (udp_err_from(stack, e, tried, now)) return;
  stack.stats().icmp.InErrors++;  // as icmp_rcv counts it: no socket of any shard sent that
  stack.stats().drop(DropReason::kIcmpBogusError);
}

void udp_report_local_error(UdpSock& sk, const SockError& err) {
  // ip_local_error: only sockets with IP_RECVERR hear about it, on the queue.
  if (!sk.recverr) return;
  if (!queue_error(sk, err)) return;
  if (err.origin == ErrOrigin::kIcmp) sk.sk_err = err.err;
  wake_error(sk);
}

void udp_claim_send_buffer(UdpSock& sk) {
  sk.tx.sndbuf->owner = &sk;
  sk.tx.sndbuf->error_report = [](void* owner, const SockError& err) {
    udp_report_local_error(*static_cast<UdpSock*>(owner), err);
  };
}

}  // namespace xnet::stack
