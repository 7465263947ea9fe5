#include "xdp/kernel_port.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xnet::xdp {

XdpResult<KernelPort> KernelPort::hold(wire::Ipv4Addr addr, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno, std::string("socket(AF_INET, SOCK_DGRAM): ") + std::strerror(errno));
  KernelPort held(fd);
  // "ret #0": accept no byte of any datagram. Attached before bind, so no
  // datagram is ever queued.
  sock_filter drop_all[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog{1, drop_all};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    return errno_error(errno, std::string("SO_ATTACH_FILTER on the port's kernel socket: ") + std::strerror(errno));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr.value());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int err = errno;
    return errno_error(err, "the kernel cannot give UDP " + addr.to_string() + ":" + std::to_string(port) + ": " +
                                std::strerror(err));
  }
  return held;
}

KernelPort& KernelPort::operator=(KernelPort&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

KernelPort::~KernelPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace xnet::xdp
