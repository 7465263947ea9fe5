#pragma once
// The benchmark's namespaces and veth pair: netns::VethTopology (the one the
// privileged tests use) with the benchmark's address plan, static neighbours
// and NAPI tuning:
//
//   [ns A]  if_a  <==== veth (queues) ====>  if_b  [ns B]
//   kernel: 10.78.<n>.1/24                   kernel: 10.78.<n>.2/24
//   xnet:   10.77.<n>.1 (owned by xnet)      xnet:   10.77.<n>.2 (owned)
//           10.78.<n>.3 (xnet → kernel runs,     10.78.<n>.4 (kernel → xnet runs,
//           e.g. gso)                                e.g. the fragment flood)
//
// Kernel addresses and xnet's owned addresses live side by side: the steering
// program only takes frames for xnet's addresses, and xnet is attached only
// while an xnet run is in progress, so the kernel references run on a veth
// with no XDP program (their fastest path). The kernel never sends datagrams
// to xnet here (only ARP), so kernel TX checksum offload is left on: veth's
// CHECKSUM_PARTIAL shortcut is the kernel's own fast path and an AF_XDP
// receiver never sees those datagrams.
//
// Names carry the pid; the destructor removes both namespaces (and with them
// the veth pair), and a second Ctrl-C removes them from the signal thread
// (netns::remove_own_leftovers).

#include <cstdint>
#include <memory>
#include <string>

#include "netns/netns.h"

namespace xnet::bench {

class Topology {
 public:
  static std::unique_ptr<Topology> create(uint32_t queues, int index, std::string* error, uint32_t mtu = 1500);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& ns_a() const { return veth_->xnet_ns().name(); }
  const std::string& ns_b() const { return veth_->kernel_ns().name(); }
  const std::string& if_a() const { return veth_->xnet_if(); }
  const std::string& if_b() const { return veth_->kernel_if(); }
  const std::string& mac_a() const { return veth_->xnet_mac(); }
  const std::string& mac_b() const { return veth_->kernel_mac(); }
  uint32_t queues() const { return queues_; }

  std::string kernel_a() const { return net_ + "78." + n_ + ".1"; }
  std::string kernel_b() const { return net_ + "78." + n_ + ".2"; }
  std::string xnet_a() const { return net_ + "77." + n_ + ".1"; }
  std::string xnet_b() const { return net_ + "77." + n_ + ".2"; }
  std::string xnet_to_kernel_a() const { return net_ + "78." + n_ + ".3"; }
  std::string xnet_to_kernel_b() const { return net_ + "78." + n_ + ".4"; }

  // `echo on > /sys/class/net/IF/threaded` on both ends, through `ip netns
  // exec` (which mounts the namespace's own /sys). Only meaningful while an
  // XDP program is attached (veth's NAPI exists then).
  bool set_threaded_napi(bool on);
  // `ethtool -K if_b tx on|off`: off while the kernel on B sends datagrams
  // to xnet on A (complete UDP checksums; see above), on again after.
  bool set_kernel_b_tx_checksum(bool on);
  // The same for if_a, while the kernel on A sends to xnet on B.
  bool set_kernel_a_tx_checksum(bool on);
  // Pins the NAPI kthreads of both ends to `cpu`; returns how many.
  int pin_napi_threads(int cpu);

  // The veth's own drop counters (/sys/class/net/IF/statistics). A frame
  // veth_xmit cannot put on the peer's NAPI ring (256 entries) when the
  // peer's NAPI falls behind is dropped there, before any AF_XDP ring, and
  // counted as the sending end's tx_dropped.
  struct DevDrops {
    uint64_t a_tx = 0, a_rx = 0, b_tx = 0, b_rx = 0;
  };
  DevDrops dev_drops() const;

 private:
  Topology() = default;
  std::unique_ptr<netns::VethTopology> veth_;  // A: its "xnet" end, B: its "kernel" end
  std::string net_ = "10.";
  std::string n_;
  uint32_t queues_ = 1;
};


}  // namespace xnet::bench
