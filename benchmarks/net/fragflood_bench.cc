// The fragment flood (issue 16): what an attacker sending incomplete
// fragment trains costs the legitimate traffic of an xnet service.
//
//   ns A (cpu_a)                                        ns B (cpu_b)
//   kernel UDP client  ── 100 B and 4000 B requests ──▶  xnet echo (busy)
//   raw-socket flooder ── first fragments, never completed ──▶ (same address)
//
// Two phases of the same length in one run: quiet (the client alone), then
// flooded. The flooder sends 1400-byte first fragments (MF, offset 0) from
// random sources 10.66.x.y with random IDs, so every one opens a reassembly
// queue that never completes, as fast as sendmmsg goes. It runs SCHED_IDLE on
// the client's core: it takes every cycle the client leaves (and its softirq
// runs the veth's receive and XDP there), while the client, when its reply
// arrives, preempts it at once — two cores cannot give an attacker a machine
// of its own, and without this the client would measure the scheduler.
//
// Reported per phase: round trips, lost (no echo within 200 ms), p50/p99 of
// the 100-byte and of the 4000-byte (three fragments each way) round trips;
// for the flood: its rate, how much of it reached xnet's reassembly, the
// reassembly's memory (sampled each millisecond on the echo's shard) against
// its cap, and where the flood went: evicted queues (kFragFrameLimit), refusals
// above the memory cap (kFragMemLimit), ReasmFails, and the rings' drops.
// After the flood the reassembly timer is fast-forwarded (ipfrag_time) and
// every frame must be back: frames_leaked.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "benchmarks/net/scenario_runner.h"
#include "benchmarks/net/xnet_side.h"
#include "runtime/sleep.h"
#include "runtime/when_all.h"
#include "stack/core/stack.h"
#include "stack/ipv4/ip_fragment.h"

namespace xnet::bench {
namespace {

constexpr size_t kSmall = 100;
constexpr size_t kFragmented = 4000;  // three fragments at MTU 1500
constexpr auto kReplyTimeout = std::chrono::milliseconds(200);
constexpr uint64_t kMaxRoundTripsPerPhase = 2'000'000;
constexpr uint64_t kMaxFloodPackets = 200'000'000;

// What the echo's shard publishes while the run goes on (written there, read
// by the client's thread at the phase boundaries).
struct ReasmWatch {
  std::atomic<uint64_t> reqds{0}, oks{0}, fails{0}, frame_limit{0}, mem_limit{0};
  std::atomic<uint64_t> peak{0};  // bytes, since the client last reset it
  std::atomic<bool> reset_peak{false};
  std::atomic<bool> expire{false};  // the client is done: run the reassembly timer out
  std::atomic<bool> expired{false};
  std::atomic<uint64_t> mem_after_expiry{0};
  std::atomic<uint64_t> cap{0};
  std::string drop_reasons;  // the whole run's, written before `expired`

  struct Snapshot {
    uint64_t reqds, oks, fails, frame_limit, mem_limit;
  };
  Snapshot snapshot() const { return {reqds.load(), oks.load(), fails.load(), frame_limit.load(), mem_limit.load()}; }
};

// Beside the echo on its shard: the reassembly's counters and memory each
// millisecond; once the client is done, the reassembly timer run out, as
// ipfrag_time later would.
rt::Task<void> watch_reassembly(StackDriver& d, ReasmWatch& w) {
  stack::Stack& s = d.stack();
  w.cap = s.config().ipfrag_high_thresh;
  for (;;) {
    const stack::Stats& st = s.stats();
    w.reqds = st.ip.ReasmReqds;
    w.oks = st.ip.ReasmOKs;
    w.fails = st.ip.ReasmFails;
    w.frame_limit = st.dropped(stack::DropReason::kFragFrameLimit);
    w.mem_limit = st.dropped(stack::DropReason::kFragMemLimit);
    const uint64_t mem = s.reassembly().mem();
    if (w.reset_peak.exchange(false)) w.peak = 0;
    if (mem > w.peak.load()) w.peak = mem;
    if (w.expire.load() && !w.expired.load()) {
      s.reassembly().run_timers(std::chrono::steady_clock::now() + s.config().ipfrag_time + std::chrono::seconds(1));
      w.mem_after_expiry = s.reassembly().mem();
      for (size_t i = 0; i < st.drops.size(); ++i) {
        if (st.drops[i] == 0) continue;
        w.drop_reasons += fmt::format("{}{}={}", w.drop_reasons.empty() ? "" : " ",
                                      stack::drop_reason_name(static_cast<stack::DropReason>(i)), st.drops[i]);
      }
      w.expired = true;
    }
    if (!co_await rt::sleep_for(std::chrono::milliseconds(1))) co_return;  // cancelled: the run is over
  }
}

struct PhaseTally {
  LatencyHistogram small, fragmented;
  uint64_t sent = 0, lost = 0, fragmented_sent = 0;
};

// Alternating 100- and 4000-byte round trips on a connected kernel socket
// for `seconds` (or until a failure / Ctrl-C). A reply that does not come
// within 200 ms is lost; a late reply to an earlier request is skipped.
void round_trips(int fd, double seconds, uint64_t& seq, PhaseTally& t, const PeerSync& sync) {
  std::vector<std::byte> req(kFragmented), buf(kFragmented + 64);
  const auto start = Clock::now();
  for (uint64_t i = 0; i < kMaxRoundTripsPerPhase && seconds_since(start) < seconds && !stopping() && !sync.failed;
       ++i, ++seq) {
    const size_t size = i % 2 == 0 ? kSmall : kFragmented;
    fill_payload(req.data(), size, seq);
    const auto t0 = Clock::now();
    if (::send(fd, req.data(), size, 0) != static_cast<ssize_t>(size)) continue;
    ++t.sent;
    if (size == kFragmented) ++t.fragmented_sent;
    bool got = false;
    while (!got && Clock::now() - t0 < kReplyTimeout) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);  // SO_RCVTIMEO: 200 ms
      if (n < 0 && errno != EINTR) break;
      got = n == static_cast<ssize_t>(size) && payload_seq(buf.data()) == seq;
    }
    if (!got) {
      ++t.lost;
      continue;
    }
    (size == kSmall ? t.small : t.fragmented).record(ns_since(t0));
  }
}

