#pragma once
// UdpSocket: a UDP socket of a StackDriver's stack, with the BSD socket's
// semantics (errors, options, ICMP error reporting) and coroutine operations.
//
//   Task<void> echo_server(StackDriver& drv) {
//     Result<UdpSocket> s = UdpSocket::open(drv);
//     if (!s || !s->bind({Ipv4Addr(), 7})) co_return;
//     std::array<std::byte, 2048> buf;
//     for (;;) {
//       Result<RecvResult> r = co_await s->recv_from(buf);
//       if (!r) co_return;                                // ENETDOWN at shutdown
//       co_await s->send_to(r->source, std::span(buf).first(r->size));
//     }
//   }
//
//   // client: connect, send, wait at most 100 ms for the answer (SO_RCVTIMEO)
//   UdpSocket c = UdpSocket::open(drv).value();
//   c.connect({Ipv4Addr(10, 0, 0, 1), 7});
//   co_await c.send(bytes);
//   c.set_recv_timeout(100ms);
//   Result<Datagram> reply = co_await c.recv();  // EAGAIN after 100 ms
//
// Waiting and cancellation. An operation that would block (receive with an
// empty queue, send with a full send buffer) suspends on a WaitQueue woken by
// the stack's SockWaker / SendBuffer::on_space callbacks. Every awaitable takes
// the ambient cancellation token, so rt::with_timeout, rt::when_any and
// spawn(task, token) reach it. Guarantees:
//  - a cancelled or timed-out receive consumes nothing: the stack only signals
//    "readable", the datagram stays queued until a receiver that is still
//    running dequeues it (a woken waiter that gets cancelled before it resumes
//    still completes and dequeues, WaitQueue's rule), so no datagram is lost;
//  - a send is atomic: udp_sendmsg either accepts the whole datagram or fails;
//    a cancelled send was waiting for space and sent nothing;
//  - the pending socket error (ECONNREFUSED after a port unreachable on a
//    connected socket, ICMP errors with IP_RECVERR) is reported once, by the
//    next receive or send, then cleared (SO_ERROR semantics).
// Non-blocking: try_* never suspend and fail with EAGAIN; set_nonblocking(true)
// (O_NONBLOCK) or SendOptions::dont_wait / RecvFlags::dont_wait (MSG_DONTWAIT)
// make the co_await forms do the same.
//
// Lifetime. Move-only handle; destruction (or close()) closes the socket:
// queued datagrams and pending cork data go back to their pools, the port is
// released, waiters fail with EBADF. Operations in flight keep the socket's
// state alive (not the stack socket), so closing from another coroutine is
// safe. If the StackDriver goes first, every operation fails with ENETDOWN.
// The buffers passed to an operation must live until its co_await returns.
// Shard-local: use a socket only on its driver's reactor thread.
//
// Errors are the kernel's, as std::error_code in the generic category.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "runtime/result.h"
#include "runtime/task.h"
#include "stack/api/datagram.h"
#include "stack/api/socket_state.h"
#include "stack/api/stack_driver.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_send_state.h"
#include "stack/udp/udp_sock.h"

namespace xnet {

using stack::ErrOrigin;
using stack::PmtuDisc;
using stack::SockError;
template <typename T = void>
using Task = rt::Task<T>;

// The per-send cmsgs and flags: the stack's own type (stack/udp/udp_output.h).
using SendOptions = stack::SendOptions;

// recvmsg's flags: the stack's own type (stack/udp/udp_recv.h).
using RecvFlags = stack::RecvFlags;

// One datagram of send_batch (an mmsghdr).
struct OutDatagram {
  std::optional<Endpoint> dest{};  // unset: the connected peer
  std::span<const std::byte> payload{};
  SendOptions options{};
};

class UdpSocket {
 public:
  // socket(AF_INET, SOCK_DGRAM) on the driver's stack. ENETDOWN never (the
  // driver exists); Result for symmetry with future failures (fd limits).
  static Result<UdpSocket> open(StackDriver& driver);

