// The connected socket's prebuilt headers (stack/udp/udp_header_cache.h)
// against the stages: every script runs twice on identical topologies, once
// with the cache and once without (StackConfig::udp_header_cache), and every
// frame the sender's link transmitted (Ethernet header to the last byte, as
// handed to the link: partial checksums unfinished), every send's result and
// every counter of both stacks must be the same. A script also checks that
// the cache was in use where it should be, so a cache that never fills
// cannot pass.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "stack/core/hooks.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/links/memory_link.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet::stack {
namespace {

using txtest::LinkSpec;
using txtest::pattern;
using txtest::TxNet;
using namespace std::chrono_literals;

constexpr uint16_t kPortB = 5000;

struct Outcome {
  std::vector<std::vector<std::byte>> frames;  // A's link, transmitted
  std::vector<std::string> results;            // each send: bytes or errno
  std::string counters_a, counters_b;
  size_t received = 0;
  size_t cached_sends = 0;  // sends that found the cache valid before them
};

// A script drives socket `a` (connected to B's bound socket) through `net`.
struct Ctx {
  TxNet& net;
  UdpSock& a;
  Outcome& out;
  // The first datagram waits for ARP (no template yet); then the path is known.
  void resolve() {
    send(16);
    net.run();
  }
  void send(size_t n, const SendOptions& opts = {}) {
    if (a.tx.hdr_cache.valid && net.stack(0).config().udp_header_cache) ++out.cached_sends;
    auto r = net.send(0, a, pattern(n, static_cast<unsigned>(out.results.size() + 1)), std::nullopt, opts);
    out.results.push_back(r ? std::to_string(*r) : r.error().message());
  }
  void send_to(size_t n, wire::Ipv4Addr to, uint16_t port = kPortB) {
    if (a.tx.hdr_cache.valid && net.stack(0).config().udp_header_cache) ++out.cached_sends;
    auto r = net.send(0, a, pattern(n, static_cast<unsigned>(out.results.size() + 1)), SockAddrIn{kAfInet, {to, port}});
    out.results.push_back(r ? std::to_string(*r) : r.error().message());
  }
};
using Script = std::function<void(Ctx&)>;

std::string counters(const Stack& s) {
  return format_snmp(s.stats(), false, 64) + format_netstat(s.stats()) + format_drops(s.stats());
}

Outcome run(bool cache, const Script& script, LinkSpec spec, bool connect) {
  Outcome out;
  TxNet net(2, {spec});
  net.stack(0).config().udp_header_cache = cache;
  net.link_of(0).set_tap([&](TapDirection d, std::span<const std::byte> frame, TimePoint) {
    if (d == TapDirection::kTx) out.frames.emplace_back(frame.begin(), frame.end());
  });
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  UdpSock& a = net.socket(0);
  if (connect) net.connect(0, a, net.addr(1), kPortB);
  Ctx ctx{net, a, out};
  script(ctx);
  net.run();
  out.received = net.recv_all(1, b).size();
  out.counters_a = counters(net.stack(0));
  out.counters_b = counters(net.stack(1));
  net.close_all();
  net.run(10ms);
  EXPECT_EQ(net.frames_in_flight(), 0u) << "frames leaked (cache " << cache << ")";
  return out;
}

// Runs the script both ways and compares; returns the cached run.
Outcome same_both_ways(const Script& script, LinkSpec spec = {}, bool connect = true) {
  const Outcome slow = run(false, script, spec, connect);
  const Outcome fast = run(true, script, spec, connect);
  EXPECT_EQ(fast.results, slow.results);
  EXPECT_EQ(fast.frames.size(), slow.frames.size());
  for (size_t i = 0; i < std::min(fast.frames.size(), slow.frames.size()); ++i) {
    EXPECT_EQ(fast.frames[i], slow.frames[i]) << "frame " << i;
  }
  EXPECT_EQ(fast.counters_a, slow.counters_a);
  EXPECT_EQ(fast.counters_b, slow.counters_b);
  EXPECT_EQ(fast.received, slow.received);
  EXPECT_EQ(slow.cached_sends, 0u);
  return fast;
}

Outcome unconnected_both_ways(const Script& script) { return same_both_ways(script, LinkSpec{}, false); }

// Sizes around every edge: empty, odd, one byte short of and at the MTU
// (1472 = 1500 - 28), and past it (fragmented: the stages).
const std::vector<size_t> kSizes = {0, 1, 7, 64, 333, 1471, 1472, 1473, 3000, 64};

Script sizes_script(std::function<void(UdpSock&)> options = {}) {
  return [options](Ctx& c) {
    if (options) options(c.a);
    c.resolve();
    for (size_t n : kSizes) c.send(n);
  };
}

TEST(UdpHeaderCache, SameBytesAndCountersAsTheStages) {
  const Outcome o = same_both_ways(sizes_script());
  EXPECT_GE(o.cached_sends, 6u);  // every size that fits, after the first send that fills it
}

TEST(UdpHeaderCache, SocketOptionsInTheTemplate) {
  const std::vector<std::pair<std::string, std::function<void(UdpSock&)>>> cases = {
      {"ttl 7", [](UdpSock& s) { (void)udp_set_ttl(s, 7); }},
      {"tos 0x28", [](UdpSock& s) { (void)udp_set_tos(s, 0x28); }},
      {"pmtudisc dont", [](UdpSock& s) { udp_set_pmtudisc(s, PmtuDisc::kDont); }},
      {"pmtudisc do", [](UdpSock& s) { udp_set_pmtudisc(s, PmtuDisc::kDo); }},
      {"pmtudisc probe", [](UdpSock& s) { udp_set_pmtudisc(s, PmtuDisc::kProbe); }},
      {"pmtudisc interface", [](UdpSock& s) { udp_set_pmtudisc(s, PmtuDisc::kInterface); }},
      {"pmtudisc omit", [](UdpSock& s) { udp_set_pmtudisc(s, PmtuDisc::kOmit); }},
      {"no_check_tx", [](UdpSock& s) { udp_set_no_check_tx(s, true); }},
  };
  for (const auto& [name, set] : cases) {
    SCOPED_TRACE(name);
    same_both_ways(sizes_script(set));
  }
}

TEST(UdpHeaderCache, DeviceChecksumLeavesThePartialSumAsTheStagesDo) {
  LinkSpec spec;
  spec.tx_checksum = true;
  const Outcome o = same_both_ways(sizes_script(), spec);
  EXPECT_GE(o.cached_sends, 6u);
}

TEST(UdpHeaderCache, OptionChangedAfterTheTemplateWasBuilt) {
  const Outcome o = same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(100);
    c.send(100);
    (void)udp_set_ttl(c.a, 9);
    c.send(100);
    (void)udp_set_tos(c.a, 0x10);
    c.send(100);
    udp_set_pmtudisc(c.a, PmtuDisc::kDont);
    c.send(100);
    udp_set_no_check_tx(c.a, true);
    c.send(100);
    c.send(100);
  });
  EXPECT_GE(o.cached_sends, 2u);
}

