#pragma once
// A socket's prebuilt headers for the destination it last sent to: what the
// kernel's hh_cache is for the Ethernet header (neigh_hh_output copies it
// instead of rebuilding it), extended to the IPv4 and UDP headers of a flow
// whose every field but the lengths, the IP ID and the checksums is fixed by
// the socket, the route (the routing table's generation: the connected
// socket's sk_dst_cache check, and for sendto the lookup the table would
// repeat) and the neighbour.
//
// udp_sendmsg fills the cache after a datagram went the whole way (ip_make_skb,
// udp_send_skb, ip_local_out ... neigh_output) and, while nothing it was built
// from has changed, sends the next datagrams to the same destination by
// copying the template and the payload (summed on the way) and patching five
// fields — the same bytes, counters and frame metadata the stages produce, in
// a fraction of their time (both halves of a ping-pong: the pinger's send and
// the echo's reply, and the sender's core in throughput runs). Anything the
// template does not cover takes the stages: cmsgs, corking, GSO,
// fragmentation, another destination, a route or socket option change, a
// path MTU learned or expired (Stack::route_generation, pmtu_expires), a
// neighbour whose state machine has a step to take on this send (stale and
// not yet re-probing, incomplete, failed), netfilter-style hooks, a loopback, broadcast or multicast
// route, and every error.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/result.h"
#include "stack/core/packet_meta.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

using TimePoint = std::chrono::steady_clock::time_point;

class FramePool;
class Link;
class Stack;
struct ResolvedRoute;
struct SendOptions;
struct SockAddrIn;
struct UdpSock;
enum class PmtuDisc : uint8_t;

inline constexpr uint16_t kUdpTemplateLen = 14 + 20 + 8;  // Ethernet + IPv4 + UDP

struct UdpHeaderCache {
  bool valid = false;
  // What the template was built from; any difference sends through the stages.
  wire::Ipv4Addr saddr, daddr;
  uint16_t dport = 0;
  uint64_t route_generation = 0;
  Link* link = nullptr;
  FramePool* pool = nullptr;
  uint16_t ifindex = 0;
  wire::Ipv4Addr next_hop;
  wire::MacAddr neigh_mac;
  uint32_t route_mtu = 0;  // the MTU the stages used below the device's (0: the device's)
  // When a learned path MTU in route_mtu (or its lock, in DF) expires; the
  // template is rebuilt then. max(): none applies.
  TimePoint pmtu_expires = TimePoint::max();
  bool device_checksum = false;
  bool df = false;  // the template's DF
  struct Options {
    int ttl = 0;
    uint8_t tos = 0;
    uint8_t pmtudisc = 0;
    bool no_check_tx = false;
    bool dont_route = false;
    uint16_t gso_size = 0;
    uint16_t bound_ifindex = 0;
    uint8_t default_ttl = 0;
    bool connected = false;  // the IP ID: the socket's counter, else ip_idents
    bool operator==(const Options&) const = default;
  } options;
  // Ethernet, IPv4 (total length, ID, checksum zero) and UDP (length,
  // checksum zero), and the sums of their fixed parts.
  std::byte bytes[kUdpTemplateLen]{};
  uint32_t ip_sum = 0;      // the IPv4 header's words as templated
  uint32_t ports_sum = 0;   // the UDP header's words as templated (the ports)
  uint32_t pseudo_sum = 0;  // the pseudo-header without its length
};

// After a datagram without cmsgs went through the stages to `daddr`:`dport`
// over `rt` (looked up, or the connected socket's cache, at
// `route_generation`): remembers its headers when the path qualifies
// (unicast route, a neighbour that neigh_output would just use), else leaves
// the cache empty.
void udp_header_cache_fill(Stack& stack, UdpSock& sk, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint16_t dport,
                           uint8_t tos, uint8_t ttl, const ResolvedRoute& rt, uint64_t route_generation,
                           TimePoint now);

// The send through the template: true when the datagram went (udp_sendmsg
// returns its length), false when the template does not apply and the
// caller takes the stages (which report any error). A bool, not an optional
// Result: copying that out of its return slot stalled on the narrow store of
// its index (70% of udp_sendmsg in tx_bench). `dest` null: the connected peer.
bool udp_sendmsg_cached(Stack& stack, UdpSock& sk, std::span<const std::byte> payload, const SockAddrIn* dest,
                        const SendOptions& opts, TimePoint now);

}  // namespace xnet::stack
