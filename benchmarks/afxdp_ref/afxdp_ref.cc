#include "benchmarks/afxdp_ref/afxdp_ref.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "benchmarks/afxdp_ref/redirect_object.h"

namespace afxdp_ref {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

}  // namespace

struct Socket::Impl {
  Config cfg;
  int ifindex = 0;
  bpf_object* obj = nullptr;
  bool attached = false;
  void* area = nullptr;
  size_t area_size = 0;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fq{}, tx{};
  xsk_ring_cons cq{}, rx{};
  uint64_t rx_half_end = 0;              // addresses below serve the fill ring
  std::vector<uint64_t> tx_free;         // transmit-half frames not in flight
  std::vector<uint64_t> fill_pending;    // receive frames waiting for fill-ring room
  uint32_t tx_outstanding = 0;

  uint8_t* at(uint64_t addr) { return static_cast<uint8_t*>(xsk_umem__get_data(area, addr)); }
  int fd() { return xsk_socket__fd(xsk); }

  // A transmit kick only when the kernel asks for one (need_wakeup).
  void kick_tx() {
    if (xsk_ring_prod__needs_wakeup(&tx)) sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  }

  // Puts receive frames back on the fill ring, as many as it has room for.
  void flush_fill() {
    if (fill_pending.empty()) return;
    uint32_t idx;
    uint32_t n = static_cast<uint32_t>(fill_pending.size());
    while (n > 0 && xsk_ring_prod__reserve(&fq, n, &idx) != n) n /= 2;
    if (n == 0) return;
    for (uint32_t i = 0; i < n; ++i) *xsk_ring_prod__fill_addr(&fq, idx + i) = fill_pending[fill_pending.size() - n + i];
    xsk_ring_prod__submit(&fq, n);
    fill_pending.resize(fill_pending.size() - n);
  }

  // Completed transmits: reflected frames go back to the fill ring, our own
  // transmit frames back to tx_free.
  void reclaim() {
    uint32_t idx;
    const uint32_t n = xsk_ring_cons__peek(&cq, cfg.ring_size, &idx);
    if (n == 0) return;
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t a = *xsk_ring_cons__comp_addr(&cq, idx + i);
      if (a < rx_half_end) {
        fill_pending.push_back(a);
      } else {
        tx_free.push_back(a);
      }
    }
    xsk_ring_cons__release(&cq, n);
    tx_outstanding -= n;
    flush_fill();
  }

  // Every transmit-half frame gets a copy of `tmpl`.
  void prebuild(const std::vector<uint8_t>& tmpl) {
    for (uint64_t a : tx_free) std::memcpy(at(a), tmpl.data(), tmpl.size());
  }

  ~Impl() {
    if (xsk) xsk_socket__delete(xsk);
    if (umem) xsk_umem__delete(umem);
    if (area) munmap(area, area_size);
    if (attached) bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr);
    if (obj) bpf_object__close(obj);
  }
};

Socket::Socket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Socket::~Socket() = default;

