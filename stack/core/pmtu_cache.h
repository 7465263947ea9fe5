#pragma once
// Path MTUs learned from ICMP "fragmentation needed": the kernel's fib nexthop
// exceptions (fib_nh_exception) as __ip_rt_update_pmtu creates them. One entry
// per next hop (egress interface and next-hop address) and destination: an
// MTU below the route's, locked when the ICMP asked for less than min_pmtu
// (the kernel then stops setting DF in "want" mode and ignores further
// ICMPs), valid until it expires (net.ipv4.route.mtu_expires).
//
// route_output attaches the entry to the route it resolves; what the entry
// means for a send is decided where the route is used (dst_mtu,
// stack/ipv4/route_output.h), against the caller's `now`, as ipv4_mtu checks
// dst.expires at use. Every change bumps generation(): the kernel marks the
// next hop's cached routes obsolete so that sockets look their route up again
// (Stack::route_generation folds it into what sockets check).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "stack/wire/addr.h"

namespace xnet::stack {

struct PmtuException {
  uint32_t mtu = 0;
  bool locked = false;  // fnhe_mtu_locked: clamped to min_pmtu
  std::chrono::steady_clock::time_point expires{};
};

class PmtuCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The kernel bounds exceptions per next hop (FNHE_RECLAIM_DEPTH per bucket
  // of 2048); one bound for the whole table keeps a flood of ICMPs for many
  // destinations from growing it without end.
  static constexpr size_t kMaxEntries = 4096;

  // find_exception: the entry of `daddr` through next hop `next_hop` on
  // `ifindex`, expired or not (the user compares `expires` with its now).
  const PmtuException* find(uint16_t ifindex, wire::Ipv4Addr next_hop, wire::Ipv4Addr daddr) const {
    if (entries_.empty()) return nullptr;  // the usual case: one branch per send
    auto it = entries_.find(Key{ifindex, next_hop, daddr});
    return it == entries_.end() ? nullptr : &it->second;
  }

  // update_or_create_fnhe. When the table is full, expired entries go first,
  // then the one closest to expiring (fnhe_remove_oldest).
  void update(uint16_t ifindex, wire::Ipv4Addr next_hop, wire::Ipv4Addr daddr, const PmtuException& e,
              TimePoint now);
  // The next hops of `ifindex` are gone (fib_release_info frees their exceptions).
  void remove_interface(uint16_t ifindex);

  uint64_t generation() const { return generation_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Key {
    uint16_t ifindex = 0;
    wire::Ipv4Addr next_hop;
    wire::Ipv4Addr daddr;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      const uint64_t v = (uint64_t{k.daddr.value()} << 32) ^ (uint64_t{k.next_hop.value()} * 0x9e3779b1u) ^ k.ifindex;
      return std::hash<uint64_t>{}(v * 0x9e3779b97f4a7c15ull);
    }
  };
  void make_room(TimePoint now);

  std::unordered_map<Key, PmtuException, KeyHash> entries_;
  uint64_t generation_ = 0;
};

}  // namespace xnet::stack
