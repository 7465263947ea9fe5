// ip_rcv / ip_rcv_finish / ip_local_deliver / ip_local_deliver_finish: the
// checks of the kernel's net/ipv4/ip_input.c in its order, with its counters.

#include "stack/ipv4/ipv4_input.h"
#include "stack/core/stage_trace.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include "stack/core/headers.h"
#include "stack/core/hooks.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/icmp_timestamp.h"
#include "stack/ipv4/ip_options.h"
#include "stack/ipv4/ipv4_forward.h"
#include "stack/ipv4/ip_fragment.h"
#include "stack/ipv4/route_input.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

using wire::IcmpParamProblemCode;
using wire::IcmpType;
using wire::IcmpUnreachCode;

// ip_rcv_core's counter for each reason Ipv4View::checked refuses a header.
// Only a header that is whole (kTruncated, kBadLength) has had its checksum
// verified first, as the kernel verifies it before looking at the total length.
void count_header_error(Stats& st, wire::WireError e) {
  switch (e) {
    case wire::WireError::kTruncated:
      st.ip_ext.InTruncatedPkts++;  // the total length runs past what arrived
      return;
    default:
      st.ip.InHdrErrors++;  // short, version, IHL, total length below the header
      return;
  }
}

bool header_is_whole(wire::WireError e) {
  return e == wire::WireError::kTruncated || e == wire::WireError::kBadLength;
}

// NF_HOOK: runs the chain; true when the packet goes on.
bool run_hook(Stack& stack, HookPoint point, Packet& pkt, TimePoint now) {
  if (stack.hooks().empty(point)) return true;
  switch (stack.hooks().run(point, pkt, now)) {
    case HookVerdict::kAccept:
      return true;
    case HookVerdict::kDrop:
      stack.stats().drop(DropReason::kHookDrop);  // NF_DROP: no Ip: counter
      return false;
    case HookVerdict::kStolen:
      return false;
  }
  return false;
}

// ip_error: the input of an unreachable dst. Without forwarding only the
// counter moves (EHOSTUNREACH → InAddrErrors, RFC 1122 §3.2.1.3: not ours,
// silently discarded); with forwarding the sender hears about it.
void ip_error(Stack& stack, Packet pkt, int dst_error, TimePoint now) {
  auto& st = stack.stats();
  if (!stack.config().ip_forward) {
    if (dst_error == EHOSTUNREACH) st.ip.InAddrErrors++;
    else if (dst_error == ENETUNREACH) st.ip_ext.InNoRoutes++;
    return;
  }
  IcmpUnreachCode code;
  switch (dst_error) {
    case EHOSTUNREACH:
      code = IcmpUnreachCode::kHost;
      break;
    case ENETUNREACH:
      code = IcmpUnreachCode::kNet;
      st.ip_ext.InNoRoutes++;
      break;
    default:
      // EINVAL (blackhole): dropped without a word. No SNMP counter; the
      // closest DropReason.
      st.drop(DropReason::kIpMartianDest);
      return;
  }
  // ip_error's per-sender bucket before icmp_send's own limits (both draw
  // on the sender's tokens). A datagram it holds back is dropped all the same.
  if (!stack.icmp().ip_error_allow(ip_hdr(std::as_const(pkt)).src(), now)) return;
  icmp_send(stack, pkt, IcmpType::kDestUnreachable, code, 0, now);
}

// ip_rcv_options: validation (parameter problem on error), source routes.
bool ip_rcv_options(Stack& stack, Packet& pkt, TimePoint now) {
  const std::byte* ip = pkt.network_header();
  IpOptions opt;
  const auto r = ip_options_compile(ip_hdr(pkt).header(), opt);
  if (!r) {
    // ip_options_compile sends the parameter problem, ip_rcv_options counts.
    icmp_send(stack, pkt, IcmpType::kParameterProblem, IcmpParamProblemCode::kPointer, r.failure().pointer, now);
    stack.stats().ip.InHdrErrors++;
    stack.stats().drop(DropReason::kIpOptionsBad);
    return false;
  }
  if (opt.srr) {
    if (!stack.config().accept_source_route) {
      stack.stats().drop(DropReason::kIpSourceRouted);  // no SNMP counter (martian log only)
      return false;
    }
    // ip_options_rcv_srr: a route whose pointer has not reached its end asks
    // us to forward to the next listed hop. xnet does not forward source
    // routed packets; one that ends here is delivered.
    const uint8_t len = std::to_integer<uint8_t>(ip[opt.srr + 1]);
    const uint8_t ptr = std::to_integer<uint8_t>(ip[opt.srr + 2]);
    if (ptr <= len || pkt.meta().route_type == RouteType::kUnicast) {
      stack.stats().drop(DropReason::kIpSourceRouted);
      return false;
    }
  }
  // Record Route and Timestamp take our entries (fib_compute_spec_dst: the
  // address it was sent to when it is ours, else the one we would answer its
  // sender from; ip_forward_options names the way out of a forwarded one).
  if (opt.rr != 0 || opt.ts != 0) {
    const wire::ConstIpv4View h = ip_hdr(std::as_const(pkt));
    const wire::Ipv4Addr spec_dst = pkt.meta().route_type == RouteType::kLocal
                                        ? h.dst()
                                        : stack.select_source(pkt.meta().ifindex, h.src());
    pkt.meta().opt_recorded = ip_options_record(stack, {pkt.network_header(), h.header_len()}, opt, spec_dst,
                                                ms_since_midnight_utc(stack.icmp().wall_clock(now)));
  }
  return true;
}

}  // namespace

