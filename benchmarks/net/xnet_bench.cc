// xnet ↔ xnet runs: ping-pong (busy and idle reactors), throughput, GSO to a
// kernel receiver, soak, and the idle CPU of a shard: the steps of each run
// (scenario_runner.h is the run). Each peer is an XnetSide (a ServiceHost)
// in its own namespace.

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <vector>

#include "benchmarks/net/scenario_runner.h"
#include "benchmarks/net/xnet_side.h"
#include "runtime/sleep.h"
#include "runtime/when_all.h"

namespace xnet::bench {
namespace {

rt::Task<void> ping_task(StackDriver& d, Endpoint to, PingPlan plan, LatencyTally& tally, PeerSync& sync,
                         int timeout_ms) {
  auto sock = UdpSocket::open(d);
  if (!sock || !sock->connect(to)) {
    sync.fail("xnet pinger cannot connect");
    co_return;
  }
  // SO_RCVTIMEO: a lost reply fails the receive with EAGAIN. --ping-timeout-ms 0
  // waits forever (a lost reply then hangs the run).
  if (timeout_ms > 0) (void)sock->set_recv_timeout(std::chrono::milliseconds(timeout_ms));
  std::vector<std::byte> req(plan.size), buf(plan.size + 64);
  const auto start = Clock::now();
  for (uint64_t seq = 0; seq < plan.warmup + plan.count && !stopping(); ++seq) {
    const bool counted = seq >= plan.warmup;
    if (counted && seconds_since(start) > plan.max_seconds) break;
    fill_payload(req.data(), plan.size, seq);
    const auto t0 = Clock::now();
    if (!co_await sock->send(req)) co_return;
    for (;;) {
      auto r = co_await sock->recv_from(buf);
      if (!r) {
        if (r.error() == std::errc::resource_unavailable_try_again) {
          if (counted) ++tally.lost;
          break;
        }
        if (r.error() == std::errc::connection_refused) continue;
        co_return;  // cancelled
      }
      if (r->size < 8 || payload_seq(buf.data()) != seq) continue;
      if (counted) tally.hist.record(ns_since(t0));
      break;
    }
  }
}

}  // namespace

Measurement xnet_latency(Topology& t, const Options& o, size_t size, bool busy) {
  const bool napi = o.tuning.threaded_napi_latency;
  Measurement m = measurement(
      "latency", busy ? "xnet-busy" : "xnet", size,
      fmt::format("pinger shard on cpu {} (ns A), echo shard on cpu {} (ns B), reactors {}, NAPI {}", o.cpu_a,
                  o.cpu_b, busy ? "busy-poll" : "idle (io_uring sleep, 50 us idle spin)", napi ? "threaded" : "softirq"));
  const PingPlan plan = ping_plan(o, size);
  const int port = kBasePort + 11;
  XnetSide echo_side, ping_side;
  LatencyTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_b(), t.xnet_b(), busy, {o.cpu_b});
    c.after_open = napi_hook(t, o, napi, o.cpu_b);
    echo_side.run(c, sync, [&](unsigned, StackDriver& d) { return echo_task(d, port, sync); });
  };
  steps.active = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_a(), t.xnet_a(), busy, {o.cpu_a});
    c.after_open = napi_hook(t, o, napi, o.cpu_a);
    ping_side.run(c, sync, [&](unsigned, StackDriver& d) {
      return ping_task(d, endpoint(t.xnet_b(), port), plan, tally, sync, o.ping_timeout_ms);
    });
  };
  steps.end_passive = [&] { echo_side.stop_and_wait(); };
  if (!run_peers(t, o, steps, m)) return m;
  tally.report(m);
  m.set("frames_leaked", static_cast<double>(echo_side.frames_out() + ping_side.frames_out()));
  return m;
}

// ---------------------------------------------------------------------------
// Throughput and soak: a sender shard per queue on A, a receiver shard per
// queue on B (reuseport group: each receives what lands on its queue).

