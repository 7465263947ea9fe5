// The host under test as the running kernel: real sockets created in the host
// namespace (they stay bound to it), then used from the test thread.

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/conformance/host.h"

namespace xnet::conformance {
namespace {

sockaddr_in sin_of(const Addr& a) {
  sockaddr_in s{};
  s.sin_family = a.ip.empty() ? AF_UNSPEC : AF_INET;
  s.sin_port = htons(a.port);
  if (!a.ip.empty()) inet_pton(AF_INET, a.ip.c_str(), &s.sin_addr);
  return s;
}

std::string ntop(in_addr a) {
  char b[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, b, sizeof b);
}

class KernelHost final : public HostUnderTest {
 public:
  KernelHost(const netns::Netns& ns, int ifindex) : ns_(ns), ifindex_(ifindex) {}
  ~KernelHost() override { shutdown(); }
  const char* kind() const override { return "kernel"; }

  int socket() override {
    int fd = -1;
    ns_.run([&] { fd = ::socket(AF_INET, SOCK_DGRAM, 0); });
    fds_.push_back(fd);
    return static_cast<int>(fds_.size() - 1);
  }
  long bind(int s, const Addr& a) override {
    sockaddr_in sa = sin_of(a);
    return ret(::bind(fds_[s], reinterpret_cast<sockaddr*>(&sa), sizeof sa));
  }
  long connect(int s, const Addr& a) override {
    sockaddr_in sa = sin_of(a);
    return ret(::connect(fds_[s], reinterpret_cast<sockaddr*>(&sa), sizeof sa));
  }
  long setopt(int s, Opt o, int v) override {
    int level = SOL_IP, name = 0;
    switch (o) {
      case Opt::kTtl: name = IP_TTL; break;
      case Opt::kTos: name = IP_TOS; break;
      case Opt::kBroadcast: level = SOL_SOCKET; name = SO_BROADCAST; break;
      case Opt::kNoCheck: level = SOL_SOCKET; name = SO_NO_CHECK; break;
      case Opt::kMtuDiscover: name = IP_MTU_DISCOVER; break;
      case Opt::kSegment: level = SOL_UDP; name = UDP_SEGMENT; break;
      case Opt::kCork: level = SOL_UDP; name = UDP_CORK; break;
      case Opt::kRecvErr: name = IP_RECVERR; break;
      case Opt::kPktInfo: name = IP_PKTINFO; break;
      case Opt::kRecvTtl: name = IP_RECVTTL; break;
      case Opt::kRecvTos: name = IP_RECVTOS; break;
      case Opt::kRcvBuf: level = SOL_SOCKET; name = SO_RCVBUF; break;
      case Opt::kSndBuf: level = SOL_SOCKET; name = SO_SNDBUF; break;
    }
    return ret(::setsockopt(fds_[s], level, name, &v, sizeof v));
  }
  long send(int s, const SendArgs& a) override {
    Bytes data = pattern(a.size, a.seq);
    iovec iov{data.data(), data.size()};
    msghdr m{};
    sockaddr_in sa{};
    if (a.to) {
      sa = sin_of(*a.to);
      m.msg_name = &sa;
      m.msg_namelen = sizeof sa;
    }
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[256] = {};
    size_t used = 0;
    auto add = [&](int level, int type, const void* p, size_t n) {
      cmsghdr* c = reinterpret_cast<cmsghdr*>(control + used);
      c->cmsg_level = level;
      c->cmsg_type = type;
      c->cmsg_len = CMSG_LEN(n);
      std::memcpy(CMSG_DATA(c), p, n);
      used += CMSG_SPACE(n);
    };
    if (a.ttl) add(SOL_IP, IP_TTL, &*a.ttl, sizeof(int));
    if (a.tos) add(SOL_IP, IP_TOS, &*a.tos, sizeof(int));
    if (a.pktinfo_src || a.pktinfo_ifindex) {
      in_pktinfo pi{};
      if (a.pktinfo_src) inet_pton(AF_INET, a.pktinfo_src->c_str(), &pi.ipi_spec_dst);
      if (a.pktinfo_ifindex) pi.ipi_ifindex = ifindex_;
      add(SOL_IP, IP_PKTINFO, &pi, sizeof pi);
    }
    if (a.gso) {
      const uint16_t g = static_cast<uint16_t>(*a.gso);
      add(SOL_UDP, UDP_SEGMENT, &g, sizeof g);
    }
    if (used != 0) {
      m.msg_control = control;
      m.msg_controllen = used;
    }
    const long r = ::sendmsg(fds_[s], &m, a.more ? MSG_MORE : 0);
    return r < 0 ? -errno : r;
  }
  RecvOut recv(int s, const RecvArgs& a) override {
    RecvOut out;
    pollfd p{fds_[s], POLLIN, 0};
    if (::poll(&p, 1, a.wait_ms) <= 0) {
      out.ret = -EAGAIN;
      return out;
    }
    std::vector<uint8_t> buf(a.buf);
    sockaddr_in from{};
    iovec iov{buf.data(), buf.size()};
    msghdr m{};
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[512];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const int flags = MSG_DONTWAIT | (a.peek ? MSG_PEEK : 0) | (a.trunc ? MSG_TRUNC : 0);
    const long r = ::recvmsg(fds_[s], &m, flags);
    if (r < 0) {
      out.ret = -errno;
      return out;
    }
    out.ret = r;
    out.msg_trunc = (m.msg_flags & MSG_TRUNC) != 0;
    out.from = {ntop(from.sin_addr), ntohs(from.sin_port)};
    out.data = digest(buf.data(), std::min(static_cast<size_t>(r), buf.size()));
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != SOL_IP) continue;
      if (c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        out.pktinfo_ifindex = pi.ipi_ifindex == ifindex_ ? "if" : std::to_string(pi.ipi_ifindex);
        out.pktinfo_spec_dst = ntop(pi.ipi_spec_dst);
        out.pktinfo_addr = ntop(pi.ipi_addr);
      } else if (c->cmsg_type == IP_TTL) {
        int v;
        std::memcpy(&v, CMSG_DATA(c), sizeof v);
        out.ttl = v;
      } else if (c->cmsg_type == IP_TOS) {
        out.tos = *reinterpret_cast<uint8_t*>(CMSG_DATA(c));
      }
    }
    return out;
  }
  ErrOut recv_error(int s, int wait_ms) override {
    ErrOut out;
    pollfd p{fds_[s], 0, 0};  // POLLERR is always reported
    if (::poll(&p, 1, wait_ms) <= 0 || (p.revents & POLLERR) == 0) {
      out.ret = -EAGAIN;
      // A queue without POLLERR can still hold nothing: ask anyway.
    }
    std::vector<uint8_t> buf(65536);
    sockaddr_in name{};
    iovec iov{buf.data(), buf.size()};
    msghdr m{};
    m.msg_name = &name;
    m.msg_namelen = sizeof name;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[512];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const long r = ::recvmsg(fds_[s], &m, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (r < 0) {
      out.ret = -errno;
      return out;
    }
    out.ret = r;
    out.data = digest(buf.data(), static_cast<size_t>(r));
    out.dest = {ntop(name.sin_addr), ntohs(name.sin_port)};
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR) continue;
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      out.ee_errno = static_cast<int>(ee.ee_errno);
      out.origin = ee.ee_origin;
      out.type = ee.ee_type;
      out.code = ee.ee_code;
      out.info = ee.ee_info;
      sockaddr_in off;
      std::memcpy(&off, CMSG_DATA(c) + sizeof ee, sizeof off);
      out.offender = off.sin_family == AF_INET ? ntop(off.sin_addr) : "none";
    }
    return out;
  }
  long so_error(int s) override {
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(fds_[s], SOL_SOCKET, SO_ERROR, &v, &len) != 0) return -errno;
    return v;
  }
  long close(int s) override {
    const int r = ::close(fds_[s]);
    fds_[s] = -1;
    return ret(r);
  }
  std::string snmp() override {
    std::string text;
    ns_.run([&] {
      std::ifstream f("/proc/thread-self/net/snmp");
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    });
    return text;
  }
  void shutdown() override {
    for (int& fd : fds_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

 private:
  static long ret(int r) { return r < 0 ? -errno : 0; }
  const netns::Netns& ns_;
  int ifindex_;
  std::vector<int> fds_;
};

}  // namespace

std::unique_ptr<HostUnderTest> make_kernel_host(const netns::Netns& ns, const std::string& ifname,
                                                std::string* error) {
  int ifindex = 0;
  ns.run([&] { ifindex = static_cast<int>(if_nametoindex(ifname.c_str())); });
  if (ifindex == 0) {
    *error = "no interface " + ifname;
    return nullptr;
  }
  return std::make_unique<KernelHost>(ns, ifindex);
}

}  // namespace xnet::conformance
