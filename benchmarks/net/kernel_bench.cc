// The kernel references: UDP sockets blocking and busy-polling (MSG_DONTWAIT),
// io_uring on kernel sockets, sendmmsg → recvmmsg, UDP_SEGMENT → recvmmsg.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "benchmarks/net/scenario_runner.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace xnet::bench {

namespace {

sockaddr_in sockaddr_of(const std::string& addr, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  return sa;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

int udp_socket_bound(const std::string& addr, int port, std::string* err) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = fmt::format("socket: {}", std::strerror(errno));
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = sockaddr_of(addr, port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = fmt::format("bind {}:{}: {}", addr, port, std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int udp_socket_connected(const std::string& addr, int port, std::string* err) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = fmt::format("socket: {}", std::strerror(errno));
    return -1;
  }
  sockaddr_in sa = sockaddr_of(addr, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = fmt::format("connect {}:{}: {}", addr, port, std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

void set_rcvtimeo(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string placement(const Options& o, const char* active, const char* passive) {
  return fmt::format("{} on cpu {} (ns A), {} on cpu {} (ns B)", active, o.cpu_a, passive, o.cpu_b);
}

}  // namespace

std::function<void(PeerSync&)> kernel_echo(const std::string& addr, int port, bool busy) {
  return [addr, port, busy](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_bound(addr, port, &err));
    if (s.fd < 0) return sync.fail(err);
    set_rcvtimeo(s.fd, 50);
    std::vector<std::byte> buf(65536);
    sync.ready = true;
    while (!sync.should_stop()) {
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      const ssize_t n = recvfrom(s.fd, buf.data(), buf.size(), busy ? MSG_DONTWAIT : 0,
                                 reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0) continue;
      sendto(s.fd, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  };
}

Measurement kernel_latency(const Topology& t, const Options& o, size_t size, bool busy) {
  Measurement m = measurement("latency", busy ? "kernel-busy" : "kernel", size,
                              placement(o, busy ? "pinger (recv MSG_DONTWAIT spin)" : "pinger (blocking recv)",
                                        busy ? "echo (spin)" : "echo (blocking)"));
  const PingPlan plan = ping_plan(o, size);
  const int port = kBasePort + 1;
  LatencyTally tally;
  uint64_t corrupt = 0;
  PeerSteps steps;
  steps.passive = kernel_echo(t.kernel_b(), port, busy);
  steps.active = [&](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_connected(t.kernel_b(), port, &err));
    if (s.fd < 0) return sync.fail(err);
    set_rcvtimeo(s.fd, 100);
    std::vector<std::byte> req(size), buf(size + 64);
    ping_loop(
        plan, sync, tally, [&](uint64_t seq) { fill_payload(req.data(), size, seq); },
        [&](uint64_t seq, Clock::time_point t0) {
          send(s.fd, req.data(), size, 0);
          for (;;) {
            const ssize_t n = recv(s.fd, buf.data(), buf.size(), busy ? MSG_DONTWAIT : 0);
            if (n < 0) {
              if (busy && errno == EAGAIN && ns_since(t0) < 100'000'000) continue;
              return false;
            }
            if (static_cast<size_t>(n) < 8 || payload_seq(buf.data()) != seq) continue;
            if (seq >= plan.warmup && static_cast<size_t>(n) != size) ++corrupt;
            return true;
          }
        });
  };
  if (!run_peers(t, o, steps, m)) return m;
  tally.report(m);
  m.set("corrupt", static_cast<double>(corrupt));
  return m;
}

Measurement io_uring_latency(const Topology& t, const Options& o, size_t size) {
  Measurement m = measurement("latency", "io_uring", size,
                              placement(o, "pinger (io_uring send+recv, one submit_and_wait per RTT)",
                                        "echo (io_uring recv, send+recv per submit)"));
  const PingPlan plan = ping_plan(o, size);
  const int port = kBasePort + 2;
  LatencyTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_bound(t.kernel_b(), port, &err));
    if (s.fd < 0) return sync.fail(err);
    io_uring ring;
    if (io_uring_queue_init(64, &ring, 0) != 0) return sync.fail("io_uring_queue_init");
    // Two buffers: the reply is sent from one while the next request lands in
    // the other, so each round trip is one submit (send + recv) on this side.
    struct Slot {
      std::vector<std::byte> buf = std::vector<std::byte>(65536);
      sockaddr_in peer{};
      iovec iov{};
      msghdr msg{};
    };
    Slot slots[2], out;
    auto prep_recv = [&](Slot& sl) {
      sl.iov = {sl.buf.data(), sl.buf.size()};
      sl.msg = {};
      sl.msg.msg_name = &sl.peer;
      sl.msg.msg_namelen = sizeof sl.peer;
      sl.msg.msg_iov = &sl.iov;
      sl.msg.msg_iovlen = 1;
      io_uring_sqe* sq = io_uring_get_sqe(&ring);
      io_uring_prep_recvmsg(sq, s.fd, &sl.msg, 0);
      io_uring_sqe_set_data64(sq, 0);
    };
    sync.ready = true;
    int cur = 0;
    prep_recv(slots[cur]);
    while (!sync.should_stop()) {
      __kernel_timespec ts{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      if (io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr) < 0 || cqe == nullptr) continue;
      const uint64_t tag = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
      if (tag != 0) continue;  // a send completion
      Slot& got = slots[cur];
      cur ^= 1;
      if (res > 0) {
        out.iov = {got.buf.data(), static_cast<size_t>(res)};
        out.peer = got.peer;
        out.msg = {};
        out.msg.msg_name = &out.peer;
        out.msg.msg_namelen = sizeof out.peer;
        out.msg.msg_iov = &out.iov;
        out.msg.msg_iovlen = 1;
        io_uring_sqe* sq = io_uring_get_sqe(&ring);
        io_uring_prep_sendmsg(sq, s.fd, &out.msg, 0);
        io_uring_sqe_set_data64(sq, 1);
      }
      prep_recv(slots[cur]);
    }
    io_uring_queue_exit(&ring);
  };
  steps.active = [&](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_connected(t.kernel_b(), port, &err));
    if (s.fd < 0) return sync.fail(err);
    io_uring ring;
    if (io_uring_queue_init(64, &ring, 0) != 0) return sync.fail("io_uring_queue_init");
    std::vector<std::byte> req(size), buf(size + 64);
    bool recv_pending = false;
    ping_loop(
        plan, sync, tally, [&](uint64_t seq) { fill_payload(req.data(), size, seq); },
        [&](uint64_t seq, Clock::time_point) {
          io_uring_sqe* sq = io_uring_get_sqe(&ring);
          io_uring_prep_send(sq, s.fd, req.data(), size, 0);
          io_uring_sqe_set_data64(sq, 1);
          for (;;) {
            if (!recv_pending) {
              io_uring_sqe* rq = io_uring_get_sqe(&ring);
              io_uring_prep_recv(rq, s.fd, buf.data(), buf.size(), 0);
              io_uring_sqe_set_data64(rq, 2);
              recv_pending = true;
            }
            __kernel_timespec ts{0, 100'000'000};
            io_uring_cqe* cqe = nullptr;
            if (io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr) < 0 || cqe == nullptr) return false;
            const uint64_t tag = io_uring_cqe_get_data64(cqe);
            const int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (tag != 2) continue;
            recv_pending = false;
            if (res >= 8 && payload_seq(buf.data()) == seq) return true;
          }
        });
    io_uring_queue_exit(&ring);
  };
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

namespace {

// recvmmsg spinning (MSG_DONTWAIT) until told to stop; counts datagrams.
struct MmsgReceiver {
  static constexpr size_t kBatch = 64;
  std::vector<std::vector<std::byte>> bufs;
  std::vector<iovec> iovs;
  std::vector<mmsghdr> msgs;
  explicit MmsgReceiver(size_t size) : bufs(kBatch, std::vector<std::byte>(size + 64)), iovs(kBatch), msgs(kBatch) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  int recv(int fd) { return recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr); }
};

}  // namespace

std::function<void(PeerSync&)> kernel_receiver(const std::string& addr, int port, size_t size, RateTally& tally) {
  return [addr, port, size, &tally](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_bound(addr, port, &err));
    if (s.fd < 0) return sync.fail(err);
    MmsgReceiver r(size);
    sync.ready = true;
    uint64_t n = 0;
    DrainAfterDone drain;
    while (!drain.over(sync)) {
      const int got = r.recv(s.fd);
      for (int i = 0; i < got; ++i) {
        if (r.msgs[i].msg_len >= 8 && (payload_seq(r.bufs[i].data()) & kWarmBit) != 0) continue;
        ++n;
      }
      if (got > 0) tally.received.store(n, std::memory_order_relaxed);
    }
  };
}