void ip_rcv(Stack& stack, Packet&& pkt, TimePoint now) {
  stage::mark(stage::Point::kIpRcv);
  auto& st = stack.stats();
  // Frames for another MAC seen in promiscuous mode: dropped before any Ip:
  // counter moves (ip_rcv_core checks pkt_type before IPSTATS_MIB_IN).
  if (pkt.meta().pkt_type == PacketType::kOtherHost) {
    st.drop(DropReason::kIpOtherHost);
    return;
  }
  st.ip.InReceives++;
  st.ip_ext.InOctets += pkt.size();

  // RFC 1122 §3.2.1.1–2: length, version, checksum, total length.
  const auto checked = wire::ConstIpv4View::checked(std::as_const(pkt).bytes());
  // ip_rcv_core counts the ECN codepoint once version and IHL passed, before
  // anything else is checked.
  if (checked || (checked.error() != wire::WireError::kBadVersion && pkt.size() >= wire::kIpv4MinHeaderLen &&
                  (std::to_integer<uint8_t>(pkt.data()[0]) & 0x0f) >= 5)) {
    st.ip_ext.count_ecn(std::to_integer<uint8_t>(pkt.data()[1]), 1);
  }
  if (!checked && !header_is_whole(checked.error())) {
    count_header_error(st, checked.error());
    return;
  }
  const wire::ConstIpv4View ip = ipv4_at(std::as_const(pkt).data(), pkt.size());
  if (!ip.verify_checksum()) {
    st.ip_ext.InCsumErrors++;  // csum_error falls through to inhdr_error
    st.ip.InHdrErrors++;
    return;
  }
  if (!checked) {
    count_header_error(st, checked.error());
    return;
  }
  const uint16_t tot_len = ip.total_len();
  const uint16_t ihl = static_cast<uint16_t>(ip.header_len());
  // The link may have padded the frame (Ethernet minimum): trim to the
  // datagram (pskb_trim_rcsum; a device sum over the padding is void).
  if (tot_len < pkt.size()) {
    pkt.trim(tot_len);
    if (pkt.meta().csum_state == ChecksumState::kComplete) pkt.meta().csum_state = ChecksumState::kNone;
  }
  pkt.set_network_header();
  pkt.set_transport_header(ihl);
  pkt.meta().route_type = RouteType::kNone;

  if (!run_hook(stack, HookPoint::kPreRouting, pkt, now)) return;
  ip_rcv_finish(stack, std::move(pkt), now);
}

void ip_rcv_finish(Stack& stack, Packet&& pkt, TimePoint now) {
  auto& st = stack.stats();
  const wire::ConstIpv4View ip = ip_hdr(std::as_const(pkt));
  const wire::Ipv4Addr saddr = ip.src();
  const wire::Ipv4Addr daddr = ip.dst();
  const uint8_t tos = ip.tos();

  const InputRoute rt = ip_route_input_noref(stack, pkt, daddr, saddr, tos);
  if (!rt) {
    st.drop(rt.error());
    return;
  }
  if (ip.header_len() > wire::kIpv4MinHeaderLen && !ip_rcv_options(stack, pkt, now)) return;

  const RouteType type = pkt.meta().route_type;
  if (type == RouteType::kMulticast) {
    st.ip_ext.InMcastPkts++;
    st.ip_ext.InMcastOctets += pkt.size();
  } else if (type == RouteType::kBroadcast) {
    st.ip_ext.InBcastPkts++;
    st.ip_ext.InBcastOctets += pkt.size();
  } else if ((pkt.meta().pkt_type == PacketType::kBroadcast ||
              pkt.meta().pkt_type == PacketType::kMulticast) &&
             stack.config().drop_unicast_in_l2_multicast) {
    // RFC 1122 §3.3.6's SHOULD, only when asked (the sysctl's default is 0:
    // Linux 6.18 delivered a datagram for its address in a broadcast frame,
    // and answered nothing when no socket had the port, as icmp_send does
    // for every non-PACKET_HOST packet). No SNMP counter: the kernel names
    // it SKB_DROP_REASON_UNICAST_IN_L2_MULTICAST.
    st.drop(DropReason::kIpL2BroadcastUnicast);
    return;
  }

  // dst_input
  switch (type) {
    case RouteType::kLocal:
    case RouteType::kBroadcast:
    case RouteType::kMulticast:
      ip_local_deliver(stack, std::move(pkt), now);
      return;
    case RouteType::kUnicast:
      ip_forward(stack, std::move(pkt), now);
      return;
    default:
      ip_error(stack, std::move(pkt), *rt, now);
      return;
  }
}

