// The interface transmit queue under a large send: dev_queue_xmit hands a
// full burst (64 frames) to the link at once, and only what the link does
// not take stays queued (up to txqueuelen, then kTxQueueFull). A 65507-byte
// datagram at MTU 68 is 1365 fragments, more than txqueuelen (1000).

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack {
namespace {

using namespace support;
using namespace std::chrono_literals;

constexpr size_t kFragments = 1365;  // (65507 + 8) / 48, rounded up
const Ipv4Addr kPeer(10, 0, 0, 2);
const MacAddr kPeerMac = mac(2);

// One stack on a TapLink of MTU 68 with frames for the whole datagram, its
// neighbour already known (no ARP queue in the way).
struct BigSend {
  BigSend() : link(mac(1), 4096, 2048, 68) {
    StackConfig cfg;
    cfg.seed = 1;
    stack = std::make_unique<Stack>(cfg);
    const uint16_t ifindex = stack->add_interface(link);
    EXPECT_TRUE(stack->add_address(ifindex, wire::Ipv4Prefix{Ipv4Addr(10, 0, 0, 1), 24}, now).ok());
    stack->flush_tx();  // the gratuitous ARP
    (void)link.take_sent();
    EXPECT_TRUE(stack->neighbours().learn_from_peer(ifindex, kPeer, kPeerMac, now));
    sk = stack->udp().open();
    // ~1400 frames of 2 KiB: beyond the default send buffer (SO_SNDBUFFORCE).
    sk->tx.sndbuf->limit = 16u << 20;
  }
  ~BigSend() {
    stack->udp().close(sk);
    stack.reset();
    EXPECT_EQ(link.pool().in_use(), link.frames_held()) << "frames leaked";
  }
  Result<size_t> send(size_t n) {
    const SockAddrIn to{kAfInet, {kPeer, 9}};
    return udp_sendmsg(*stack, *sk, pattern(n), &to, SendOptions{}, now);
  }
  size_t queued() { return stack->interface(1)->txq.size(); }

  Clock::time_point now{std::chrono::seconds(1000)};
  TapLink link;
  std::unique_ptr<Stack> stack;
  UdpSock* sk = nullptr;
};

TEST(TxQueueBurst, ALinkThatTakesEverythingGetsEveryFragment) {
  BigSend b;
  ASSERT_TRUE(b.send(65507).ok());
  // Every full burst already went to the link inside the send; the rest
  // leaves with the next flush (the end of the poll).
  EXPECT_EQ(b.link.sent().size(), kFragments / 64 * 64);
  EXPECT_EQ(b.queued(), kFragments % 64);
  EXPECT_EQ(b.stack->flush_tx(), kFragments % 64);
  const auto sent = b.link.take_sent();
  ASSERT_EQ(sent.size(), kFragments);
  uint32_t off = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(eth_dst(sent[i]), kPeerMac);
    const auto ip = parse_ipv4(sent[i]);
    ASSERT_TRUE(ip);
    EXPECT_EQ((ip->frag & 0x1fff) * 8u, off) << "fragment " << i << " out of order";
    off += static_cast<uint32_t>(sent[i].size() - 14 - 20);
  }
  EXPECT_EQ(off, 65507u + 8u);
  const Stats& st = b.stack->stats();
  EXPECT_EQ(st.dropped(DropReason::kTxQueueFull), 0u);
  EXPECT_EQ(total_drops(st), 0u);
  EXPECT_EQ(st.ip.FragCreates, kFragments);
  EXPECT_EQ(st.ip.OutTransmits, kFragments);
  EXPECT_EQ(st.udp.OutDatagrams, 1u);
}

TEST(TxQueueBurst, ALinkThatTakesNothingFillsTheQueueThenDrops) {
  BigSend b;
  b.link.set_tx_room(0);
  (void)b.send(65507);  // what udp_sendmsg reports for a qdisc drop is the TX path's business
  EXPECT_TRUE(b.link.sent().empty());
  EXPECT_EQ(b.queued(), 1000u);  // txqueuelen
  const Stats& st = b.stack->stats();
  EXPECT_EQ(st.dropped(DropReason::kTxQueueFull), kFragments - 1000);
  EXPECT_EQ(total_drops(st), kFragments - 1000);
  EXPECT_EQ(st.ip.OutTransmits, kFragments);  // counted before the qdisc
  // Backpressure: the queued frames wait, and leave once the link takes them.
  b.link.set_tx_room(std::nullopt);
  EXPECT_EQ(b.stack->flush_tx(), 1000u);
  EXPECT_EQ(b.link.take_sent().size(), 1000u);
  EXPECT_EQ(b.queued(), 0u);
}

TEST(TxQueueBurst, APartialLinkKeepsTheRestQueuedInOrder) {
  BigSend b;
  b.link.set_tx_room(10);  // 10 frames per tx_burst
  ASSERT_TRUE(b.send(64 * 48 - 8 - 48).ok());  // 63 fragments: below a burst, nothing leaves
  EXPECT_TRUE(b.link.sent().empty());
  EXPECT_EQ(b.queued(), 63u);
  ASSERT_TRUE(b.send(1).ok());  // the 64th frame: one burst call, the link takes 10
  EXPECT_EQ(b.link.sent().size(), 10u);
  EXPECT_EQ(b.queued(), 54u);
  b.link.set_tx_room(std::nullopt);
  EXPECT_EQ(b.stack->flush_tx(), 54u);
  const auto sent = b.link.take_sent();
  ASSERT_EQ(sent.size(), 64u);
  for (size_t i = 0; i < 63; ++i) EXPECT_EQ((parse_ipv4(sent[i])->frag & 0x1fff) * 8u, i * 48) << i;
  EXPECT_EQ(parse_ipv4(sent[63])->frag & 0x3fff, 0);  // the small datagram, last, whole
  EXPECT_EQ(b.stack->stats().dropped(DropReason::kTxQueueFull), 0u);
}

}  // namespace
}  // namespace xnet::stack
