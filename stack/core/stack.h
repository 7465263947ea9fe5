#pragma once
// Stack: the state of one shard's IPv4/UDP stack — interfaces with their
// addresses and transmit queues, the FIB, the neighbour table, reassembly,
// ICMP state, the UDP socket table, hooks and counters — and the two calls the
// runtime drives it with: poll(now) and next_deadline().
//
// Everything per shard lives here, so a shard-per-core deployment is one Stack
// per thread. The stack never reads a clock: `now` is passed in. It never
// resumes a coroutine: sockets get a wake-up callback (stack/udp/udp_sock.h).
//
// Receive: poll → Link::rx_burst → eth_rcv (stack/eth_input) → arp_rcv
// (stack/neighbour) | ip_rcv (stack/ipv4_input) → ... → udp_rcv / icmp_rcv.
// Transmit: ... → neigh_output → dev_queue_xmit (interface queue) → flushed by
// Link::tx_burst at the start and the end of every poll (or when a burst fills).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/result.h"
#include "stack/core/hooks.h"
#include "stack/core/ip_ident.h"
#include "stack/core/link.h"
#include "stack/core/packet.h"
#include "stack/core/pmtu_cache.h"
#include "stack/core/port_claims.h"
#include "stack/core/protocol.h"
#include "stack/core/route.h"
#include "stack/core/stack_config.h"
#include "stack/core/stats.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

using TimePoint = std::chrono::steady_clock::time_point;

class NeighbourTable;
class Reassembly;
class IcmpState;
class UdpTable;

// One group in an in_device's mc_list: `users` counts the joins (sockets, and
// the interface's own all-hosts join) that keep it (ip_mc_inc_group /
// ip_mc_dec_group).
struct McGroup {
  wire::Ipv4Addr addr;
  uint32_t users = 0;
};

// One net_device with its in_device: the link, its addresses, multicast groups
// joined, and the transmit queue (the qdisc, txqueuelen long).
struct Interface {
  uint16_t ifindex = 0;
  Link* link = nullptr;
  std::vector<wire::Ipv4Prefix> addrs;  // first is the primary
  std::vector<McGroup> groups;          // joined multicast groups (224.0.0.1 from the start)
  PacketQueue txq;                      // complete L2 frames waiting for the link
  bool up = true;
};

