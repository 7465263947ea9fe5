// xdplink-raw: AF_XDP through xnet's own link layer, no stack. Built on our
// XdpInterface (the same steering program xnet uses) and XdpLink (rings
// through libxdp's helpers, one UMEM per link), driven by plain spin loops, so
// that against the independent reference (afxdp-raw, afxdp_raw_bench.cc) it
// shows what the link layer costs on its own:
//  - ping-pong: a pinger that writes a prebuilt Ethernet/IPv4/UDP frame and
//    spins on rx, and a reflector that swaps addresses in place and sends the
//    same frame back (no copy);
//  - throughput: a txonly sender (prebuilt frames, batches of `batch`) and an
//    rxdrop receiver that counts and frees.
// UDP checksum 0 (allowed for IPv4): nothing on this path verifies it.

#include <arpa/inet.h>
#include <poll.h>
#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "benchmarks/net/scenario_runner.h"
#include "stack/core/packet.h"
#include "xdp/xdp_interface.h"
#include "xdp/xdp_link.h"

namespace xnet::bench {
namespace {

constexpr size_t kEth = 14, kIp = 20, kUdp = 8, kHdr = kEth + kIp + kUdp;
constexpr uint16_t kHeadroom = 64;

struct RawEndpoint {
  std::unique_ptr<xdp::XdpInterface> iface;
  std::unique_ptr<xdp::XdpLink> link;
};

// Attach steering for `addr` on `ifname` and open queue 0. In the namespace.
bool open_raw(const std::string& ifname, const std::string& addr, const Tuning& tu, RawEndpoint& out,
              PeerSync& sync) {
  xdp::XdpInterfaceConfig ic;
  ic.ifname = ifname;
  auto iface = xdp::XdpInterface::open(ic);
  if (!iface) {
    sync.fail(fmt::format("raw AF_XDP on {}: {}", ifname, iface.message()));
    return false;
  }
  out.iface = std::move(iface.value());
  xdp::XdpLinkConfig lc;
  lc.batch = tu.batch;
  lc.umem.frame_count = tu.frames;
  lc.umem.frame_size = tu.frame_size;
  lc.xsk.rx_size = lc.xsk.tx_size = lc.xsk.fill_size = lc.xsk.comp_size = tu.ring_size;
  auto link = xdp::XdpLink::create(*out.iface, 0, lc);
  if (!link) {
    sync.fail(fmt::format("raw AF_XDP link on {}: {}", ifname, link.message()));
    return false;
  }
  out.link = std::move(link.value());
  if (auto r = out.iface->add_address(*wire::Ipv4Addr::parse(addr)); !r) {
    sync.fail(fmt::format("raw AF_XDP steering {}: {}", addr, r.message()));
    return false;
  }
  return true;
}

void parse_mac(const std::string& s, std::byte* out) {
  unsigned v[6] = {};
  std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
  for (int i = 0; i < 6; ++i) out[i] = static_cast<std::byte>(v[i]);
}

// Ethernet + IPv4 + UDP + payload with sequence 0.
std::vector<std::byte> make_frame(const std::string& src_mac, const std::string& dst_mac, const std::string& src_ip,
                                  const std::string& dst_ip, uint16_t sport, uint16_t dport, size_t payload) {
  std::vector<std::byte> f(kHdr + payload);
  auto* b = reinterpret_cast<uint8_t*>(f.data());
  parse_mac(dst_mac, f.data());
  parse_mac(src_mac, f.data() + 6);
  b[12] = 0x08;
  b[13] = 0x00;
  uint8_t* ip = b + kEth;
  const uint16_t tot = static_cast<uint16_t>(kIp + kUdp + payload);
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(tot >> 8);
  ip[3] = static_cast<uint8_t>(tot);
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 17;
  inet_pton(AF_INET, src_ip.c_str(), ip + 12);
  inet_pton(AF_INET, dst_ip.c_str(), ip + 16);
  uint32_t sum = 0;
  for (size_t i = 0; i < kIp; i += 2) sum += (uint32_t{ip[i]} << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t csum = static_cast<uint16_t>(~sum);
  ip[10] = static_cast<uint8_t>(csum >> 8);
  ip[11] = static_cast<uint8_t>(csum);
  uint8_t* udp = ip + kIp;
  udp[0] = static_cast<uint8_t>(sport >> 8);
  udp[1] = static_cast<uint8_t>(sport);
  udp[2] = static_cast<uint8_t>(dport >> 8);
  udp[3] = static_cast<uint8_t>(dport);
  udp[4] = static_cast<uint8_t>((kUdp + payload) >> 8);
  udp[5] = static_cast<uint8_t>(kUdp + payload);
  fill_payload(f.data() + kHdr, payload, 0);
  return f;
}

// Reflects a frame in place: swap MACs, IPs, ports (IPv4 sum unchanged).
void reflect(std::byte* d) {
  std::byte tmp[6];
  std::memcpy(tmp, d, 6);
  std::memcpy(d, d + 6, 6);
  std::memcpy(d + 6, tmp, 6);
  std::byte* ip = d + kEth;
  std::memcpy(tmp, ip + 12, 4);
  std::memcpy(ip + 12, ip + 16, 4);
  std::memcpy(ip + 16, tmp, 4);
  std::byte* udp = ip + kIp;
  std::memcpy(tmp, udp, 2);
  std::memcpy(udp, udp + 2, 2);
  std::memcpy(udp + 2, tmp, 2);
}

stack::Packet frame_packet(stack::FramePool& pool, const std::vector<std::byte>& tmpl) {
  stack::Packet p = stack::Packet::allocate(pool, kHeadroom);
  if (p) std::memcpy(p.put(static_cast<uint16_t>(tmpl.size())), tmpl.data(), tmpl.size());
  return p;
}

}  // namespace

Measurement xdplink_latency(Topology& t, const Options& o, size_t size) {
  const bool napi = o.tuning.threaded_napi_latency;
  Measurement m = measurement(
      "latency", "xdplink-raw", size,
      fmt::format("pinger on cpu {} (ns A), in-place reflector on cpu {} (ns B), both spinning on XdpLink "
                  "rings (no stack), NAPI {}",
                  o.cpu_a, o.cpu_b, napi ? "threaded" : "softirq"));
  const PingPlan plan = ping_plan(o, size);
  LatencyTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    RawEndpoint ep;
    if (!open_raw(t.if_b(), t.xnet_b(), o.tuning, ep, sync)) return;
    threaded_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    stack::PacketQueue q;
    while (!sync.should_stop()) {
      if (ep.link->rx_burst(q, 64) == 0) continue;
      for (size_t i = 0, n = q.size(); i < n; ++i) {
        stack::Packet p = q.pop_front();
        reflect(p.data());
        q.push_back(std::move(p));
      }
      ep.link->tx_burst(q);
      q.clear();
    }
  };
  steps.active = [&](PeerSync& sync) {
    RawEndpoint ep;
    if (!open_raw(t.if_a(), t.xnet_a(), o.tuning, ep, sync)) return;
    threaded_napi(t, o, napi, o.cpu_a);
    const auto tmpl = make_frame(t.mac_a(), t.mac_b(), t.xnet_a(), t.xnet_b(), 40000, kBasePort + 20, size);
    stack::PacketQueue txq, rxq;
    stack::FramePool& pool = ep.link->pool();
    ping_loop(
        plan, sync, tally, [](uint64_t) {},
        [&](uint64_t seq, Clock::time_point t0) {
          stack::Packet p = frame_packet(pool, tmpl);
          if (!p) {
            sync.fail("xdplink-raw pinger: UMEM exhausted");
            return false;
          }
          std::memcpy(p.data() + kHdr, &seq, sizeof seq);
          txq.push_back(std::move(p));
          ep.link->tx_burst(txq);
          bool got = false;
          while (!got) {
            if (ep.link->rx_burst(rxq, 64) == 0) {
              if (ns_since(t0) > 100'000'000) break;
              continue;
            }
            while (!rxq.empty()) {
              stack::Packet r = rxq.pop_front();
              if (r.size() >= kHdr + 8 && payload_seq(r.data() + kHdr) == seq) got = true;
            }
          }
          return got;
        });
  };
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

namespace {

// What a raw txonly sender sends: frames from `src_ip` on A's veth to
// B's MAC, `dst_ip`:`dport`.
struct RawFlow {
  std::string src_ip, dst_ip;
  uint16_t sport = 0, dport = 0;
  size_t size = 0;
};

// The active peer of a raw rate run: a txonly sender in A, prebuilt frames (a
// sequence number written into each) onto the TX ring in batches for
// `seconds`; then it lets the last transmits complete.
std::function<void(PeerSync&)> raw_sender(Topology& t, const Options& o, RawFlow flow, double seconds, int napi_cpu,
                                          RateTally& tally) {
  return [&t, &o, flow, seconds, napi_cpu, &tally](PeerSync& sync) {
    RawEndpoint ep;
    if (!open_raw(t.if_a(), flow.src_ip, o.tuning, ep, sync)) return;
    threaded_napi(t, o, o.tuning.threaded_napi_throughput, napi_cpu);
    const auto tmpl = make_frame(t.mac_a(), t.mac_b(), flow.src_ip, flow.dst_ip, flow.sport, flow.dport, flow.size);
    stack::FramePool& pool = ep.link->pool();
    stack::PacketQueue q;
    send_for(seconds, tally, [&](uint64_t& seq) {
      while (q.size() < o.tuning.batch) {
        stack::Packet p = frame_packet(pool, tmpl);
        if (!p) break;
        std::memcpy(p.data() + kHdr, &seq, sizeof seq);
        ++seq;
        q.push_back(std::move(p));
      }
      return ep.link->tx_burst(q);
    });
    q.clear();
    // Let the last transmits complete before the link goes.
    const auto end = Clock::now() + std::chrono::milliseconds(20);
    while (Clock::now() < end) ep.link->kick();
  };
}

}  // namespace

Measurement xdplink_throughput(Topology& t, const Options& o, size_t size, double seconds) {
  const bool napi = o.tuning.threaded_napi_throughput;
  Measurement m = measurement(
      "throughput", "xdplink-raw", size,
      fmt::format("txonly (prebuilt frames, batches of {}) on cpu {}, rxdrop sleeping in poll() on cpu {}, NAPI {}",
                  o.tuning.batch, o.cpu_a, o.cpu_b, napi ? "threaded on the receiver's core" : "softirq"));
  RateTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    RawEndpoint ep;
    if (!open_raw(t.if_b(), t.xnet_b(), o.tuning, ep, sync)) return;
    // The reference's layout: NAPI on this core, and the receiver sleeping in
    // poll() whenever its ring is empty (woken by the kthread, which it then
    // preempts to refill the fill ring).
    threaded_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    stack::PacketQueue q;
    uint64_t n = 0;
    DrainAfterDone drain;
    while (!drain.over(sync)) {
      const size_t got = ep.link->rx_burst(q, 64);
      if (got > 0) {
        n += got;
        q.clear();
        tally.received.store(n, std::memory_order_relaxed);
      } else {
        ep.link->prepare_to_sleep();
        pollfd pfd{ep.link->wait_fd(), POLLIN, 0};
        (void)::poll(&pfd, 1, 10);
      }
    }
  };
  steps.active = raw_sender(t, o, {t.xnet_a(), t.xnet_b(), 40001, kBasePort + 21, size}, seconds, o.cpu_b, tally);
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

// The limit of the gso scenario's path for anything that sends through
// AF_XDP: AF_XDP has no GSO transmit, so software-segmented datagrams cross
// the kernel's xmit path and the receiving namespace's whole UDP receive path
// one frame each. Prebuilt 1400-byte frames (UDP checksum 0, which the kernel
// accepts) from xnet's kernel-subnet address to the same recvmmsg receiver
// the gso runs use; no stack, no segmentation.
Measurement xdplink_gso(Topology& t, const Options& o, double seconds) {
  Measurement m = measurement(
      "gso", "xdplink-raw", kGsoSegment,
      fmt::format("txonly 1400-byte frames (batches of {}) on cpu {} to the kernel's plain recvmmsg x64 spin "
                  "on cpu {}: the per-frame limit under any AF_XDP sender's GSO",
                  o.tuning.batch, o.cpu_a, o.cpu_b));
  const uint16_t port = kBasePort + 22;
  RateTally tally;
  PeerSteps steps;
  steps.passive = kernel_receiver(t.kernel_b(), port, kGsoSegment, tally);
  steps.active = raw_sender(t, o, {t.xnet_to_kernel_a(), t.kernel_b(), 40002, port, kGsoSegment}, seconds, o.cpu_a,
                            tally);
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

}  // namespace xnet::bench
