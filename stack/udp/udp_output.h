#pragma once
// The UDP send side: udp_sendmsg (destination checks, per-send options, route,
// cork or direct build), udp_send_skb (UDP header, GSO checks, checksum mode),
// udp_push_pending_frames, and the send-side socket options.
//
// Everything is synchronous and returns Result: EAGAIN means "would block"
// (the send buffer is full; UdpSock::writers is notified when space frees).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "runtime/result.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/udp/endpoint.h"
#include "stack/udp/udp_send_state.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

struct UdpSock;

// UDP_MAX_SEGMENTS: 128 since Linux 6.x (64 in the 5.4 sources in
// shared/seeds); the machines run 6.18 and the current kernel wins.
inline constexpr uint32_t kUdpMaxSegments = 128;
// Errors of the current kernel where 5.4 differs: gso_size + headers over the
// MTU with more than one segment is EMSGSIZE (5.4: EINVAL).
inline constexpr std::errc kGsoSegmentTooBigError = std::errc::message_size;
// Largest UDP payload: 65535 - 20 (IPv4) - 8 (UDP).
inline constexpr uint32_t kUdpMaxPayload = 65507;

// The per-send control messages and flags (ipcm_cookie + msg_flags): one
// type for the stack and the socket API (xnet::SendOptions).
struct SendOptions {
  bool more = false;                   // MSG_MORE: cork this data, send with the next call without it
  std::optional<int> ttl{};            // IP_TTL cmsg: 1..255, else EINVAL
  std::optional<int> tos{};            // IP_TOS cmsg: 0..255, else EINVAL
  wire::Ipv4Addr source{};             // IP_PKTINFO ipi_spec_dst: source address (0: chosen)
  uint16_t ifindex = 0;                // IP_PKTINFO ipi_ifindex: egress interface (0: routed)
  std::optional<uint16_t> gso_size{};  // UDP_SEGMENT cmsg (overrides the socket option)
  // Don't-fragment for this datagram: true = IP_PMTUDISC_DO (DF set, larger
  // than the path MTU is EMSGSIZE), false = IP_PMTUDISC_DONT (no DF, fragment
  // locally); unset = the socket's mode. With MSG_MORE / cork, the first send
  // of the datagram decides (ip_setup_cork).
  std::optional<bool> dont_fragment{};
  bool dont_route = false;  // MSG_DONTROUTE
  // MSG_DONTWAIT: the stack never waits; the socket API's awaiting forms
  // return EAGAIN instead of waiting for send-buffer space.
  bool dont_wait = false;
  bool oob = false;  // MSG_OOB: EOPNOTSUPP
};

// udp_sendmsg. `dest` null means "the connected peer" (EDESTADDRREQ when not
// connected). Returns the number of payload bytes accepted. Errors, in the
// kernel's order: EOPNOTSUPP (oob), EAFNOSUPPORT, EINVAL (port 0, bad cmsg
// value, corked datagram of another kind), EDESTADDRREQ, ENETUNREACH
// (OutNoRoutes), EACCES (broadcast without SO_BROADCAST), EMSGSIZE, then the
// socket's pending error (ECONNREFUSED ..., returned once and cleared, when a
// new datagram starts: not while appending to a corked one), EAGAIN (send
// buffer full), ENOBUFS (no frames), EINVAL/EIO (GSO checks).
Result<size_t> udp_sendmsg(Stack& stack, UdpSock& sk, std::span<const std::byte> payload,
                           const SockAddrIn* dest, const SendOptions& opts, TimePoint now);

// Socket options of the send side (setsockopt semantics and errors).
Result<void> udp_set_ttl(UdpSock& sk, int ttl);                // IP_TTL: -1 or 1..255
Result<void> udp_set_tos(UdpSock& sk, int tos);                // IP_TOS: any int, low byte kept
void udp_set_broadcast(UdpSock& sk, bool on);                  // SO_BROADCAST
void udp_set_no_check_tx(UdpSock& sk, bool on);                // SO_NO_CHECK
void udp_set_dont_route(UdpSock& sk, bool on);                 // SO_DONTROUTE
void udp_set_pmtudisc(UdpSock& sk, PmtuDisc mode);             // IP_MTU_DISCOVER
Result<void> udp_set_gso_size(UdpSock& sk, int size);          // UDP_SEGMENT: 0..65535
Result<void> udp_set_multicast_ttl(UdpSock& sk, int ttl);      // IP_MULTICAST_TTL: -1 or 0..255
void udp_set_multicast_if(UdpSock& sk, wire::Ipv4Addr addr, uint16_t ifindex);  // IP_MULTICAST_IF
Result<void> udp_set_sndbuf(UdpSock& sk, int bytes);           // SO_SNDBUF (doubled, min 4608)
// UDP_CORK: turning it off pushes the pending datagram; succeeds even when
// the push fails (the datagram is then dropped), as udp_lib_setsockopt does.
Result<void> udp_set_cork(Stack& stack, UdpSock& sk, bool on, TimePoint now);

// udp_push_pending_frames: sends the corked datagram now.
Result<void> udp_push_pending_frames(Stack& stack, UdpSock& sk, TimePoint now);
// udp_flush_pending_frames: drops it (socket close, errors).
void udp_flush_pending_frames(UdpSock& sk);

// getsockopt(IP_MTU): the path MTU to the connected peer at `now` (learned
// from ICMP while it lasts, else the route's, else the device's). ENOTCONN
// when not connected.
Result<uint32_t> udp_get_mtu(Stack& stack, UdpSock& sk, TimePoint now);

// Bytes of the send buffer in use / its limit (SIOCOUTQ-like, tests).
uint32_t udp_wmem_alloc(const UdpSock& sk);

}  // namespace xnet::stack
