#include "stack/core/pmtu_cache.h"

#include <algorithm>

namespace xnet::stack {

void PmtuCache::update(uint16_t ifindex, wire::Ipv4Addr next_hop, wire::Ipv4Addr daddr, const PmtuException& e,
                       TimePoint now) {
  const Key k{ifindex, next_hop, daddr};
  auto it = entries_.find(k);
  if (it == entries_.end() && entries_.size() >= kMaxEntries) make_room(now);
  entries_.insert_or_assign(k, e);
  ++generation_;
}

void PmtuCache::make_room(TimePoint now) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
  if (entries_.size() < kMaxEntries) return;
  auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.second.expires < b.second.expires;
  });
  entries_.erase(oldest);
}

void PmtuCache::remove_interface(uint16_t ifindex) {
  if (std::erase_if(entries_, [&](const auto& kv) { return kv.first.ifindex == ifindex; }) != 0) ++generation_;
}

}  // namespace xnet::stack