namespace {

// The rate tally (sent, received, seconds: the longest sender's) and what
// the xnet runs check besides.
struct XnetTally : RateTally {
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> dup{0};
  std::atomic<uint64_t> reordered{0};
  std::atomic<uint64_t> unique{0};
  std::atomic<unsigned> receivers_ready{0};
  std::atomic<unsigned> senders_done{0};
  std::atomic<uint64_t> rss_after{0};  // KiB, when the last sender finished
};

struct SenderPlan {
  size_t size = 64;
  double seconds = 5;
  double rate = 0;            // datagrams/s per shard; 0 = as fast as possible
  bool hashed = false;        // soak payload (sequence + hash)
  std::optional<uint16_t> gso;  // size = the whole send, split into gso-sized segments
  uint64_t segments = 1;      // datagrams on the wire per send
  unsigned shards = 1;        // sender shards
};

rt::Task<void> sender_task(StackDriver& d, unsigned shard, Endpoint to, SenderPlan plan, XnetTally& tally,
                           PeerSync& sync) {
  auto sock = UdpSocket::open(d);
  if (!sock || !sock->connect(to)) {
    sync.fail("xnet sender cannot connect");
    co_return;
  }
  constexpr size_t kBatch = 32;
  const size_t batch = plan.gso ? 1 : kBatch;
  std::vector<std::vector<std::byte>> bufs(batch, std::vector<std::byte>(plan.size));
  std::vector<OutDatagram> out(batch);
  for (size_t i = 0; i < batch; ++i) {
    out[i].payload = bufs[i];
    if (plan.gso) out[i].options.gso_size = *plan.gso;
  }
  // Shards number their datagrams apart (shard in the top bits).
  uint64_t seq = uint64_t{shard} << 48;
  auto fill = [&](size_t i, uint64_t s) {
    if (plan.gso) {
      for (uint64_t k = 0; k < plan.segments; ++k) fill_payload(bufs[i].data() + k * *plan.gso, 16, s + k);
    } else if (plan.hashed) {
      fill_payload_hashed(bufs[i].data(), plan.size, s);
    } else {
      std::memcpy(bufs[i].data(), &s, sizeof s);  // the pattern is written once, below
    }
  };
  if (!plan.gso && !plan.hashed) {
    for (auto& b : bufs) fill_payload(b.data(), plan.size, 0);
  }
  // Warm-up: resolve ARP, then let the receiver drain.
  for (int w = 0; w < 3; ++w) {
    fill(0, kWarmBit | static_cast<uint64_t>(w));
    (void)co_await sock->send_batch(std::span(out).first(1));
    (void)co_await rt::sleep_for(std::chrono::milliseconds(30));
  }
  if (plan.gso) fill(0, seq);
  const auto start = Clock::now();
  uint64_t sent = 0;  // datagrams on the wire
  while (!stopping()) {
    const double elapsed = seconds_since(start);
    if (elapsed >= plan.seconds) break;
    size_t n = batch;
    if (plan.rate > 0) {
      const double due = plan.rate * elapsed - static_cast<double>(sent);
      if (due < 1) {
        co_await rt::yield();
        continue;
      }
      n = std::min<size_t>(batch, static_cast<size_t>(due));
    }
    if (!plan.gso) {
      for (size_t i = 0; i < n; ++i) fill(i, seq + i);
    } else {
      fill(0, seq);
    }
    auto r = co_await sock->send_batch(std::span(out).first(n));
    if (!r) {
      if (r.error() == std::errc::operation_canceled) break;
      co_await rt::yield();
      continue;
    }
    seq += *r * plan.segments;
    sent += *r * plan.segments;
    tally.sent.fetch_add(*r * plan.segments, std::memory_order_relaxed);  // progress lines read it
    co_await rt::yield();  // let the stack flush and receive
  }
  tally.seconds = std::max(tally.seconds.load(), seconds_since(start));
  if (++tally.senders_done == plan.shards) tally.rss_after = rss_kib();
}

// Seen-sequence window for dup/reorder detection (per receiving shard; seq
// numbers of one sender shard are consecutive).
class SeqWindow {
 public:
  SeqWindow() : bits_(kSize / 64, 0) {}
  // Returns 0 new in order, 1 new out of order, 2 duplicate.
  int add(uint64_t seq) {
    if (seq + kSize <= next_) return 2;  // too old to tell: count as duplicate
    if (seq >= next_) {
      for (uint64_t s = next_; s <= seq && s < next_ + kSize; ++s) clear(s);
      if (seq >= next_ + kSize) std::fill(bits_.begin(), bits_.end(), 0);
      next_ = seq + 1;  // a gap is loss until the missing ones arrive (then: reordered)
      set(seq);
      return 0;
    }
    if (test(seq)) return 2;
    set(seq);
    return 1;
  }