  UdpSocket() = default;  // not open: every operation fails with EBADF
  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  ~UdpSocket() { close(); }

  bool is_open() const;
  void close();

  // --- addresses ---
  // Port 0 picks an ephemeral port (32768–60999). EADDRINUSE unless both
  // sockets asked for reuse (set_reuse_address / set_reuse_port before bind);
  // EADDRNOTAVAIL for an address that is not ours; EINVAL when bound already.
  Result<void> bind(Endpoint local);
  // Sets the default destination and filters received datagrams to it;
  // binds an ephemeral port when unbound. ENETUNREACH, EACCES (broadcast
  // without set_broadcast).
  Result<void> connect(Endpoint remote);
  // connect(AF_UNSPEC).
  Result<void> disconnect();
  Result<Endpoint> local_endpoint() const;
  Result<Endpoint> remote_endpoint() const;  // ENOTCONN when not connected

  // --- send ---
  // Returns the payload bytes accepted (the whole datagram). Waits for send-
  // buffer space unless non-blocking.
  Task<Result<size_t>> send_to(Endpoint dest, std::span<const std::byte> data, SendOptions opts = {});
  Task<Result<size_t>> send(std::span<const std::byte> data, SendOptions opts = {});
  Result<size_t> try_send_to(Endpoint dest, std::span<const std::byte> data, SendOptions opts = {});
  // A received datagram sent on as it is (an echo, a relay): the payloads of
  // its frames gathered into one datagram, as sendmsg gathers an iovec
  // (MSG_MORE between the parts, so a reassembled datagram is not copied
  // into one buffer first). Nothing is sent when a part fails.
  Task<Result<size_t>> send_to(Endpoint dest, const Datagram& datagram, SendOptions opts = {});
  Result<size_t> try_send_to(Endpoint dest, const Datagram& datagram, SendOptions opts = {});
  Result<size_t> try_send(std::span<const std::byte> data, SendOptions opts = {});
  // sendmmsg: sends msgs in order; returns how many were sent. Waits for
  // space like send_to; an error after at least one datagram was sent ends
  // the batch and returns the count (the error of the first one is returned).
  Task<Result<size_t>> send_batch(std::span<const OutDatagram> msgs);
  Result<size_t> try_send_batch(std::span<const OutDatagram> msgs);

  // --- receive ---
  // Copies the next datagram into buf (truncating, as recvmsg does).
  Task<Result<RecvResult>> recv_from(std::span<std::byte> buf, RecvFlags flags = {});
  Result<RecvResult> try_recv_from(std::span<std::byte> buf, RecvFlags flags = {});
  // Zero copy: the next datagram's frames.
  Task<Result<Datagram>> recv(RecvFlags flags = {});
  Result<Datagram> try_recv();
  // recvmmsg: waits for one datagram, then takes up to out.size() in total
  // without waiting again. Returns how many were stored in out[0..n).
  Task<Result<size_t>> recv_batch(std::span<Datagram> out, RecvFlags flags = {});
  Result<size_t> try_recv_batch(std::span<Datagram> out);
  // Datagrams queued for receive.
  size_t queued() const;

  // --- errors ---
  // recvmsg(MSG_ERRQUEUE): the next entry of the error queue (needs
  // set_recv_errors(true) to be filled with ICMP errors).
  Task<Result<SockError>> recv_error(RecvFlags flags = {});
  Result<SockError> try_recv_error();
  // getsockopt(SO_ERROR): the pending error, cleared (empty: none).
  std::error_code take_error();
  // getsockopt(IP_MTU): the path MTU to the connected peer (learned from
  // ICMP "fragmentation needed" while it lasts, else the route's or the
  // device's). ENOTCONN when not connected.
  Result<uint32_t> mtu() const;

