// Neighbour sharing between the shards of ShardedStacks (stack/api/
// neighbour_sync.h) on two queues of one device (two_queue_fixture.h). The
// test plays the neighbours and, like a multi-queue device, hands every ARP
// reply to shard 0 only.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "stack/api/sharded_stacks.h"
#include "stack/l2/neighbour_table.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_table.h"
#include "tests/api/two_queue_fixture.h"
#include "tests/stack/support/frames.h"

namespace xnet::apitest {
namespace {

namespace sup = stack::support;

const Ipv4Addr kPeer2(10, 0, 0, 2);
const Ipv4Addr kPeer3(10, 0, 0, 3);
const wire::MacAddr kMac2({2, 0, 0, 0, 0, 2});
const wire::MacAddr kMac3({2, 0, 0, 0, 0, 3});

class NeighbourSyncTest : public TwoQueueTest {
 protected:
  void SetUp() override {
    start(kMac2, 100);
    // The gratuitous ARPs of add_address.
    for (unsigned k = 0; k < 2; ++k) (void)take(k);
  }

  // Frames at shard k's far end until `pred` holds for one (or 2 s passed).
  std::vector<sup::Bytes> wait_for(unsigned k, const std::function<bool(const sup::Bytes&)>& pred) {
    std::vector<sup::Bytes> all;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (sup::Bytes& f : take(k)) all.push_back(std::move(f));
      for (const sup::Bytes& f : all) {
        if (pred(f)) return all;
      }
      std::this_thread::sleep_for(2ms);
    }
    return all;
  }

  // Shard k's stack sends a datagram to `dst` (a raw socket of the stack, closed at once).
  void send_from(unsigned k, Ipv4Addr dst) {
    runtime_->run_on(k, [this, k, dst] {
      stack::Stack& s = stacks_->driver(k).stack();
      stack::UdpSock* sk = s.udp().open();
      const stack::SockAddrIn to{stack::kAfInet, {dst, 9}};
      EXPECT_TRUE(stack::udp_sendmsg(s, *sk, bytes("hello"), &to, stack::SendOptions{}, rt::Reactor::now()).ok());
      s.udp().close(sk);
    });
  }

  // The device gives this reply to shard 0's queue, whoever asked.
  void reply_on_shard0(wire::MacAddr mac, Ipv4Addr ip) {
    inject(0, sup::arp_frame(kServerMac, sup::arp_fields(sup::kArpReply, mac, ip, kServerMac, kA)));
  }

  std::optional<stack::NeighInfo> lookup(unsigned k, Ipv4Addr ip) {
    return runtime_->run_on(k, [this, k, ip] { return stacks_->driver(k).stack().neighbours().lookup(1, ip); });
  }
};

bool is_request_for(const sup::Bytes& f, Ipv4Addr ip) {
  const auto a = sup::parse_arp(f);
  return a && a->op == sup::kArpRequest && a->tip == ip;
}
bool is_datagram_to(const sup::Bytes& f, wire::MacAddr mac, Ipv4Addr ip) {
  const auto h = sup::parse_ipv4(f);
  return h && h->dst == ip && sup::eth_dst(f) == mac;
}

// Shard 1 asks; the reply lands on shard 0, which has no entry: it is passed
// on, shard 1 completes its resolution and its datagram leaves.
TEST_F(NeighbourSyncTest, ReplyOnAnotherQueueCompletesTheRequestersResolution) {
  send_from(1, kPeer2);
  auto at1 = wait_for(1, [](const sup::Bytes& f) { return is_request_for(f, kPeer2); });
  ASSERT_EQ(std::count_if(at1.begin(), at1.end(), [](const sup::Bytes& f) { return is_request_for(f, kPeer2); }), 1);
  reply_on_shard0(kMac2, kPeer2);
  at1 = wait_for(1, [](const sup::Bytes& f) { return is_datagram_to(f, kMac2, kPeer2); });
  EXPECT_TRUE(std::any_of(at1.begin(), at1.end(), [](const sup::Bytes& f) { return is_datagram_to(f, kMac2, kPeer2); }));
  const auto e1 = lookup(1, kPeer2);
  ASSERT_TRUE(e1);
  EXPECT_EQ(e1->state, stack::NeighState::kReachable);
  EXPECT_EQ(e1->mac, kMac2);
  EXPECT_FALSE(lookup(0, kPeer2)) << "arp_accept = 0: shard 0 never asked";
  const uint64_t failed = runtime_->run_on(1, [this] {
    return stacks_->driver(1).stack().stats().dropped(stack::DropReason::kNeighFailed);
  });
  EXPECT_EQ(failed, 0u);
}

// Shard 0 resolves a neighbour itself: shard 1 gets the entry and sends to it
// without an ARP request of its own.
TEST_F(NeighbourSyncTest, AnEntryConfirmedOnOneShardServesTheOther) {
  send_from(0, kPeer3);
  (void)wait_for(0, [](const sup::Bytes& f) { return is_request_for(f, kPeer3); });
  reply_on_shard0(kMac3, kPeer3);
  auto at0 = wait_for(0, [](const sup::Bytes& f) { return is_datagram_to(f, kMac3, kPeer3); });
  EXPECT_TRUE(std::any_of(at0.begin(), at0.end(), [](const sup::Bytes& f) { return is_datagram_to(f, kMac3, kPeer3); }));
  // The announcement is posted to shard 1: wait until it is applied.
  std::optional<stack::NeighInfo> e1;
  for (int i = 0; i < 1000 && !e1; ++i) {
    e1 = lookup(1, kPeer3);
    if (!e1) std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(e1);
  EXPECT_EQ(e1->state, stack::NeighState::kReachable);
  EXPECT_EQ(e1->mac, kMac3);
  send_from(1, kPeer3);
  auto at1 = wait_for(1, [](const sup::Bytes& f) { return is_datagram_to(f, kMac3, kPeer3); });
  EXPECT_TRUE(std::any_of(at1.begin(), at1.end(), [](const sup::Bytes& f) { return is_datagram_to(f, kMac3, kPeer3); }));
  EXPECT_FALSE(std::any_of(at1.begin(), at1.end(), [](const sup::Bytes& f) { return is_request_for(f, kPeer3); }));
}

// Different devices (differently named links) share nothing.
TEST(NeighbourSyncOff, DifferentLinksShareNothing) {
  rt::RuntimeOptions options;
  options.shards = 2;
  options.pin_threads = false;
  rt::Runtime runtime(options);
  std::array<std::unique_ptr<MemoryLink>, 2> far;
  {
    ShardedStacks stacks(runtime, [&](unsigned shard) {
      stack::MemoryLinkConfig near, f;
      near.name = "eth" + std::to_string(shard);
      near.mac = kServerMac;
      f.mac = kMac2;
      auto [n, fl] = MemoryLink::make_pair(near, f);
      far[shard] = std::move(fl);
      ShardNet net;
      net.stack = make_server(*n, 100 + shard);
      net.links.push_back(std::move(n));
      return net;
    });
    for (unsigned k = 0; k < 2; ++k) {
      EXPECT_FALSE(runtime.run_on(k, [&stacks, k] { return stacks.driver(k).stack().neighbours().has_observer(); }));
    }
    stacks.stop();
  }
  for (unsigned k = 0; k < 2; ++k) {
    runtime.run_on(k, [&far, k] {
      EXPECT_EQ(far[k]->pool().in_use(), far[k]->frames_held());
      far[k].reset();
    });
  }
}

}  // namespace
}  // namespace xnet::apitest
