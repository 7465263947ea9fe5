#include "host/control.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace xnet {
namespace {

constexpr size_t kMaxMessage = 256 * 1024;

socklen_t make_name(const std::string& ifname, sockaddr_un& sa) {
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  const std::string name = "xnet/" + ifname;
  // Abstract namespace: sun_path[0] = 0, the name follows, no terminator.
  std::memcpy(sa.sun_path + 1, name.data(), std::min(name.size(), sizeof(sa.sun_path) - 1));
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

std::error_code last_error() { return {errno, std::generic_category()}; }

}  // namespace

Result<ControlServer> ControlServer::open(const std::string& ifname) {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  sockaddr_un sa;
  const socklen_t len = make_name(ifname, sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    const auto ec = last_error();
    ::close(fd);
    return ec;
  }
  int buf = static_cast<int>(kMaxMessage);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  return ControlServer(fd);
}

ControlServer::ControlServer(ControlServer&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

ControlServer::~ControlServer() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<ControlServer::Request> ControlServer::receive() {
  char buf[4096];
  Request r;
  r.from_len = sizeof r.from;
  const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&r.from), &r.from_len);
  if (n < 0) return std::nullopt;
  r.text.assign(buf, static_cast<size_t>(n));
  while (!r.text.empty() && (r.text.back() == '\n' || r.text.back() == '\r')) r.text.pop_back();
  return r;
}

void ControlServer::reply(const Request& to, const std::string& text) {
  // The client may have gone: a failed reply is nobody's problem.
  (void)::sendto(fd_, text.data(), text.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to.from),
                 to.from_len);
}

Result<std::string> control_request(const std::string& ifname, const std::string& request,
                                    std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // Autobind an abstract address so the server can answer.
  sockaddr_un self{};
  self.sun_family = AF_UNIX;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) != 0) return last_error();
  int buf = static_cast<int>(kMaxMessage);
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  sockaddr_un sa;
  const socklen_t len = make_name(ifname, sa);
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&sa), len) < 0) {
    return last_error();  // ECONNREFUSED: nobody bound the name
  }
  pollfd p{fd, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r < 0) return last_error();
  if (r == 0) return std::make_error_code(std::errc::timed_out);
  std::vector<char> reply(kMaxMessage);
  const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
  if (n < 0) return last_error();
  return std::string(reply.data(), static_cast<size_t>(n));
}

}  // namespace xnet
