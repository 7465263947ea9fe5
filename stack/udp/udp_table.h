#pragma once
// The UDP socket table (udp_table): socket lifetime, bind / connect with the
// kernel's errors, ephemeral ports, reuseport groups, and the receive lookup
// (connected 4-tuple first, then bound address, then wildcard).

#include <cstddef>
#include <cstdint>
#include <array>
#include <memory>
#include <vector>

#include "runtime/result.h"
#include "stack/udp/udp_handoff.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// inet_autobind: an ephemeral port in 32768–60999 for an unbound socket.
// EAGAIN when the range is exhausted.
Result<void> udp_autobind(Stack& stack, UdpSock& sk);

// SO_REUSEADDR / SO_REUSEPORT: take effect at the next bind.
void udp_set_reuse_addr(UdpSock& sk, bool on);
void udp_set_reuse_port(UdpSock& sk, bool on);
// SO_BINDTODEVICE: ENODEV for an unknown interface (0 unbinds); the cached
// route goes (sk_dst_reset).
Result<void> udp_bind_to_device(Stack& stack, UdpSock& sk, uint16_t ifindex);

// net.ipv4.ip_local_port_range defaults.
inline constexpr uint16_t kEphemeralLow = 32768;
inline constexpr uint16_t kEphemeralHigh = 60999;

class UdpTable {
 public:
  explicit UdpTable(Stack& stack);
  ~UdpTable();
  UdpTable(const UdpTable&) = delete;
  UdpTable& operator=(const UdpTable&) = delete;

  // socket(AF_INET, SOCK_DGRAM): a socket owned by the table, valid until close.
  // rcvbuf starts at net.core.rmem_default, the send buffer at wmem_default.
  UdpSock* open();
  // close(): frees queued datagrams, drops a pending cork, orphans the send
  // buffer (frames in flight release into it later), unhashes, destroys.
  void close(UdpSock* sk);

  // inet_bind: EADDRNOTAVAIL (address neither ours, nor broadcast/multicast,
  // nor 0), EINVAL (already bound or connected), EADDRINUSE (port taken unless
  // both sockets set SO_REUSEADDR or both SO_REUSEPORT; or no ephemeral port
  // free for port 0).
  Result<void> bind(UdpSock& sk, wire::Ipv4Addr addr, uint16_t port);
  // ip4_datagram_connect (after inet_autobind: EAGAIN): route lookup
  // (ENETUNREACH, Ip OutNoRoutes), EACCES for a broadcast route without
  // SO_BROADCAST, source address chosen when unbound. Port 0 is accepted, as
  // the kernel does.
  Result<void> connect(UdpSock& sk, wire::Ipv4Addr addr, uint16_t port);
  // connect(AF_UNSPEC) → udp_disconnect: peer cleared, SO_BINDTODEVICE
  // cleared, the source address reset unless bound explicitly, the port
  // released unless bound explicitly.
  void disconnect(UdpSock& sk);
  Result<void> autobind(UdpSock& sk);

  // __udp4_lib_lookup: the socket for a datagram saddr:sport → daddr:dport
  // that arrived on `ifindex`, or null. Reuseport groups pick a member by a
  // hash of the 4-tuple.
  UdpSock* lookup(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport,
                  uint16_t ifindex);
  // __udp_is_mcast_sock for every socket on `dport`: calls fn(UdpSock&) for
  // each one a broadcast/multicast datagram is delivered to.
  template <typename Fn>
  void for_each_mcast(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport,
                      uint16_t ifindex, Fn&& fn) {
    for (UdpSock* sk : slot(dport)) {
      if (sk->local_port == dport && is_mcast_sock(*sk, saddr, sport, daddr, ifindex)) fn(*sk);
    }
  }

  size_t size() const { return socks_.size(); }

  // Where lookup misses go (udp_handoff.h), or null (the default: a miss is
  // NoPorts). Installing one tells it every port already hashed; removing it
  // tells it they are gone. Not owned: clear it before it dies.
  void set_handoff(UdpHandoff* h);
  UdpHandoff* handoff() const { return handoff_; }

 private:
  struct Entry;
  static bool is_mcast_sock(const UdpSock& sk, wire::Ipv4Addr saddr, uint16_t sport,
                            wire::Ipv4Addr daddr, uint16_t ifindex);
  bool port_conflict(const UdpSock& sk, wire::Ipv4Addr addr, uint16_t port) const;
  // False when the host refused the port (Stack::port_claims): not hashed.
  bool hash(UdpSock& sk, uint16_t port);
  void unhash(UdpSock& sk);
  uint32_t tuple_hash(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport);

  Stack& stack_;
  std::vector<std::unique_ptr<Entry>> socks_;
  // udp_table's hash slots: sockets by local port & mask (udp_hashfn without
  // the netns mix; UDP_HTABLE_SIZE_MIN slots). A slot holds every port that
  // maps to it, so a walk matches local_port. An index, not a division: the
  // receive path looks a socket up per datagram.
  static constexpr size_t kSlots = 256;
  std::vector<UdpSock*>& slot(uint16_t port) { return slots_[port & (kSlots - 1)]; }
  const std::vector<UdpSock*>& slot(uint16_t port) const { return slots_[port & (kSlots - 1)]; }
  std::array<std::vector<UdpSock*>, kSlots> slots_;
  std::vector<UdpSock*> scratch_;  // reuseport candidates (kept to avoid allocating)
  UdpHandoff* handoff_ = nullptr;
  uint64_t hash_secret_ = 0;
  bool secret_set_ = false;
};

}  // namespace xnet::stack
