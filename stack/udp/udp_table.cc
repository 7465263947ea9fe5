#include "stack/udp/udp_table.h"

#include <algorithm>

#include "stack/core/stack.h"
#include "stack/ipv4/route_output.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_multicast.h"
#include "stack/udp/udp_output.h"

namespace xnet::stack {

// A socket plus the table's bookkeeping about it (sk_userlocks).
struct UdpTable::Entry : UdpSock {
  bool bind_addr_lock = false;  // SOCK_BINDADDR_LOCK: address chosen by bind()
  bool bind_port_lock = false;  // SOCK_BINDPORT_LOCK: port chosen by bind()
  bool hashed = false;
  size_t index = 0;             // position in socks_
};

namespace {


// Whether two sockets' bound devices may receive the same datagram
// (udp_sk_bound_dev_eq / the bind conflict rule: 0 overlaps everything).
bool dev_overlap(uint16_t a, uint16_t b) { return a == 0 || b == 0 || a == b; }

}  // namespace

void udp_set_reuse_addr(UdpSock& sk, bool on) { sk.reuse_addr = on; }
void udp_set_reuse_port(UdpSock& sk, bool on) { sk.reuse_port = on; }

Result<void> udp_bind_to_device(Stack& stack, UdpSock& sk, uint16_t ifindex) {
  if (ifindex != 0 && stack.interface(ifindex) == nullptr) return std::errc::no_such_device;
  sk.bound_ifindex = ifindex;
  sk.tx.dst_cache.valid = false;  // sk_dst_reset
  return {};
}

UdpTable::UdpTable(Stack& stack) : stack_(stack) {}

UdpTable::~UdpTable() {
  while (!socks_.empty()) close(socks_.back().get());
}

UdpSock* UdpTable::open() {
  auto e = std::make_unique<Entry>();
  e->rcvbuf = stack_.config().rmem_default;
  e->tx.sndbuf->limit = stack_.config().wmem_default;
  udp_claim_send_buffer(*e);
  e->index = socks_.size();
  socks_.push_back(std::move(e));
  return socks_.back().get();
}

void UdpTable::close(UdpSock* sk) {
  if (sk == nullptr) return;
  auto& e = static_cast<Entry&>(*sk);
  sk->closed = true;
  sk->rxq.clear();  // each RxDatagram returns its frames
  sk->rmem_alloc = 0;
  sk->errq.clear();
  udp_drop_memberships(stack_, *sk);
  udp_flush_pending_frames(*sk);
  unhash(*sk);
  const size_t i = e.index;
  if (i != socks_.size() - 1) {
    std::swap(socks_[i], socks_.back());
    socks_[i]->index = i;
  }
  socks_.pop_back();  // ~SendBufferRef orphans the send buffer
}

bool UdpTable::hash(UdpSock& sk, uint16_t port) {
  // A shared address: the kernel must hold the port too (stack/core/port_claims.h).
  if (PortClaims* claims = stack_.port_claims(); claims != nullptr && !claims->claim(port)) return false;
  sk.local_port = port;
  slot(port).push_back(&sk);
  static_cast<Entry&>(sk).hashed = true;
  if (handoff_ != nullptr) handoff_->port_hashed(port);
  return true;
}

void UdpTable::unhash(UdpSock& sk) {
  auto& e = static_cast<Entry&>(sk);
  if (!e.hashed) return;
  std::erase(slot(sk.local_port), &sk);
  e.hashed = false;
  if (PortClaims* claims = stack_.port_claims(); claims != nullptr) claims->release(sk.local_port);
  if (handoff_ != nullptr) handoff_->port_unhashed(sk.local_port);
}

void UdpTable::set_handoff(UdpHandoff* h) {
  if (h == handoff_) return;
  // Every hashed socket is in exactly one slot: one call per socket.
  for (const auto& s : slots_) {
    for (const UdpSock* sk : s) {
      if (handoff_ != nullptr) handoff_->port_unhashed(sk->local_port);
      if (h != nullptr) h->port_hashed(sk->local_port);
    }
  }
  handoff_ = h;
}

// udp_lib_lport_inuse: another socket on `port` whose address and device
// overlap ours, unless both set SO_REUSEADDR or both SO_REUSEPORT.
bool UdpTable::port_conflict(const UdpSock& sk, wire::Ipv4Addr addr, uint16_t port) const {
  for (const UdpSock* o : slot(port)) {
    if (o == &sk || o->local_port != port) continue;
    if (!dev_overlap(o->bound_ifindex, sk.bound_ifindex)) continue;
    if (!(o->local_addr.is_unspecified() || addr.is_unspecified() || o->local_addr == addr)) continue;
    if (o->reuse_addr && sk.reuse_addr) continue;
    if (o->reuse_port && sk.reuse_port) continue;
    return true;
  }
  return false;
}

Result<void> UdpTable::autobind(UdpSock& sk) {
  if (sk.local_port != 0) return {};
  // udp_lib_get_port(snum 0): a random start in the range, then the first port
  // free for this socket's address.
  const uint32_t span = kEphemeralHigh - kEphemeralLow + 1;
  const uint32_t start = static_cast<uint32_t>(stack_.random() % span);
  for (uint32_t i = 0; i < span; ++i) {
    const auto port = static_cast<uint16_t>(kEphemeralLow + (start + i) % span);
    if (!port_conflict(sk, sk.local_addr, port) && hash(sk, port)) return {};
  }
  return std::errc::resource_unavailable_try_again;
}

Result<void> udp_autobind(Stack& stack, UdpSock& sk) { return stack.udp().autobind(sk); }

Result<void> UdpTable::bind(UdpSock& sk, wire::Ipv4Addr addr, uint16_t port) {
  auto& e = static_cast<Entry&>(sk);
  // inet_addr_valid_or_nonlocal with ip_nonlocal_bind = 0: 0, one of ours, a
  // broadcast we know (limited or a subnet's) or a multicast group.
  if (!addr.is_unspecified() && !addr.is_multicast() && !addr.is_broadcast() &&
      !stack_.is_local_address(addr)) {
    const auto r = stack_.routes().lookup(addr);
    if (!r || r->type != RouteType::kBroadcast || r->prefix.len != 32) {
      return std::errc::address_not_available;
    }
  }
  if (sk.local_port != 0 || sk.connected) return std::errc::invalid_argument;
  const wire::Ipv4Addr old = sk.local_addr;
  sk.local_addr = addr;
  if (port == 0) {
    if (!autobind(sk)) {
      sk.local_addr = old;
      return std::errc::address_in_use;
    }
  } else {
    if (port_conflict(sk, addr, port) || !hash(sk, port)) {
      sk.local_addr = old;
      return std::errc::address_in_use;
    }
    e.bind_port_lock = true;
  }
  if (!addr.is_unspecified()) e.bind_addr_lock = true;
  return {};
}

Result<void> UdpTable::connect(UdpSock& sk, wire::Ipv4Addr addr, uint16_t port) {
  // inet_dgram_connect: an unbound socket is bound first.
  if (sk.local_port == 0) {
    if (!autobind(sk)) return std::errc::resource_unavailable_try_again;
  }
  sk.tx.dst_cache.valid = false;  // sk_dst_reset
  // As route_output: 0.0.0.0 is this host (the bound address, else one of
  // ours), and 127.0.0.0/8 is unreachable without a loopback device.
  if (addr.is_unspecified()) addr = this_host(stack_, sk.local_addr, 0);
  if (addr.is_loopback()) {
    stack_.stats().ip.OutNoRoutes++;
    return std::errc::network_unreachable;
  }
  const auto r = stack_.routes().lookup(addr);
  if (!r || r->type == RouteType::kUnreachable) {
    stack_.stats().ip.OutNoRoutes++;
    return std::errc::network_unreachable;
  }
  if (r->type == RouteType::kBlackhole) return std::errc::invalid_argument;
  if (r->type == RouteType::kBroadcast && !sk.tx.broadcast) return std::errc::permission_denied;
  if (sk.local_addr.is_unspecified()) {
    wire::Ipv4Addr src = r->prefsrc;
    if (src.is_unspecified()) {
      src = r->type == RouteType::kLocal ? addr : stack_.select_source(r->ifindex, addr);
    }
    sk.local_addr = src;
  }
  sk.remote_addr = addr;
  sk.remote_port = port;
  sk.connected = true;
  return {};
}

void UdpTable::disconnect(UdpSock& sk) {
  auto& e = static_cast<Entry&>(sk);
  sk.connected = false;
  sk.remote_addr = wire::Ipv4Addr();
  sk.remote_port = 0;
  sk.bound_ifindex = 0;
  if (!e.bind_addr_lock) sk.local_addr = wire::Ipv4Addr();
  if (!e.bind_port_lock) {
    unhash(sk);
    sk.local_port = 0;
  }
  sk.tx.dst_cache.valid = false;
}

uint32_t UdpTable::tuple_hash(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr,
                              uint16_t dport) {
  if (!secret_set_) {
    hash_secret_ = stack_.random();
    secret_set_ = true;
  }
  uint64_t x = (uint64_t{saddr.value()} << 32 | daddr.value()) ^ hash_secret_;
  x ^= (uint64_t{sport} << 16 | dport) * 0x9e3779b97f4a7c15ull;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return static_cast<uint32_t>(x >> 32);
}

UdpSock* UdpTable::lookup(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr,
                          uint16_t dport, uint16_t ifindex) {
  const std::vector<UdpSock*>& candidates = slot(dport);
  // One socket in the slot (the usual case: a service's port, a client's
  // ephemeral one): it is the answer if it matches at all, whatever its score.
  if (candidates.size() == 1) {
    UdpSock* sk = candidates.front();
    const bool ok = sk->local_port == dport && (sk->local_addr.is_unspecified() || sk->local_addr == daddr) &&
                    (sk->remote_addr.is_unspecified() || sk->remote_addr == saddr) &&
                    (sk->remote_port == 0 || sk->remote_port == sport) &&
                    (sk->bound_ifindex == 0 || sk->bound_ifindex == ifindex);
    return ok ? sk : nullptr;
  }
  // compute_score, in two passes like udp4_lib_lookup2: sockets bound to
  // `daddr` (a connected one scores highest), then wildcard sockets.
  for (const bool wildcard : {false, true}) {
    int best = -1;
    UdpSock* result = nullptr;
    scratch_.clear();
    for (UdpSock* sk : candidates) {
      if (sk->local_port != dport) continue;
      if (wildcard ? !sk->local_addr.is_unspecified() : sk->local_addr != daddr) continue;
      int score = 2;
      if (!sk->remote_addr.is_unspecified()) {
        if (sk->remote_addr != saddr) continue;
        score += 4;
      }
      if (sk->remote_port != 0) {
        if (sk->remote_port != sport) continue;
        score += 4;
      }
      if (sk->bound_ifindex != 0) {
        if (sk->bound_ifindex != ifindex) continue;
        score += 4;
      }
      if (score > best) {
        best = score;
        result = sk;
        scratch_.clear();
      }
      if (score == best && sk->reuse_port && !sk->connected) scratch_.push_back(sk);
    }
    if (result == nullptr) continue;
    // reuseport_select_sock: an unconnected member of a group answers for the
    // group, chosen by the flow hash so a flow always reaches the same socket;
    // scaled onto the group as the kernel's reciprocal_scale does (a multiply,
    // not a divide).
    if (result->reuse_port && !result->connected && scratch_.size() > 1) {
      const uint64_t h = tuple_hash(saddr, sport, daddr, dport);
      result = scratch_[(h * scratch_.size()) >> 32];
    }
    return result;
  }
  return nullptr;
}

bool UdpTable::is_mcast_sock(const UdpSock& sk, wire::Ipv4Addr saddr, uint16_t sport,
                             wire::Ipv4Addr daddr, uint16_t ifindex) {
  if (!sk.remote_addr.is_unspecified() && sk.remote_addr != saddr) return false;
  if (sk.remote_port != 0 && sk.remote_port != sport) return false;
  if (!sk.local_addr.is_unspecified() && sk.local_addr != daddr) return false;
  if (sk.bound_ifindex != 0 && sk.bound_ifindex != ifindex) return false;
  return true;
}

}  // namespace xnet::stack