 private:
  static constexpr uint64_t kSize = 1 << 20;
  void set(uint64_t s) { bits_[(s % kSize) / 64] |= uint64_t{1} << (s % 64); }
  void clear(uint64_t s) { bits_[(s % kSize) / 64] &= ~(uint64_t{1} << (s % 64)); }
  bool test(uint64_t s) const { return (bits_[(s % kSize) / 64] >> (s % 64)) & 1; }
  std::vector<uint64_t> bits_;
  uint64_t next_ = 0;
};

rt::Task<void> receiver_task(StackDriver& d, int port, bool check, unsigned shards, XnetTally& tally,
                             PeerSync& sync) {
  auto sock = UdpSocket::open(d);
  if (!sock) co_return sync.fail("xnet receiver: socket");
  (void)sock->set_reuse_port(true);
  if (!sock->bind({Ipv4Addr(), static_cast<uint16_t>(port)})) {
    sync.fail(fmt::format("xnet receiver cannot bind port {}", port));
    co_return;
  }
  if (++tally.receivers_ready == shards) sync.ready = true;
  std::array<Datagram, 64> batch;
  std::vector<SeqWindow> windows(4);
  uint64_t received = 0;
  for (;;) {
    auto n = co_await sock->recv_batch(batch);
    if (!n) co_return;
    for (size_t i = 0; i < *n; ++i) {
      Datagram& dg = batch[i];
      const std::span<const std::byte> p = dg.front();
      if (p.size() < 8) {
        ++tally.corrupt;
      } else if (check) {
        uint64_t seq = 0;
        if (!check_payload_hashed(p.data(), p.size(), &seq) || (seq & kWarmBit) != 0) {
          if ((payload_seq(p.data()) & kWarmBit) == 0) ++tally.corrupt;
        } else {
          ++received;
          const unsigned src = static_cast<unsigned>(seq >> 48) & 3;
          const int r = windows[src].add(seq & ((uint64_t{1} << 48) - 1));
          if (r == 2) {
            ++tally.dup;
          } else {
            ++tally.unique;
            if (r == 1) ++tally.reordered;
          }
        }
      } else if ((payload_seq(p.data()) & kWarmBit) == 0) {
        ++received;
      }
      dg.reset();
    }
    tally.received += received;
    received = 0;
  }
}

struct RateRun {
  bool frames_idle = true;
  uint32_t frames_out = 0;
  uint64_t rss_before = 0, rss_after = 0;
  SideDrops rx_drops, tx_drops;
  double rx_cpu_seconds = 0;  // the receiving shards' threads, whole run
};

// Every counter that moved on either side goes into the figures (so a loss
// is explained in the JSON) and the note.
void record_drops(Measurement& m, const RateRun& r) {
  auto put = [&](const std::string& side, const SideDrops& d) {
    for (const auto& [name, f] : SideDrops::kFields) m.set(side + "_" + name, static_cast<double>(d.*f));
    m.set(side + "_dropped_total", static_cast<double>(d.total_lost()));
  };
  put("rx", r.rx_drops);
  put("tx", r.tx_drops);
  m.note += fmt::format("; drop counters: receiver [{}], sender [{}]", r.rx_drops.describe(), r.tx_drops.describe());
}

// Runs senders on A and receivers on B; `progress` is called about once a
// second while running (soak). False, with `m` marked, when the run failed.
bool xnet_rate_run(Topology& t, const Options& o, uint32_t shards, bool busy, int port, SenderPlan plan, bool check,
                   XnetTally& tally, RateRun& run, Measurement& m,
                   const std::function<void(double)>& progress = {}) {
  XnetSide rx_side, tx_side;
  const bool napi = o.tuning.threaded_napi_throughput;
  // One shard a side: the raw reference's layout — NAPI on the receiver's
  // core, the sender's core its own, and the receiver sleeping whenever its
  // ring is empty (idle reactor, no spin), as the reference's rxdrop sleeps
  // in poll(): woken by the kthread it preempts it, refills the fill ring and
  // sleeps again. A receiver that spins (or yields) shares the core by CFS's
  // slices instead, and while the kthread runs its slice the fill ring runs
  // dry: measured, 64 B with the sender at 1.15 M/s, half the frames dropped
  // at the fill ring and 0.55 M/s received, against 0.66-0.87 M/s, nearly
  // lossless, when it sleeps.
  const bool rx_sleeps = busy && shards == 1 && napi;
  const int napi_cpu = rx_sleeps ? o.cpu_b : o.cpu_a;
  std::vector<int> tx_cpus = {o.cpu_a, o.cpu_b}, rx_cpus = {o.cpu_b, o.cpu_a};
  tx_cpus.resize(shards);
  rx_cpus.resize(shards);
  plan.shards = shards;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_b(), t.xnet_b(), busy && !rx_sleeps, rx_cpus);
    c.queues = shards;
    if (rx_sleeps) c.idle_spin = std::chrono::microseconds(0);
    c.sched_batch = rx_sleeps && o.tuning.sched_batch_receiver;
    c.after_open = napi_hook(t, o, napi, napi_cpu);
    rx_side.run(c, sync, [&](unsigned, StackDriver& d) { return receiver_task(d, port, check, shards, tally, sync); });
  };
  steps.active = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_a(), t.xnet_a(), busy, tx_cpus);
    c.queues = shards;
    c.after_open = napi_hook(t, o, napi, napi_cpu);
    tx_side.run(c, sync, [&](unsigned shard, StackDriver& d) {
      return sender_task(d, shard, endpoint(t.xnet_b(), port), plan, tally, sync);
    });
  };
  steps.progress = [&](double elapsed) {
    if (run.rss_before == 0 && elapsed > 1.0) run.rss_before = rss_kib();
    if (progress) progress(elapsed);
  };
  steps.end_passive = [&] {
    // Drain: what is still in rings and queues reaches the receiver.
    uint64_t last = ~uint64_t{0};
    for (int i = 0; i < 50 && tally.received.load() != last; ++i) {
      last = tally.received.load();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    rx_side.stop_and_wait();
  };
  const Topology::DevDrops dev_before = t.dev_drops();
  const bool ok = run_peers(t, o, steps, m);
  const Topology::DevDrops dev_after = t.dev_drops();
  run.rss_after = tally.rss_after.load() != 0 ? tally.rss_after.load() : rss_kib();
  if (run.rss_before == 0) run.rss_before = run.rss_after;
  run.rx_drops = rx_side.drops();
  run.tx_drops = tx_side.drops();
  // Senders on A, receivers on B.
  run.tx_drops.dev_tx_dropped = dev_after.a_tx - dev_before.a_tx;
  run.tx_drops.dev_rx_dropped = dev_after.a_rx - dev_before.a_rx;
  run.rx_drops.dev_tx_dropped = dev_after.b_tx - dev_before.b_tx;
  run.rx_drops.dev_rx_dropped = dev_after.b_rx - dev_before.b_rx;
  for (double c : rx_side.shard_cpu()) run.rx_cpu_seconds += c;
  run.frames_idle = rx_side.frames_idle() && tx_side.frames_idle();
  run.frames_out = rx_side.frames_out() + tx_side.frames_out();
  return ok;
}

}  // namespace