struct FloodTally {
  std::atomic<uint64_t> sent{0};
  std::atomic<double> seconds{0};
  std::string error;
};

// The attacker: first fragments of datagrams that never complete, batches of
// 64 through sendmmsg on an IPPROTO_RAW socket (IP_HDRINCL), until `on` goes
// false (bounded by time and count all the same).
void flood(const std::string& dst, const std::atomic<bool>& on, double max_seconds, FloodTally& tally) {
  sched_param sp{};
  (void)sched_setscheduler(0, SCHED_IDLE, &sp);
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) {
    tally.error = fmt::format("raw socket: {}", std::strerror(errno));
    return;
  }
  constexpr size_t kBatch = 64;
  constexpr size_t kLen = 20 + 1400;
  std::vector<std::array<uint8_t, kLen>> pkts(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  sockaddr_in to{};
  to.sin_family = AF_INET;
  inet_pton(AF_INET, dst.c_str(), &to.sin_addr);
  for (size_t i = 0; i < kBatch; ++i) {
    auto& p = pkts[i];
    p.fill(0);
    p[0] = 0x45;
    p[2] = kLen >> 8;
    p[3] = kLen & 0xff;
    p[6] = 0x20;  // MF, offset 0
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    p[12] = 10;  // sources 10.66.x.y: a queue per (source, id)
    p[13] = 66;
    std::memcpy(&p[16], &to.sin_addr, 4);
    iov[i] = {p.data(), kLen};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
  }
  uint32_t x = 12345;
  uint64_t sent = 0;
  const auto start = Clock::now();
  while (on.load(std::memory_order_relaxed) && !stopping() && sent < kMaxFloodPackets &&
         seconds_since(start) < max_seconds) {
    for (auto& p : pkts) {
      x = x * 1103515245u + 12345u;
      p[4] = static_cast<uint8_t>(x >> 24);  // ID
      p[5] = static_cast<uint8_t>(x >> 16);
      p[14] = static_cast<uint8_t>(x >> 8);
      p[15] = static_cast<uint8_t>(x);
    }
    const int n = ::sendmmsg(fd, msgs.data(), kBatch, 0);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
      tally.sent.store(sent, std::memory_order_relaxed);
    } else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
      tally.error = fmt::format("sendmmsg: {}", std::strerror(errno));
      break;
    }
  }
  tally.seconds = seconds_since(start);
  ::close(fd);
}

void set_phase_figures(Measurement& m, const PhaseTally& t, bool flooded) {
  m.set("flooded", flooded ? 1 : 0);
  m.set("round_trips", static_cast<double>(t.sent));
  m.set("lost", static_cast<double>(t.lost));
  m.set("loss_percent", t.sent ? 100.0 * static_cast<double>(t.lost) / static_cast<double>(t.sent) : 0);
  auto us = [](const LatencyHistogram& h, double q) { return static_cast<double>(h.quantile(q)) / 1000.0; };
  m.set("p50_us", us(t.small, 0.5));
  m.set("p99_us", us(t.small, 0.99));
  m.set("frag_p50_us", us(t.fragmented, 0.5));
  m.set("frag_p99_us", us(t.fragmented, 0.99));
}

}  // namespace

