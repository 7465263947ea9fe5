// eth_type_trans + __netif_receive_skb for one Ethernet frame.
//
// Choices, each what the kernel ends up doing for a host that owns its address:
// - PACKET_OTHERHOST (unicast to another MAC) is dropped here, kOtherHost, for
//   every EtherType: arp_rcv and ip_rcv_core both drop it before any SNMP
//   counter moves, so dropping at L2 moves exactly what the kernel moves
//   (kIpOtherHost stays for an ip_rcv called with such a packet directly).
// - Multicast MACs pass only when they map (01:00:5e + 23 bits) to a group
//   joined on the interface: the device's multicast filter. Others,
//   including non-IPv4 multicast (33:33.., 01:80:c2..), are kMulticastNotJoined.
//   01:00:5e:00:00:01 always passes: every interface is in 224.0.0.1. On veth
//   (no filter) Linux 6.18 lets a group it has not joined reach ip_rcv, counts
//   InReceives and drops it at route input; a NIC's filter would have dropped
//   it here, which is what xnet models.
// - 802.1Q: a priority tag (VLAN id 0) is stripped (vlan_do_receive treats it
//   as untagged); any other VLAN id, and 802.1ad / stacked tags, are
//   kVlanTagged: xnet has no VLAN devices, and the kernel drops a tag without a
//   matching vlan device (PACKET_OTHERHOST, then dropped).

#include "stack/l2/eth_input.h"

#include <span>

#include "stack/l2/neighbour.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/ethernet.h"

namespace xnet::stack {
namespace {

// eth_type_trans: pkt_type from the destination MAC.
PacketType classify(const wire::MacAddr& dst, const Link& link) {
  if (dst == link.mac()) return PacketType::kHost;
  if (dst.is_broadcast()) return PacketType::kBroadcast;
  if (dst.is_multicast()) return PacketType::kMulticast;
  return PacketType::kOtherHost;
}

bool multicast_joined(const Stack& stack, uint16_t ifindex, const wire::MacAddr& dst) {
  const Interface* iface = stack.interface(ifindex);
  if (iface == nullptr) return false;
  for (const McGroup& g : iface->groups) {
    if (wire::MacAddr::for_ipv4_multicast(g.addr) == dst) return true;
  }
  return false;
}

}  // namespace

void eth_rcv(Stack& stack, uint16_t ifindex, Packet frame, TimePoint now) {
  const Link* link = stack.link(ifindex);
  auto view = wire::ConstEthernetView::checked(std::span<const std::byte>(frame.bytes()));
  if (link == nullptr || !view) {
    stack.stats().drop(DropReason::kRuntFrame);  // shorter than its (tagged) header
    return;
  }
  const wire::MacAddr dst = view->dst();
  const PacketType type = classify(dst, *link);
  if (type == PacketType::kOtherHost) {
    stack.stats().drop(DropReason::kOtherHost);
    return;
  }
  if (type == PacketType::kMulticast && !multicast_joined(stack, ifindex, dst)) {
    stack.stats().drop(DropReason::kMulticastNotJoined);
    return;
  }
  uint16_t header_len = kEthHeaderLen;
  uint16_t ethertype = view->ethertype();
  if (view->has_vlan()) {
    const wire::VlanTag tag = view->vlan();
    ethertype = view->payload_ethertype();
    if (tag.tpid != kEtherTypeVlan || !tag.is_priority_tag() || wire::is_vlan_tpid(ethertype)) {
      stack.stats().drop(DropReason::kVlanTagged);
      return;
    }
    header_len = static_cast<uint16_t>(wire::kEthernetHeaderLen + wire::kVlanTagLen);
  }

  frame.set_mac_header();
  frame.pull(header_len);
  frame.set_network_header();
  frame.meta().ifindex = ifindex;
  frame.meta().pkt_type = type;
  switch (ethertype) {
    case kEtherTypeIpv4:
      if (const auto rcv = stack.ipv4_packet_type()) {
        rcv(stack, std::move(frame), now);
      } else {
        stack.stats().drop(DropReason::kUnknownEtherType);
      }
      return;
    case kEtherTypeArp:
      arp_rcv(stack, std::move(frame), now);
      return;
    default:
      stack.stats().drop(DropReason::kUnknownEtherType);
      return;
  }
}

}  // namespace xnet::stack
