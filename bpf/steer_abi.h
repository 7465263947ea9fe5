/* Shared between the steering program (BPF target, C) and xdp/ (C++): map names,
 * sizes and counter indices. Change both sides together: the loader looks maps
 * up by these names. */
#ifndef XNET_BPF_STEER_ABI_H
#define XNET_BPF_STEER_ABI_H

#define XNET_STEER_PROG_NAME "xnet_steer"

#define XNET_MAP_OWNED "xnet_owned"
#define XNET_MAP_XSKS "xnet_xsks"
#define XNET_MAP_STATS "xnet_stats"
#define XNET_MAP_CONFIG "xnet_config"
#define XNET_MAP_UDP_DESTS "xnet_udp_dests"

/* Addresses xnet answers for (its own, plus subnet broadcasts of owned prefixes). */
#define XNET_MAX_OWNED 256
/* Destinations xnet takes only UDP for: 255.255.255.255 and the multicast groups
 * its stacks joined (224.0.0.1 always). Keys in network byte order. */
#define XNET_MAX_UDP_DESTS 1024
/* One XSK per receive queue; the map index is the queue id. */
#define XNET_MAX_QUEUES 64

/* Per-CPU counters, summed by the reader. */
enum xnet_steer_stat {
  XNET_STAT_STEERED = 0,   /* redirected into an AF_XDP socket */
  XNET_STAT_PASSED = 1,    /* not ours: handed to the kernel untouched */
  XNET_STAT_MALFORMED = 2, /* too short / bad header: passed, the kernel decides */
  XNET_STAT_NO_SOCKET = 3, /* ours, but no socket bound on that queue: passed */
  XNET_STAT_COUNT = 4,
};

/* Single-entry array (key 0). The MAC lets ARP replies addressed to xnet's
 * hardware address be steered even when their target IP is not (yet) owned. */
struct xnet_steer_config {
  unsigned char mac[6];
  unsigned char mac_valid;
  unsigned char pad;
};

#endif