void ip_rcv_looped(Stack& stack, Packet head, PacketQueue rest, TimePoint now, RouteType type) {
  auto& st = stack.stats();
  PacketMeta& m = head.meta();
  m.ifindex = m.out_ifindex;
  m.pkt_type = PacketType::kHost;
  // lo hands CHECKSUM_PARTIAL over as it is, and the receiver counts it as
  // verified (skb_csum_unnecessary); a sum computed in software is checked.
  if (m.csum_state == ChecksumState::kPartial) m.csum_state = ChecksumState::kUnnecessary;
  st.ip.InReceives++;
  st.ip_ext.InOctets += head.size() + rest.bytes();
  st.ip_ext.count_ecn(ip_hdr(std::as_const(head)).tos(), std::max<uint16_t>(1, m.gso_segs));
  const uint16_t ihl = static_cast<uint16_t>(ip_hdr(std::as_const(head)).header_len());
  head.set_network_header();
  head.set_transport_header(ihl);
  m.route_type = RouteType::kNone;
  if (!run_hook(stack, HookPoint::kPreRouting, head, now)) return;
  m.route_type = type;
  m.out_ifindex = 0;
  m.next_hop = wire::Ipv4Addr();
  if (ihl > wire::kIpv4MinHeaderLen && !ip_rcv_options(stack, head, now)) return;
  if (type == RouteType::kBroadcast) {
    st.ip_ext.InBcastPkts++;
    st.ip_ext.InBcastOctets += head.size() + rest.bytes();
  } else if (type == RouteType::kMulticast) {
    st.ip_ext.InMcastPkts++;
    st.ip_ext.InMcastOctets += head.size() + rest.bytes();
  }
  if (!run_hook(stack, HookPoint::kLocalIn, head, now)) return;  // `rest` freed with it
  ip_local_deliver_finish(stack, std::move(head), std::move(rest), now);
}

void ip_local_deliver(Stack& stack, Packet&& pkt, TimePoint now) {
  PacketQueue rest;
  if (ip_hdr(std::as_const(pkt)).is_fragment()) {
    std::optional<ReassembledDatagram> d = stack.reassembly().defrag(std::move(pkt), now);
    if (!d) return;  // queued, or dropped with its counter
    pkt = std::move(d->head);
    rest = std::move(d->rest);
  }
  if (!run_hook(stack, HookPoint::kLocalIn, pkt, now)) return;  // `rest` freed with it
  ip_local_deliver_finish(stack, std::move(pkt), std::move(rest), now);
}

void ip_local_deliver_finish(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now) {
  auto& st = stack.stats();
  if (head.data() == head.network_header()) {
    head.pull(static_cast<uint16_t>(ip_hdr(std::as_const(head)).header_len()));
    head.set_transport_header();
  }
  const uint8_t protocol = ip_hdr(std::as_const(head)).protocol();
  if (const auto handler = stack.protocols()[protocol].handler) {
    handler(stack, std::move(head), std::move(rest), now);
    st.ip.InDelivers++;  // counted once the handler took it, whatever it did with it
    return;
  }
  // No raw sockets in xnet, so an unknown protocol is never "delivered".
  st.ip.InUnknownProtos++;
  // The quote starts at the IPv4 header: give icmp_send the packet from there.
  head.push(static_cast<uint16_t>(head.data() - head.network_header()));
  icmp_send(stack, head, IcmpType::kDestUnreachable, IcmpUnreachCode::kProtocol, 0, now);
}

}  // namespace xnet::stack
