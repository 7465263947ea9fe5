#pragma once
// UdpSock: the state of one UDP socket inside a Stack (struct udp_sock +
// inet_sock + the parts of struct sock UDP uses). The stack owns sockets
// through its UdpTable; the coroutine socket API holds a pointer and installs
// a SockWaker to learn when to wake its waiters (wake = push a coroutine to the
// ready queue; the stack never resumes anyone).

#include <cstdint>
#include <system_error>
#include <vector>

#include "stack/core/packet.h"
#include "stack/core/ring_queue.h"
#include "stack/core/sock_error.h"
#include "stack/udp/udp_send_state.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

// One received datagram as queued on a socket: zero-copy frames. `head` holds
// the IPv4 and UDP headers (network/transport header offsets set) and data()
// at the first payload byte; for a reassembled datagram `rest` holds the other
// fragments' frames with data() at their payload. `size` is the total payload.
struct RxDatagram {
  Packet head;
  PacketQueue rest;
  uint32_t size = 0;
  uint32_t truesize = 0;  // charged to the receive buffer
};

// Callbacks into whoever waits on the socket (the coroutine API); all optional.
struct SockWaker {
  void (*readable)(void* ctx) = nullptr;  // a datagram was queued
  void (*writable)(void* ctx) = nullptr;  // send-buffer space freed
  void (*error)(void* ctx) = nullptr;     // sk_err set or the error queue grew
  void* ctx = nullptr;
};

// One IP_ADD_MEMBERSHIP (struct ip_mc_socklist): the group, the address it
// was asked for by, and the interface it was joined on.
struct UdpMembership {
  wire::Ipv4Addr group;
  wire::Ipv4Addr address;
  uint16_t ifindex = 0;
};

struct UdpSock {
  // --- identity (inet_sock) ---
  wire::Ipv4Addr local_addr;   // bound address (0: wildcard)
  uint16_t local_port = 0;     // host order; 0: unbound
  uint16_t bound_ifindex = 0;  // SO_BINDTODEVICE
  bool connected = false;
  wire::Ipv4Addr remote_addr;
  uint16_t remote_port = 0;
  bool reuse_addr = false;     // SO_REUSEADDR
  bool reuse_port = false;     // SO_REUSEPORT
  bool closed = false;

  // --- receive side ---
  RingQueue<RxDatagram> rxq;
  uint32_t rcvbuf = 212992;     // sk_rcvbuf
  uint32_t rmem_alloc = 0;      // sk_rmem_alloc: truesize of queued datagrams
  uint64_t drops = 0;           // sk_drops (SO_RXQ_OVFL)
  bool recverr = false;         // IP_RECVERR: ICMP errors go to errq
  RingQueue<SockError> errq;    // bounded by rcvbuf like the kernel's
  std::errc sk_err{};           // pending error (ECONNREFUSED ...), reported once
  std::vector<UdpMembership> mc_list;  // IP_ADD_MEMBERSHIP (udp_multicast.h)

  // --- send side ---
  UdpSendState tx;

  SockWaker waker;
};

}  // namespace xnet::stack
