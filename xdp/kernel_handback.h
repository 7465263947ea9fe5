#pragma once
// Gives the kernel a UDP datagram that reached xnet but is the kernel's
// (shared mode). The steering program takes a fragmented datagram whole when
// a later fragment arrives before the first one (it cannot know the port
// yet); when xnet's reassembly then finds a port xnet does not hold, the
// datagram is sent into the kernel's own input path: a raw IPv4 socket
// (IP_HDRINCL) with the original source and destination, which the kernel
// routes to itself (the destination is local) and delivers like any
// datagram received, whole, to the socket holding the port, or answers with
// port unreachable.

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "stack/wire/addr.h"
#include "xdp/error.h"

namespace xnet::xdp {

class KernelHandback {
 public:
  static XdpResult<KernelHandback> open();
  KernelHandback(KernelHandback&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  KernelHandback& operator=(KernelHandback&&) = delete;
  KernelHandback(const KernelHandback&) = delete;
  ~KernelHandback();

  // `udp`: the UDP header and payload, in pieces. False when the kernel
  // refused it (the errno is left in errno).
  bool give(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t tos, uint8_t ttl, std::span<const iovec> udp) const;

 private:
  explicit KernelHandback(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace xnet::xdp
