#pragma once
// PortDirectory: which shards have a UDP socket hashed on each local port —
// the read-mostly table the shards of one interface share so that a datagram
// landing on a shard with no socket for it can go where the socket lives
// (shard_handoff.h). Written on bind / autobind / close (a shard sets or
// clears its own bit, so writers never contend on the meaning of a word),
// read on every socket-lookup miss.
//
// One 64-bit mask per port: 512 KiB for the whole port space, no lock, no
// allocation after construction. Relaxed atomics: a datagram racing with the
// bind that would own it may miss it, as it may in the kernel; nothing else
// is published through the table.

#include <atomic>
#include <cstdint>
#include <memory>

#include "stack/udp/udp_handoff.h"

namespace xnet {

class PortDirectory {
 public:
  static constexpr unsigned kMaxShards = 64;  // bits of a ShardMask

  PortDirectory() : owners_(new std::atomic<stack::ShardMask>[kPorts]) {
    for (uint32_t p = 0; p < kPorts; ++p) owners_[p].store(0, std::memory_order_relaxed);
  }

  void add(unsigned shard, uint16_t port) { owners_[port].fetch_or(bit(shard), std::memory_order_relaxed); }
  void remove(unsigned shard, uint16_t port) { owners_[port].fetch_and(~bit(shard), std::memory_order_relaxed); }
  stack::ShardMask owners(uint16_t port) const { return owners_[port].load(std::memory_order_relaxed); }

  static stack::ShardMask bit(unsigned shard) { return stack::ShardMask{1} << shard; }

 private:
  static constexpr uint32_t kPorts = 65536;
  std::unique_ptr<std::atomic<stack::ShardMask>[]> owners_;
};

}  // namespace xnet
