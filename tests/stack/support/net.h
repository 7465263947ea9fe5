#pragma once
// A small test network for stack tests: N stacks on one Ethernet segment, a
// manual clock, and taps.
//
//   Net net(2);                       // stacks 0,1: 10.0.0.1/24, 10.0.0.2/24, MACs 02::01, 02::02
//   net.inject(0, support::arp_frame(...));   // as if stack 0 received it
//   net.run();                         // poll everyone until nothing moves
//   net.advance(1s);                   // move the clock, then run()
//   net.sent(0)                        // copies of every frame stack 0 transmitted
//   EXPECT_EQ(net.frames_in_flight(), 0u);
//
// TapLink is the Link each stack gets: its own FramePool; what the stack
// transmits is copied to the tap (`sent`) and delivered to every other link
// of the segment (a hub: filtering by MAC is the receiver's job, as eth_rcv
// does). `set_tx_room(n)` makes the link take at most n frames per tx_burst
// (0: nothing, for backpressure tests).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "stack/core/frame_pool.h"
#include "stack/core/link.h"
#include "stack/core/packet.h"
#include "stack/core/stack.h"
#include "stack/core/stack_config.h"
#include "tests/stack/support/frames.h"

namespace xnet::stack::support {

class Segment;

class TapLink : public Link {
 public:
  explicit TapLink(MacAddr mac, uint32_t frames = 512, uint32_t frame_size = 2048, uint32_t mtu = 1500);
  ~TapLink() override;

  // Queues `frame` for the next rx_burst (copied into a frame of this link's
  // pool). False when the pool is exhausted.
  bool inject(std::span<const std::byte> frame);
  // Frames transmitted through this link, oldest first; take_sent() clears.
  const std::vector<Bytes>& sent() const { return sent_; }
  std::vector<Bytes> take_sent();
  // At most `n` frames per tx_burst; nullopt: unlimited.
  void set_tx_room(std::optional<size_t> n) { tx_room_ = n; }
  void attach(Segment* segment) { segment_ = segment; }

  size_t rx_burst(PacketQueue& out, size_t max) override;
  size_t tx_burst(PacketQueue& q) override;
  FramePool& pool() override { return pool_; }
  uint32_t mtu() const override { return mtu_; }
  wire::MacAddr mac() const override { return mac_; }
  LinkFeatures features() const override { return {}; }
  std::string name() const override { return "tap"; }
  uint32_t frames_held() const override { return static_cast<uint32_t>(rx_.size()); }
  // The multicast filter the stack asked for (add_multicast / del_multicast),
  // in the order of the first joins; a second add or a stray del is recorded
  // in `filter_misuse` (the stack must only call on the first / last user).
  void add_multicast(wire::Ipv4Addr group) override;
  void del_multicast(wire::Ipv4Addr group) override;
  const std::vector<Ipv4Addr>& multicast_filter() const { return filter_; }
  uint32_t filter_misuse() const { return filter_misuse_; }

 private:
  std::vector<Ipv4Addr> filter_;
  uint32_t filter_misuse_ = 0;
  FramePool pool_;
  MacAddr mac_;
  uint32_t mtu_;
  PacketQueue rx_;
  std::vector<Bytes> sent_;
  std::optional<size_t> tx_room_;
  Segment* segment_ = nullptr;
};

// A hub: a frame sent by one link arrives at every other one.
class Segment {
 public:
  void add(TapLink& link) {
    links_.push_back(&link);
    link.attach(this);
  }
  void deliver(const TapLink& from, std::span<const std::byte> frame);
  // Drop everything instead of delivering (a cut cable; sent() still records).
  bool cut = false;

 private:
  std::vector<TapLink*> links_;
};

using Clock = std::chrono::steady_clock;

struct NetOptions {
  StackConfig config;        // seed 0 is replaced by a fixed seed per stack
  bool addresses = true;     // give stack i 10.0.0.(i+1)/24
  uint32_t frames = 512;     // per link pool
};

// What Net and MemNet share: one Stack per link on a manual clock.
// start() gives stack i interface 1 on links[i] (seed from the config, or a
// fixed one per stack) and, with `addresses`, 10.0.0.(i+1)/24, then runs
// until the gratuitous ARPs settled and zeroes every stack's stats. Owners
// clear their taps afterwards and destroy the stacks before their links.
class StackGroup {
 public:
  Stack& stack(size_t i) { return *stacks_[i]; }
  Ipv4Addr addr(size_t i) const { return Ipv4Addr(10, 0, 0, static_cast<uint8_t>(i + 1)); }
  MacAddr mac_of(size_t i) const { return mac(static_cast<uint8_t>(i + 1)); }

  Clock::time_point now() const { return now_; }
  // Polls every stack until a whole round moves nothing (at most `max_rounds`).
  // Returns the number of rounds that moved something.
  size_t run(size_t max_rounds = 1000);
  // Moves the clock by `dt` (and the links' clocks, see on_advance), then run().
  void advance(Clock::duration dt);
  // Advances in `step`s until `t` has passed (timers fire at their times).
  void advance_by_steps(Clock::duration total, Clock::duration step);

 protected:
  StackGroup() = default;
  virtual ~StackGroup() = default;
  void start(const NetOptions& options, std::span<Link* const> links);
  // Called by advance() with the new time before the stacks run.
  virtual void on_advance(Clock::time_point) {}

  std::vector<std::unique_ptr<Stack>> stacks_;  // owners clear it before their links go
  Clock::time_point now_{std::chrono::seconds(1000)};
};

class Net : public StackGroup {
 public:
  explicit Net(size_t stacks, NetOptions options = {});
  ~Net() override;

  TapLink& link(size_t i) { return *links_[i]; }
  uint16_t ifindex(size_t) const { return 1; }
  Segment& segment() { return segment_; }

  // Hands `frame` to stack i as if its link received it (taken at the next poll).
  void inject(size_t i, std::span<const std::byte> frame);
  // Frames stack i transmitted since the last call.
  std::vector<Bytes> sent(size_t i) { return links_[i]->take_sent(); }
  // A packet in stack i's link pool holding `bytes` after `headroom` bytes.
  Packet make_packet(size_t i, std::span<const std::byte> bytes, uint16_t headroom = kDefaultHeadroom);

  // Frames out of every pool beyond what the links hold themselves: 0 when
  // nothing leaked or is still queued in a stack.
  uint32_t frames_in_flight() const;

 private:
  Segment segment_;
  std::vector<std::unique_ptr<TapLink>> links_;
};

// Sum of every DropReason counter.
uint64_t total_drops(const Stats& s);

}  // namespace xnet::stack::support
