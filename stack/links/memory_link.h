#pragma once
// MemoryLink: two Links joined back to back in memory, for tests and
// simulation (smoltcp's Loopback + FaultInjector, gVisor's channel endpoint).
//
// Each side owns its FramePool. tx_burst copies every frame into a frame of
// the peer's pool (that copy is "the wire") and frees the sender's frame, so
// frame destructors (send-buffer accounting) run as they would after a real
// tx completion. The peer's receive queue is bounded: when it is full
// tx_burst stops taking, which is the backpressure the stack must handle.
//
// Time: a MemoryLink has no clock. advance(now) sets the time of the pair;
// delayed frames become visible to rx_burst once their delivery time is
// ≤ the last `now` given. Without advance(), time stays at TimePoint{} and
// delayed frames wait forever; next_deadline() says when to call it.
//
// Faults are injected per direction, configured on the sending side, drawn
// from a seeded generator: the same seed, config and call sequence give the
// same faults. Every frame consumes the same number of draws whatever is
// decided, so changing one probability does not reshuffle the others.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>

#include "stack/core/frame_pool.h"
#include "stack/core/link.h"
#include "stack/core/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// Probabilities in [0, 1] per transmitted frame.
struct MemoryLinkFaults {
  double drop = 0;
  double duplicate = 0;  // a second, identical copy follows the frame
  double reorder = 0;    // held back until the next frame in this direction has passed
  double corrupt = 0;    // one byte of the delivered copy XORed with a non-zero value
  double delay = 0;      // delivered `delay_time` after transmission
  std::chrono::nanoseconds delay_time = std::chrono::milliseconds(1);
  // A reordered frame with no successor is released by advance() after this.
  std::chrono::nanoseconds reorder_timeout = std::chrono::milliseconds(1);
  uint64_t seed = 1;
};

struct MemoryLinkFaultCounters {
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t corrupted = 0;
  uint64_t delayed = 0;
  friend bool operator==(const MemoryLinkFaultCounters&, const MemoryLinkFaultCounters&) = default;
};

struct MemoryLinkConfig {
  std::string name = "mem0";
  uint32_t frame_size = 2048;
  uint32_t frame_count = 256;
  uint32_t mtu = 1500;
  wire::MacAddr mac;
  // Taken as given. tx_checksum: tx_burst completes kPartial checksums (sum
  // from csum_start, as a NIC would). rx_checksum: received IPv4/UDP frames
  // whose checksum verifies (or is absent) arrive kUnnecessary.
  LinkFeatures features;
  // Where received frames start in their frame (room for the stack to push).
  uint16_t rx_headroom = kDefaultHeadroom;
  // Frames waiting for this side's rx_burst, including delayed ones.
  size_t rx_queue_capacity = 256;
  // Faults on frames this side transmits.
  MemoryLinkFaults tx_faults;
};

enum class TapDirection : uint8_t { kTx, kRx };

class MemoryLink final : public Link {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Sees each frame this side transmits (as handed over, before faults and
  // before checksum completion, like a capture on a sending host) and each
  // frame rx_burst returns. Installed once; not a per-packet allocation.
  using Tap = std::function<void(TapDirection, std::span<const std::byte> frame, TimePoint now)>;

  static std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> make_pair(
      MemoryLinkConfig a, MemoryLinkConfig b);

  ~MemoryLink() override;
  MemoryLink(const MemoryLink&) = delete;
  MemoryLink& operator=(const MemoryLink&) = delete;

  size_t rx_burst(PacketQueue& out, size_t max) override;
  size_t tx_burst(PacketQueue& q) override;
  FramePool& pool() override { return pool_; }
  uint32_t mtu() const override { return cfg_.mtu; }
  wire::MacAddr mac() const override { return cfg_.mac; }
  LinkFeatures features() const override { return cfg_.features; }
  std::string name() const override { return cfg_.name; }
  LinkStats stats() const override { return stats_; }
  uint32_t frames_held() const override;

  // Sets the time of both sides and releases frames that are due.
  void advance(TimePoint now);
  // The earliest time a delayed or held frame toward either side becomes due.
  std::optional<TimePoint> next_deadline() const;

  void set_tap(Tap tap) { tap_ = std::move(tap); }
  void set_tx_faults(const MemoryLinkFaults& f);
  const MemoryLinkFaultCounters& fault_counters() const { return faults_; }
  // Frames waiting for this side's rx_burst (visible now or later).
  size_t rx_pending() const { return frames_held(); }
  MemoryLink* peer() const { return peer_; }

 private:
  struct Decision {
    bool drop, duplicate, reorder, corrupt, delay;
    uint64_t corrupt_pos, corrupt_xor;
  };

  explicit MemoryLink(MemoryLinkConfig cfg);

  Decision decide();
  // Receiver side: copies `frame` into this side's pool; invalid when the
  // frame cannot be received (no buffer, too long): counted as rx_dropped.
  Packet receive_copy(const Packet& frame);
  void complete_partial_checksum(Packet& copy, const Packet& original) const;
  void mark_rx_checksum(Packet& p) const;
  void enqueue(Packet p, bool delay, std::chrono::nanoseconds delay_time, bool reorder,
               std::chrono::nanoseconds reorder_timeout);
  void release_due();

  MemoryLinkConfig cfg_;
  FramePool pool_;
  MemoryLink* peer_ = nullptr;
  TimePoint now_{};

  // Receive side, all frames from pool_. Declared after pool_ so they are
  // emptied back into it before it goes.
  PacketQueue ready_;
  PacketQueue delayed_;  // delivery time in meta().timestamp_ns, non-decreasing
  Packet held_;          // reordered, waiting for the next frame to pass it
  TimePoint held_until_{};

  // Transmit side.
  std::mt19937_64 rng_;
  MemoryLinkFaultCounters faults_;
  LinkStats stats_;
  Tap tap_;
};

}  // namespace xnet::stack
