#pragma once
// The benchmark's own namespaces and veth pair (the tests' VethTopology is
// testonly and visible to //tests only; this is the small part of it a
// benchmark needs, plus Ctrl-C cleanup and NAPI tuning):
//
//   [ns A]  if_a  <==== veth (queues) ====>  if_b  [ns B]
//   kernel: 10.78.<n>.1/24                   kernel: 10.78.<n>.2/24
//   xnet:   10.77.<n>.1 (owned by xnet)      xnet:   10.77.<n>.2 (owned)
//           10.78.<n>.3 (xnet → kernel runs, e.g. gso)
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
// the veth pair), and a second Ctrl-C removes them from the signal thread.

#include <cstdint>
#include <memory>
#include <string>

namespace xnet::bench {

class Topology {
 public:
  static std::unique_ptr<Topology> create(uint32_t queues, int index, std::string* error);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  const std::string& if_a() const { return if_a_; }
  const std::string& if_b() const { return if_b_; }
  const std::string& mac_a() const { return mac_a_; }
  const std::string& mac_b() const { return mac_b_; }
  uint32_t queues() const { return queues_; }

  std::string kernel_a() const { return net_ + "78." + n_ + ".1"; }
  std::string kernel_b() const { return net_ + "78." + n_ + ".2"; }
  std::string xnet_a() const { return net_ + "77." + n_ + ".1"; }
  std::string xnet_b() const { return net_ + "77." + n_ + ".2"; }
  std::string xnet_to_kernel_a() const { return net_ + "78." + n_ + ".3"; }

  // `echo on > /sys/class/net/IF/threaded` on both ends, through `ip netns
  // exec` (which mounts the namespace's own /sys). Only meaningful while an
  // XDP program is attached (veth's NAPI exists then).
  bool set_threaded_napi(bool on);
  // Pins the NAPI kthreads of both ends to `cpu`; returns how many.
  int pin_napi_threads(int cpu);

 private:
  Topology() = default;
  std::string ns_a_, ns_b_, if_a_, if_b_, mac_a_, mac_b_;
  std::string net_ = "10.";
  std::string n_;
  uint32_t queues_ = 1;
};

// Deletes namespaces of earlier netbench runs whose process is gone.
void remove_stale_namespaces();

}  // namespace xnet::bench
