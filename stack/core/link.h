#pragma once
// Link: the boundary between the stack and a device (net_device analog).
// One virtual call per burst, never per packet. A link has no clock of its own.

#include <cstddef>
#include <cstdint>
#include <string>

#include "stack/core/frame_pool.h"
#include "stack/core/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// net_device->features, reduced to what the IPv4/UDP path consults.
struct LinkFeatures {
  // NETIF_F_HW_CSUM: the device completes CHECKSUM_PARTIAL packets on transmit.
  // Without it the stack completes them before handing them over (skb_checksum_help).
  bool tx_checksum = false;
  // The device verified received L4 checksums (packets arrive kUnnecessary).
  bool rx_checksum = false;
  // NETIF_F_SG: frames may be chained (multi-buffer); unused by MemoryLink.
  bool scatter_gather = false;
  // Largest L2 frame the device transmits/receives, without FCS.
  uint32_t max_frame = 1514;
};

struct LinkStats {
  // tx_packets / tx_bytes: handed to the device. tx_dropped: frames the link
  // could not hand over, and frames the device took and then dropped (an
  // AF_XDP copy-mode kick answered EBUSY), so a dropped frame may be in both.
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  uint64_t rx_dropped = 0, tx_dropped = 0;
};

class Link {
 public:
  virtual ~Link() = default;

  // Appends up to `max` received frames (Ethernet, mac header at data()) to `out`;
  // returns how many. Received packets carry `meta().ifindex` unset: the stack sets it.
  virtual size_t rx_burst(PacketQueue& out, size_t max) = 0;

  // Takes packets from the front of `q` (full Ethernet frames at data()) for
  // transmission until the device queue is full; returns how many it took. Packets it
  // did not take stay in `q` (backpressure: the caller waits for tx space, never
  // drops silently). Packets with ChecksumState::kPartial are completed by the
  // device when features().tx_checksum, and must not be passed otherwise.
  virtual size_t tx_burst(PacketQueue& q) = 0;

  // Frames for packets leaving through this link come from this pool (for AF_XDP:
  // the UMEM), so that transmit needs no copy.
  virtual FramePool& pool() = 0;

  virtual uint32_t mtu() const = 0;  // L3 MTU, e.g. 1500
  virtual wire::MacAddr mac() const = 0;
  virtual LinkFeatures features() const = 0;
  virtual std::string name() const = 0;
  virtual LinkStats stats() const { return {}; }

  // Frames the link holds itself (rings, completion queue) and that are out of the
  // pool while idle; tests compare pool().in_use() with this to find leaks.
  virtual uint32_t frames_held() const { return 0; }

  // For a sleeping reactor: the fd whose POLLIN readiness means rx_burst has
  // work (an AF_XDP socket), or -1 for links without one (MemoryLink). Before
  // sleeping the reactor calls prepare_to_sleep(), where a link kicks the
  // kernel if its rings asked for a wakeup (need_wakeup).
  virtual int wait_fd() const { return -1; }
  virtual void prepare_to_sleep() {}
  // Transmits handed to the device whose completion has not been collected.
  // Some devices (veth in copy mode) complete after the kick without raising
  // the fd a reactor sleeps on; a driver that sees this keeps polling (with a
  // short deadline) until they are collected, so send-buffer space and frames
  // come back without waiting for unrelated traffic.
  virtual bool tx_completions_pending() const { return false; }

  // The device's multicast filter (dev_mc_add / dev_mc_del): the stack calls
  // these when the first user joins an IPv4 group on this interface and when
  // the last one leaves. By group address rather than by MAC, because a link
  // that filters in software (the XDP steering program) matches the IPv4
  // destination; a link that receives every frame (MemoryLink, veth) needs
  // nothing, as eth_rcv filters multicast MACs itself.
  virtual void add_multicast(wire::Ipv4Addr /*group*/) {}
  virtual void del_multicast(wire::Ipv4Addr /*group*/) {}
};

}  // namespace xnet::stack
