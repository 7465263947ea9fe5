#pragma once
// A UDP port held in the kernel on xnet's behalf (shared mode): a kernel UDP
// socket bound to address:port without SO_REUSEADDR/SO_REUSEPORT, so that
// every kernel bind that overlaps it fails with EADDRINUSE while xnet serves
// the port. It never reads: a socket filter drops whatever the kernel would
// queue on it (a datagram for the port the steering program passed, e.g. one
// that landed on a queue no xnet socket serves), so nothing accumulates.
// The kernel closes it when the process ends, however it ends: the port is
// the kernel's again even after a crash.

#include <cstdint>

#include "stack/wire/addr.h"
#include "xdp/error.h"

namespace xnet::xdp {

class KernelPort {
 public:
  // EADDRINUSE when a kernel socket already holds addr:port.
  static XdpResult<KernelPort> hold(wire::Ipv4Addr addr, uint16_t port);
  KernelPort(KernelPort&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  KernelPort& operator=(KernelPort&& o) noexcept;
  KernelPort(const KernelPort&) = delete;
  KernelPort& operator=(const KernelPort&) = delete;
  ~KernelPort();

 private:
  explicit KernelPort(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace xnet::xdp
