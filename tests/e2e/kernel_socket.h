#pragma once
// Kernel-side sockets for the end-to-end tests: created inside a namespace
// (they stay bound to it), then used from any thread with bounded waits.

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netns/netns.h"

namespace xnet::e2e {

sockaddr_in sockaddr_of(const std::string& ip, uint16_t port);

class KernelUdp {
 public:
  // socket + bind(ip:port) inside `ns`; port 0 = ephemeral. fd < 0 on failure.
  static KernelUdp open(const netns::Netns& ns, const std::string& ip, uint16_t port);
  KernelUdp() = default;
  KernelUdp(KernelUdp&& o) noexcept : fd_(o.fd_), port_(o.port_) { o.fd_ = -1; }
  KernelUdp& operator=(KernelUdp&& o) noexcept;
  ~KernelUdp();

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  uint16_t port() const { return port_; }

  bool connect(const std::string& ip, uint16_t port);
  // sendto (or send when `ip` is empty); returns bytes or -errno.
  long send_to(std::span<const std::byte> data, const std::string& ip = {}, uint16_t port = 0);
  // Waits up to `timeout` for a datagram; returns its size, -errno (e.g.
  // -ECONNREFUSED), or -EAGAIN on timeout. `from` gets the source.
  long recv(std::span<std::byte> buf, std::chrono::milliseconds timeout,
            sockaddr_in* from = nullptr);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Deterministic payload of datagram `seq`.
std::vector<std::byte> pattern(uint32_t seq, size_t size);

}  // namespace xnet::e2e
