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

// inet_getpeer_v4: the entry of `addr`, made when missing. A new entry is
// backdated by 60 s, so the first token count is at any bucket's maximum.
IcmpState::Peer& IcmpState::peer(wire::Ipv4Addr addr, TimePoint now) {
  const size_t base = peer_hash(addr.value());
  Peer* victim = nullptr;
  for (size_t i = 0; i < kPeerProbe; ++i) {
    Peer& p = peers_[(base + i) % kPeerSlots];
    if (p.used && p.addr == addr.value()) {
      p.last_used = now;
      return p;
    }
    if (victim == nullptr || !p.used || (victim->used && p.last_used < victim->last_used)) {
      if (victim == nullptr || victim->used) victim = &p;
    }
  }
  *victim = Peer{};
  victim->used = true;
  victim->addr = addr.value();
  victim->rate_last = now - std::chrono::seconds(60);
  victim->last_used = now;
  return *victim;
}

// The token bucket of inet_peer_xrlim_allow and ip_error: one per peer,
// shared by both, as the kernel keeps one rate_tokens per inet_peer.
bool IcmpState::take_token(Peer& p, std::chrono::nanoseconds cost, std::chrono::nanoseconds burst, TimePoint now) {
  auto token = std::min<std::chrono::nanoseconds>(p.tokens + (now - p.rate_last), burst);
  p.rate_last = now;
  const bool ok = token >= cost;
  if (ok) token -= cost;
  p.tokens = token;
  return ok;
}

bool IcmpState::peer_allow(wire::Ipv4Addr dst, TimePoint now) {
  const std::chrono::nanoseconds timeout = stack_.config().icmp_ratelimit;
  return take_token(peer(dst, now), timeout, timeout * kPeerBurstFactor, now);
}

bool IcmpState::ip_error_allow(wire::Ipv4Addr src, TimePoint now) {
  return take_token(peer(src, now), kErrorCost, kErrorBurst, now);
}

bool IcmpState::redirect_allow(wire::Ipv4Addr src, TimePoint now) {
  Peer& p = peer(src, now);
  // A sender quiet for ip_rt_redirect_silence starts over.
  if (now > p.rate_last + kRedirectSilence) {
    p.tokens = std::chrono::nanoseconds(0);
    p.n_redirects = 0;
  }
  // It ignored ip_rt_redirect_number of them: stop, until it is quiet.
  if (p.n_redirects >= kRedirectNumber) {
    p.rate_last = now;
    return false;
  }
  // Each one waits twice as long as the one before (ip_rt_redirect_load << n).
  if (p.n_redirects != 0 && now <= p.rate_last + kRedirectLoad * (1u << p.n_redirects)) return false;
  p.rate_last = now;
  ++p.n_redirects;
  return true;
}

size_t IcmpState::peer_count() const {
  return static_cast<size_t>(std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.used; }));
}

}  // namespace xnet::stack
