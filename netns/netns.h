#pragma once
// Two network namespaces joined by a veth pair: the topology the privileged
// tests, netbench and the examples' tests run on (not test-only: benchmarks
// use it too).
//
//   [ns "xnet"]  xnet_if  <==== veth ====>  kernel_if  [ns "kernel"]
//
// The xnet side is where the code under test attaches XDP; the kernel side runs
// ordinary kernel sockets, ping, tcpdump ... through `exec`. Names carry the pid
// and a counter, so concurrent tests and processes never collide. Namespaces
// (and with them both veth ends) are removed by the destructor, and also when
// creation fails half way; leftovers of an earlier crashed process that had the
// same pid are removed before creating.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netns/command.h"

namespace xnet::netns {

// One named namespace (`ip netns add`), owned: deleted on destruction.
class Netns {
 public:
  // Creates /run/netns/<name>. Returns nullptr and fills `error` on failure.
  static std::unique_ptr<Netns> create(const std::string& name, std::string* error);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }

  // Runs `fn` on a fresh thread that has joined this namespace (setns with
  // CLONE_NEWNET) and waits for it. Sockets, XSKs and netlink handles created
  // inside stay bound to this namespace afterwards, whichever thread uses them;
  // anything that resolves interface names or talks netlink implicitly (libxdp
  // attach/detach) must run inside. Returns false if setns failed.
  bool run(const std::function<void()>& fn) const;

  // `ip netns exec <name> sh -c <command>`, bounded.
  CommandResult exec(const std::string& command,
                     std::chrono::milliseconds timeout = kDefaultCommandTimeout) const;

 private:
  explicit Netns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

struct VethOptions {
  uint32_t queues = 1;  // numrxqueues = numtxqueues on both ends
  uint32_t mtu = 1500;
  // `ethtool -K <kernel_if> tx off`: the kernel side then sends complete UDP
  // checksums (veth otherwise leaves them CHECKSUM_PARTIAL, which an AF_XDP
  // receiver sees as invalid).
  bool kernel_tx_checksum_off = false;
  // Addresses (CIDR) given to the kernel stack on each side. xnet's own
  // addresses are deliberately *not* configured on the xnet side: xnet owns them.
  std::vector<std::string> kernel_side_addrs = {"10.77.0.2/24"};
  std::vector<std::string> xnet_side_kernel_addrs;
  // Static neighbour entries on the kernel side, "ip lladdr" pairs, e.g. to
  // reach an address xnet owns without waiting for ARP.
  std::vector<std::pair<std::string, std::string>> kernel_side_neighbours;
};

class VethTopology {
 public:
  static std::unique_ptr<VethTopology> create(const VethOptions& options, std::string* error);
  ~VethTopology();
  VethTopology(const VethTopology&) = delete;
  VethTopology& operator=(const VethTopology&) = delete;

  Netns& xnet_ns() { return *xnet_ns_; }
  Netns& kernel_ns() { return *kernel_ns_; }
  const std::string& xnet_if() const { return xnet_if_; }
  const std::string& kernel_if() const { return kernel_if_; }
  // MAC addresses as "aa:bb:cc:dd:ee:ff".
  const std::string& xnet_mac() const { return xnet_mac_; }
  const std::string& kernel_mac() const { return kernel_mac_; }

 private:
  VethTopology() = default;
  std::unique_ptr<Netns> xnet_ns_;
  std::unique_ptr<Netns> kernel_ns_;
  std::string xnet_if_, kernel_if_, xnet_mac_, kernel_mac_;
};

// Prefix of every namespace this harness creates: "xnt<pid>-".
std::string own_prefix();
// Deletes namespaces of this process's prefix (from a crashed earlier run that
// had the same pid, or this process's own on a second Ctrl-C). Never touches
// other names.
void remove_own_leftovers();
// Deletes namespaces of this harness whose process is gone (killed before its
// destructors ran). Never touches a live process's names or other names.
void remove_stale_namespaces();

// Empty when privileged tests can run here (root, with /run/netns writable);
// otherwise the reason they cannot.
std::string privileged_skip_reason();
// XNET_REQUIRE_PRIVILEGED=1: CI wants a skip to be a failure.
bool privileged_required();

}  // namespace xnet::netns
