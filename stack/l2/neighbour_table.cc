// The neighbour table: entries, their timers, the cap (neigh_forced_gc).
// The protocol (what a timer sends, what a reply changes) is in neighbour.cc.

#include "stack/l2/neighbour_table.h"

#include <algorithm>

#include "stack/core/stack.h"
#include "stack/core/stats.h"

namespace xnet::stack {

NeighbourTable::NeighbourTable(Stack& stack) : stack_(stack) {
  // One allocation up front: entries are created while the stack runs, and a
  // rehash in the middle of run_timers (a failure report can send an ICMP
  // that resolves a new neighbour) must not happen.
  entries_.reserve(stack.config().neigh_gc_thresh3 + 1);
  due_.reserve(stack.config().neigh_gc_thresh3 + 1);
}

NeighbourTable::~NeighbourTable() = default;  // pending queues free their frames

std::optional<NeighInfo> NeighbourTable::lookup(uint16_t ifindex, wire::Ipv4Addr ip) const {
  const auto it = entries_.find(key(ifindex, ip));
  if (it == entries_.end()) return std::nullopt;
  return NeighInfo{it->second.state, it->second.mac, it->second.pending.size()};
}

NeighEntry* NeighbourTable::find(uint16_t ifindex, wire::Ipv4Addr ip) {
  const uint64_t k = key(ifindex, ip);
  // Sends mostly go where the previous one went: one compare instead of a
  // hash probe, which divides by a prime (entries do not move until erased).
  if (last_ != nullptr && last_key_ == k) return last_;
  const auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  last_key_ = k;
  last_ = &it->second;
  return last_;
}

NeighEntry* NeighbourTable::create(uint16_t ifindex, wire::Ipv4Addr ip, TimePoint now) {
  if (entries_.size() >= stack_.config().neigh_gc_thresh3 && !evict_one()) return nullptr;
  NeighEntry& e = entries_[key(ifindex, ip)];
  e.ifindex = ifindex;
  e.ip = ip;
  e.state = NeighState::kIncomplete;
  e.updated = e.confirmed = e.used = now;
  return &e;
}

// neigh_forced_gc: the least recently used entry that holds nothing and
// asserts nothing (failed, or stale and not being re-probed).
bool NeighbourTable::evict_one() {
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const NeighEntry& e = it->second;
    const bool idle = e.state == NeighState::kFailed ||
                      (e.state == NeighState::kStale && !e.probing);
    if (!idle || !e.pending.empty()) continue;
    if (victim == entries_.end() || e.used < victim->second.used) victim = it;
  }
  if (victim == entries_.end()) return false;
  last_ = nullptr;
  entries_.erase(victim);
  return true;
}

void NeighbourTable::arm(NeighEntry& e, TimePoint due) {
  e.due = due;
  next_due_ = std::min(next_due_, due);
}

bool NeighbourTable::expire(NeighEntry& e, TimePoint now) {
  const StackConfig& cfg = stack_.config();
  switch (e.state) {
    case NeighState::kIncomplete:
      if (e.probes >= cfg.neigh_probes) {
        neigh_fail(stack_, e, now);  // arms the entry; `e` may not be touched after
      } else {
        neigh_solicit(stack_, e, now);
        arm(e, now + cfg.neigh_retrans_time);
      }
      return true;
    case NeighState::kReachable:
      if (now < e.confirmed + cfg.neigh_reachable_time) {
        arm(e, e.confirmed + cfg.neigh_reachable_time);
        return true;
      }
      e.state = NeighState::kStale;
      e.updated = now;
      arm(e, std::max(e.used + cfg.neigh_gc_stale_time, now));
      return true;
    case NeighState::kStale:
      if (e.probing) {
        if (e.probes >= cfg.neigh_probes) {
          neigh_fail(stack_, e, now);
        } else {
          neigh_solicit(stack_, e, now);
          arm(e, now + cfg.neigh_retrans_time);
        }
        return true;
      }
      if (now < e.used + cfg.neigh_gc_stale_time) {
        arm(e, e.used + cfg.neigh_gc_stale_time);
        return true;
      }
      return !e.pending.empty();  // unused for gc_stale_time: removed
    case NeighState::kFailed:
      if (now < e.updated + cfg.neigh_gc_stale_time) {
        arm(e, e.updated + cfg.neigh_gc_stale_time);
        return true;
      }
      return false;
  }
  return true;
}

void NeighbourTable::run_timers(TimePoint now) {
  if (now < next_due_) return;
  // Keys first: expiring an entry can report errors, which can send packets,
  // which can create or evict entries.
  // A timer can run into run_timers again (a report that sends): work on a copy.
  std::vector<uint64_t> due;
  due.swap(due_);
  due.clear();
  for (const auto& [k, e] : entries_) {
    if (e.due <= now) due.push_back(k);
  }
  next_due_ = TimePoint::max();
  for (uint64_t k : due) {
    auto it = entries_.find(k);
    if (it == entries_.end() || it->second.due > now) continue;
    it->second.due = TimePoint::max();
    if (!expire(it->second, now)) {
      last_ = nullptr;
      entries_.erase(k);
    }
  }
  for (const auto& [k, e] : entries_) next_due_ = std::min(next_due_, e.due);
  due_.swap(due);
}

void NeighbourTable::announce(NeighEntry& e, bool changed, TimePoint now) {
  if (!observer_) return;
  if (e.state != NeighState::kReachable && e.state != NeighState::kStale) return;
  // An unchanged re-confirmation is worth passing on (the peers' copies age
  // and would re-probe on their own), but not once per ARP message.
  if (!changed && e.announced && now < *e.announced + stack_.config().neigh_retrans_time) return;
  e.announced = now;
  observer_(NeighAnnouncement{e.ifindex, e.ip, e.mac, e.state, true, false});
}

void NeighbourTable::announce_unknown(const NeighAnnouncement& a, TimePoint now) {
  if (!observer_) return;
  if (now >= foreign_window_ + stack_.config().neigh_retrans_time) {
    foreign_window_ = now;
    foreign_in_window_ = 0;
  }
  if (foreign_in_window_ >= kNeighForeignAnnounceBudget) return;
  ++foreign_in_window_;
  observer_(a);
}

std::optional<TimePoint> NeighbourTable::next_deadline() const {
  if (next_due_ == TimePoint::max()) return std::nullopt;
  return next_due_;
}

void NeighbourTable::flush_interface(uint16_t ifindex) {
  last_ = nullptr;
  std::erase_if(entries_, [&](auto& kv) {
    if (kv.second.ifindex != ifindex) return false;
    // neigh_ifdown purges the queue: each packet is a kNeighFailed drop.
    for (size_t i = kv.second.pending.size(); i > 0; --i) stack_.stats().drop(DropReason::kNeighFailed);
    return true;
  });
}

}  // namespace xnet::stack