Measurement xnet_throughput(Topology& t, const Options& o, size_t size, double seconds, uint32_t shards,
                            bool busy, const char* scenario) {
  const bool napi = o.tuning.threaded_napi_throughput;
  const bool rx_sleeps = busy && shards == 1 && napi;  // as in xnet_rate_run
  Measurement m = measurement(
      scenario, busy ? "xnet-busy" : "xnet", size,
      fmt::format("{} sender shard(s) (send_batch x32) on cpu {}, {} receiver shard(s) (recv_batch x64) on cpu {}, "
                  "reactors {}, NAPI {}",
                  shards, shards == 1 ? std::to_string(o.cpu_a) : "0,1", shards,
                  shards == 1 ? std::to_string(o.cpu_b) : "1,0",
                  rx_sleeps ? fmt::format("busy-poll sender, receiver sleeping whenever its ring is empty (idle, no "
                                          "spin){}",
                                          o.tuning.sched_batch_receiver ? " under SCHED_BATCH" : "")
                  : busy    ? std::string("busy-poll")
                            : std::string("idle"),
                  !napi       ? std::string("softirq")
                  : rx_sleeps ? fmt::format("threaded on cpu {} (the receiver's core)", o.cpu_b)
                              : std::string("threaded")));
  m.queues = shards;
  XnetTally tally;
  SenderPlan plan;
  plan.size = size;
  plan.seconds = seconds;
  RateRun r;
  if (!xnet_rate_run(t, o, shards, busy, kBasePort + 12, plan, false, tally, r, m)) return m;
  tally.report(m);
  record_drops(m, r);
  m.set("frames_leaked", r.frames_out);
  // Where the receiving core goes, less noisy than the rate: the receiver
  // shares its core with the NAPI kthread and sleeps when its ring is empty,
  // so its thread CPU per datagram is xnet's whole receive path (link,
  // stack, socket queue, recv_batch, the benchmark's loop).
  // (The busy sender's CPU per datagram would only be 1 / rate.)
  const double rx = static_cast<double>(tally.received.load());
  if (rx > 0) m.set("rx_cpu_ns_per_datagram", r.rx_cpu_seconds * 1e9 / rx);
  return m;
}

