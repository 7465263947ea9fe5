#pragma once
// The UDP receive path: udp_rcv (__udp4_lib_rcv: length and checksum checks,
// socket lookup, broadcast/multicast fan-out, port unreachable),
// udp_queue_rcv_skb (receive-buffer accounting) and udp_err (__udp4_lib_err:
// ICMP errors about datagrams we sent, to the socket that sent them).

#include <chrono>
#include <cstdint>
#include <system_error>

#include "stack/core/packet.h"
#include "stack/core/protocol.h"
#include "stack/udp/udp_handoff.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// ip_local_deliver_finish → udp_rcv. `head`: data() at the UDP header, the
// network header set, meta().ifindex / pkt_type / route_type set by the input
// path. `rest`: the other fragments' frames (data() at their payload) of a
// reassembled datagram, empty otherwise. Moves out what it queues; what it
// drops is freed by the caller (stack/ipv4/ipv4_input.h).
void udp_rcv(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now);

// udp_rcv for a datagram another shard handed over (udp_handoff.h): the same
// checks and lookup; on a miss it goes on to a shard not in `tried` (which
// includes the shards that missed before), and the last one answers NoPorts
// and a port unreachable.
void udp_rcv_handed_over(Stack& stack, Packet&& head, PacketQueue&& rest, ShardMask tried, TimePoint now);

// __udp4_lib_err: finds the socket that sent the quoted datagram (lookup with
// the 4-tuple reversed) and reports the error: sk_err for connected sockets
// (or any socket with IP_RECVERR), a SockError on the error queue with
// IP_RECVERR. Returns false when no socket matches (icmp_rcv counts it).
// On a miss the error goes to another shard with a socket on the quoted
// source port (udp_handoff.h) and counts as reported.
bool udp_err(Stack& stack, const IcmpErrorInfo& err, TimePoint now);

// udp_err for an error another shard handed over; when no shard is left to
// try, counted here as icmp_rcv counts an error nobody sent (Icmp InErrors,
// DropReason::kIcmpBogusError).
void udp_err_handed_over(Stack& stack, const IcmpErrorInfo& err, ShardMask tried, TimePoint now);

// A locally detected transmission error for a datagram `sk` sent (ip_report_tx_
// error → here): ip_local_error: with IP_RECVERR a SockError of origin kLocal
// on the error queue, and sk_err set (as the kernel's sk_error_report path does
// for a connected socket). Wakes the socket's error waiter.
void udp_report_local_error(UdpSock& sk, const SockError& err);

// Makes `sk` the socket its send buffer reports transmit errors to.
void udp_claim_send_buffer(UdpSock& sk);

// udp_queue_rcv_skb / __udp_enqueue_schedule_skb: queues one datagram on the
// socket, charged by its truesize against rcvbuf. false (the datagram left
// to the caller to free, RcvbufErrors + InErrors, sk.drops++) when the
// buffer is full.
bool udp_queue_rcv(Stack& stack, UdpSock& sk, RxDatagram&& dgram);

// rmem_alloc charged for one error-queue entry (released by udp_recv_error).
uint32_t udp_error_entry_truesize();

// icmp_err_convert: the errno an ICMP error maps to, and whether it is "fatal"
// (reported on unconnected sockets too with IP_RECVERR; soft errors only
// through the error queue).
struct IcmpErrno {
  std::errc err{};
  bool fatal = false;
};
IcmpErrno icmp_err_convert(uint8_t type, uint8_t code);

}  // namespace xnet::stack
