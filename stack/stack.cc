// Stack: interfaces and addresses (inet_insert_ifa + fib_add_ifaddr), the
// poll loop, the interface transmit queues (dev_queue_xmit + qdisc), and the
// per-stack random source.

#include "stack/core/stack.h"
#include "stack/core/stage_trace.h"

#include <algorithm>
#include <random>

#include "stack/l2/eth_input.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/ipv4_input.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/l2/neighbour.h"
#include "stack/l2/neighbour_table.h"
#include "stack/ipv4/ip_fragment.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_offload.h"
#include "stack/udp/udp_table.h"
#include "stack/wire/ipv4.h"

namespace xnet::stack {
namespace {

// A burst: how many queued frames make dev_queue_xmit hand the queue to the
// link at once (the receive budget of poll, and a typical ring batch).
constexpr size_t kTxBurst = 64;

uint64_t seed_from(uint64_t configured) {
  if (configured != 0) return configured;
  std::random_device rd;
  return (uint64_t{rd()} << 32) | rd();
}

// Addresses an interface cannot hold (inet_rtm_newaddr / fib_add_ifaddr would
// make them nonsense): 0/8, multicast, class E, limited broadcast, loopback
// (xnet has no loopback device).
bool is_martian_address(wire::Ipv4Addr a) {
  return a.is_unspecified() || a.is_multicast() || a.is_class_e() || a.is_broadcast() || a.is_loopback();
}

bool has_subnet_broadcast(const wire::Ipv4Prefix& p) { return p.len < 31; }

Route make_route(wire::Ipv4Prefix prefix, RouteType type, uint16_t ifindex, wire::Ipv4Addr prefsrc,
                 wire::Ipv4Addr gateway = {}) {
  Route r;
  r.prefix = prefix;
  r.type = type;
  r.ifindex = ifindex;
  r.prefsrc = prefsrc;
  r.gateway = gateway;
  return r;
}

}  // namespace

Stack::Stack(StackConfig config)
    : config_(config),
      idents_(config.seed),
      neigh_(std::make_unique<NeighbourTable>(*this)),
      reasm_(std::make_unique<Reassembly>(*this)),
      icmp_(std::make_unique<IcmpState>(*this)),
      udp_(std::make_unique<UdpTable>(*this)),
      rng_(seed_from(config.seed)) {
  ipv4_rcv_ = &ip_rcv;
  neigh_->set_link_failure(&ipv4_link_failure);
  // inet_init: the protocols IPv4 delivers to and reports errors to.
  protocols_.add(static_cast<uint8_t>(wire::IpProtocol::kIcmp), {.handler = &icmp_rcv, .err_handler = nullptr});
  protocols_.add(static_cast<uint8_t>(wire::IpProtocol::kUdp), {.handler = &udp_rcv, .err_handler = &udp_err, .gso_segment = &udp_gso_segment});
}

// Frames belong to the links' pools, and the links outlive the stack: give
// every frame back. Transmit queues first (their frames may be charged to a
// socket's send buffer), then the components that hold packets, sockets last.
Stack::~Stack() {
  for (Interface& i : ifaces_) i.txq.clear();
  neigh_.reset();
  reasm_.reset();
  icmp_.reset();
  udp_.reset();  // the sockets leave their groups
  // ip_mc_destroy_dev: the link's filter forgets what is left (all-hosts).
  for (Interface& i : ifaces_) {
    for (const McGroup& g : i.groups) i.link->del_multicast(g.addr);
    i.groups.clear();
  }
}

// --- interfaces and addresses ---

uint16_t Stack::add_interface(Link& link) {
  Interface i;
  i.ifindex = static_cast<uint16_t>(ifaces_.size() + 1);
  i.link = &link;
  ifaces_.push_back(std::move(i));
  const uint16_t ifindex = ifaces_.back().ifindex;
  join_group(ifindex, wire::kIpv4AllHosts);  // ip_mc_up: every multicast-capable device is in all-hosts
  return ifindex;
}


Result<void> Stack::add_address(uint16_t ifindex, wire::Ipv4Prefix prefix, TimePoint now) {
  Interface* iface = interface(ifindex);
  if (iface == nullptr) return std::errc::no_such_device;
  if (prefix.len < 0 || prefix.len > 32 || is_martian_address(prefix.addr)) {
    return std::errc::invalid_argument;
  }
  for (const wire::Ipv4Prefix& p : iface->addrs) {
    if (p.addr == prefix.addr) return std::errc::file_exists;
  }
  // A second address in a subnet the interface already has is a secondary:
  // it gets its local route but shares the primary's prefix and broadcast.
  const bool secondary = std::any_of(iface->addrs.begin(), iface->addrs.end(), [&](const auto& p) {
    return p.len == prefix.len && p.network() == prefix.network();
  });
  iface->addrs.push_back(prefix);

  routes_.add(make_route({prefix.addr, 32}, RouteType::kLocal, ifindex, prefix.addr));
  if (!secondary) {
    if (prefix.len < 32) {
      routes_.add(make_route({prefix.network(), prefix.len}, RouteType::kUnicast, ifindex, prefix.addr));
    }
    if (has_subnet_broadcast(prefix)) {
      routes_.add(make_route({prefix.broadcast(), 32}, RouteType::kBroadcast, ifindex, prefix.addr));
    }
  }
  if (config_.arp_notify) arp_announce(*this, ifindex, prefix.addr, now);
  return {};
}

Result<void> Stack::remove_address(uint16_t ifindex, wire::Ipv4Prefix prefix) {
  Interface* iface = interface(ifindex);
  if (iface == nullptr) return std::errc::no_such_device;
  auto it = std::find_if(iface->addrs.begin(), iface->addrs.end(),
                         [&](const auto& p) { return p.addr == prefix.addr && p.len == prefix.len; });
  if (it == iface->addrs.end()) return std::errc::address_not_available;
  iface->addrs.erase(it);

  routes_.remove({prefix.addr, 32});
  // The subnet's routes go with its last address (the kernel promotes a
  // secondary; here the remaining one takes them over).
  auto same_subnet = std::find_if(iface->addrs.begin(), iface->addrs.end(), [&](const auto& p) {
    return p.len == prefix.len && p.network() == prefix.network();
  });
  if (same_subnet == iface->addrs.end()) {
    if (prefix.len < 32) routes_.remove({prefix.network(), prefix.len});
    if (has_subnet_broadcast(prefix)) routes_.remove({prefix.broadcast(), 32});
  } else {
    const wire::Ipv4Addr src = same_subnet->addr;
    if (prefix.len < 32) {
      routes_.add(make_route({prefix.network(), prefix.len}, RouteType::kUnicast, ifindex, src));
    }
    if (has_subnet_broadcast(prefix)) {
      routes_.add(make_route({prefix.broadcast(), 32}, RouteType::kBroadcast, ifindex, src));
    }
  }
  return {};
}

Result<void> Stack::add_gateway_route(wire::Ipv4Prefix prefix, wire::Ipv4Addr gateway, uint16_t ifindex) {
  const Interface* iface = interface(ifindex);
  if (iface == nullptr) return std::errc::no_such_device;
  if (prefix.len < 0 || prefix.len > 32) return std::errc::invalid_argument;
  // fib_check_nh: the gateway must be on a connected subnet of the interface.
  const bool on_link = std::any_of(iface->addrs.begin(), iface->addrs.end(),
                                   [&](const auto& p) { return p.contains(gateway); });
  if (!on_link || gateway.is_unspecified() || is_local_address(gateway)) {
    return std::errc::network_unreachable;
  }
  routes_.add(make_route({prefix.network(), prefix.len}, RouteType::kUnicast, ifindex, {}, gateway));
  return {};
}

void Stack::join_group(uint16_t ifindex, wire::Ipv4Addr group) {
  Interface* iface = interface(ifindex);
  if (iface == nullptr || !group.is_multicast()) return;
  auto it = std::find_if(iface->groups.begin(), iface->groups.end(),
                         [&](const McGroup& g) { return g.addr == group; });
  if (it != iface->groups.end()) {
    ++it->users;
    return;
  }
  iface->groups.push_back(McGroup{group, 1});
  iface->link->add_multicast(group);
}

bool Stack::leave_group(uint16_t ifindex, wire::Ipv4Addr group) {
  Interface* iface = interface(ifindex);
  if (iface == nullptr) return false;
  auto it = std::find_if(iface->groups.begin(), iface->groups.end(),
                         [&](const McGroup& g) { return g.addr == group; });
  if (it == iface->groups.end()) return false;
  if (--it->users == 0) {
    iface->groups.erase(it);
    iface->link->del_multicast(group);
  }
  return true;
}

bool Stack::is_local_address(wire::Ipv4Addr a) const { return interface_of_address(a) != 0; }

uint16_t Stack::interface_of_address(wire::Ipv4Addr a) const {
  for (const Interface& i : ifaces_) {
    for (const wire::Ipv4Prefix& p : i.addrs) {
      if (p.addr == a) return i.ifindex;
    }
  }
  return 0;
}

bool Stack::is_broadcast_on(uint16_t ifindex, wire::Ipv4Addr a) const {
  if (a.is_broadcast()) return true;
  const Interface* iface = interface(ifindex);
  if (iface == nullptr) return false;
  return std::any_of(iface->addrs.begin(), iface->addrs.end(),
                     [&](const auto& p) { return has_subnet_broadcast(p) && p.broadcast() == a; });
}

bool Stack::is_joined(uint16_t ifindex, wire::Ipv4Addr group) const {
  const Interface* iface = interface(ifindex);
  if (iface == nullptr) return false;
  return std::any_of(iface->groups.begin(), iface->groups.end(),
                     [&](const McGroup& g) { return g.addr == group; });
}

wire::Ipv4Addr Stack::select_source(uint16_t ifindex, wire::Ipv4Addr dst) const {
  if (const Interface* iface = interface(ifindex); iface != nullptr && !iface->addrs.empty()) {
    for (const wire::Ipv4Prefix& p : iface->addrs) {
      if (p.contains(dst)) return p.addr;
    }
    return iface->addrs.front().addr;
  }
  for (const Interface& i : ifaces_) {
    if (!i.addrs.empty()) return i.addrs.front().addr;
  }
  return wire::kIpv4Any;
}

// splitmix64: small, fast, and good enough for ports and jitter.
uint64_t Stack::random() {
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// --- driving ---

size_t Stack::poll(TimePoint now, size_t budget) {
  idents_.set_clock(now);
  // What the applications queued since the last poll leaves first: a reply
  // written by a coroutine that just ran must not wait behind this poll's
  // receive work (measured: ~0.1-0.3 us of every ping-pong half).
  size_t moved = flush_tx();
  const uint64_t queued_before = tx_queued_;
  for (size_t idx = 0; idx < ifaces_.size(); ++idx) {
    const uint16_t ifindex = ifaces_[idx].ifindex;
    PacketQueue burst;
    moved += ifaces_[idx].link->rx_burst(burst, budget);
    while (!burst.empty()) {
      Packet frame = burst.pop_front();
      frame.meta().ifindex = ifindex;
      eth_rcv(*this, ifindex, std::move(frame), now);
    }
  }
  stage::mark(stage::Point::kPollDone);
  run_timers(now);
  // Again only for what this poll queued (replies, ARP): frames the link
  // refused a moment ago wait for the next poll instead of a second refusal.
  if (tx_queued_ != queued_before) moved += flush_tx();
  return moved;
}

void Stack::run_timers(TimePoint now) {
  neigh_->run_timers(now);
  reasm_->run_timers(now);
}

std::optional<TimePoint> Stack::next_deadline() const {
  std::optional<TimePoint> a = neigh_->next_deadline();
  std::optional<TimePoint> b = reasm_->next_deadline();
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

void Stack::dev_queue_xmit(uint16_t ifindex, Packet frame) {
  Interface* iface = interface(ifindex);
  if (iface == nullptr) return;
  if (iface->txq.size() >= config_.txqueuelen) {
    stats_.drop(DropReason::kTxQueueFull);  // the qdisc's drop: no Ip counter
    return;
  }
  frame.meta().ifindex = ifindex;
  iface->txq.push_back(std::move(frame));
  stage::mark(stage::Point::kXmitQueued);
  ++tx_queued_;
  // A full burst goes to the link now, so one large send (1365 fragments of a
  // 65507-byte datagram at MTU 68, a long GSO burst) is not cut at txqueuelen
  // before the end of the poll; the kernel's qdisc likewise hands frames to an
  // idle device as they come. What the link does not take stays queued
  // (backpressure). Every kTxBurst-th frame only: a link that is full costs
  // one call per burst, not one per frame.
  if (iface->txq.size() % kTxBurst == 0) iface->link->tx_burst(iface->txq);
}

size_t Stack::flush_tx() {
  size_t sent = 0;
  for (Interface& i : ifaces_) {
    // What the link does not take stays queued for the next poll (backpressure).
    if (!i.txq.empty()) sent += i.link->tx_burst(i.txq);
  }
  return sent;
}

}  // namespace xnet::stack
