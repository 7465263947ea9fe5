#pragma once
// ShardRings<T>: one SpscRing<T> per ordered pair of shards (from → to).
//
// The runtime's own rings carry one coroutine handle per submit_to. A stage
// that moves many small items between shards each loop pass (datagrams handed
// to the shard that owns their socket) wants rings of its own items instead:
// the producer pushes a batch, wakes the consumer's reactor once, and the
// consumer's poller drains it. Which thread may touch which ring is the
// SpscRing rule: only `from` pushes to ring(from, to), only `to` pops.

#include <cstddef>
#include <memory>
#include <vector>

#include "runtime/spsc_ring.h"

namespace xnet::rt {

template <typename T>
class ShardRings {
 public:
  // `capacity` per ring, a power of two.
  ShardRings(unsigned shards, std::size_t capacity) : shards_(shards) {
    rings_.reserve(std::size_t{shards} * shards);
    for (std::size_t i = 0; i < std::size_t{shards} * shards; ++i) {
      rings_.push_back(std::make_unique<SpscRing<T>>(capacity));
    }
  }

  unsigned shards() const { return shards_; }
  std::size_t capacity() const { return rings_.empty() ? 0 : rings_[0]->capacity(); }
  SpscRing<T>& ring(unsigned from, unsigned to) { return *rings_[std::size_t{from} * shards_ + to]; }

 private:
  unsigned shards_;
  std::vector<std::unique_ptr<SpscRing<T>>> rings_;  // [from * shards + to]; a ring to itself stays unused
};

}  // namespace xnet::rt