class Stack {
 public:
  explicit Stack(StackConfig config = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // --- interfaces and addresses ---
  // Registers a link; returns its ifindex (1, 2, ...). The link must outlive the stack.
  // The interface joins 224.0.0.1 (all-hosts) at once, as ip_mc_up does.
  uint16_t add_interface(Link& link);
  // Adds an address (inet_insert_ifa + fib_add_ifaddr): local /32, subnet
  // broadcast /32, connected prefix, limited broadcast; sends a gratuitous ARP.
  // EEXIST if present, ENODEV for an unknown ifindex, EINVAL for a martian address.
  Result<void> add_address(uint16_t ifindex, wire::Ipv4Prefix prefix, TimePoint now);
  Result<void> remove_address(uint16_t ifindex, wire::Ipv4Prefix prefix);
  // A route through a gateway (e.g. the default route 0.0.0.0/0).
  Result<void> add_gateway_route(wire::Ipv4Prefix prefix, wire::Ipv4Addr gateway, uint16_t ifindex);
  // ip_mc_inc_group / ip_mc_dec_group: one more (one fewer) user of `group`
  // on the interface. The first join and the last leave tell the link
  // (Link::add_multicast / del_multicast, the kernel's ip_mc_filter_add →
  // dev_mc_add). Ignored for an unknown interface or a non-multicast group;
  // leave_group returns false when the group was not joined.
  void join_group(uint16_t ifindex, wire::Ipv4Addr group);
  bool leave_group(uint16_t ifindex, wire::Ipv4Addr group);

  // Inline: every frame in and out asks.
  Interface* interface(uint16_t ifindex) {
    return ifindex == 0 || ifindex > ifaces_.size() ? nullptr : &ifaces_[ifindex - 1];
  }
  const Interface* interface(uint16_t ifindex) const {
    return ifindex == 0 || ifindex > ifaces_.size() ? nullptr : &ifaces_[ifindex - 1];
  }
  Link* link(uint16_t ifindex) {
    Interface* i = interface(ifindex);
    return i == nullptr ? nullptr : i->link;
  }
  const Link* link(uint16_t ifindex) const {
    const Interface* i = interface(ifindex);
    return i == nullptr ? nullptr : i->link;
  }
  const std::vector<Interface>& interfaces() const { return ifaces_; }

  // Is `a` one of our addresses (on any interface)? (inet_addr_type == RTN_LOCAL)
  bool is_local_address(wire::Ipv4Addr a) const;
  // The interface holding address `a`, or 0.
  uint16_t interface_of_address(wire::Ipv4Addr a) const;
  // Subnet broadcast of one of `ifindex`'s prefixes, or 255.255.255.255.
  bool is_broadcast_on(uint16_t ifindex, wire::Ipv4Addr a) const;
  bool is_joined(uint16_t ifindex, wire::Ipv4Addr group) const;
  // inet_select_addr: the primary address of `ifindex` on the destination's
  // subnet, else its primary address, else any of ours (0 when none).
  wire::Ipv4Addr select_source(uint16_t ifindex, wire::Ipv4Addr dst) const;

  // --- components ---
  StackConfig& config() { return config_; }
  const StackConfig& config() const { return config_; }
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  RouteTable& routes() { return routes_; }
  const RouteTable& routes() const { return routes_; }
  // The path MTUs learned from ICMP (the FIB's nexthop exceptions).
  PmtuCache& pmtu() { return pmtu_; }
  const PmtuCache& pmtu() const { return pmtu_; }
  // What a socket's cached route (and its prebuilt headers) was resolved
  // against: the FIB and the PMTU exceptions. Both counters only grow, so
  // their sum moves whenever either does (sk_dst_check's test).
  uint64_t route_generation() const { return routes_.generation() + pmtu_.generation(); }
  Hooks& hooks() { return hooks_; }
  IpIdentGenerator& ip_idents() { return idents_; }
  NeighbourTable& neighbours() { return *neigh_; }
  Reassembly& reassembly() { return *reasm_; }
  IcmpState& icmp() { return *icmp_; }
  UdpTable& udp() { return *udp_; }
  // dev_add_pack(ip_packet_type): where eth_rcv hands IPv4 packets (ip_rcv,
  // set by the constructor), so the link layer does not call up into IPv4.
  using PacketTypeHandler = void (*)(Stack& stack, Packet&& pkt, TimePoint now);
  PacketTypeHandler ipv4_packet_type() const { return ipv4_rcv_; }
  void set_ipv4_packet_type(PacketTypeHandler h) { ipv4_rcv_ = h; }
  // inet_protos: UDP and ICMP are registered by the constructor (inet_init).
  ProtocolTable& protocols() { return protocols_; }
  const ProtocolTable& protocols() const { return protocols_; }
  // The host's say on UDP ports (a shared address: the kernel must hold them
  // too). Null (the default): every free port is the stack's. Outlives the
  // stack's sockets.
  void set_port_claims(PortClaims* claims) { port_claims_ = claims; }
  PortClaims* port_claims() const { return port_claims_; }
  // Deterministic per-stack randomness (ephemeral ports, jitter), from config().seed.
  uint64_t random();

  // --- driving ---
  // One iteration: up to `budget` frames from every link through eth_rcv,
  // expired timers (neighbour, reassembly), then every interface's queue to its
  // link. Returns the number of frames received + sent (0: idle).
  size_t poll(TimePoint now, size_t budget = 64);
  // Runs what is due at `now` (neighbour retries/aging, reassembly timeouts).
  void run_timers(TimePoint now);
  // The earliest time poll must run again without traffic (nullopt: none).
  std::optional<TimePoint> next_deadline() const;

  // dev_queue_xmit: queues a complete L2 frame (Ethernet header at data(), from
  // the link's pool) on the interface; it leaves on the next flush, or at once
  // when the queue reaches a burst (64 frames: the queue goes to the link's
  // tx_burst, and what the link does not take stays queued). A full queue
  // (txqueuelen) drops it (DropReason::kTxQueueFull, Ip OutDiscards is not
  // moved, as the kernel counts qdisc drops on the device). Counts Ip OutTransmits.
  void dev_queue_xmit(uint16_t ifindex, Packet frame);
  // Hands queued frames to the links; returns how many they took.
  size_t flush_tx();

 private:
  StackConfig config_;
  Stats stats_;
  RouteTable routes_;
  PmtuCache pmtu_;
  Hooks hooks_;
  IpIdentGenerator idents_;
  ProtocolTable protocols_;
  PacketTypeHandler ipv4_rcv_ = nullptr;
  PortClaims* port_claims_ = nullptr;
  std::vector<Interface> ifaces_;  // ifindex i at [i - 1]
  uint64_t tx_queued_ = 0;  // frames ever queued by dev_queue_xmit (poll: did this pass queue any?)
  std::unique_ptr<NeighbourTable> neigh_;
  std::unique_ptr<Reassembly> reasm_;
  std::unique_ptr<IcmpState> icmp_;
  std::unique_ptr<UdpTable> udp_;
  uint64_t rng_;
};

}  // namespace xnet::stack
