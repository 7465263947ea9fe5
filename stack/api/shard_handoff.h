#pragma once
// Cross-shard delivery: a datagram (or an ICMP error) that lands on a shard
// with no socket for it goes to the shard that has one — the kernel's socket
// lookup is global per netns, and this restores that over per-shard stacks.
//
// Who holds what:
//  - HandoffHub, shared by the shards of one interface: the PortDirectory
//    (which shards have sockets on which port), one ring of HandoffItems per
//    ordered pair of shards (from → to), one ring of returned frames per pair
//    (to → from), and each shard's reactor (to wake it).
//  - ShardHandoff, one per shard, on its thread: the stack's UdpHandoff (it
//    hears the ports its table hashes and takes its lookup misses) and an
//    rt::Poller that drains what other shards handed over.
//
// The frame is copied, not moved. Each queue's link has its own UMEM and
// frame pool (single-threaded, no locks), so the receiving shard copies the
// bytes up to the end of the datagram into a frame of its own pool, delivers
// the copy through udp_rcv_handed_over, and returns the original frame(s) on
// the return ring; the sender frees them there. Until then they count as held
// by the sender's stack, so a link's frame accounting keeps adding up.
// Measured (benchmarks/stack:handoff_bench, --config=opt, CPU time, one
// thread, warm caches): a handed-over datagram costs 238 ns against 132 ns
// delivered locally at 64 bytes, 345 against 192 ns at 1472 — the copy
// itself about 50 ns of the 1472-byte figure. That is small beside what a
// datagram costs anyway (a ~3.5 us veth kick, a ~45 us wake-up of a sleeping
// shard), so the frame is copied rather than moved: moving would mean one
// UMEM shared by the queues (XDP_SHARED_UMEM), a frame pool shared between
// threads (atomics or locks on every alloc and free) and every shard's fill
// and completion rings feeding it.
//
// Batches: the sender pushes items while its stack polls and wakes each target
// reactor once per loop pass (at the start of its own next poll, which comes
// in the same pass); the target drains up to kBudget items per ring per poll.
// Backpressure: at most `capacity` items holding frames per pair are out
// (pushed and not yet returned), so the return ring never overflows; one more
// is dropped and counted (HandoffStats::RingFull), never retried in a loop.
//
// Picking the target: the lowest shard in the port's owners not yet tried.
// If it misses too (the socket there is bound to another address, connected
// to another peer), it tries the next; the last one answers NoPorts and the
// port unreachable. Not global: a datagram that finds a socket on its own
// shard stays there even when another shard has a better-scoring one (a
// connected socket beside a wildcard one), and broadcast / multicast reach the
// sockets of the shard they land on only.
//
// Teardown (ShardedStacks::stop_services): on every shard stop_handing_over();
// then on every shard drain_incoming(); then on every shard drain_returns() —
// after which no frame of any shard is in a ring — and destroy.

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/poller.h"
#include "runtime/reactor.h"
#include "runtime/shard_rings.h"
#include "stack/api/port_directory.h"
#include "stack/core/packet.h"
#include "stack/core/protocol.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_handoff.h"

namespace xnet {

struct HandoffItem {
  enum class Kind : uint8_t { kDatagram, kError };
  Kind kind = Kind::kDatagram;
  stack::ShardMask tried = 0;  // the shards that missed, the sender included
  // kDatagram: frames of the sender's pool, the datagram's head and the
  // first of its other frames (chained through PacketMeta::next), or kNoFrame.
  // kError: head, when not kNoFrame, holds a copy of the quoted bytes
  // (err.quoted_transport is empty in the ring: it pointed into the ICMP
  // message's frame, valid only during icmp_rcv).
  stack::FramePool* pool = nullptr;
  uint32_t head = stack::FramePool::kNoFrame;
  uint32_t rest = stack::FramePool::kNoFrame;
  stack::IcmpErrorInfo err;  // kError
};

// Frames going back to the shard that handed them over, to be freed there.
struct HandoffReturn {
  stack::FramePool* pool = nullptr;
  uint32_t head = stack::FramePool::kNoFrame;
  uint32_t rest = stack::FramePool::kNoFrame;
};

class HandoffHub {
 public:
  static constexpr size_t kDefaultCapacity = 1024;

  // reactors[i]: shard i's (woken when something is handed to it).
  HandoffHub(std::vector<rt::Reactor*> reactors, size_t capacity = kDefaultCapacity)
      : reactors_(std::move(reactors)),
        forward_(static_cast<unsigned>(reactors_.size()), capacity),
        back_(static_cast<unsigned>(reactors_.size()), capacity) {}

  unsigned shards() const { return static_cast<unsigned>(reactors_.size()); }
  size_t capacity() const { return forward_.capacity(); }
  PortDirectory& directory() { return directory_; }
  rt::SpscRing<HandoffItem>& forward(unsigned from, unsigned to) { return forward_.ring(from, to); }
  rt::SpscRing<HandoffReturn>& back(unsigned from, unsigned to) { return back_.ring(from, to); }
  rt::Reactor& reactor(unsigned shard) { return *reactors_[shard]; }

 private:
  std::vector<rt::Reactor*> reactors_;
  PortDirectory directory_;
  rt::ShardRings<HandoffItem> forward_;
  rt::ShardRings<HandoffReturn> back_;
};

class ShardHandoff final : public stack::UdpHandoff, public rt::Poller {
 public:
  // Items taken per incoming ring per poll: bounded work per pass.
  static constexpr size_t kBudget = 256;

  // On shard `shard`'s thread. Installs itself as the stack's handoff.
  ShardHandoff(HandoffHub& hub, unsigned shard, stack::Stack& stack);
  ~ShardHandoff() override;
  ShardHandoff(const ShardHandoff&) = delete;
  ShardHandoff& operator=(const ShardHandoff&) = delete;

  // Teardown, in this order across all shards (see above).
  void stop_handing_over();
  void drain_incoming();
  void drain_returns();

  // stack::UdpHandoff
  void port_hashed(uint16_t port) override;
  void port_unhashed(uint16_t port) override;
  bool hand_over_datagram(stack::Packet& head, stack::PacketQueue& rest, uint16_t dport,
                          stack::ShardMask tried) override;
  bool hand_over_error(const stack::IcmpErrorInfo& err, stack::ShardMask tried) override;

  // rt::Poller
  bool poll() override;
  void prepare_to_sleep() override { wake_targets(); }

 private:
  // The shard to try next for `port`, or -1.
  int pick(uint16_t port, stack::ShardMask tried) const;
  void wake_targets();
  bool take_incoming(unsigned from, size_t budget);
  bool take_returns(unsigned from);
  void deliver(unsigned from, const HandoffItem& item);

  HandoffHub& hub_;
  unsigned self_;
  stack::Stack& stack_;
  std::vector<uint32_t> sockets_on_port_;  // this stack's hashed sockets per port
  std::vector<size_t> out_;                // per target: datagrams pushed, not yet returned
  stack::ShardMask wake_ = 0;              // shards to wake at the next poll
  bool installed_ = false;
};

}  // namespace xnet