TEST(UdpHeaderCache, CmsgsCorkAndOtherDestinationsTakeTheStagesAndShareTheIdCounter) {
  same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(50);
    SendOptions ttl;
    ttl.ttl = 3;
    c.send(50, ttl);
    c.send(50);
    SendOptions more;
    more.more = true;
    c.send(20, more);
    c.send(30);  // ends the corked datagram
    c.send(50);
    (void)udp_set_cork(c.net.stack(0), c.a, true, c.net.now());
    c.send(10);
    c.send(10);
    (void)udp_set_cork(c.net.stack(0), c.a, false, c.net.now());
    c.send(50);
    c.send_to(40, c.net.addr(1));
    c.send(50);
    c.send_to(40, c.net.addr(1), kPortB + 1);  // a template for another port
    c.send(50);                                 // ... is not the connected peer's
    c.send(50);
  });
}

TEST(UdpHeaderCache, StaleNeighbourRunsItsStateMachine) {
  // After reachable_time the entry is stale: the next send must start the
  // delayed re-probe (neigh_output) and the unicast probes follow, as without
  // the cache; once the peer answers, the cache is used again.
  const Outcome o = same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(64);
    c.net.run_for(31s, 1s);  // past neigh_reachable_time (30 s)
    c.send(64);                // stale: starts the delayed re-probe (stages)
    c.send(64);                // stale and probing: neigh_output only sends
    c.send(64);
    c.send(64);
    c.net.run_for(7s, 100ms);  // delay_first_probe_time, then probes and the answer
    c.send(64);
    c.send(64);
  });
  // The three sends while the re-probe is pending and the two after it.
  EXPECT_GE(o.cached_sends, 5u);
}

// B's replies to A, B having learned A from A's ARP request.
Outcome replies(bool cache) {
  Outcome out;
  TxNet net(2);
  net.stack(1).config().udp_header_cache = cache;
  UdpSock& b = net.socket(1);
  net.bind(1, b, kPortB);
  UdpSock& a = net.socket(0);
  net.connect(0, a, net.addr(1), kPortB);
  EXPECT_TRUE(net.send(0, a, pattern(8), std::nullopt).ok());
  net.run();
  net.link_of(1).set_tap([&](TapDirection d, std::span<const std::byte> f, TimePoint) {
    if (d == TapDirection::kTx) out.frames.emplace_back(f.begin(), f.end());
  });
  const SockAddrIn to{kAfInet, {net.addr(0), net.local_port(a)}};
  for (int i = 0; i < 6; ++i) {
    if (b.tx.hdr_cache.valid && cache) ++out.cached_sends;
    auto r = net.send(1, b, pattern(40, static_cast<unsigned>(i)), to);
    out.results.push_back(r ? std::to_string(*r) : r.error().message());
  }
  net.run();
  out.received = net.recv_all(0, a).size();
  out.counters_b = counters(net.stack(1));
  net.close_all();
  net.run(10ms);
  EXPECT_EQ(net.frames_in_flight(), 0u);
  return out;
}

