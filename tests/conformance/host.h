#pragma once
// The host under test: one interface, two implementations. A scenario drives
// it with socket calls; KernelHost makes them real system calls in the host
// namespace, XnetHost makes them UdpSocket calls on an XdpHost (AF_XDP on the
// same veth end). Results are plain values (return / -errno and what a
// receive got), rendered into Records by the scenario context.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "netns/netns.h"
#include "tests/conformance/frames.h"

namespace xnet::conformance {

// The addresses of every topology: the host under test and the peer on one
// /24, joined by a veth.
inline constexpr const char* kHostIp = "10.77.0.1";
inline constexpr const char* kPeerIp = "10.77.0.2";
inline constexpr const char* kSubnetBroadcast = "10.77.0.255";
inline constexpr uint16_t kPeerSink = 9000;    // a bound peer socket: no ICMP back
inline constexpr uint16_t kPeerClosed = 9001;  // nothing bound: port unreachable

struct Addr {
  std::string ip;  // empty: AF_UNSPEC (connect) / no msg_name (send)
  uint16_t port = 0;
};

// setsockopt options the scenarios use (level and name are the host's job).
enum class Opt {
  kTtl,          // IP_TTL
  kTos,          // IP_TOS
  kBroadcast,    // SO_BROADCAST
  kNoCheck,      // SO_NO_CHECK
  kMtuDiscover,  // IP_MTU_DISCOVER (0..3)
  kSegment,      // UDP_SEGMENT
  kCork,         // UDP_CORK
  kRecvErr,      // IP_RECVERR
  kPktInfo,      // IP_PKTINFO
  kRecvTtl,      // IP_RECVTTL
  kRecvTos,      // IP_RECVTOS
  kRcvBuf,       // SO_RCVBUF
  kSndBuf,       // SO_SNDBUF
};
const char* opt_name(Opt o);

struct SendArgs {
  size_t size = 0;
  uint8_t seq = 0;  // which pattern() payload
  std::optional<Addr> to;  // sendto; unset: send on the connected socket
  bool more = false;       // MSG_MORE
  std::optional<int> ttl;  // IP_TTL cmsg
  std::optional<int> tos;  // IP_TOS cmsg
  // IP_PKTINFO cmsg: ipi_spec_dst, and ipi_ifindex = the test interface.
  std::optional<std::string> pktinfo_src;
  bool pktinfo_ifindex = false;
  std::optional<int> gso;  // UDP_SEGMENT cmsg (uint16)
};

struct RecvArgs {
  size_t buf = 65536;
  bool peek = false;   // MSG_PEEK
  bool trunc = false;  // MSG_TRUNC
  int wait_ms = 300;   // how long to wait for something to arrive
};

struct RecvOut {
  long ret = 0;  // bytes or -errno
  bool msg_trunc = false;
  Addr from;
  std::string data;  // digest of the bytes written
  // cmsgs, only when asked for by IP_PKTINFO / IP_RECVTTL / IP_RECVTOS.
  std::optional<std::string> pktinfo_ifindex;  // "if" (the test interface) or the number
  std::optional<std::string> pktinfo_spec_dst;
  std::optional<std::string> pktinfo_addr;
  std::optional<int> ttl;
  std::optional<int> tos;
};

struct ErrOut {
  long ret = 0;  // bytes of payload returned, or -errno (-EAGAIN: nothing queued)
  std::string data;  // digest of the payload
  int ee_errno = 0;
  int origin = 0;
  int type = 0;
  int code = 0;
  uint32_t info = 0;
  std::string offender;
  Addr dest;  // msg_name: the original destination
};

class HostUnderTest {
 public:
  virtual ~HostUnderTest() = default;
  virtual const char* kind() const = 0;
  virtual int socket() = 0;  // an index; the first is 0
  virtual long bind(int s, const Addr& a) = 0;
  virtual long connect(int s, const Addr& a) = 0;
  virtual long setopt(int s, Opt o, int value) = 0;
  virtual long send(int s, const SendArgs& a) = 0;
  virtual RecvOut recv(int s, const RecvArgs& a) = 0;
  virtual ErrOut recv_error(int s, int wait_ms) = 0;
  virtual long so_error(int s) = 0;  // getsockopt(SO_ERROR): the errno (positive) or 0
  virtual long close(int s) = 0;
  // /proc/net/snmp text of the host (the namespace's file / format_snmp).
  virtual std::string snmp() = 0;
  // Ends everything (sockets, XDP); called before the topology goes.
  virtual void shutdown() = 0;
};

// Kernel sockets in `ns`, sending out of `ifname`.
std::unique_ptr<HostUnderTest> make_kernel_host(const netns::Netns& ns, const std::string& ifname,
                                                std::string* error);
// xnet owning kHostIp/24 on `ifname` in `ns` (XdpHost, one shard, StackDriver).
std::unique_ptr<HostUnderTest> make_xnet_host(netns::Netns& ns, const std::string& ifname,
                                              std::string* error);

}  // namespace xnet::conformance
