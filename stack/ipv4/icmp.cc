#include "stack/ipv4/icmp.h"
#include "stack/ipv4/icmp_reply.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "stack/core/checksum_offload.h"
#include "stack/core/headers.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/icmp_timestamp.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/core/stack.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {

namespace {

using wire::IcmpType;
using wire::IcmpUnreachCode;
constexpr uint8_t kIpProtoIcmp = static_cast<uint8_t>(wire::IpProtocol::kIcmp);
constexpr uint8_t kNrIcmpTypes = 18;  // NR_ICMP_TYPES
constexpr uint8_t kIcmpExtEcho = 42;       // ICMP_EXT_ECHO (RFC 8335 PROBE)
constexpr uint8_t kIcmpExtEchoReply = 43;  // ICMP_EXT_ECHOREPLY
using wire::kIcmpHeaderLen;
constexpr uint32_t kIcmpErrorMaxLen = 576;  // RFC 1812 4.3.2.3
constexpr uint8_t kTosMask = 0x1e;          // IPTOS_TOS_MASK
constexpr uint8_t kPrecInternetControl = 0xc0;
constexpr wire::Ipv4Addr kInaddrDummy{192, 0, 0, 8};  // RFC 7600

// icmpv4_mask_allow: types outside icmp_ratemask, and "fragmentation needed"
// (PMTU discovery must not be starved), are never rate limited.
bool mask_allow(const StackConfig& c, uint8_t type, uint8_t code) {
  if (type > kNrIcmpTypes) return true;
  if (IcmpType{type} == IcmpType::kDestUnreachable && IcmpUnreachCode{code} == IcmpUnreachCode::kFragNeeded) {
    return true;
  }
  return ((1u << type) & c.icmp_ratemask) == 0;
}

// A received frame about to be sent again: forget what the input path knew.
void reset_for_output(PacketMeta& m) {
  m.csum_state = ChecksumState::kNone;
  m.gso_size = 0;
  m.gso_segs = 0;
  m.route_type = RouteType::kNone;
  m.out_ifindex = 0;
  m.ifindex = 0;
  m.next_hop = wire::Ipv4Addr();
  m.pkt_type = PacketType::kOutgoing;
}

// icmp_echo → icmp_reply: the request's own frames become the reply (type 0,
// same id/sequence/payload), from the address the request was sent to.
void icmp_echo(Stack& stack, Packet head, PacketQueue rest, TimePoint now) {
  const wire::ConstIpv4View iph = ip_hdr(std::as_const(head));
  const wire::Ipv4Addr req_src = iph.src();
  const wire::Ipv4Addr req_dst = iph.dst();
  const uint8_t tos = iph.tos();
  const std::optional<EchoedOptions> opts = icmp_reply_options(stack, head);
  if (!opts) return;  // icmp_reply: options it cannot answer, no reply

  const auto ih = wire::IcmpView::unchecked(head.bytes());
  ih.set_type(static_cast<uint8_t>(IcmpType::kEchoReply));
  ih.set_checksum(0);
  ih.set_checksum(static_cast<uint16_t>(~wire::checksum_fold(datagram_checksum_partial(head, rest))));

  // The frames go out on the egress link, which needs them from its own pool.
  FramePool* pool = icmp_egress_pool(stack, req_src);
  if (pool != nullptr && pool != head.pool()) {
    Packet c = head.clone(*pool);
    PacketQueue cr;
    bool ok = static_cast<bool>(c);
    while (ok && !rest.empty()) {
      Packet f = rest.pop_front().clone(*pool);
      ok = static_cast<bool>(f);
      if (ok) cr.push_back(std::move(f));
    }
    if (!ok) {
      stack.stats().icmp.OutErrors++;
      stack.stats().drop(DropReason::kNoFrame);
      return;
    }
    head = std::move(c);
    rest = std::move(cr);
  }
  reset_for_output(head.meta());
  IpHeaderParams ip;
  ip.saddr = req_dst;
  ip.daddr = req_src;
  ip.protocol = kIpProtoIcmp;
  ip.tos = tos;
  ip.ttl = stack.config().ip_default_ttl;
  ip.options = std::span(opts->bytes).first(opts->len);
  ip_build_header(stack, head, ip);
  icmp_fill_reply_options(stack, head, *opts, req_dst, now);
  stack.stats().icmp_out(static_cast<uint8_t>(IcmpType::kEchoReply));
  Result<void> r;
  if (rest.empty()) {
    r = ip_local_out(stack, std::move(head), now);
  } else {
    rest.push_front(std::move(head));
    r = ip_local_out(stack, std::move(rest), now);
  }
  if (!r) stack.stats().icmp.OutErrors++;
}

// icmp_unreach (dest unreachable, source quench, time exceeded, parameter
// problem) → icmp_socket_deliver → the transport's error handler.
void icmp_unreach(Stack& stack, const Packet& head, TimePoint now) {
  IcmpStats& is = stack.stats().icmp;
  const auto ih = wire::ConstIcmpView::unchecked(head.bytes());
  const uint8_t type = ih.type();
  const uint8_t code = ih.code();
  if (head.size() < kIcmpHeaderLen + kIpv4HeaderLen) {
    is.InErrors++;  // out_err: no quoted header
    stack.stats().drop(DropReason::kIcmpBadType);
    return;
  }
  const wire::ConstIpv4View q = wire::ConstIpv4View::unchecked(ih.data());
  const size_t ihl = q.header_len();
  if (ihl < kIpv4HeaderLen) {
    is.InErrors++;  // mangled quoted header
    stack.stats().drop(DropReason::kIcmpBadType);
    return;
  }
  uint32_t info = 0;
  if (IcmpType{type} == IcmpType::kDestUnreachable) {
    if (IcmpUnreachCode{code} == IcmpUnreachCode::kFragNeeded) info = ih.next_hop_mtu();
    if (code > 15) {  // NR_ICMP_UNREACH
      stack.stats().drop(DropReason::kIcmpBadType);
      return;
    }
  } else if (IcmpType{type} == IcmpType::kParameterProblem) {
    info = ih.pointer();
  }
  // icmp_socket_deliver: the quoted header plus 8 bytes of its transport header.
  if (head.size() < kIcmpHeaderLen + ihl + 8u) {
    is.InErrors++;
    stack.stats().drop(DropReason::kIcmpBadType);
    return;
  }
  const auto err_handler = stack.protocols()[q.protocol()].err_handler;
  if (err_handler == nullptr) return;  // a protocol that keeps no state to report to
  IcmpErrorInfo e;
  e.type = type;
  e.code = code;
  e.info = info;
  e.offender = ip_hdr(head).src();
  e.saddr = q.src();
  e.daddr = q.dst();
  // The ports: the first 4 bytes of the quoted transport header.
  const auto ports = wire::ConstUdpView::unchecked(ih.data().subspan(ihl));
  e.sport = ports.src_port();
  e.dport = ports.dst_port();
  e.ifindex = head.meta().ifindex;
  e.quoted_transport = ih.data().subspan(ihl);
  if (!err_handler(stack, e, now)) {
    is.InErrors++;  // __udp4_lib_err: no socket sent that
    stack.stats().drop(DropReason::kIcmpBogusError);
  }
}

}  // namespace