TEST(UdpHeaderCache, RepliesToAPeerWhoseEntryCameFromItsRequest) {
  // The entry B made from A's request is stale (the kernel's neigh_event_ns):
  // B's first reply starts the re-probe through the stages, the next ones
  // take B's template while it runs — the same frames and counters as the
  // stages give.
  const Outcome slow = replies(false);
  const Outcome fast = replies(true);
  EXPECT_EQ(fast.results, slow.results);
  EXPECT_EQ(fast.frames, slow.frames);
  EXPECT_EQ(fast.counters_b, slow.counters_b);
  EXPECT_EQ(fast.received, 6u);
  EXPECT_EQ(slow.received, 6u);
  EXPECT_EQ(fast.cached_sends, 5u);
}

TEST(UdpHeaderCache, HookAddedAfterTheTemplateWasBuilt) {
  // A POST_ROUTING hook that drops: EPERM and the hook's drop counter, never
  // a frame on the link, whether the template exists or not.
  same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(64);
    c.net.stack(0).hooks().add(HookPoint::kPostRouting, 0,
                               [](Packet&, TimePoint) { return HookVerdict::kDrop; });
    c.send(64);
    c.send(64);
  });
}

TEST(UdpHeaderCache, RouteChangeAndReconnect) {
  same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(64);
    // A host route with a smaller MTU: the route table's generation moves,
    // the template is rebuilt from the new route (sizes around its MTU).
    Route r;
    r.prefix = wire::Ipv4Prefix{c.net.addr(1), 32};
    r.ifindex = 1;
    r.mtu = 1000;
    c.net.stack(0).routes().add(r);
    for (size_t n : {size_t{64}, size_t{972}, size_t{973}, size_t{64}}) c.send(n);
    c.net.connect(0, c.a, c.net.addr(1), kPortB + 1);
    c.send(64);
    c.send(64);
  });
}

TEST(UdpHeaderCache, SendtoOneDestinationUsesTheCacheWithIpIdentsIds) {
  // An unconnected socket's IDs come from ip_idents (per destination), or
  // are 0 with DF in "do" and "probe": the template takes them as the stages
  // do, and DF as each mode sets it (none in interface/omit).
  for (PmtuDisc mode : {PmtuDisc::kWant, PmtuDisc::kDo, PmtuDisc::kDont, PmtuDisc::kProbe, PmtuDisc::kInterface,
                        PmtuDisc::kOmit}) {
    const Outcome o = unconnected_both_ways([mode](Ctx& c) {
      udp_set_pmtudisc(c.a, mode);
      c.send_to(16, c.net.addr(1));
      c.net.run();
      for (size_t n : kSizes) c.send_to(n, c.net.addr(1));
    });
    EXPECT_GE(o.cached_sends, 6u) << static_cast<int>(mode);
  }
}

TEST(UdpHeaderCache, SendtoAlternatingDestinationsAndPorts) {
  // Each change of destination or port rebuilds the template; a connect in
  // the middle switches the IDs to the socket's counter.
  const Outcome o = unconnected_both_ways([](Ctx& c) {
    c.send_to(16, c.net.addr(1));
    c.net.run();
    for (int i = 0; i < 3; ++i) {
      c.send_to(40, c.net.addr(1));
      c.send_to(40, c.net.addr(1));
      c.send_to(40, c.net.addr(1), kPortB + 1);
      c.send_to(40, c.net.addr(1), kPortB + 1);
      c.send_to(40, wire::Ipv4Addr(10, 0, 1, 77));  // no neighbour: ARP, queued
    }
    c.net.run_for(4s, 500ms);  // the unanswered resolution fails
    c.net.connect(0, c.a, c.net.addr(1), kPortB);
    c.send(40);
    c.send(40);
    c.send_to(40, c.net.addr(1));
    c.net.connect(0, c.a, c.net.addr(1), kPortB + 1);
    c.send_to(40, c.net.addr(1));
    c.send(40);
    c.send(40);
  });
  EXPECT_GE(o.cached_sends, 6u);
}

TEST(UdpHeaderCache, PendingErrorAndFullSendBufferAreReportedAsByTheStages) {
  same_both_ways([](Ctx& c) {
    c.resolve();
    c.send(64);
    // The peer closes its port: the next datagram draws a port unreachable,
    // whose ECONNREFUSED the send after it reports (once).
    c.net.connect(0, c.a, c.net.addr(1), kPortB + 7);
    c.send(64);
    c.send(64);
    c.net.run();
    c.send(64);
    c.send(64);
    // A small send buffer, filled without letting the link drain.
    (void)udp_set_sndbuf(c.a, 1);
    for (int i = 0; i < 8; ++i) c.send(64);
  });
}

}  // namespace
}  // namespace xnet::stack
