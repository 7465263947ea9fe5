#include "tests/e2e/kernel_socket.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace xnet::e2e {

sockaddr_in sockaddr_of(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

KernelUdp KernelUdp::open(const netns::Netns& ns, const std::string& ip, uint16_t port) {
  KernelUdp k;
  ns.run([&] {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sockaddr_in a = sockaddr_of(ip, port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return;
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    k.fd_ = fd;
    k.port_ = ntohs(a.sin_port);
  });
  return k;
}

KernelUdp& KernelUdp::operator=(KernelUdp&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(port_, o.port_);
  return *this;
}

KernelUdp::~KernelUdp() {
  if (fd_ >= 0) close(fd_);
}

bool KernelUdp::connect(const std::string& ip, uint16_t port) {
  sockaddr_in a = sockaddr_of(ip, port);
  return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

long KernelUdp::send_to(std::span<const std::byte> data, const std::string& ip, uint16_t port) {
  ssize_t n;
  if (ip.empty()) {
    n = ::send(fd_, data.data(), data.size(), 0);
  } else {
    sockaddr_in a = sockaddr_of(ip, port);
    n = ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  return n < 0 ? -errno : n;
}

long KernelUdp::recv(std::span<std::byte> buf, std::chrono::milliseconds timeout,
                     sockaddr_in* from) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const ssize_t n =
        ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n >= 0) {
      if (from != nullptr) *from = a;
      return n;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -EAGAIN;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

std::vector<std::byte> pattern(uint32_t seq, size_t size) {
  std::vector<std::byte> v(size);
  for (size_t j = 0; j < size; ++j) {
    v[j] = static_cast<std::byte>((seq * 131u + j * 7u + (j >> 8)) & 0xff);
  }
  return v;
}

}  // namespace xnet::e2e
