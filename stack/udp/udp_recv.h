#pragma once
// The receive side of the socket API (udp_recvmsg, ip_recv_error, SO_ERROR),
// synchronous: EAGAIN means "nothing queued"; the coroutine API waits on the
// socket's SockWaker and calls again.

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/result.h"
#include "stack/udp/endpoint.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// recvmsg's flags: one type for the stack and the socket API (xnet::RecvFlags).
struct RecvFlags {
  bool peek = false;       // MSG_PEEK: the datagram stays queued
  bool trunc = false;      // MSG_TRUNC: return the full length even when truncated
  // MSG_DONTWAIT: the stack never waits; the socket API's awaiting forms
  // return EAGAIN instead of waiting for a datagram.
  bool dont_wait = false;
};

// Per-datagram metadata (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, SO_RXQ_OVFL).
struct DatagramInfo {
  wire::Ipv4Addr dst_addr{};  // the datagram's destination (ipi_addr)
  // ipi_spec_dst (fib_compute_spec_dst): the local address a reply would come
  // from: the destination of a datagram delivered as local, our address on
  // the arrival interface for a broadcast or multicast one (udp_spec_dst).
  wire::Ipv4Addr spec_dst{};
  uint16_t ifindex = 0;       // the interface it arrived on (ipi_ifindex)
  uint8_t ttl = 0;
  uint8_t tos = 0;
  uint64_t drops = 0;  // the socket's drop count when it was received
};

// What recvmsg reports: one type for the stack and the socket API
// (xnet::RecvResult).
struct RecvInfo {
  size_t size = 0;         // recvmsg's return value: bytes written, or the full length with MSG_TRUNC
  size_t full_size = 0;    // the datagram's payload length
  size_t copied = 0;       // bytes written to the buffer
  bool truncated = false;  // msg_flags MSG_TRUNC: the buffer was smaller than the datagram
  Endpoint source{};       // msg_name
  DatagramInfo info{};
};

// udp_recvmsg: a pending socket error first (returned once, then cleared),
// else EAGAIN when the queue is empty, else the next datagram copied into
// `buf` (across all its frames). Counts Udp InDatagrams unless peeking
// (the 6.x kernel counts it here, not when queuing).
Result<RecvInfo> udp_recvmsg(Stack& stack, UdpSock& sk, std::span<std::byte> buf,
                             RecvFlags flags = {});

// Zero-copy variant: hands the next datagram's frames to the caller (data()
// of `head` at the first payload byte; headers still readable through the
// network/transport offsets) and releases its receive-buffer charge. Same
// errors and counters as udp_recvmsg.
Result<RxDatagram> udp_recv_datagram(Stack& stack, UdpSock& sk);

// Metadata of a datagram handed out by udp_recv_datagram (what udp_recvmsg
// reports besides the bytes). Without the stack, spec_dst is only known for
// a datagram delivered as local (0 for broadcast / multicast).
RecvInfo udp_datagram_info(const RxDatagram& d);
RecvInfo udp_datagram_info(const Stack& stack, const RxDatagram& d);

// ipi_spec_dst of a received datagram (fib_compute_spec_dst): its destination
// when it was delivered as local, else inet_select_addr on the arrival
// interface towards its source.
wire::Ipv4Addr udp_spec_dst(const Stack& stack, const RxDatagram& d);

// Copies a datagram's payload (all frames) into `buf`; returns bytes copied.
size_t udp_copy_datagram(const RxDatagram& d, std::span<std::byte> buf);

// recvmsg(MSG_ERRQUEUE) → ip_recv_error: the oldest error-queue entry, EAGAIN
// when empty. sk_err then follows the next queued ICMP error, or is cleared.
Result<SockError> udp_recv_error(UdpSock& sk);

// getsockopt(SO_ERROR) / sock_error: the pending error, cleared (0: none).
std::errc udp_sock_error(UdpSock& sk);

// Socket options of the receive side (setsockopt semantics and errors).
Result<void> udp_set_rcvbuf(UdpSock& sk, int bytes);  // SO_RCVBUF (doubled, min 2304)
// IP_RECVERR; turning it off purges the error queue (do_ip_setsockopt).
void udp_set_recverr(UdpSock& sk, bool on);

// udp_recv_datagrams' bookkeeping (the stage mark, the counter, the charge).
void udp_recv_datagrams_taken(Stack& stack, UdpSock& sk, size_t n, uint32_t truesize);

// udp_recv_datagram for up to `max` (> 0) datagrams at once, recvmmsg's
// loop without a call per datagram: the same pending error first, else
// EAGAIN when the queue is empty, else each queued datagram in turn given to
// `take(i, RxDatagram&)`, which moves it out where the caller keeps it; the
// receive-buffer charge and Udp InDatagrams are settled once for the batch.
template <typename Take>
Result<size_t> udp_recv_datagrams(Stack& stack, UdpSock& sk, size_t max, Take&& take) {
  if (const std::errc e = udp_sock_error(sk); e != std::errc{}) return e;
  if (sk.rxq.empty()) return std::errc::resource_unavailable_try_again;
  size_t n = 0;
  uint32_t truesize = 0;
  do {
    RxDatagram& d = sk.rxq.front();
    truesize += d.truesize;
    take(n, d);
    sk.rxq.pop_front_moved();
  } while (++n < max && !sk.rxq.empty());
  udp_recv_datagrams_taken(stack, sk, n, truesize);
  return n;
}


}  // namespace xnet::stack
