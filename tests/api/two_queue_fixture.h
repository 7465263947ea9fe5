#pragma once
// Two shards of ShardedStacks whose stacks (10.0.0.1/24) each have a
// MemoryLink named "eth0" — two queues of one device. The test keeps the far
// end of each queue and plays the peers: it puts each frame on the queue it
// chooses, as a NIC's hash would, and reads what each shard sent.
// (handoff_test: cross-shard delivery; neighbour_sync_test: neighbours.)

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/runtime.h"
#include "stack/api/sharded_stacks.h"
#include "tests/api/fixture.h"
#include "tests/stack/support/frames.h"

namespace xnet::apitest {

inline const wire::MacAddr kServerMac({2, 0, 0, 0, 0, 1});

// A stack owning kA/24 on `link`, its seed `seed`.
inline std::unique_ptr<stack::Stack> make_server(MemoryLink& link, uint64_t seed) {
  stack::StackConfig cfg;
  cfg.seed = seed;
  auto s = std::make_unique<stack::Stack>(cfg);
  const uint16_t ifindex = s->add_interface(link);
  (void)s->add_address(ifindex, wire::Ipv4Prefix{kA, 24}, rt::Reactor::now());
  return s;
}

class TwoQueueTest : public ::testing::Test {
 protected:
  // The far ends answer as `peer_mac`; shard k's stack is seeded seed_base + k.
  void start(wire::MacAddr peer_mac, uint64_t seed_base) {
    rt::RuntimeOptions options;
    options.shards = 2;
    options.pin_threads = false;
    runtime_ = std::make_unique<rt::Runtime>(options);
    stacks_ = std::make_unique<ShardedStacks>(*runtime_, [this, peer_mac, seed_base](unsigned shard) {
      stack::MemoryLinkConfig near, far;
      near.name = "eth0";  // the same device on both shards
      far.name = "peer";
      near.mac = kServerMac;
      far.mac = peer_mac;
      auto [n, f] = MemoryLink::make_pair(near, far);
      far_[shard] = std::move(f);
      ShardNet net;
      net.stack = make_server(*n, seed_base + shard);
      net.links.push_back(std::move(n));
      return net;
    });
  }

  // Stops the stacks, then empties each far end and checks that every frame
  // of its pool came back. Call last in TearDown.
  void finish() {
    if (stacks_) stacks_->stop();
    stacks_.reset();
    for (unsigned k = 0; k < 2 && runtime_; ++k) {
      runtime_->run_on(k, [this, k] {
        if (!far_[k]) return;
        stack::PacketQueue q;
        far_[k]->rx_burst(q, 1024);
        q.clear();
        EXPECT_EQ(far_[k]->pool().in_use(), far_[k]->frames_held()) << "far end " << k << " leaked frames";
        far_[k].reset();
      });
    }
    runtime_.reset();
  }
  void TearDown() override { finish(); }

  // The device puts `frame` (an Ethernet frame) on shard k's queue.
  void inject(unsigned k, const stack::support::Bytes& frame) {
    runtime_->run_on(k, [this, k, &frame] {
      MemoryLink& far = *far_[k];
      stack::Packet p = stack::Packet::allocate(far.pool(), stack::kDefaultHeadroom);
      std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
      stack::PacketQueue q;
      q.push_back(std::move(p));
      EXPECT_EQ(far.tx_burst(q), 1u);
    });
  }

  // The frames shard k sent since the last call, oldest first.
  std::vector<stack::support::Bytes> take(unsigned k) {
    return runtime_->run_on(k, [this, k] {
      std::vector<stack::support::Bytes> out;
      stack::PacketQueue q;
      far_[k]->rx_burst(q, 1024);
      while (!q.empty()) {
        stack::Packet p = q.pop_front();
        out.emplace_back(p.data(), p.data() + p.size());
      }
      return out;
    });
  }

  // Waits (2 s at most) until pred() holds on shard k.
  bool wait_on(unsigned k, const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (runtime_->run_on(k, [&pred] { return pred(); })) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  stack::Stack& stack_of(unsigned k) { return stacks_->stack(k); }

  std::unique_ptr<rt::Runtime> runtime_;
  std::array<std::unique_ptr<MemoryLink>, 2> far_;
  std::unique_ptr<ShardedStacks> stacks_;
};

}  // namespace xnet::apitest
