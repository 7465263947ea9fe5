#pragma once
// XdpHost: xnet on one interface, set up in one call.
//
//   auto host = XdpHost::open({.ifname = "eth1",
//                              .address = *wire::Ipv4Prefix::parse("10.77.0.1/24"),
//                              .gateway = wire::Ipv4Addr(10, 77, 0, 254)}, now);
//   for (size_t i = 0; i < host->shard_count(); ++i)
//     run_shard_thread(host->shard(i));   // drive shard(i).stack from one thread
//
// What open() does, in order (each failure returns an Error whose message says
// what to do):
//  1. checks that the kernel does not hold the address itself (EADDRINUSE):
//     xnet owns its address, and the steering program would take the kernel's
//     traffic for it;
//  2. XdpInterface::open: attaches the steering program (EPERM, ENODEV,
//     EOPNOTSUPP, EBUSY), and steers the address (and its subnet broadcast);
//  3. per receive queue q (all of them, or the first `queues`): an XdpLink on
//     q and a Stack with that link as interface 1, the address, and the routes
//     (connected prefix from the address, the default route via `gateway`,
//     then `routes`). One shard = (queue, link, stack); each shard is driven
//     by exactly one thread (the stack and the link are not thread-safe).
//
// Everything must be created, used for setup and destroyed inside the
// interface's network namespace (libxdp talks netlink from the calling
// thread). Destruction order: stacks, then links, then the interface, which
// detaches the program, so no XDP program is left behind.
//
// Shared mode (`shared`): the kernel keeps the interface's address(es) and
// everything but xnet's UDP ports. Step 1 is replaced: the addresses are the
// ones the kernel holds on the interface (ENOENT when none), `address` is not
// used, and the routes through gateways that leave by the interface are read
// from the kernel's main table (kernel_net.h). Step 2 steers only the UDP
// ports xnet's sockets hold, which SharedPorts (shared_ports()) keeps for every
// shard's stack: each port held by a kernel socket too while xnet has it.
// Neighbours come from the kernel (KernelTables), which the service host
// starts: a stack here resolves nothing until it gets a solicitor.
//
// A veth peer in the kernel must send complete UDP checksums (veth leaves them
// CHECKSUM_PARTIAL, which an AF_XDP receiver sees as invalid): run
// `ethtool -K <peer> tx off` on the kernel-side end. Physical NICs need nothing.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "stack/core/stack.h"
#include "stack/core/stack_config.h"
#include "stack/wire/addr.h"
#include "xdp/error.h"
#include "xdp/shared_ports.h"
#include "xdp/xdp_interface.h"
#include "xdp/xdp_link.h"

namespace xnet::xdp {

struct GatewayRoute {
  wire::Ipv4Prefix prefix;
  wire::Ipv4Addr gateway;
};

struct XdpHostConfig {
  std::string ifname;
  // The address xnet owns, with its prefix length (the connected subnet).
  // Unused with `shared`.
  wire::Ipv4Prefix address;
  // Share the kernel's address(es) on the interface instead (see above).
  bool shared = false;
  // Default route (0.0.0.0/0) via this gateway, which must be on the subnet.
  std::optional<wire::Ipv4Addr> gateway;
  // More routes through gateways on the subnet.
  std::vector<GatewayRoute> routes;
  // Shards: the first `queues` receive queues; 0 = every queue. An AF_XDP
  // socket sees only its queue, so fewer queues than the interface has means
  // traffic the NIC hashes elsewhere is passed to the kernel (no_socket).
  uint32_t queues = 0;
  XdpProgramConfig program;
  XdpLinkConfig link;
  // Optional: wraps each queue's link before the stack sees it (capture,
  // tracing). The wrapper must forward to `inner`; it lives between the link
  // and the stack (destroyed after the stack, before the link).
  std::function<std::unique_ptr<stack::Link>(uint32_t queue, stack::Link& inner)> wrap_link;
  // Each shard's stack gets this config; a non-zero seed is offset by the
  // queue number so shards draw different IP IDs and ephemeral ports.
  stack::StackConfig stack;
};

// One queue's link and stack; driven by one thread.
struct XdpShard {
  uint32_t queue = 0;
  uint16_t ifindex = 0;  // the interface's index inside `stack`
  std::unique_ptr<XdpLink> link;
  std::unique_ptr<stack::Link> wrapper;  // XdpHostConfig::wrap_link's, or null
  std::unique_ptr<stack::Stack> stack;
};

class XdpHost {
 public:
  static XdpResult<std::unique_ptr<XdpHost>> open(const XdpHostConfig& config,
                                                  stack::TimePoint now);
  ~XdpHost();
  XdpHost(const XdpHost&) = delete;
  XdpHost& operator=(const XdpHost&) = delete;

  XdpInterface& interface() { return *iface_; }
  const XdpHostConfig& config() const { return config_; }
  // The addresses xnet serves on: the owned one, or the kernel's (shared).
  const std::vector<wire::Ipv4Prefix>& addresses() const { return addresses_; }
  // Shared mode: the UDP ports held (null when xnet owns its address).
  SharedPorts* shared_ports() { return ports_.get(); }
  size_t shard_count() const { return shards_.size(); }
  XdpShard& shard(size_t i) { return shards_[i]; }
  const XdpShard& shard(size_t i) const { return shards_[i]; }

  // Every frame of every shard's UMEM is where it should be when idle: the
  // counts add up and nothing is held by the stack, the tx ring or the
  // completion ring. Call from the thread driving the shards, after draining.
  bool frames_idle();

  // Destroys the stacks and links and detaches the program now (the
  // destructor does the same); returns the detach error, if any.
  XdpResult<void> close();

 private:
  XdpHost() = default;
  XdpHostConfig config_;
  std::unique_ptr<XdpInterface> iface_;
  std::vector<wire::Ipv4Prefix> addresses_;
  // After iface_ (it steers through it), before shards_: the stacks release
  // their ports into it as their sockets close.
  std::unique_ptr<SharedPorts> ports_;
  std::vector<XdpShard> shards_;
};

// Parses "a.b.c.d/len" for command lines; the message names the bad text.
XdpResult<wire::Ipv4Prefix> parse_host_address(const std::string& text);

}  // namespace xnet::xdp