  // --- options (setsockopt) ---
  Result<void> set_nonblocking(bool on);                  // O_NONBLOCK
  // SO_RCVTIMEO / SO_SNDTIMEO: a receive (send) that waited this long for a
  // datagram (send-buffer space) fails with EAGAIN, the deadline counted from
  // the call's first wait. 0 (the default) waits forever; a negative value
  // never waits (Linux keeps a timeo of 0). Cheaper than wrapping each call
  // in rt::with_timeout: the timer lives in the waiter, armed only when the
  // call really waits. Exact to the clock, not rounded up to a jiffy.
  Result<void> set_recv_timeout(std::chrono::microseconds timeout);
  Result<void> set_send_timeout(std::chrono::microseconds timeout);
  Result<void> set_ttl(int ttl);                          // IP_TTL: -1 (default) or 1..255
  Result<void> set_tos(int tos);                          // IP_TOS: any int, low byte kept
  Result<void> set_broadcast(bool on);                    // SO_BROADCAST
  Result<void> set_recv_buffer(int bytes);                // SO_RCVBUF (doubled, min 2304)
  Result<void> set_send_buffer(int bytes);                // SO_SNDBUF (doubled, min 4608)
  Result<void> set_reuse_address(bool on);                // SO_REUSEADDR
  Result<void> set_reuse_port(bool on);                   // SO_REUSEPORT
  Result<void> set_no_check(bool on);                     // SO_NO_CHECK
  Result<void> set_dont_route(bool on);                   // SO_DONTROUTE
  Result<void> set_pmtu_discovery(PmtuDisc mode);         // IP_MTU_DISCOVER
  Result<void> set_gso_size(int size);                    // UDP_SEGMENT
  Result<void> set_cork(bool on);                         // UDP_CORK (off: push; ok even if it fails)
  Result<void> set_multicast_ttl(int ttl);                // IP_MULTICAST_TTL
  Result<void> set_multicast_if(Ipv4Addr addr, uint16_t ifindex = 0);  // IP_MULTICAST_IF
  Result<void> set_recv_errors(bool on);                  // IP_RECVERR
  // IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP (struct ip_mreqn): the interface by
  // index, else by one of its addresses, else the route to the group's.
  // join: EINVAL (not multicast), ENODEV (no such interface), EADDRINUSE
  // (joined there already), ENOBUFS (20 joins). leave: EADDRNOTAVAIL (not
  // joined), ENODEV (no interface given or routed). close() leaves them all.
  // Every socket bound to the port receives a joined group (IP_MULTICAST_ALL).
  Result<void> join_group(Ipv4Addr group, Ipv4Addr if_address = {}, uint16_t ifindex = 0);
  Result<void> leave_group(Ipv4Addr group, Ipv4Addr if_address = {}, uint16_t ifindex = 0);
  // SO_BINDTODEVICE by index (0: unbind). ENODEV for an unknown interface.
  Result<void> bind_to_interface(uint16_t ifindex);

  // Bytes of send buffer in use (frames not yet transmitted) and its limit.
  uint32_t send_buffer_used() const;
  uint32_t send_buffer_limit() const;

  StackDriver* driver() const;
  // The stack's socket (tests, diagnostics); null when not open.
  stack::UdpSock* raw() const;

 private:
  explicit UdpSocket(detail::StateRef s) : s_(std::move(s)) {}

  static Task<Result<size_t>> send_impl(detail::StateRef s, std::optional<Endpoint> dest,
                                        std::span<const std::byte> data, SendOptions opts);
  static Task<Result<size_t>> send_batch_impl(detail::StateRef s, std::span<const OutDatagram> msgs);
  static Task<Result<RecvResult>> recv_from_impl(detail::StateRef s, std::span<std::byte> buf,
                                                 RecvFlags flags);
  static Task<Result<Datagram>> recv_impl(detail::StateRef s, RecvFlags flags);
  static Task<Result<size_t>> recv_batch_impl(detail::StateRef s, std::span<Datagram> out, RecvFlags flags);
  static Task<Result<SockError>> recv_error_impl(detail::StateRef s, RecvFlags flags);

  detail::StateRef s_;
};

}  // namespace xnet