std::unique_ptr<Socket> Socket::open(const Config& config, std::string* error) {
  // Seen in an all-run: the reference's receiver opened its queue right after
  // the previous implementation closed its socket there, and failed EBUSY.
  constexpr int kAttempts = 50;
  for (int attempt = 1;; ++attempt) {
    int err = 0;
    auto s = open_once(config, error, &err);
    if (s || err != EBUSY || attempt == kAttempts) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::unique_ptr<Socket> Socket::open_once(const Config& config, std::string* error, int* errno_out) {
  auto fail = [error, errno_out](const std::string& what, int err) -> std::unique_ptr<Socket> {
    *errno_out = err < 0 ? -err : err;
    *error = what + ": " + std::strerror(*errno_out);
    return nullptr;
  };
  auto im = std::make_unique<Impl>();
  im->cfg = config;
  im->cfg.batch = std::min<uint32_t>(std::max<uint32_t>(config.batch, 1), 256);
  im->ifindex = static_cast<int>(if_nametoindex(config.ifname.c_str()));
  if (im->ifindex == 0) return fail("no interface " + config.ifname, errno);
  const auto bytes = redirect_object();
  im->obj = bpf_object__open_mem(bytes.data(), bytes.size(), nullptr);
  if (!im->obj) return fail("open redirect.bpf.o", errno);
  if (int r = bpf_object__load(im->obj); r) return fail("load redirect.bpf.o", r);
  bpf_program* prog = bpf_object__find_program_by_name(im->obj, "ref_redirect");
  const int map_fd = bpf_object__find_map_fd_by_name(im->obj, "ref_xsks");
  if (!prog || map_fd < 0) return fail("redirect.bpf.o lacks ref_redirect/ref_xsks", ENOENT);
  if (int r = bpf_xdp_attach(im->ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, nullptr); r) {
    return fail("attach XDP to " + config.ifname, r);
  }
  im->attached = true;

  im->area_size = size_t{config.frames} * kFrameSize;
  im->area = mmap(nullptr, im->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (im->area == MAP_FAILED) {
    im->area = nullptr;
    return fail("mmap UMEM", errno);
  }
  xsk_umem_config ucfg{};
  ucfg.fill_size = ucfg.comp_size = config.ring_size;
  ucfg.frame_size = kFrameSize;
  ucfg.frame_headroom = 0;
  if (int r = xsk_umem__create(&im->umem, im->area, im->area_size, &im->fq, &im->cq, &ucfg); r) {
    return fail("xsk_umem__create", r);
  }
  xsk_socket_config scfg{};
  scfg.rx_size = scfg.tx_size = config.ring_size;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our own program, attached above
  scfg.xdp_flags = XDP_FLAGS_DRV_MODE;
  scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  if (int r = xsk_socket__create(&im->xsk, config.ifname.c_str(), config.queue, im->umem, &im->rx, &im->tx, &scfg);
      r) {
    return fail("xsk_socket__create", r);
  }
  if (int r = xsk_socket__update_xskmap(im->xsk, map_fd); r) return fail("XSKMAP update", r);

  const uint32_t half = config.frames / 2;
  im->rx_half_end = uint64_t{half} * kFrameSize;
  for (uint32_t i = 0; i < half; ++i) im->fill_pending.push_back(uint64_t{i} * kFrameSize);
  for (uint32_t i = half; i < config.frames; ++i) im->tx_free.push_back(uint64_t{i} * kFrameSize);
  im->flush_fill();
  return std::unique_ptr<Socket>(new Socket(std::move(im)));
}

PingResult run_pinger(Socket& s, const Flow& flow, const PingOptions& o, const std::atomic<bool>& stop) {
  Socket::Impl& im = s.impl();
  PingResult res;
  const auto tmpl = build_frame(flow);
  if (tmpl.empty()) return res;
  const uint16_t csum0 = udp_checksum_field(tmpl.data());
  im.prebuild(tmpl);
  res.rtt_ns.reserve(o.count);
  const uint64_t start = now_ns();
  for (uint64_t seq = 0; seq < o.warmup + o.count && !stop.load(std::memory_order_relaxed); ++seq) {
    const bool counted = seq >= o.warmup;
    if (counted && (now_ns() - start) > static_cast<uint64_t>(o.max_seconds * 1e9)) break;
    while (im.tx_free.empty()) im.reclaim();
    const uint64_t addr = im.tx_free.back();
    im.tx_free.pop_back();
    const uint64_t t0 = now_ns();
    set_seq(im.at(addr), csum0, seq);
    uint32_t idx;
    while (xsk_ring_prod__reserve(&im.tx, 1, &idx) != 1) im.reclaim();
    xdp_desc* d = xsk_ring_prod__tx_desc(&im.tx, idx);
    d->addr = addr;
    d->len = static_cast<uint32_t>(tmpl.size());
    xsk_ring_prod__submit(&im.tx, 1);
    ++im.tx_outstanding;
    im.kick_tx();
    bool got = false;
    while (!got) {
      uint32_t ridx;
      const uint32_t n = xsk_ring_cons__peek(&im.rx, im.cfg.batch, &ridx);
      if (n == 0) {
        if (xsk_ring_prod__needs_wakeup(&im.fq)) recvfrom(im.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
        if (now_ns() - t0 > o.timeout_ns) break;
        continue;
      }
      for (uint32_t i = 0; i < n; ++i) {
        const xdp_desc* r = xsk_ring_cons__rx_desc(&im.rx, ridx + i);
        if (r->len >= kHdrLen + 8 && get_seq(im.at(r->addr)) == seq) got = true;
        im.fill_pending.push_back(r->addr);
      }
      xsk_ring_cons__release(&im.rx, n);
      const uint64_t rtt = now_ns() - t0;
      if (got && counted) res.rtt_ns.push_back(rtt);
      im.flush_fill();
    }
    if (!got && counted) ++res.lost;
    im.reclaim();
  }
  return res;
}

uint64_t run_reflector(Socket& s, const std::atomic<bool>& stop) {
  Socket::Impl& im = s.impl();
  uint64_t reflected = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    im.reclaim();
    uint32_t ridx;
    const uint32_t n = xsk_ring_cons__peek(&im.rx, im.cfg.batch, &ridx);
    if (n == 0) {
      if (xsk_ring_prod__needs_wakeup(&im.fq)) recvfrom(im.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      continue;
    }
    // Turn around what is IPv4/UDP; the rest goes straight back to the fill ring.
    xdp_desc out_desc[256];
    uint32_t out = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* r = xsk_ring_cons__rx_desc(&im.rx, ridx + i);
      if (out < 256 && reflect(im.at(r->addr), r->len)) {
        out_desc[out++] = *r;
      } else {
        im.fill_pending.push_back(r->addr);
      }
    }
    xsk_ring_cons__release(&im.rx, n);
    uint32_t tidx = 0;
    if (out > 0 && xsk_ring_prod__reserve(&im.tx, out, &tidx) != out) {
      // TX ring full (transmits not completed yet): dropped back to the fill
      // ring rather than waited for.
      for (uint32_t i = 0; i < out; ++i) im.fill_pending.push_back(out_desc[i].addr);
      out = 0;
    }
    for (uint32_t i = 0; i < out; ++i) *xsk_ring_prod__tx_desc(&im.tx, tidx + i) = out_desc[i];
    xsk_ring_prod__submit(&im.tx, out);
    im.tx_outstanding += out;
    reflected += out;
    im.kick_tx();
    im.flush_fill();
  }
  return reflected;
}

TxResult run_txonly(Socket& s, const Flow& flow, double seconds, const std::atomic<bool>& stop) {
  Socket::Impl& im = s.impl();
  TxResult res;
  const auto tmpl = build_frame(flow);
  if (tmpl.empty()) return res;
  const uint16_t csum0 = udp_checksum_field(tmpl.data());
  im.prebuild(tmpl);
  uint64_t seq = 0;
  const uint64_t start = now_ns();
  const uint64_t limit = static_cast<uint64_t>(seconds * 1e9);
  while (!stop.load(std::memory_order_relaxed) && now_ns() - start < limit) {
    im.reclaim();
    uint32_t n = std::min<uint32_t>(im.cfg.batch, static_cast<uint32_t>(im.tx_free.size()));
    uint32_t idx;
    if (n == 0 || xsk_ring_prod__reserve(&im.tx, n, &idx) != n) {
      // Ring or frames exhausted: the kernel has not sent them yet. Kick.
      sendto(im.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
      continue;
    }
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t a = im.tx_free.back();
      im.tx_free.pop_back();
      set_seq(im.at(a), csum0, seq++);
      xdp_desc* d = xsk_ring_prod__tx_desc(&im.tx, idx + i);
      d->addr = a;
      d->len = static_cast<uint32_t>(tmpl.size());
    }
    xsk_ring_prod__submit(&im.tx, n);
    im.tx_outstanding += n;
    res.sent += n;
    im.kick_tx();
  }
  res.seconds = static_cast<double>(now_ns() - start) / 1e9;
  // Let the last transmits complete before the socket goes (bounded).
  const uint64_t end = now_ns() + 50'000'000;
  while (im.tx_outstanding > 0 && now_ns() < end) {
    sendto(im.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    im.reclaim();
  }
  return res;
}

uint64_t run_rxdrop(Socket& s, bool spin, const std::atomic<bool>& stop, std::atomic<uint64_t>* received) {
  Socket::Impl& im = s.impl();
  uint64_t count = 0;
  pollfd pfd{im.fd(), POLLIN, 0};
  while (!stop.load(std::memory_order_relaxed)) {
    uint32_t idx;
    const uint32_t n = xsk_ring_cons__peek(&im.rx, im.cfg.batch, &idx);
    if (n == 0) {
      if (spin) {
        if (xsk_ring_prod__needs_wakeup(&im.fq)) recvfrom(im.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      } else {
        poll(&pfd, 1, 50);  // bounded, so `stop` is seen
      }
      continue;
    }
    for (uint32_t i = 0; i < n; ++i) im.fill_pending.push_back(xsk_ring_cons__rx_desc(&im.rx, idx + i)->addr);
    xsk_ring_cons__release(&im.rx, n);
    im.flush_fill();
    count += n;
    if (received) received->store(count, std::memory_order_relaxed);
  }
  return count;
}

std::string set_threaded_napi(const std::string& ifname, int cpu) {
  {
    std::ofstream f("/sys/class/net/" + ifname + "/threaded");
    f << "1";
    f.flush();
    if (!f) return "cannot write /sys/class/net/" + ifname + "/threaded";
  }
  if (cpu < 0) return {};
  const std::string prefix = "napi/" + ifname + "-";
  DIR* dir = opendir("/proc");
  if (!dir) return "cannot read /proc";
  std::string err;
  while (dirent* e = readdir(dir)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream comm(std::string("/proc/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(pid, sizeof set, &set) != 0) err = "cannot pin " + name;
  }
  closedir(dir);
  return err;
}

}  // namespace afxdp_ref
