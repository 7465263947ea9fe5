#pragma once
// SharedPorts: the UDP ports xnet holds on addresses it shares with the kernel
// (shared mode). The stacks of every shard claim a port when a socket takes
// it and release it when the socket lets go (stack/core/port_claims.h); the
// first claim holds the port in the kernel on every shared address
// (KernelPort: no kernel application can bind it meanwhile) and then adds it
// to the steering program's port map, so datagrams reach xnet only once the
// kernel can no longer hand the port to anybody else; the last release
// removes the map entry first, then gives the port back to the kernel.
//
// A datagram for a port xnet does not hold (the steering program took a
// fragmented datagram whole, its first fragment came last) goes back to the
// kernel (KernelHandback), counted.
//
// Thread-safe (shards claim from their threads); a claim costs a few
// syscalls, which is fine: binds are rare, datagrams never claim.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "stack/core/port_claims.h"
#include "stack/wire/addr.h"
#include "xdp/kernel_handback.h"
#include "xdp/kernel_port.h"
#include "xdp/xdp_interface.h"

namespace xnet::xdp {

class SharedPorts final : public stack::PortClaims {
 public:
  // `iface` outlives this object; `addrs` are the shared addresses.
  SharedPorts(XdpInterface& iface, std::vector<wire::Ipv4Addr> addrs, KernelHandback handback);
  ~SharedPorts() override;  // every port back to the kernel, map entries removed
  SharedPorts(const SharedPorts&) = delete;
  SharedPorts& operator=(const SharedPorts&) = delete;

  bool claim(uint16_t port) override;
  void release(uint16_t port) override;
  bool hand_back(const stack::Packet& head, const stack::PacketQueue& rest) override;

  // The ports held now, ascending (`xnet stats`).
  std::vector<uint16_t> held() const;
  const std::vector<wire::Ipv4Addr>& addresses() const { return addrs_; }
  // Datagrams given back to the kernel, and those it refused (dropped:
  // the kernel's sendmsg error, e.g. ENOBUFS).
  uint64_t handed_back() const { return handed_back_.load(); }
  uint64_t hand_back_failed() const { return hand_back_failed_.load(); }

 private:
  struct Held {
    uint32_t claims = 0;
    std::vector<KernelPort> kernel;  // one per shared address
  };
  XdpInterface& iface_;
  std::vector<wire::Ipv4Addr> addrs_;
  KernelHandback handback_;
  std::atomic<uint64_t> handed_back_{0}, hand_back_failed_{0};
  mutable std::mutex mu_;
  std::map<uint16_t, Held> held_;
};

}  // namespace xnet::xdp