namespace {

// One request and its reply: 1 answered, 0 lost (the socket's receive
// timeout ran out), -1 stopped.
rt::Task<int> round_trip(UdpSocket& sock, std::vector<std::byte>& req, std::vector<std::byte>& buf, uint64_t seq) {
  fill_payload(req.data(), req.size(), seq);
  if (!co_await sock.send(req)) co_return -1;
  for (;;) {
    auto r = co_await sock.recv_from(buf);
    if (!r) {
      if (r.error() == std::errc::resource_unavailable_try_again) co_return 0;
      if (r.error() == std::errc::connection_refused) continue;
      co_return -1;
    }
    if (r->size >= 8 && payload_seq(buf.data()) == seq) co_return 1;
  }
}

// One client flow: a connected socket doing round trips back to back (one
// request outstanding) for `seconds`, after a few uncounted ones (ARP). A
// reply not back within the timeout is lost (sent - received).
rt::Task<void> client_flow(StackDriver& d, Endpoint to, size_t size, double seconds, int timeout_ms,
                           RateTally& tally, PeerSync& sync) {
  auto sock = UdpSocket::open(d);
  if (!sock || !sock->connect(to)) {
    sync.fail("xnet client cannot connect");
    co_return;
  }
  std::vector<std::byte> req(size), buf(size + 64);
  (void)sock->set_recv_timeout(std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 200));
  uint64_t seq = kWarmBit;
  for (int w = 0; w < 3; ++w) {
    if (co_await round_trip(*sock, req, buf, seq++) < 0) co_return;
  }
  seq = 0;
  const auto start = Clock::now();
  while (!stopping() && seconds_since(start) < seconds) {
    const int r = co_await round_trip(*sock, req, buf, seq++);
    if (r < 0) break;
    tally.sent.fetch_add(1, std::memory_order_relaxed);
    if (r == 1) tally.received.fetch_add(1, std::memory_order_relaxed);
  }
  tally.seconds = std::max(tally.seconds.load(), seconds_since(start));
}

