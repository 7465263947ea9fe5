// ip_forward → FORWARD hook → ip_forward_finish → ip_output.

#include "stack/ipv4_forward.h"

#include "stack/hdr_bytes.h"
#include "stack/hooks.h"
#include "stack/icmp.h"
#include "stack/route.h"
#include "stack/stack.h"
#include "stack/stats.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

using wire::IcmpTimeExceededCode;
using wire::IcmpType;
using wire::IcmpUnreachCode;

// True when the header carries a strict source route option (type 137).
bool has_strict_route(const std::byte* ip, uint16_t hl) {
  for (uint16_t i = kIpv4HeaderLen; i < hl;) {
    const uint8_t type = std::to_integer<uint8_t>(ip[i]);
    if (type == 0) break;
    if (type == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= hl) break;
    const uint8_t len = std::to_integer<uint8_t>(ip[i + 1]);
    if (len < 2) break;
    if (type == 137) return true;
    i = static_cast<uint16_t>(i + len);
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
  std::byte* ip = pkt.network_header();
  const uint16_t hl = static_cast<uint16_t>((std::to_integer<uint8_t>(ip[kIpVerIhl]) & 0xf) * 4);
  const wire::Ipv4Addr daddr(load_be32(ip + kIpDst));
  // skb_forward_csum: a received sum no longer describes what we send.
  if (pkt.meta().csum_state == ChecksumState::kComplete) pkt.meta().csum_state = ChecksumState::kNone;

  if (std::to_integer<uint8_t>(ip[kIpTtl]) <= 1) {
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
  if (hl > kIpv4HeaderLen && m.next_hop != daddr && has_strict_route(ip, hl)) {
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
  if (pkt.size() > mtu && (load_be16(ip + kIpFragOff) & kIpDf) != 0) {
    ip_stats.FragFails++;
    icmp_send(stack, pkt, IcmpType::kDestUnreachable, IcmpUnreachCode::kFragNeeded, mtu, now);
    return;
  }

  // ip_decrease_ttl: RFC 1624 incremental update for the TTL byte.
  const uint16_t old_word = load_be16(ip + kIpTtl);
  ip[kIpTtl] = static_cast<std::byte>(std::to_integer<uint8_t>(ip[kIpTtl]) - 1);
  store_be16(ip + kIpCsum,
             wire::checksum_update16(load_be16(ip + kIpCsum), old_word, load_be16(ip + kIpTtl)));

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
  ip_stats.ForwDatagrams++;
  (void)ip_output(stack, std::move(pkt), mtu, now);
}

}  // namespace xnet::stack