void icmp_rcv(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now) {
  Stats& st = stack.stats();
  st.icmp.InMsgs++;
  if (wire::checksum_fold(datagram_checksum_partial(head, rest)) != 0xffff) {
    st.icmp.InCsumErrors++;  // csum_error: InCsumErrors + InErrors
    st.icmp.InErrors++;
    return;
  }
  if (head.size() < kIcmpHeaderLen) {
    st.icmp.InErrors++;  // no room for the header
    st.drop(DropReason::kIcmpBadType);
    return;
  }
  const uint8_t type = std::to_integer<uint8_t>(head.data()[0]);
  const IcmpType t{type};
  st.icmp_in(type);
  if (type == kIcmpExtEcho || type == kIcmpExtEchoReply) {
    // RFC 8335 PROBE: the kernel takes both before its "unknown type" test. A
    // request goes to icmp_echo, which ignores it while icmp_echo_enable_probe
    // is off (its default; xnet has no PROBE), a reply to ping_rcv, which finds
    // no ping socket. Neither is an error (Linux 6.18: InMsgs and InType42/43
    // only), so no InErrors here.
    st.drop(DropReason::kIcmpBadType);
    return;
  }
  if (type > kNrIcmpTypes) {
    // Unknown types are counted as errors (Linux 6.18: type 19, 30, 255 move
    // InErrors); unassigned types up to 18 are not (icmp_discard, below).
    st.icmp.InErrors++;
    st.drop(DropReason::kIcmpBadType);
    return;
  }
  const RouteType rt = head.meta().route_type;
  if (rt == RouteType::kBroadcast || rt == RouteType::kMulticast) {
    // RFC 1122 3.2.2.6 / 3.2.2.8: echo and timestamp to broadcast may be ignored
    // (icmp_echo_ignore_broadcasts); errors to a broadcast are never valid.
    const bool query = t == IcmpType::kEchoRequest || t == IcmpType::kTimestamp;
    if (query && stack.config().icmp_echo_ignore_broadcasts) {
      st.icmp.InErrors++;
      st.drop(DropReason::kIcmpBroadcastEcho);
      return;
    }
    if (!query && t != IcmpType::kAddressMaskRequest && t != IcmpType::kAddressMaskReply) {
      st.icmp.InErrors++;
      st.drop(DropReason::kIcmpBadType);
      return;
    }
  }
  switch (t) {
    case IcmpType::kEchoRequest:
      icmp_echo(stack, std::move(head), std::move(rest), now);
      return;
    case IcmpType::kTimestamp:
      icmp_timestamp(stack, head, rest, now);
      return;
    case IcmpType::kDestUnreachable:
    case IcmpType::kSourceQuench:
    case IcmpType::kTimeExceeded:
    case IcmpType::kParameterProblem:
      icmp_unreach(stack, head, now);
      return;
    case IcmpType::kEchoReply:  // ping_rcv: no ping sockets here; counted by InEchoReps
    case IcmpType::kRedirect:   // routes are not changed by redirects (counted by InRedirects)
      return;
    default:
      // icmp_discard: timestamp replies, address masks, unassigned and
      // obsolete types (counted by InMsgs and InTypeN only).
      st.drop(DropReason::kIcmpBadType);
      return;
  }
}