// The flows of one shard (flow f on shard f % shards), side by side.
rt::Task<void> client_shard(StackDriver& d, unsigned shard, unsigned shards, unsigned flows, Endpoint to,
                            size_t size, double seconds, int timeout_ms, RateTally& tally, PeerSync& sync) {
  std::vector<rt::Task<void>> mine;
  for (unsigned f = shard; f < flows; f += shards) {
    mine.push_back(client_flow(d, to, size, seconds, timeout_ms, tally, sync));
  }
  if (!mine.empty()) (void)co_await rt::when_all(std::move(mine));
}

}  // namespace

Measurement xnet_clients(Topology& t, const Options& o, size_t size, double seconds, uint32_t shards,
                         uint32_t flows) {
  Measurement m = measurement(
      "scaling", "xnet-clients", size,
      fmt::format("{} client flows (connected sockets, one request outstanding each) round robin over {} shard(s) "
                  "on A (cpu {}), a kernel echo on B (blocking, cpu {}) replying on the queue its hash picks, "
                  "idle reactors; round trips/s as pps",
                  flows, shards, shards == 1 ? std::to_string(o.cpu_a) : "0,1", o.cpu_b));
  m.queues = shards;
  const int port = kBasePort + 14;
  if (!t.set_kernel_b_tx_checksum(false)) {
    m.ok = false;
    m.error = "ethtool -K tx off on the kernel end failed";
    return m;
  }
  XnetSide client_side;
  RateTally tally;
  std::vector<int> a_cpus = {o.cpu_a, o.cpu_b};
  a_cpus.resize(shards);
  PeerSteps steps;
  steps.passive = kernel_echo(t.kernel_b(), port, false);
  steps.active = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_a(), t.xnet_to_kernel_a(), false, a_cpus);
    c.queues = shards;
    client_side.run(c, sync, [&](unsigned shard, StackDriver& d) {
      return client_shard(d, shard, shards, flows, endpoint(t.kernel_b(), port), size, seconds, o.ping_timeout_ms,
                          tally, sync);
    });
  };
  const bool ok = run_peers(t, o, steps, m);
  (void)t.set_kernel_b_tx_checksum(true);
  if (!ok) return m;
  tally.report(m);
  const stack::HandoffStats& h = client_side.handoff();
  m.set("handed_over", static_cast<double>(h.DatagramsOut));
  m.set("handoff_ring_full", static_cast<double>(h.RingFull));
  m.set("frames_leaked", static_cast<double>(client_side.frames_out()));
  m.note += fmt::format("; replies handed over to their socket's shard: {}, dropped for a full ring: {}",
                        h.DatagramsOut, h.RingFull);
  return m;
}

Options soak_options(const Options& opts) {
  Options o = opts;
  o.tuning.ring_size = opts.soak_ring_size;
  o.tuning.frames = opts.soak_frames;
  o.tuning.threaded_napi_throughput = opts.tuning.threaded_napi_soak;
  return o;
}

Options throughput_options(const Options& opts) {
  Options o = opts;
  o.tuning.ring_size = opts.throughput_ring_size;
  o.tuning.frames = opts.throughput_frames;
  return o;
}

Measurement xnet_soak(Topology& t, const Options& opts, double rate, double seconds) {
  const Options o = soak_options(opts);
  Measurement m = measurement(
      "soak", "xnet-busy", o.soak_size,
      fmt::format("sender on cpu {} at {:.0f} datagrams/s, receiver on cpu {}; every datagram carries "
                  "a sequence number and a payload hash; XSK rings {}, UMEM frames {}, NAPI {}",
                  o.cpu_a, rate, o.cpu_b, o.tuning.ring_size, o.tuning.frames,
                  o.tuning.threaded_napi_throughput ? "threaded" : "softirq"));
  XnetTally tally;
  SenderPlan plan;
  plan.size = std::max<size_t>(o.soak_size, 16);
  plan.seconds = seconds;
  plan.rate = rate;
  plan.hashed = true;
  uint64_t last_rx = 0;
  auto progress = [&](double elapsed) {
    // Read rx first: every datagram it counts was counted as sent before.
    const uint64_t rx = tally.received.load();
    const uint64_t sent = tally.sent.load();
    fmt::print(stderr,
               "  soak {:5.0f}s  sent {:>10}  rx {:>10} ({:>8} /s, target {:.0f} /s)  not yet received {:>6}  dup {}  "
               "reordered {}  corrupt {}  rss {} KiB\n",
               elapsed, sent, rx, rx - last_rx, rate, sent > rx ? sent - rx : 0, tally.dup.load(),
               tally.reordered.load(), tally.corrupt.load(), rss_kib());
    last_rx = rx;
  };
  RateRun r;
  if (!xnet_rate_run(t, o, 1, true, kBasePort + 13, plan, true, tally, r, m, progress)) return m;
  set_rate_figures(m, tally.sent.load(), tally.unique.load(), tally.seconds.load());
  m.set("rate_target", rate);
  m.set("corrupt", static_cast<double>(tally.corrupt.load()));
  m.set("dup", static_cast<double>(tally.dup.load()));
  m.set("reordered", static_cast<double>(tally.reordered.load()));
  m.set("frames_leaked", r.frames_out);
  m.set("rss_growth_kib", static_cast<double>(r.rss_after) - static_cast<double>(r.rss_before));
  record_drops(m, r);
  return m;
}