std::vector<Measurement> xnet_fragflood(Topology& t, const Options& o, double seconds) {
  const std::string note = fmt::format(
      "kernel UDP client (alternating {} B and {} B requests, {} ms reply timeout) on cpu {} (ns A), xnet echo "
      "(busy) on cpu {} (ns B); flooder: IPPROTO_RAW sendmmsg x64 of 1400-byte first fragments, random source "
      "10.66.x.y and ID, SCHED_IDLE on cpu {}; NAPI softirq; UMEM frames {}",
      kSmall, kFragmented, kReplyTimeout.count(), o.cpu_a, o.cpu_b, o.cpu_a, o.tuning.frames);
  Measurement quiet = measurement("fragflood", "xnet-busy", 0, note + "; quiet phase");
  Measurement flooded = measurement("fragflood", "xnet-busy", 0, note + "; flooded phase");
  const int port = kBasePort + 16;
  const std::string addr = t.xnet_to_kernel_b();
  XnetSide echo_side;
  ReasmWatch watch;
  PhaseTally quiet_tally, flood_tally;
  FloodTally flood_tally_raw;
  ReasmWatch::Snapshot before{}, after{};
  uint64_t peak = 0;
  Topology::DevDrops dev0{}, dev1{};

  if (!t.set_kernel_a_tx_checksum(false)) {
    quiet.ok = flooded.ok = false;
    quiet.error = flooded.error = "cannot turn TX checksum offload off on " + t.if_a() + " (ethtool)";
    return {quiet, flooded};
  }
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_b(), addr, true, {o.cpu_b});
    c.after_open = napi_hook(t, o, false, o.cpu_b);
    echo_side.run(c, sync, [&](unsigned, StackDriver& d) -> rt::Task<void> {
      return [](StackDriver& d, int port, PeerSync& sync, ReasmWatch& w) -> rt::Task<void> {
        (void)co_await rt::when_all(echo_task(d, port, sync), watch_reassembly(d, w));
      }(d, port, sync, watch);
    });
  };
  steps.active = [&](PeerSync& sync) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      if (fd >= 0) ::close(fd);
      return sync.fail(fmt::format("kernel client to {}:{}: {}", addr, port, std::strerror(errno)));
    }
    timeval tv{0, static_cast<suseconds_t>(kReplyTimeout.count() * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t seq = kWarmBit;
    PhaseTally warm;
    round_trips(fd, 0.5, seq, warm, sync);  // ARP, caches
    seq = 0;
    round_trips(fd, seconds, seq, quiet_tally, sync);

    before = watch.snapshot();
    dev0 = t.dev_drops();
    watch.reset_peak = true;
    std::atomic<bool> on{true};
    std::thread flooder = spawn_in_netns(t.ns_a(), o.cpu_a, [&] { flood(addr, on, seconds + 5, flood_tally_raw); });
    round_trips(fd, seconds, seq, flood_tally, sync);
    on = false;
    flooder.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // what is still on the rings
    after = watch.snapshot();
    dev1 = t.dev_drops();
    peak = watch.peak.load();
    ::close(fd);
    if (!flood_tally_raw.error.empty()) return sync.fail("flooder: " + flood_tally_raw.error);
    watch.expire = true;
    for (int i = 0; i < 1000 && !watch.expired.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  steps.end_passive = [&] { echo_side.stop_and_wait(); };
  const bool ok = run_peers(t, o, steps, quiet);
  (void)t.set_kernel_a_tx_checksum(true);
  if (!ok) {
    flooded.ok = false;
    flooded.error = quiet.error;
    return {quiet, flooded};
  }
  set_phase_figures(quiet, quiet_tally, false);
  set_phase_figures(flooded, flood_tally, true);
  const double fsecs = flood_tally_raw.seconds.load();
  const double fsent = static_cast<double>(flood_tally_raw.sent.load());
  flooded.set("flood_packets", fsent);
  flooded.set("flood_pps", fsecs > 0 ? fsent / fsecs : 0);
  flooded.set("reasm_reqds", static_cast<double>(after.reqds - before.reqds));
  flooded.set("reasm_oks", static_cast<double>(after.oks - before.oks));
  flooded.set("reasm_fails", static_cast<double>(after.fails - before.fails));
  flooded.set("frag_frame_limit", static_cast<double>(after.frame_limit - before.frame_limit));
  flooded.set("frag_mem_limit", static_cast<double>(after.mem_limit - before.mem_limit));
  flooded.set("reasm_mem_peak_bytes", static_cast<double>(peak));
  flooded.set("reasm_mem_cap_bytes", static_cast<double>(watch.cap.load()));
  flooded.set("reasm_mem_after_timeout", static_cast<double>(watch.mem_after_expiry.load()));
  flooded.set("frames_leaked", static_cast<double>(echo_side.frames_out()));
  flooded.set("dev_a_tx_dropped", static_cast<double>(dev1.a_tx - dev0.a_tx));
  const SideDrops d = echo_side.drops();
  for (const auto& [name, f] : SideDrops::kFields) {
    if (d.*f != 0) flooded.set(std::string("echo_") + name, static_cast<double>(d.*f));
  }
  // ReasmReqds counts every fragment xnet took; three per legitimate 4000-byte request.
  const double reached = std::max(0.0, static_cast<double>(after.reqds - before.reqds) -
                                           3.0 * static_cast<double>(flood_tally.fragmented_sent));
  flooded.set("flood_reached_xnet", reached);
  flooded.note += fmt::format("; flood reached xnet's reassembly: {:.0f} of {:.0f} fragments; echo side drops: {}; "
                              "drop reasons over the run: {}",
                              reached, fsent, d.describe(), watch.expired.load() ? watch.drop_reasons : "?");
  return {quiet, flooded};
}

}  // namespace xnet::bench