void icmp_send(Stack& stack, const Packet& offending, uint8_t type, uint8_t code, uint32_t info,
               TimePoint now) {
  Stats& st = stack.stats();
  auto suppress = [&]() { st.drop(DropReason::kIcmpErrorSuppressed); };
  const PacketMeta& m = offending.meta();
  if (m.network_off == kNoOffset || m.network_off > m.head + m.len) return suppress();
  const wire::ConstIpv4View iph = ip_hdr(offending);
  const size_t avail = iph.size();
  if (avail < kIpv4HeaderLen) return suppress();
  const size_t ihl = iph.header_len();
  const wire::Ipv4Addr src = iph.src();
  const wire::Ipv4Addr dst = iph.dst();

  // No replies to link-layer multicast/broadcast, nor to IP broadcast/multicast.
  if (m.pkt_type == PacketType::kBroadcast || m.pkt_type == PacketType::kMulticast ||
      m.pkt_type == PacketType::kOtherHost) {
    return suppress();
  }
  if (m.route_type == RouteType::kBroadcast || m.route_type == RouteType::kMulticast ||
      dst.is_broadcast() || dst.is_multicast()) {
    return suppress();
  }
  // Only about fragment 0.
  if (iph.frag_offset() != 0) return suppress();
  // Never an error about an error (unknown types count as errors).
  if (wire::icmp_is_error(type) && iph.protocol() == kIpProtoIcmp) {
    if (avail < ihl + 1u) return suppress();
    const uint8_t inner = std::to_integer<uint8_t>(iph.bytes()[ihl]);
    if (inner > kNrIcmpTypes || wire::icmp_is_error(inner)) return suppress();
  }
  // RFC 1122 3.2.2: never about a datagram whose source does not name one host.
  // A subnet broadcast source is not caught here, as in Linux: 6.18 answered
  // 10.98.0.255 -> 10.98.0.2 (no socket on the port) with a port unreachable
  // to 10.98.0.255 in a link-layer broadcast (OutBcastPkts).
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() ||
      src.is_loopback() || src.is_class_e()) {
    return suppress();
  }

  IcmpState& limiter = stack.icmp();
  const bool apply_ratelimit = !mask_allow(stack.config(), type, code);
  if (apply_ratelimit && !limiter.global_allow(now)) {
    st.icmp.OutRateLimitGlobal++;
    st.drop(DropReason::kIcmpRateLimited);
    return;
  }
  const auto route = stack.routes().lookup(src);
  if (!route || route->type == RouteType::kUnreachable || route->type == RouteType::kBlackhole) {
    return suppress();
  }
  Link* link = stack.link(route->ifindex);
  if (route->type != RouteType::kLocal && link == nullptr) return suppress();
  if (apply_ratelimit) {
    // icmpv4_xrlim_allow: no per-peer limit towards the loopback device.
    if (route->type != RouteType::kLocal && !limiter.peer_allow(src, now)) {
      st.icmp.OutRateLimitHost++;
      st.drop(DropReason::kIcmpRateLimited);
      return;
    }
    limiter.global_consume();
  }

  // The source: the address the offending datagram was sent to if it is ours,
  // else the one the route to its sender picks.
  wire::Ipv4Addr saddr = stack.is_local_address(dst) ? dst : wire::Ipv4Addr();
  if (saddr.is_unspecified()) {
    saddr = !route->prefsrc.is_unspecified() ? route->prefsrc : stack.select_source(route->ifindex, src);
  }
  if (saddr.is_unspecified()) saddr = kInaddrDummy;

  // The offending datagram's options, echoed (__ip_options_echo; none sent
  // when they cannot be).
  const std::optional<EchoedOptions> opts = icmp_reply_options(stack, offending);
  if (!opts) return suppress();
  // RFC: as much of the offending datagram as fits in 576 bytes.
  const uint32_t mtu = route->mtu != 0 ? route->mtu : (link != nullptr ? link->mtu() : 1500);
  const int room = static_cast<int>(std::min(mtu, kIcmpErrorMaxLen)) - kIpv4HeaderLen - opts->len - kIcmpHeaderLen;
  if (room <= kIpv4HeaderLen) return suppress();
  FramePool& pool = link != nullptr ? link->pool() : *offending.pool();
  Packet p = Packet::allocate(pool, kDefaultHeadroom + kIpv4HeaderLen + opts->len);
  if (!p) {
    st.icmp.OutErrors++;
    st.drop(DropReason::kNoFrame);
    return;
  }
  const size_t quote = std::min({avail, static_cast<size_t>(room),
                                 static_cast<size_t>(p.tailroom() - kIcmpHeaderLen)});
  const auto ih = wire::IcmpView::unchecked({p.put(static_cast<uint16_t>(kIcmpHeaderLen + quote)), kIcmpHeaderLen + quote});
  ih.set_type(type);
  ih.set_code(code);
  // un.gateway = htonl(info): the MTU lands in the low half (3/4), the
  // parameter-problem pointer in the first byte.
  ih.set_rest_of_header(IcmpType{type} == IcmpType::kParameterProblem ? info << 24 : info);
  std::memcpy(ih.data().data(), iph.bytes().data(), quote);
  ih.fill_checksum();

  IpHeaderParams ip;
  ip.saddr = saddr;
  ip.daddr = src;
  ip.protocol = kIpProtoIcmp;
  ip.tos = static_cast<uint8_t>((iph.tos() & kTosMask) | kPrecInternetControl);
  ip.ttl = stack.config().ip_default_ttl;
  ip.options = std::span(opts->bytes).first(opts->len);
  ip_build_header(stack, p, ip);
  icmp_fill_reply_options(stack, p, *opts, saddr, now);
  st.icmp_out(type);
  if (!ip_local_out(stack, std::move(p), now)) st.icmp.OutErrors++;
}

}  // namespace xnet::stack
