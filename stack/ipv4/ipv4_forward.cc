// ip_forward → FORWARD hook → ip_forward_finish → ip_output.

#include "stack/ipv4/ipv4_forward.h"

#include <initializer_list>

#include "stack/core/headers.h"
#include "stack/core/hooks.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/ip_options.h"
#include "stack/core/route.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

using wire::IcmpTimeExceededCode;
using wire::IcmpType;
using wire::IcmpUnreachCode;

// True when the header carries one of these options (the options were
// validated on input, by ip_options_compile).
bool has_option(wire::ConstIpv4View ip, std::initializer_list<wire::Ipv4OptionType> types) {
  for (const wire::Ipv4Option& o : ip.option_range()) {
    for (wire::Ipv4OptionType t : types) {
      if (o.type == static_cast<uint8_t>(t)) return true;
    }
  }
  return false;
}

}  // namespace

void ip_forward(Stack& stack, Packet pkt, TimePoint now) {
  auto& ip_stats = stack.stats().ip;
  if (!stack.config().ip_forward) {
    // Routing decided "not ours" but forwarding is off: the kernel never gets
    // here (ip_route_input gives no forward route); count as InAddrErrors.
    ip_stats.InAddrErrors++;
    return;
  }
  // Only frames addressed to us at L2 are forwarded (not broadcasts or frames
  // seen in promiscuous mode): the kernel drops those without a counter.
  if (pkt.meta().pkt_type != PacketType::kHost) {
    stack.stats().drop(DropReason::kForwardNotHost);
    return;
  }
  if (pkt.meta().network_off == kNoOffset) pkt.set_network_header();
  const wire::Ipv4View ip = ip_hdr(pkt);
  const size_t hl = ip.header_len();
  const wire::Ipv4Addr daddr = ip.dst();
  // skb_forward_csum: a received sum no longer describes what we send.
  if (pkt.meta().csum_state == ChecksumState::kComplete) pkt.meta().csum_state = ChecksumState::kNone;

  if (ip.ttl() <= 1) {
    ip_stats.InHdrErrors++;  // too_many_hops
    icmp_send(stack, pkt, IcmpType::kTimeExceeded, IcmpTimeExceededCode::kTtl, 0, now);
    return;
  }

  PacketMeta& m = pkt.meta();
  uint32_t mtu = 0;
  if (m.out_ifindex == 0) {
    const auto rt = stack.routes().lookup(daddr);
    if (!rt || rt->type != RouteType::kUnicast) {
      // ip_error for an input route that found nothing: IpExt InNoRoutes and
      // "net unreachable" (OutNoRoutes is for locally generated traffic).
      stack.stats().ip_ext.InNoRoutes++;
      icmp_send(stack, pkt, IcmpType::kDestUnreachable, IcmpUnreachCode::kNet, 0, now);
      return;
    }
    m.out_ifindex = rt->ifindex;
    m.next_hop = rt->gateway.is_unspecified() ? daddr : rt->gateway;
    m.route_type = rt->type;
    mtu = rt->mtu;
  }
  // Strict source routing permits no gateway on the way to the next hop.
  if (hl > kIpv4HeaderLen && m.next_hop != daddr && has_option(ip, {wire::Ipv4OptionType::kSsrr})) {
    icmp_send(stack, pkt, IcmpType::kDestUnreachable, IcmpUnreachCode::kSourceRouteFailed, 0, now);
    stack.stats().drop(DropReason::kForwardSourceRoute);
    return;
  }
  Link* out = stack.link(m.out_ifindex);
  if (out == nullptr) {
    ip_stats.OutDiscards++;
    return;
  }
  if (mtu == 0 || mtu > out->mtu()) mtu = out->mtu();
  // ip_exceeds_mtu: only DF packets are refused; the others are fragmented.
  if (pkt.size() > mtu && ip.dont_frag()) {
    ip_stats.FragFails++;
    icmp_send(stack, pkt, IcmpType::kDestUnreachable, IcmpUnreachCode::kFragNeeded, mtu, now);
    return;
  }

  ip.decrement_ttl();  // ip_decrease_ttl: RFC 1624 incremental update

  // ip_rt_send_redirect: the sender could reach the next hop itself. Only
  // advice, so the datagram goes on; not for source-routed datagrams, and
  // rate limited per sender. The quote shows the decremented TTL.
  if (m.do_redirect &&
      (hl == kIpv4HeaderLen || !has_option(ip, {wire::Ipv4OptionType::kSsrr, wire::Ipv4OptionType::kLsrr})) &&
      stack.icmp().redirect_allow(ip.src(), now)) {
    icmp_send(stack, pkt, IcmpType::kRedirect, wire::IcmpRedirectCode::kHost, m.next_hop.value(), now);
  }

  m.pkt_type = PacketType::kOutgoing;
  if (!stack.hooks().empty(HookPoint::kForward)) {
    switch (stack.hooks().run(HookPoint::kForward, pkt, now)) {
      case HookVerdict::kAccept:
        break;
      case HookVerdict::kStolen:
        return;  // the hook moved the packet out (hooks.h)
      case HookVerdict::kDrop:
        stack.stats().drop(DropReason::kHookDrop);  // NF_DROP: no SNMP counter
        return;
    }
  }
  // ip_forward_finish.
  if (hl > kIpv4HeaderLen && pkt.meta().opt_recorded != 0) {
    const wire::Ipv4View h = ip_hdr(pkt);
    IpOptions opt;
    (void)ip_options_compile(h.header(), opt);  // valid: it passed on arrival
    ip_forward_options({pkt.network_header(), hl}, opt, pkt.meta().opt_recorded,
                       stack.select_source(pkt.meta().out_ifindex, daddr));
    h.fill_checksum();
  }
  ip_stats.ForwDatagrams++;
  (void)ip_output(stack, std::move(pkt), mtu, now);
}

}  // namespace xnet::stack