namespace {

// Sender and receiver of a kernel rate run; `send_once(fd, seq)` returns the
// datagrams it sent.
template <typename SendOnce>
Measurement kernel_rate_run(const Topology& t, const Options& o, Measurement m, int port, double seconds,
                            size_t recv_size, SendOnce send_once) {
  RateTally tally;
  PeerSteps steps;
  steps.passive = kernel_receiver(t.kernel_b(), port, recv_size, tally);
  steps.active = [&](PeerSync& sync) {
    std::string err;
    Fd s(udp_socket_connected(t.kernel_b(), port, &err));
    if (s.fd < 0) return sync.fail(err);
    send_for(seconds, tally, [&](uint64_t& seq) { return send_once(s.fd, seq); });
  };
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

}  // namespace

Measurement kernel_throughput(const Topology& t, const Options& o, size_t size, double seconds) {
  Measurement m = measurement("throughput", "kernel", size,
                              placement(o, "sendmmsg x64 (blocking)", "recvmmsg x64 MSG_DONTWAIT spin"));
  constexpr size_t kBatch = 64;
  auto bufs = std::make_shared<std::vector<std::vector<std::byte>>>(kBatch, std::vector<std::byte>(size));
  auto iovs = std::make_shared<std::vector<iovec>>(kBatch);
  auto msgs = std::make_shared<std::vector<mmsghdr>>(kBatch);
  for (size_t i = 0; i < kBatch; ++i) {
    fill_payload((*bufs)[i].data(), size, 0);
    (*iovs)[i] = {(*bufs)[i].data(), size};
    (*msgs)[i] = {};
    (*msgs)[i].msg_hdr.msg_iov = &(*iovs)[i];
    (*msgs)[i].msg_hdr.msg_iovlen = 1;
  }
  return kernel_rate_run(t, o, m, kBasePort + 3, seconds, size, [=](int fd, uint64_t& seq) -> uint64_t {
    for (size_t i = 0; i < kBatch; ++i) {
      const uint64_t s = seq + i;
      std::memcpy((*bufs)[i].data(), &s, sizeof s);  // pattern written once, below
    }
    const int n = sendmmsg(fd, msgs->data(), kBatch, 0);
    if (n <= 0) return 0;
    seq += static_cast<uint64_t>(n);
    return static_cast<uint64_t>(n);
  });
}

Measurement kernel_gso(const Topology& t, const Options& o, double seconds) {
  Measurement m = measurement("gso", "kernel", kGsoSegment,
                              placement(o, "send 64400 B with UDP_SEGMENT 1400 (46 segments)", "plain recvmmsg x64 spin"));
  auto buf = std::make_shared<std::vector<std::byte>>(kGsoSegment * kGsoSegments);
  auto configured = std::make_shared<int>(-1);
  return kernel_rate_run(t, o, m, kBasePort + 4, seconds, kGsoSegment, [=](int fd, uint64_t& seq) -> uint64_t {
    if (*configured != fd) {
      const int seg = static_cast<int>(kGsoSegment);
      setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
      *configured = fd;
    }
    for (size_t i = 0; i < kGsoSegments; ++i) fill_payload(buf->data() + i * kGsoSegment, 16, seq + i);
    const ssize_t n = send(fd, buf->data(), buf->size(), 0);
    if (n <= 0) return 0;
    seq += kGsoSegments;
    return kGsoSegments;
  });
}

}  // namespace xnet::bench
