#include "xdp/kernel_handback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace xnet::xdp {

XdpResult<KernelHandback> KernelHandback::open() {
  // IPPROTO_RAW implies IP_HDRINCL: we write the IPv4 header, so the
  // datagram keeps its sender's address.
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) {
    return errno_error(errno, std::string("a raw socket to hand datagrams back to the kernel: ") + std::strerror(errno));
  }
  return KernelHandback(fd);
}

KernelHandback::~KernelHandback() {
  if (fd_ >= 0) ::close(fd_);
}

bool KernelHandback::give(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t tos, uint8_t ttl,
                          std::span<const iovec> udp) const {
  size_t len = 20;
  for (const iovec& v : udp) len += v.iov_len;
  if (len > 0xffff) {
    errno = EMSGSIZE;
    return false;
  }
  // A fresh header without options or fragment bits: the kernel fills in
  // the identification and the checksum (raw(7), IP_HDRINCL).
  std::array<uint8_t, 20> ip{};
  ip[0] = 0x45;
  ip[1] = tos;
  const uint16_t tot = htons(static_cast<uint16_t>(len));
  std::memcpy(&ip[2], &tot, 2);
  ip[8] = ttl;
  ip[9] = IPPROTO_UDP;
  const uint32_t s = htonl(src.value()), d = htonl(dst.value());
  std::memcpy(&ip[12], &s, 4);
  std::memcpy(&ip[16], &d, 4);
  std::vector<iovec> iov;
  iov.reserve(udp.size() + 1);
  iov.push_back({ip.data(), ip.size()});
  iov.insert(iov.end(), udp.begin(), udp.end());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = d;
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  return ::sendmsg(fd_, &msg, MSG_DONTWAIT) == static_cast<ssize_t>(len);
}

}  // namespace xnet::xdp
