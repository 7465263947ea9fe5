#include "stack/ipv4/icmp_state.h"

#include <algorithm>

#include "stack/core/stack.h"

namespace xnet::stack {

namespace {

constexpr std::chrono::milliseconds kGlobalMinStep{20};  // HZ / 50
constexpr std::chrono::seconds kGlobalMaxStep{1};

size_t peer_hash(uint32_t addr) {
  uint64_t x = addr * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  return static_cast<size_t>(x);
}

}  // namespace

IcmpState::IcmpState(Stack& stack) : stack_(stack), credit_(stack.config().icmp_msgs_burst) {
  // Built outside the packet path: the one place the stack reads clocks.
  set_wall_clock(std::chrono::steady_clock::now(), std::chrono::system_clock::now());
}

void IcmpState::set_wall_clock(TimePoint now, std::chrono::system_clock::time_point wall) {
  wall_offset_ = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()) -
                 std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
}

std::chrono::system_clock::time_point IcmpState::wall_clock(TimePoint now) const {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()) + wall_offset_;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

bool IcmpState::global_allow(TimePoint now) {
  if (credit_ > 0) return true;
  if (!stamped_) {
    stamp_ = now;
    stamped_ = true;
  }
  const auto delta = std::min<std::chrono::nanoseconds>(now - stamp_, kGlobalMaxStep);
  if (delta < kGlobalMinStep) return false;
  const int64_t incr = static_cast<int64_t>(stack_.config().icmp_msgs_per_sec) *
                       delta.count() / std::chrono::nanoseconds(std::chrono::seconds(1)).count();
  if (incr == 0) return false;
  stamp_ = now;
  credit_ = std::min<int64_t>(credit_ + incr, stack_.config().icmp_msgs_burst);
  return true;
}

// icmp_global_consume: a random 0-2 credits a message, so the count of
// messages a burst allows cannot be read off by a remote prober (the
// SAD DNS-style side channel, CVE-2020-25705).
void IcmpState::global_consume() { credit_ -= static_cast<int64_t>(stack_.random() % 3); }

bool IcmpState::peer_allow(wire::Ipv4Addr dst, TimePoint now) {
  const std::chrono::nanoseconds timeout = stack_.config().icmp_ratelimit;
  const size_t base = peer_hash(dst.value());
  Peer* slot = nullptr;
  Peer* victim = nullptr;
  for (size_t i = 0; i < kPeerProbe; ++i) {
    Peer& p = peers_[(base + i) % kPeerSlots];
    if (p.used && p.addr == dst.value()) {
      slot = &p;
      break;
    }
    if (victim == nullptr || !p.used || (victim->used && p.last_used < victim->last_used)) {
      if (victim == nullptr || victim->used) victim = &p;
    }
  }
  if (slot == nullptr) {
    // A new peer starts with a full burst (the kernel backdates rate_last by 60 s).
    slot = victim;
    *slot = Peer{};
    slot->used = true;
    slot->addr = dst.value();
    slot->tokens = timeout * kPeerBurstFactor;
    slot->rate_last = now;
  }
  slot->last_used = now;
  auto token = slot->tokens + (now - slot->rate_last);
  slot->rate_last = now;
  token = std::min<std::chrono::nanoseconds>(token, timeout * kPeerBurstFactor);
  bool ok = false;
  if (token >= timeout) {
    token -= timeout;
    ok = true;
  }
  slot->tokens = token;
  return ok;
}

size_t IcmpState::peer_count() const {
  return static_cast<size_t>(std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.used; }));
}

}  // namespace xnet::stack