// ---------------------------------------------------------------------------
// GSO: xnet on A (owning an address in the kernel's subnet) sends 64400-byte
// datagrams with gso_size 1400 to a plain recvmmsg receiver in B.

Measurement xnet_gso(Topology& t, const Options& o, double seconds) {
  Measurement m = measurement(
      "gso", "xnet-busy", kGsoSegment,
      fmt::format("xnet sender (send 64400 B, SendOptions gso_size 1400) on cpu {}, plain recvmmsg x64 spin on cpu {}",
                  o.cpu_a, o.cpu_b));
  const int port = kBasePort + 14;
  XnetSide tx_side;
  XnetTally tally;
  SenderPlan plan;
  plan.size = kGsoSegment * kGsoSegments;
  plan.seconds = seconds;
  plan.gso = static_cast<uint16_t>(kGsoSegment);
  plan.segments = kGsoSegments;
  PeerSteps steps;
  steps.passive = kernel_receiver(t.kernel_b(), port, kGsoSegment, tally);
  steps.active = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_a(), t.xnet_to_kernel_a(), true, {o.cpu_a});
    c.after_open = napi_hook(t, o, o.tuning.threaded_napi_throughput, o.cpu_a);
    tx_side.run(c, sync, [&](unsigned shard, StackDriver& d) {
      return sender_task(d, shard, endpoint(t.kernel_b(), port), plan, tally, sync);
    });
  };
  if (!run_peers(t, o, steps, m)) return m;
  tally.report(m);
  m.set("frames_leaked", tx_side.frames_out());
  return m;
}

// ---------------------------------------------------------------------------

Measurement xnet_idle_cpu(Topology& t, const Options& o, double seconds) {
  Measurement m = measurement("idle", "xnet", 0,
                              fmt::format("one idle-mode shard with an open echo socket and no traffic, on cpu {}: "
                                          "thread CPU time (getrusage RUSAGE_THREAD) over {:.0f} s",
                                          o.cpu_b, seconds));
  XnetSide side;
  double cpu = 0;
  PeerSteps steps;  // one peer: it ends by itself
  steps.passive = [&](PeerSync& sync) {
    XnetSideConfig c = side_config(o, t.if_b(), t.xnet_b(), false, {o.cpu_b});
    side.run(c, sync, [&](unsigned, StackDriver& d) -> rt::Task<void> {
      return [](StackDriver& d, double secs, double& cpu) -> rt::Task<void> {
        auto sock = UdpSocket::open(d);
        if (sock) (void)sock->bind({Ipv4Addr(), static_cast<uint16_t>(kBasePort + 15)});
        (void)co_await rt::sleep_for(std::chrono::milliseconds(300));
        const double c0 = thread_cpu_seconds();
        const auto t0 = Clock::now();
        (void)co_await rt::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
        cpu = (thread_cpu_seconds() - c0) / seconds_since(t0);
      }(d, seconds, cpu);
    });
  };
  if (!run_peers(t, o, steps, m)) return m;
  m.set("cpu_percent", cpu * 100);
  return m;
}

}  // namespace xnet::bench
