#pragma once
// The five netfilter hook points of the IPv4 path (NF_INET_*), as a list of
// callbacks per point run in priority order. Hooks are registered rarely
// (setup, tests, capture); running them costs one branch when none is set.

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "stack/core/packet.h"

namespace xnet::stack {

enum class HookPoint : uint8_t { kPreRouting, kLocalIn, kForward, kLocalOut, kPostRouting, kCount };

// NF_ACCEPT / NF_DROP / NF_STOLEN. A hook that steals the packet moves it out
// of the Packet& it was given (the caller then holds an empty handle).
enum class HookVerdict : uint8_t { kAccept, kDrop, kStolen };

using HookFn = std::function<HookVerdict(Packet&, std::chrono::steady_clock::time_point)>;

class Hooks {
 public:
  using Id = uint32_t;

  // Lower priority runs first (as NF_IP_PRI_*); equal priorities in order of registration.
  Id add(HookPoint point, int priority, HookFn fn);
  bool remove(Id id);
  bool empty(HookPoint point) const { return chains_[static_cast<size_t>(point)].empty(); }
  // Runs the chain until a hook does not accept.
  HookVerdict run(HookPoint point, Packet& pkt, std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    Id id;
    int priority;
    HookFn fn;
  };
  std::vector<Entry> chains_[static_cast<size_t>(HookPoint::kCount)];
  Id next_id_ = 1;
};

}  // namespace xnet::stack
