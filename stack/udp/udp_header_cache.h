#pragma once
// The connected socket's prebuilt headers: what the kernel's hh_cache is for
// the Ethernet header (neigh_hh_output copies it instead of rebuilding it),
// extended to the IPv4 and UDP headers of a flow whose every field but the
// lengths, the IP ID and the checksums is fixed by the socket, its cached
// route (sk_dst_cache) and its neighbour.
//
// udp_sendmsg fills the cache after a datagram went the whole way (ip_make_skb,
// udp_send_skb, ip_local_out ... neigh_output) and, while nothing it was built
// from has changed, sends the next datagrams of the socket by copying the
// template, the payload (summed on the way) and patching five fields — the
// same bytes, counters and frame metadata the stages produce, in a fraction of
// their time (the send half of every ping-pong and the sender's core in
// throughput runs). Anything the template does not cover takes the stages:
// cmsgs, corking, GSO, fragmentation, a route or socket option change, a
// neighbour that is no longer reachable (its state machine runs on the
// stages' path), netfilter-style hooks, a loopback or broadcast route.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "runtime/result.h"
#include "stack/core/packet_meta.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

using TimePoint = std::chrono::steady_clock::time_point;

class FramePool;
class Link;
class Stack;
struct SendOptions;
struct UdpSock;
enum class PmtuDisc : uint8_t;

inline constexpr uint16_t kUdpTemplateLen = 14 + 20 + 8;  // Ethernet + IPv4 + UDP

struct UdpHeaderCache {
  bool valid = false;
  // What the template was built from; any difference sends through the stages.
  uint64_t route_generation = 0;
  Link* link = nullptr;
  FramePool* pool = nullptr;
  uint16_t ifindex = 0;
  wire::Ipv4Addr next_hop;
  wire::MacAddr neigh_mac;
  uint32_t route_mtu = 0;  // the cached route's MTU (0: the device's)
  bool device_checksum = false;
  struct Options {
    int ttl = 0;
    uint8_t tos = 0;
    uint8_t pmtudisc = 0;
    bool no_check_tx = false;
    bool dont_route = false;
    uint16_t gso_size = 0;
    uint16_t bound_ifindex = 0;
    uint8_t default_ttl = 0;
    bool operator==(const Options&) const = default;
  } options;
  // Ethernet, IPv4 (total length, ID, checksum zero) and UDP (length,
  // checksum zero), and the sums of their fixed parts.
  std::byte bytes[kUdpTemplateLen]{};
  uint32_t ip_sum = 0;      // the IPv4 header's words as templated
  uint32_t ports_sum = 0;   // the UDP header's words as templated (the ports)
  uint32_t pseudo_sum = 0;  // the pseudo-header without its length
};

// After a datagram of a connected socket went through the stages: remembers
// its headers when the path qualifies (unicast route from the socket's cache,
// reachable neighbour, no hooks), else leaves the cache empty.
void udp_header_cache_fill(Stack& stack, UdpSock& sk, wire::Ipv4Addr saddr, uint8_t tos, uint8_t ttl);

// The send through the template: nullopt when the template does not apply
// (the caller takes the stages), else udp_sendmsg's result for this datagram.
// Only for a send to the connected peer with no per-datagram options.
std::optional<Result<size_t>> udp_sendmsg_cached(Stack& stack, UdpSock& sk, std::span<const std::byte> payload,
                                                 const SendOptions& opts, TimePoint now);

}  // namespace xnet::stack
