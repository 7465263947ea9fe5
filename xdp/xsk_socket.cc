#include "xdp/xsk_socket.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "xdp/xdp_uapi_compat.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

namespace xnet::xdp {
namespace {

// xdp_umem_reg answers ENOBUFS only when pinning the UMEM would take the
// user's locked memory past RLIMIT_MEMLOCK (checked unless CAP_IPC_LOCK):
// say so, with both sizes, instead of a bare "No buffer space".
std::string memlock_hint(uint64_t umem_bytes) {
  rlimit lim{};
  if (getrlimit(RLIMIT_MEMLOCK, &lim) != 0) return "";
  const std::string limit = lim.rlim_cur == RLIM_INFINITY ? std::string("unlimited")
                                                           : std::to_string(lim.rlim_cur / 1024) + " KiB";
  return " (pinning the UMEM's " + std::to_string(umem_bytes / 1024) + " KiB would exceed RLIMIT_MEMLOCK, " + limit +
         ", for this user: raise it — ulimit -l, systemd LimitMEMLOCK= — or run with CAP_IPC_LOCK)";
}

std::string errstr(int err) { return std::strerror(err); }

bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// A closed socket's queue is released by the kernel after an RCU grace period:
// a rebind in between sees EBUSY (ROBUSTNESS case 50). Bounded retry.
constexpr int kBindAttempts = 50;
constexpr std::chrono::milliseconds kBindRetryDelay{10};

}  // namespace

const char* to_string(BindMode m) { return m == BindMode::kCopy ? "copy" : "zero-copy"; }

const char* to_string(TxChecksumMode m) {
  switch (m) {
    case TxChecksumMode::kSoftware: return "software";
    case TxChecksumMode::kKernelSoftware: return "tx-metadata (kernel software checksum)";
    case TxChecksumMode::kDevice: return "tx-metadata (device)";
  }
  return "?";
}

XdpResult<std::unique_ptr<XskSocket>> XskSocket::create(Umem& umem, uint32_t ifindex,
                                                        const std::string& ifname, uint32_t queue,
                                                        const XskConfig& config) {
  for (uint32_t s : {config.rx_size, config.tx_size, config.fill_size, config.comp_size}) {
    if (!power_of_two(s)) {
      return make_error(std::errc::invalid_argument,
                        "AF_XDP ring sizes must be powers of two, got " + std::to_string(s));
    }
  }
  const bool want_md_zero_copy = config.tx_checksum != TxChecksumRequest::kSoftware;
  const bool want_md = config.tx_checksum == TxChecksumRequest::kTxMetadata;
  if (config.zero_copy) {
    auto zc = try_create(umem, ifindex, ifname, queue, config, BindMode::kZeroCopy, want_md_zero_copy, true);
    if (zc) return zc;
    std::fprintf(stderr, "xnet-xdp: zero-copy bind on %s queue %u failed (%s); using copy mode\n",
                 ifname.c_str(), queue, zc.message().c_str());
  }
  auto r = try_create(umem, ifindex, ifname, queue, config, BindMode::kCopy, want_md, true);
  // Kernels 6.8 - 6.10 do not know XDP_UMEM_TX_METADATA_LEN; before 6.8 there is
  // no TX metadata at all. Step down rather than fail.
  if (!r && want_md && r.error() == std::errc::invalid_argument) {
    r = try_create(umem, ifindex, ifname, queue, config, BindMode::kCopy, true, false);
    if (!r && r.error() == std::errc::invalid_argument) {
      r = try_create(umem, ifindex, ifname, queue, config, BindMode::kCopy, false, false);
    }
  }
  return r;
}

XdpResult<std::unique_ptr<XskSocket>> XskSocket::try_create(
    Umem& umem, uint32_t ifindex, const std::string& ifname, uint32_t queue,
    const XskConfig& config, BindMode mode, bool tx_metadata, bool metadata_len_flag) {
  std::unique_ptr<XskSocket> s(new XskSocket());
  s->queue_ = queue;
  s->fd_ = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      return errno_error(err, "opening an AF_XDP socket needs CAP_NET_RAW");
    }
    return errno_error(err, "socket(AF_XDP) failed: " + errstr(err) +
                                (err == EAFNOSUPPORT ? " (kernel without CONFIG_XDP_SOCKETS)" : ""));
  }

  uapi::UmemReg reg{};
  reg.addr = reinterpret_cast<uint64_t>(umem.region().data());
  reg.len = umem.region().size();
  reg.chunk_size = umem.chunk_size();
  reg.headroom = config.umem_headroom;
  if (tx_metadata) {
    reg.tx_metadata_len = uapi::kTxMetadataLen;
    if (metadata_len_flag) reg.flags |= uapi::kUmemTxMetadataLen;
    // Copy mode builds an skb; without TX_SW_CSUM the sum is left for a
    // device, and on veth the bytes would leave unfinished.
    const bool device = mode == BindMode::kZeroCopy && config.trust_device_tx_checksum;
    if (!device) reg.flags |= uapi::kUmemTxSwCsum;
  }
  if (setsockopt(s->fd_, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) != 0) {
    const int err = errno;
    return errno_error(err, "XDP_UMEM_REG failed: " + errstr(err) + (err == ENOBUFS ? memlock_hint(reg.len) : ""));
  }
  if (tx_metadata) {
    s->tx_metadata_len_ = uapi::kTxMetadataLen;
    s->csum_mode_ = (reg.flags & uapi::kUmemTxSwCsum) ? TxChecksumMode::kKernelSoftware
                                                       : TxChecksumMode::kDevice;
  }

  struct RingOpt {
    int opt;
    uint32_t size;
  };
  for (RingOpt o : {RingOpt{XDP_UMEM_FILL_RING, config.fill_size},
                    RingOpt{XDP_UMEM_COMPLETION_RING, config.comp_size},
                    RingOpt{XDP_RX_RING, config.rx_size}, RingOpt{XDP_TX_RING, config.tx_size}}) {
    if (setsockopt(s->fd_, SOL_XDP, o.opt, &o.size, sizeof(o.size)) != 0) {
      return errno_error(errno, "setting an AF_XDP ring size failed: " + errstr(errno));
    }
  }
  xdp_mmap_offsets off{};
  socklen_t optlen = sizeof(off);
  if (getsockopt(s->fd_, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) != 0) {
    return errno_error(errno, "XDP_MMAP_OFFSETS failed: " + errstr(errno));
  }

  auto map_ring = [&](int slot, uint64_t pgoff, const xdp_ring_offset& ro, uint32_t entries,
                      size_t entry_size) -> void* {
    const size_t len = ro.desc + size_t{entries} * entry_size;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd_,
                   static_cast<off_t>(pgoff));
    if (p == MAP_FAILED) return nullptr;
    s->maps_[slot] = {p, len};
    return p;
  };
  auto fill_ring_fields = [](auto& ring, void* base, const xdp_ring_offset& ro, uint32_t entries) {
    auto* b = static_cast<char*>(base);
    ring.mask = entries - 1;
    ring.size = entries;
    ring.producer = reinterpret_cast<uint32_t*>(b + ro.producer);
    ring.consumer = reinterpret_cast<uint32_t*>(b + ro.consumer);
    ring.flags = reinterpret_cast<uint32_t*>(b + ro.flags);
    ring.ring = b + ro.desc;
  };

  void* fr = map_ring(0, XDP_UMEM_PGOFF_FILL_RING, off.fr, config.fill_size, sizeof(uint64_t));
  void* cr = map_ring(1, XDP_UMEM_PGOFF_COMPLETION_RING, off.cr, config.comp_size, sizeof(uint64_t));
  void* rx = map_ring(2, XDP_PGOFF_RX_RING, off.rx, config.rx_size, sizeof(xdp_desc));
  void* tx = map_ring(3, XDP_PGOFF_TX_RING, off.tx, config.tx_size, sizeof(xdp_desc));
  if (!fr || !cr || !rx || !tx) return errno_error(errno, "mmap of an AF_XDP ring failed");

  // Initial cached indices as libxdp sets them: a producer ring starts with
  // `size` free entries (cached_cons runs `size` ahead of the real consumer).
  fill_ring_fields(s->fill_, fr, off.fr, config.fill_size);
  s->fill_.cached_prod = *s->fill_.producer;
  s->fill_.cached_cons = *s->fill_.consumer + config.fill_size;
  fill_ring_fields(s->comp_, cr, off.cr, config.comp_size);
  s->comp_.cached_prod = *s->comp_.producer;
  s->comp_.cached_cons = *s->comp_.consumer;
  fill_ring_fields(s->rx_, rx, off.rx, config.rx_size);
  s->rx_.cached_prod = *s->rx_.producer;
  s->rx_.cached_cons = *s->rx_.consumer;
  fill_ring_fields(s->tx_, tx, off.tx, config.tx_size);
  s->tx_.cached_prod = *s->tx_.producer;
  s->tx_.cached_cons = *s->tx_.consumer + config.tx_size;

  if (config.busy_poll) {
    const int one = 1;
    if (setsockopt(s->fd_, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) != 0 ||
        setsockopt(s->fd_, SOL_SOCKET, SO_BUSY_POLL, &config.busy_poll_usec,
                   sizeof(config.busy_poll_usec)) != 0 ||
        setsockopt(s->fd_, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &config.busy_poll_budget,
                   sizeof(config.busy_poll_budget)) != 0) {
      return errno_error(errno, "busy-poll socket options failed: " + errstr(errno));
    }
    s->busy_poll_ = true;
  }

  sockaddr_xdp sxdp{};
  sxdp.sxdp_family = AF_XDP;
  sxdp.sxdp_ifindex = ifindex;
  sxdp.sxdp_queue_id = queue;
  sxdp.sxdp_flags = mode == BindMode::kZeroCopy ? XDP_ZEROCOPY : XDP_COPY;
  if (config.need_wakeup) sxdp.sxdp_flags |= XDP_USE_NEED_WAKEUP;
  if (config.multi_buffer) sxdp.sxdp_flags |= uapi::kUseSg;
  int err = 0;
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    if (bind(s->fd_, reinterpret_cast<sockaddr*>(&sxdp), sizeof(sxdp)) == 0) {
      err = 0;
      break;
    }
    err = errno;
    if (err != EBUSY) break;
    std::this_thread::sleep_for(kBindRetryDelay);
  }
  if (err != 0) {
    std::string what = "binding an AF_XDP socket to " + ifname + " queue " +
                       std::to_string(queue) + " (" + to_string(mode) + ") failed: " + errstr(err);
    if (err == EBUSY) what += " (another AF_XDP socket is bound to that queue)";
    if (config.multi_buffer && (err == EOPNOTSUPP || err == EINVAL)) {
      // EINVAL: a kernel before 6.6 (no XDP_USE_SG); EOPNOTSUPP: a zero-copy
      // driver without multi-buffer AF_XDP.
      what += " (no multi-buffer AF_XDP, XDP_USE_SG, for this driver and mode)";
    } else if (err == EOPNOTSUPP && mode == BindMode::kZeroCopy) {
      what += " (driver has no zero-copy)";
    }
    return errno_error(err, what);
  }
  s->bind_mode_ = mode;
  s->multi_buffer_ = config.multi_buffer;
  xdp_options opts{};
  optlen = sizeof(opts);
  if (getsockopt(s->fd_, SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0) {
    s->bind_mode_ = (opts.flags & XDP_OPTIONS_ZEROCOPY) ? BindMode::kZeroCopy : BindMode::kCopy;
  }
  return s;
}

XskSocket::~XskSocket() {
  for (Mapping& m : maps_) {
    if (m.addr != nullptr) munmap(m.addr, m.len);
  }
  if (fd_ >= 0) close(fd_);
}

int XskSocket::kick_tx() {
  if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) return 0;
  const int err = errno;
  if (err == EAGAIN || err == ENOBUFS || err == ENETDOWN) return 0;
  return err;
}

void XskSocket::kick_rx() { (void)recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr); }

XdpResult<xdp_statistics> XskSocket::statistics() const {
  xdp_statistics st{};
  socklen_t len = sizeof(st);
  if (getsockopt(fd_, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) {
    return errno_error(errno, "XDP_STATISTICS failed: " + errstr(errno));
  }
  return st;
}

}  // namespace xnet::xdp
