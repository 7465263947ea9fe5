#pragma once
// The sysctls of one stack, with the Linux defaults (Documentation/networking/
// ip-sysctl.rst; shared/ROBUSTNESS.md "Default limits").

#include <chrono>
#include <cstdint>

namespace xnet::stack {

struct StackConfig {
  // net.ipv4
  bool ip_forward = false;
  uint8_t ip_default_ttl = 64;
  bool accept_source_route = false;
  // net.ipv4.conf.*.drop_unicast_in_l2_multicast: a unicast IPv4 destination
  // inside a link-layer broadcast/multicast frame is delivered unless set
  // (RFC 1122 §3.3.6 says SHOULD discard; Linux does not by default).
  bool drop_unicast_in_l2_multicast = false;
  // IP_ADD_MEMBERSHIP joins per socket (igmp_max_memberships): ENOBUFS beyond.
  uint32_t igmp_max_memberships = 20;
  bool icmp_echo_ignore_broadcasts = true;
  bool icmp_ignore_bogus_error_responses = true;
  std::chrono::milliseconds icmp_ratelimit{1000};  // per destination, for types in the mask
  uint32_t icmp_ratemask = 6168;                    // dest unreach, source quench, time exceeded, param problem
  uint32_t icmp_msgs_per_sec = 1000;               // global token bucket
  uint32_t icmp_msgs_burst = 50;
  bool send_redirects = true;  // net.ipv4.conf.*.send_redirects
  uint32_t ipfrag_high_thresh = 4 * 1024 * 1024;
  std::chrono::seconds ipfrag_time{30};
  uint32_t ipfrag_max_dist = 64;
  // net.ipv4.route: path MTUs learned from ICMP (stack/core/pmtu_cache.h).
  uint32_t min_pmtu = 552;
  std::chrono::seconds mtu_expires{600};

  // net.ipv4.conf.*.arp_notify: announce an address with a gratuitous ARP
  // when it is added. Off, as in the kernel, which (with arp_notify = 1)
  // announces on link up and address change, never on a plain `ip addr add`.
  bool arp_notify = false;

  // net.ipv4.neigh.default
  std::chrono::milliseconds neigh_retrans_time{1000};
  uint32_t neigh_probes = 3;  // mcast_solicit: broadcast requests before failing
  std::chrono::milliseconds neigh_reachable_time{30000};
  std::chrono::milliseconds neigh_gc_stale_time{60000};
  std::chrono::milliseconds neigh_locktime{1000};
  // Bytes (truesize, stack/core/skb_truesize.h) queued per unresolved entry:
  // unres_qlen_bytes, 212992 (SK_WMEM_MAX): 256 small datagrams, 92 full frames.
  uint32_t neigh_unres_qlen_bytes = 212992;
  uint32_t neigh_gc_thresh3 = 1024;  // hard cap on entries

  // net.core
  uint32_t rmem_default = 212992;
  uint32_t wmem_default = 212992;
  uint32_t txqueuelen = 1000;  // per-interface transmit queue

  // xnet: a connected socket sends through its prebuilt headers while the
  // path holds (stack/udp/udp_header_cache.h). Off: every datagram through
  // the stages, for comparing the two (same bytes and counters either way).
  bool udp_header_cache = true;

  // Random seed for IP IDs, ephemeral ports, ICMP jitter. 0: from std::random_device.
  uint64_t seed = 0;
};

}  // namespace xnet::stack
