#pragma once
// XdpInterface: one interface under xnet. Attaches the steering program and
// owns what its maps mean: the addresses xnet owns, which AF_XDP socket serves
// which receive queue, and the steering counters. One per interface; one
// XdpLink per (interface, queue) registers itself here.
//
// Privileged setup lives here (and in XdpLink::create); nothing on the data
// path needs privileges. Create, use and destroy it in the interface's network
// namespace.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stack/wire/addr.h"
#include "xdp/error.h"
#include "xdp/netdev.h"
#include "xdp/steer_config.h"
#include "xdp/xdp_program.h"

namespace xnet::xdp {

struct XdpInterfaceConfig {
  std::string ifname;
  XdpProgramConfig program;
  // Shared mode: the interface's MAC is the kernel's, so ARP replies to it
  // are the kernel's too (not steered, unlike for an owned address).
  bool shared = false;
};

// Sum over CPUs of the program's counters (bpf/steer_abi.h).
// What XdpInterface::health() found (ROBUSTNESS: faults under a running xnet).
enum class LinkHealth {
  kOk,
  kProgramDetached,  // somebody removed or replaced the steering program: nothing reaches xnet
  kInterfaceGone,    // deleted (or its peer's namespace went away): nothing ever will
};
const char* to_string(LinkHealth h);

struct SteerCounters {
  uint64_t steered = 0;    // into an AF_XDP socket
  uint64_t passed = 0;     // not xnet's: to the kernel
  uint64_t malformed = 0;  // unparseable: to the kernel
  uint64_t no_socket = 0;  // xnet's, but no socket on that queue: to the kernel
  uint64_t frag_early = 0;  // shared mode: a fragment before its first, taken by xnet
};

class XdpInterface {
 public:
  // Errors: EPERM (privileges), ENODEV (no such interface), EOPNOTSUPP (driver
  // without XDP), EBUSY (another program attached), each with a message.
  static XdpResult<std::unique_ptr<XdpInterface>> open(const XdpInterfaceConfig& config);
  ~XdpInterface();
  XdpInterface(const XdpInterface&) = delete;
  XdpInterface& operator=(const XdpInterface&) = delete;

  const NetdevInfo& netdev() const { return netdev_; }
  const std::string& name() const { return netdev_.name; }
  uint32_t ifindex() const { return netdev_.ifindex; }
  uint32_t queue_count() const { return netdev_.rx_queues; }
  AttachMode attach_mode() const { return program_->mode(); }
  bool uses_dispatcher() const { return program_->uses_dispatcher(); }
  uint32_t program_id() const { return program_->program_id(); }
  bool is_attached() const { return program_->is_attached(); }
  // The interface still exists under its name and index, and the steering
  // program is still the one attached. A few syscalls: call it about once a
  // second from a control path (the host does), never per packet.
  LinkHealth health() const;
  // After kProgramDetached: attach the same program again (EBUSY if another
  // program took the interface).
  XdpResult<void> reattach() { return program_->reattach(); }

  // Steer frames for `addr` to xnet. With a prefix shorter than /31 the subnet
  // broadcast is steered too (reference-counted across prefixes). UDP to the
  // limited broadcast 255.255.255.255 is steered from open() on (the other
  // protocols to it stay the kernel's; bpf/xnet_steer.bpf.c says why).
  XdpResult<void> add_address(wire::Ipv4Addr addr);
  XdpResult<void> add_address(const wire::Ipv4Prefix& prefix);
  XdpResult<void> remove_address(wire::Ipv4Addr addr);
  XdpResult<void> remove_address(const wire::Ipv4Prefix& prefix);

  // Steer UDP for multicast `group` to xnet while at least one add is not
  // yet matched by a remove (the device's multicast filter; XdpLink calls
  // these when its stack's first socket joins and its last one leaves, so
  // every shard's joins count). Thread-safe: shards join from their threads.
  // E2BIG when XNET_MAX_UDP_DESTS groups are steered; EINVAL for a
  // non-multicast address; ENXIO removing a group not added.
  XdpResult<void> add_group(wire::Ipv4Addr group);
  XdpResult<void> remove_group(wire::Ipv4Addr group);
  // The groups steered now (tests, diagnostics).
  std::vector<wire::Ipv4Addr> groups() const;

  // Shared mode (open with XdpInterfaceConfig::shared; the kernel keeps the
  // address; bpf/xnet_steer.bpf.c says what of its traffic is steered): the
  // address and its subnet broadcast, and the UDP ports xnet holds on them
  // (xdp/shared_ports.h keeps those, counting sockets; these only write the
  // map). E2BIG when the map is full.
  XdpResult<void> add_shared_address(const wire::Ipv4Prefix& prefix);
  XdpResult<void> steer_port(uint16_t port);
  void unsteer_port(uint16_t port);
  // The ports in the map now (tests, diagnostics: read from the kernel).
  std::vector<uint16_t> steered_ports() const;

  // XSKMAP[queue] = xsk_fd. Used by XdpLink.
  XdpResult<void> register_xsk(uint32_t queue, int xsk_fd);
  void unregister_xsk(uint32_t queue);

  SteerCounters counters() const;

  // Removes the program (idempotent); the destructor calls it. Steering stops:
  // every frame goes to the kernel again.
  XdpResult<void> detach() { return program_->detach(); }

 private:
  XdpInterface() = default;
  XdpResult<void> ref_key(uint32_t addr_host_order);
  XdpResult<void> unref_key(uint32_t addr_host_order);
  XdpResult<void> put_udp_dest(uint32_t addr_host_order);

  NetdevInfo netdev_;
  std::unique_ptr<XdpProgram> program_;
  int owned_fd_ = -1;
  int xsks_fd_ = -1;
  int stats_fd_ = -1;
  std::map<uint32_t, int> owned_refs_;  // host order -> references
  std::unique_ptr<SteerConfig> steer_config_;  // the config entry and the owned addresses
  int udp_dests_fd_ = -1;
  int shared_fd_ = -1;
  int ports_fd_ = -1;
  mutable std::mutex groups_mu_;        // guards group_refs_ (shard threads join)
  std::map<uint32_t, int> group_refs_;  // host order -> references
};

}  // namespace xnet::xdp
