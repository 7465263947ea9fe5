#pragma once
// XskSocket: one AF_XDP socket bound to one (interface, queue), with its four
// rings and its own UMEM registration. Registered with raw setsockopt rather
// than libxdp's xsk_umem__create, because libxdp 1.3.1 cannot ask for TX
// metadata (tx_metadata_len, XDP_UMEM_TX_SW_CSUM); the rings are then driven
// through libxdp's inline helpers (xdp/xsk.h), which own the barriers.

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <cstdint>
#include <memory>
#include <string>

#include "xdp/error.h"
#include "xdp/umem.h"

namespace xnet::xdp {

enum class BindMode { kCopy, kZeroCopy };
const char* to_string(BindMode m);

enum class TxChecksumRequest {
  // Zero-copy: TX metadata if the kernel has it. Copy mode: software, because
  // the kernel's copy-mode completion (XDP_UMEM_TX_SW_CSUM) is a second pass
  // over the bytes in the syscall, while the stack sums as it copies the
  // payload in (netbench: 64 B ping-pong -0.1 us, 1400 B -0.2 us, GSO +5%).
  kAuto,
  kSoftware,    // never ask the kernel: the link completes sums itself
  kTxMetadata,  // always TX metadata, in copy mode too (the kernel sums)
};

// How a ChecksumState::kPartial packet gets its sum.
enum class TxChecksumMode {
  kSoftware,        // computed by XdpLink before the descriptor is posted
  kKernelSoftware,  // TX metadata + XDP_UMEM_TX_SW_CSUM: the kernel computes it (copy mode)
  kDevice,          // TX metadata, completed by the NIC (zero-copy drivers that implement it)
};
const char* to_string(TxChecksumMode m);

struct XskConfig {
  // Ring sizes: powers of two.
  uint32_t rx_size = 2048;
  uint32_t tx_size = 2048;
  uint32_t fill_size = 2048;
  uint32_t comp_size = 2048;
  bool zero_copy = false;  // try XDP_ZEROCOPY first, fall back to XDP_COPY
  bool need_wakeup = true;
  // Busy polling (SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET).
  bool busy_poll = false;
  int busy_poll_usec = 20;
  int busy_poll_budget = 64;
  TxChecksumRequest tx_checksum = TxChecksumRequest::kAuto;
  // A zero-copy driver's TX checksum support cannot be probed from here
  // (netdev genetlink xsk-features); set when the NIC is known to do it.
  bool trust_device_tx_checksum = false;
  uint32_t umem_headroom = 0;  // extra rx headroom on top of XDP_PACKET_HEADROOM
  // Bind with XDP_USE_SG: a packet may span several descriptors (XDP_PKT_CONTD)
  // both ways. XdpLink sets it when the MTU needs more than one chunk.
  bool multi_buffer = false;
};

class XskSocket {
 public:
  // Errors: EBUSY (queue already has a socket; retried for a short while first,
  // because the kernel releases a closed one asynchronously), EINVAL (bad queue
  // or ring size), EPERM, with messages.
  static XdpResult<std::unique_ptr<XskSocket>> create(Umem& umem, uint32_t ifindex,
                                                      const std::string& ifname, uint32_t queue,
                                                      const XskConfig& config);
  ~XskSocket();
  XskSocket(const XskSocket&) = delete;
  XskSocket& operator=(const XskSocket&) = delete;

  int fd() const { return fd_; }
  uint32_t queue() const { return queue_; }
  BindMode bind_mode() const { return bind_mode_; }
  TxChecksumMode tx_checksum_mode() const { return csum_mode_; }
  // Bytes in front of every TX descriptor's data reserved for xsk_tx_metadata
  // (0 without TX metadata).
  uint32_t tx_metadata_len() const { return tx_metadata_len_; }
  bool busy_poll() const { return busy_poll_; }
  bool multi_buffer() const { return multi_buffer_; }

  xsk_ring_prod& fill() { return fill_; }
  xsk_ring_cons& comp() { return comp_; }
  xsk_ring_cons& rx() { return rx_; }
  xsk_ring_prod& tx() { return tx_; }

  bool fill_needs_wakeup() const { return xsk_ring_prod__needs_wakeup(&fill_) != 0; }
  bool tx_needs_wakeup() const { return xsk_ring_prod__needs_wakeup(&tx_) != 0; }

  // sendto(MSG_DONTWAIT): makes the kernel process the TX ring (copy mode: at
  // most 32 descriptors per call). Returns 0 or a non-retryable errno; EAGAIN,
  // ENOBUFS and ENETDOWN are "try again later" and return 0. EBUSY is
  // returned as it is: in copy mode it means the device dropped the frame at
  // the head of the ring (xsk_generic_xmit: NET_XMIT_DROP, "completed but not
  // sent"; veth does it when the peer's NAPI ring is full) and stopped there.
  int kick_tx();
  // recvfrom(MSG_DONTWAIT): wakes the driver to refill from the fill ring, or
  // runs a busy-poll round.
  void kick_rx();

  XdpResult<xdp_statistics> statistics() const;

 private:
  struct Mapping {
    void* addr = nullptr;
    size_t len = 0;
  };
  XskSocket() = default;
  static XdpResult<std::unique_ptr<XskSocket>> try_create(Umem& umem, uint32_t ifindex,
                                                          const std::string& ifname,
                                                          uint32_t queue, const XskConfig& config,
                                                          BindMode mode, bool tx_metadata,
                                                          bool metadata_len_flag);

  int fd_ = -1;
  uint32_t queue_ = 0;
  BindMode bind_mode_ = BindMode::kCopy;
  TxChecksumMode csum_mode_ = TxChecksumMode::kSoftware;
  uint32_t tx_metadata_len_ = 0;
  bool busy_poll_ = false;
  bool multi_buffer_ = false;
  xsk_ring_prod fill_{};
  xsk_ring_cons comp_{};
  xsk_ring_cons rx_{};
  xsk_ring_prod tx_{};
  Mapping maps_[4];
};

}  // namespace xnet::xdp
