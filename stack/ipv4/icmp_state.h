#pragma once
// The ICMP rate limiters of one stack: the global token bucket
// (icmp_global_allow / icmp_global_consume: icmp_msgs_per_sec, icmp_msgs_burst)
// and the per-destination limiter (inet_peer_xrlim_allow: icmp_ratelimit, a
// burst of 6 intervals) kept in a fixed, allocation-free table of peers; and
// the wall clock that timestamp replies read.

#include <array>
#include <chrono>
#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

class IcmpState {
 public:
  // The peer table holds at most this many destinations; a new destination
  // evicts the least recently used entry of its probe window (the kernel's
  // inet_peer tree is bounded by memory pressure instead).
  static constexpr size_t kPeerSlots = 1024;
  static constexpr size_t kPeerProbe = 8;
  // XRLIM_BURST_FACTOR: a destination unseen for a while may receive 6 errors
  // back to back, then one per icmp_ratelimit.
  static constexpr int kPeerBurstFactor = 6;

  explicit IcmpState(Stack& stack);

  // icmp_global_allow: true while the global bucket has credit (refilled at
  // icmp_msgs_per_sec, in steps of at least 20 ms, up to icmp_msgs_burst).
  bool global_allow(TimePoint now);
  // icmp_global_consume: a random 0..2 credits per message sent, one on
  // average, as the kernel takes them (from the stack's seeded generator).
  void global_consume();
  // inet_peer_xrlim_allow for `dst` with the icmp_ratelimit interval.
  bool peer_allow(wire::Ipv4Addr dst, TimePoint now);
  // ip_error's own bucket for the sender of an unroutable datagram: one
  // second a message, five at most (ip_rt_error_cost/burst), taken from the
  // same tokens as peer_allow (Linux 6.18 answered two of a fresh sender's
  // burst, then one every two seconds).
  bool ip_error_allow(wire::Ipv4Addr src, TimePoint now);
  // ip_rt_send_redirect: the first redirect to a sender at once, each next
  // after twice the wait of the one before (20 ms << n), none after nine
  // until the sender was quiet for 20.48 s (ip_rt_redirect_*).
  bool redirect_allow(wire::Ipv4Addr src, TimePoint now);

  size_t peer_count() const;

  // The wall clock for ICMP timestamps (RFC 792: milliseconds since midnight
  // UT, which the kernel reads with ktime_get_real). The stack runs on steady
  // time passed in, so it keeps the offset from steady to system time. The
  // constructor takes it from both clocks once; whoever owns the clocks sets
  // it again when the system clock is stepped, and tests set it to pin the time.
  void set_wall_clock(TimePoint now, std::chrono::system_clock::time_point wall);
  std::chrono::system_clock::time_point wall_clock(TimePoint now) const;

 private:
  struct Peer {
    uint32_t addr = 0;
    bool used = false;
    std::chrono::nanoseconds tokens{0};  // rate_tokens
    TimePoint rate_last{};
    uint32_t n_redirects = 0;
    TimePoint last_used{};
  };
  static constexpr std::chrono::seconds kErrorCost{1};       // ip_rt_error_cost (HZ)
  static constexpr std::chrono::seconds kErrorBurst{5};      // ip_rt_error_burst (5 * HZ)
  static constexpr std::chrono::milliseconds kRedirectLoad{20};  // HZ / 50
  static constexpr uint32_t kRedirectNumber = 9;
  static constexpr std::chrono::milliseconds kRedirectSilence{20 << 10};  // load << (number + 1)

  Peer& peer(wire::Ipv4Addr addr, TimePoint now);
  static bool take_token(Peer& p, std::chrono::nanoseconds cost, std::chrono::nanoseconds burst, TimePoint now);

  Stack& stack_;
  int64_t credit_;
  TimePoint stamp_{};
  bool stamped_ = false;
  std::array<Peer, kPeerSlots> peers_{};
  std::chrono::nanoseconds wall_offset_{0};  // system time - steady time
};

}  // namespace xnet::stack
