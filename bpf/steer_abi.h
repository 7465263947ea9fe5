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
#define XNET_MAP_SHARED "xnet_shared"
#define XNET_MAP_PORTS "xnet_ports"
#define XNET_MAP_FRAGS "xnet_frags"

/* Addresses xnet answers for (its own, plus subnet broadcasts of owned prefixes). */
#define XNET_MAX_OWNED 256
/* Destinations xnet takes only UDP for: 255.255.255.255 and the multicast groups
 * its stacks joined (224.0.0.1 always). Keys in network byte order. */
#define XNET_MAX_UDP_DESTS 1024
/* Shared mode (the kernel keeps the address): the addresses xnet shares, keys
 * in network byte order. */
#define XNET_MAX_SHARED 64
/* The UDP ports xnet's sockets hold on a shared address: key the port in
 * network byte order (__u16), as it stands in the header. */
#define XNET_MAX_PORTS 65536
/* Fragmented datagrams being followed (LRU: the oldest are forgotten first). */
#define XNET_MAX_FRAGS 4096

/* Key of XNET_MAP_FRAGS: what ties the fragments of one datagram together
 * (RFC 791: source, destination, protocol, identification), all as in the
 * header. */
struct xnet_frag_key {
  unsigned int saddr;
  unsigned int daddr;
  unsigned short id;
  unsigned char proto;
  unsigned char pad;
};
/* Value of XNET_MAP_FRAGS: where the datagram's fragments go. */
enum xnet_frag_verdict {
  XNET_FRAG_KERNEL = 0, /* first fragment seen, not an xnet port: the kernel's */
  XNET_FRAG_XNET = 1,   /* first fragment for an xnet port, or a fragment came
                         * before its first: all of it to xnet, which hands a
                         * datagram for a port it does not hold back to the kernel */
};

/* One XSK per receive queue; the map index is the queue id. */
#define XNET_MAX_QUEUES 64

/* Per-CPU counters, summed by the reader. */
enum xnet_steer_stat {
  XNET_STAT_STEERED = 0,   /* redirected into an AF_XDP socket */
  XNET_STAT_PASSED = 1,    /* not ours: handed to the kernel untouched */
  XNET_STAT_MALFORMED = 2, /* too short / bad header: passed, the kernel decides */
  XNET_STAT_NO_SOCKET = 3, /* ours, but no socket bound on that queue: passed */
  /* shared mode: a fragment (not the first) arrived before its datagram's
   * first fragment; steered to xnet, which reassembles it and hands it back
   * to the kernel when its port is not xnet's */
  XNET_STAT_FRAG_EARLY = 4,
  XNET_STAT_COUNT = 5,
};

/* How many owned addresses the config carries inline (below). */
#define XNET_OWNED_INLINE 8

/* Single-entry array (key 0). The MAC lets ARP replies addressed to xnet's
 * hardware address be steered even when their target IP is not (yet) owned. */
struct xnet_steer_config {
  unsigned char mac[6];
  unsigned char mac_valid;
  /* 1: shared mode. Then UDP to the XNET_MAP_UDP_DESTS destinations
   * (broadcasts, groups) is xnet's only for ports in XNET_MAP_PORTS: the
   * kernel keeps the others (a DHCP client on the interface, its own
   * services), and their fragments after the first. */
  unsigned char shared;
  /* The owned addresses inline, network byte order: while owned_in_map is 0,
   * owned[0..owned_count) are all of them and the program compares against
   * those; while it is 1 (more than XNET_OWNED_INLINE, or the list is being
   * rewritten) the program asks XNET_MAP_OWNED, which always holds every
   * owned address. A hash lookup cost ~27 ns a frame (BPF_PROG_TEST_RUN of a
   * frame to an owned address: 60 -> 34 ns), a frame's largest cost in the
   * program. xdp/steer_config.h keeps both and writes them in the order
   * that never lets the program trust a half-written list. */
  unsigned char owned_count;
  unsigned char owned_in_map;
  unsigned char pad[2];
  unsigned int owned[XNET_OWNED_INLINE];
};

#endif
