#include "stack/core/route.h"

namespace xnet::stack {

void RouteTable::add(Route r) {
  r.prefix.addr = r.prefix.network();
  auto& m = by_len_[r.prefix.len];
  auto [it, inserted] = m.insert_or_assign(r.prefix.addr.value(), r);
  (void)it;
  if (inserted) ++size_;
  lengths_ |= uint64_t{1} << r.prefix.len;
  ++generation_;
  rebuild_scan();
}

bool RouteTable::remove(wire::Ipv4Prefix prefix) {
  auto& m = by_len_[prefix.len];
  if (m.erase(prefix.network().value()) == 0) return false;
  --size_;
  if (m.empty()) lengths_ &= ~(uint64_t{1} << prefix.len);
  ++generation_;
  rebuild_scan();
  return true;
}

void RouteTable::remove_interface(uint16_t ifindex) {
  for (int len = 0; len <= 32; ++len) {
    auto& m = by_len_[len];
    for (auto it = m.begin(); it != m.end();) {
      if (it->second.ifindex == ifindex) {
        it = m.erase(it);
        --size_;
      } else {
        ++it;
      }
    }
    if (m.empty()) lengths_ &= ~(uint64_t{1} << len);
  }
  ++generation_;
  rebuild_scan();
}

void RouteTable::rebuild_scan() {
  scan_.clear();
  if (size_ > kScanMax) return;
  for_each([&](const Route& r) { scan_.push_back(r); });
}

std::optional<Route> RouteTable::lookup(wire::Ipv4Addr dst) const {
  if (size_ <= kScanMax) {
    for (const Route& r : scan_) {
      if ((dst.value() & wire::Ipv4Addr::prefix_mask(r.prefix.len)) == r.prefix.addr.value()) return r;
    }
    return std::nullopt;
  }
  for (uint64_t lens = lengths_; lens != 0;) {
    const int len = 63 - __builtin_clzll(lens);
    lens &= ~(uint64_t{1} << len);
    const auto& m = by_len_[len];
    auto it = m.find(dst.value() & wire::Ipv4Addr::prefix_mask(len));
    if (it != m.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<Route> RouteTable::exact(wire::Ipv4Prefix prefix) const {
  const auto& m = by_len_[prefix.len];
  auto it = m.find(prefix.network().value());
  if (it == m.end()) return std::nullopt;
  return it->second;
}

void RouteTable::for_each(const std::function<void(const Route&)>& fn) const {
  for (int len = 32; len >= 0; --len) {
    for (const auto& [k, r] : by_len_[len]) fn(r);
  }
}

}  // namespace xnet::stack
