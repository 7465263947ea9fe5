#pragma once
// The FIB: a longest-prefix-match table of routes (fib_table / fib_lookup).
// Stack::add_address installs what the kernel installs for an address: a /32
// local route, a /32 broadcast route for the subnet broadcast, the connected
// prefix, and the limited broadcast 255.255.255.255. Every change bumps the
// generation, which invalidates the route a connected socket caches
// (sk_dst_check).
//
// Lookup walks the prefix lengths present, longest first: one hash probe per
// length in use. A table of a few routes (a host's: local, broadcast,
// connected, default) is also kept as one array, longest prefix first, and
// scanned instead: a hash probe divides by a prime, and a send looks the
// route up per datagram.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stack/core/packet_meta.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

struct Route {
  wire::Ipv4Prefix prefix;
  RouteType type = RouteType::kUnicast;
  uint16_t ifindex = 0;
  wire::Ipv4Addr gateway;   // 0: on link (the destination is the next hop)
  wire::Ipv4Addr prefsrc;   // preferred source address (0: choose by interface)
  uint32_t mtu = 0;         // route MTU (0: the device's)
  uint32_t metric = 0;
};

class RouteTable {
 public:
  // Adds or replaces the route for `r.prefix` (the prefix is normalised).
  void add(Route r);
  bool remove(wire::Ipv4Prefix prefix);
  // Removes every route through `ifindex` (interface down / address removed).
  void remove_interface(uint16_t ifindex);
  std::optional<Route> lookup(wire::Ipv4Addr dst) const;
  std::optional<Route> exact(wire::Ipv4Prefix prefix) const;
  uint64_t generation() const { return generation_; }
  size_t size() const { return size_; }
  void for_each(const std::function<void(const Route&)>& fn) const;

 private:
  static constexpr size_t kScanMax = 32;  // routes kept in `scan_` at most
  void rebuild_scan();

  std::array<std::unordered_map<uint32_t, Route>, 33> by_len_;
  std::vector<Route> scan_;  // every route, longest prefix first, while size_ <= kScanMax
  uint64_t lengths_ = 0;  // bit n set: some route of prefix length n
  size_t size_ = 0;
  uint64_t generation_ = 1;
};

}  // namespace xnet::stack
