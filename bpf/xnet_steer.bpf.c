// SPDX-License-Identifier: GPL-2.0
/* The steering program: frames that belong to xnet go to the AF_XDP socket of
 * the receiving queue, everything else goes to the kernel untouched (XDP_PASS).
 *
 * Belongs to xnet:
 *   - ARP whose target protocol address is owned (requests and replies), and ARP
 *     replies whose target hardware address is xnet's MAC;
 *   - IPv4 whose destination is owned, whatever the protocol and including every
 *     fragment (the destination is in each fragment's header, so no state needed).
 *   - UDP (every fragment too) to the limited broadcast 255.255.255.255 and to
 *     the multicast groups xnet's stacks joined, 224.0.0.1 included: the keys
 *     of XNET_MAP_UDP_DESTS. Only UDP, because the other protocols to those
 *     destinations stay the kernel's (IGMP queries to 224.0.0.1, ICMP). The
 *     kernel has no address on an interface xnet owns, so no kernel UDP socket
 *     is expected to want them; a DHCP client there would lose its offers.
 * Owned addresses are the keys of XNET_MAP_OWNED (network byte order); userspace
 * also adds the subnet broadcast of each owned prefix there.
 *
 * Shared addresses (XNET_MAP_SHARED: the kernel keeps the address, its ARP,
 * ICMP, TCP and other ports) belong to xnet only for:
 *   - UDP whose destination port is in XNET_MAP_PORTS (xnet's sockets hold it);
 *   - ICMP errors (unreachable, time exceeded, parameter problem) quoting a UDP
 *     header whose source port is in XNET_MAP_PORTS: the errors of what xnet
 *     sent (ECONNREFUSED, path MTU);
 *   - the fragments of datagrams for those ports. Only a first fragment carries
 *     the port, so its (source, destination, id, protocol) is remembered in
 *     XNET_MAP_FRAGS with the verdict, and the later fragments follow it. A
 *     fragment that arrives before its first fragment has no verdict yet: xnet
 *     takes it, and the whole datagram with it (XNET_FRAG_XNET is recorded, so
 *     the first fragment follows whatever its port), reassembles it and hands
 *     a datagram for a port it does not hold back to the kernel. Counted
 *     (XNET_STAT_FRAG_EARLY). The alternative, passing it, would split the
 *     datagram between two reassemblers and lose it in both.
 * In shared mode (xnet_config.shared) the broadcasts and groups of
 * XNET_MAP_UDP_DESTS are steered by port too: the kernel keeps its own.
 *
 * A frame we cannot parse is passed, never dropped: the kernel is the authority
 * on garbage that is not addressed to us, and counting it is enough. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_abi.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, XNET_MAX_OWNED);
  __type(key, __u32);
  __type(value, __u8);
} xnet_owned SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, XNET_MAX_UDP_DESTS);
  __type(key, __u32);
  __type(value, __u8);
} xnet_udp_dests SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, XNET_MAX_SHARED);
  __type(key, __u32);
  __type(value, __u8);
} xnet_shared SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, XNET_MAX_PORTS);
  __type(key, __u16);
  __type(value, __u8);
} xnet_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, XNET_MAX_FRAGS);
  __type(key, struct xnet_frag_key);
  __type(value, __u8);
} xnet_frags SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, XNET_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xnet_xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, XNET_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} xnet_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct xnet_steer_config);
} xnet_config SEC(".maps");

/* Our own view of the ARP header: linux/if_arp.h leaves the IPv4 part out. */
struct arp_ipv4 {
  __be16 htype;
  __be16 ptype;
  __u8 hlen;
  __u8 plen;
  __be16 op;
  __u8 sha[6];
  __u8 spa[4];
  __u8 tha[6];
  __u8 tpa[4];
};

/* linux/icmp.h pulls in libc headers the BPF target cannot include: the
 * 8-byte ICMP header (type, code, checksum, rest) is all we read. */
struct icmp_head {
  __u8 type;
  __u8 code;
  __be16 checksum;
  __be32 rest;
};
#define XNET_ICMP_DEST_UNREACH 3
#define XNET_ICMP_TIME_EXCEEDED 11
#define XNET_ICMP_PARAMETERPROB 12

struct vlan_tag {
  __be16 tci;
  __be16 encapsulated_proto;
};

#define XNET_ETH_P_8021Q 0x8100
#define XNET_ETH_P_8021AD 0x88A8
#define XNET_ETH_P_ARP 0x0806
#define XNET_ETH_P_IP 0x0800
#define XNET_ARP_REPLY 2
/* QinQ at most: deeper stacks are not ours. */
#define XNET_MAX_VLAN_DEPTH 2

static __always_inline void count(__u32 stat) {
  __u64* v = bpf_map_lookup_elem(&xnet_stats, &stat);
  if (v) *v += 1;
}

static __always_inline int pass(__u32 stat) {
  count(stat);
  return XDP_PASS;
}

/* The config's inline list while it is whole, else the map (steer_abi.h). */
static __always_inline int is_owned(const struct xnet_steer_config* cfg, const __u8 addr[4]) {
  __u32 key;
  __builtin_memcpy(&key, addr, sizeof(key));
  if (cfg && !cfg->owned_in_map) {
    const __u32 n = cfg->owned_count;
#pragma unroll
    for (int i = 0; i < XNET_OWNED_INLINE; i++) {
      if (i >= n) break;
      if (cfg->owned[i] == key) return 1;
    }
    return 0;
  }
  return bpf_map_lookup_elem(&xnet_owned, &key) != NULL;
}

static __always_inline int is_udp_dest(const __u8 addr[4]) {
  __u32 key;
  __builtin_memcpy(&key, addr, sizeof(key));
  return bpf_map_lookup_elem(&xnet_udp_dests, &key) != NULL;
}

static __always_inline int is_shared(__u32 addr_be) {
  return bpf_map_lookup_elem(&xnet_shared, &addr_be) != NULL;
}

static __always_inline int is_xnet_port(__u16 port_be) {
  return bpf_map_lookup_elem(&xnet_ports, &port_be) != NULL;
}

static __always_inline int steer(struct xdp_md* ctx) {
  __u32 queue = ctx->rx_queue_index;
  /* Looking up first tells "no socket on this queue" apart from a redirect;
   * the XDP_PASS fallback below still covers a socket that goes away between
   * the two calls. */
  if (!bpf_map_lookup_elem(&xnet_xsks, &queue)) return pass(XNET_STAT_NO_SOCKET);
  count(XNET_STAT_STEERED);
  return bpf_redirect_map(&xnet_xsks, queue, XDP_PASS);
}

static __always_inline int arp_is_ours(const struct xnet_steer_config* cfg, const struct arp_ipv4* arp) {
  if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(XNET_ETH_P_IP) || arp->hlen != 6 ||
      arp->plen != 4)
    return 0;
  if (is_owned(cfg, arp->tpa)) return 1;
  if (arp->op != bpf_htons(XNET_ARP_REPLY)) return 0;
  if (!cfg || !cfg->mac_valid) return 0;
  /* clang 14 emits a call for __builtin_memcmp on the BPF target: compare by hand. */
  __u8 diff = 0;
#pragma unroll
  for (int i = 0; i < 6; i++) diff |= arp->tha[i] ^ cfg->mac[i];
  return diff == 0;
}

#define XNET_IP_MF 0x2000
#define XNET_IP_OFFSET 0x1fff

/* Shared address, UDP: the port decides; for fragments, the first one does. */
static __always_inline int shared_udp(struct xdp_md* ctx, struct iphdr* ip, void* data_end) {
  const __u16 frag = bpf_ntohs(ip->frag_off);
  const int fragment = (frag & (XNET_IP_MF | XNET_IP_OFFSET)) != 0;
  struct xnet_frag_key key = {.saddr = ip->saddr, .daddr = ip->daddr, .id = ip->id, .proto = ip->protocol};
  if ((frag & XNET_IP_OFFSET) != 0) {
    /* A later fragment: no port here, the first fragment's verdict decides. */
    __u8* verdict = bpf_map_lookup_elem(&xnet_frags, &key);
    if (verdict) return *verdict == XNET_FRAG_XNET ? steer(ctx) : pass(XNET_STAT_PASSED);
    __u8 take = XNET_FRAG_XNET;
    bpf_map_update_elem(&xnet_frags, &key, &take, BPF_ANY);
    count(XNET_STAT_FRAG_EARLY);
    return steer(ctx);
  }
  struct udphdr* udp = (void*)ip + ip->ihl * 4;
  if ((void*)(udp + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  const int ours = is_xnet_port(udp->dest);
  if (fragment) {
    /* A first fragment: an earlier fragment may already have taken the
     * datagram for xnet (then it follows, whatever its port). */
    __u8* verdict = bpf_map_lookup_elem(&xnet_frags, &key);
    if (verdict && *verdict == XNET_FRAG_XNET) return steer(ctx);
    __u8 v = ours ? XNET_FRAG_XNET : XNET_FRAG_KERNEL;
    bpf_map_update_elem(&xnet_frags, &key, &v, BPF_ANY);
  }
  return ours ? steer(ctx) : pass(XNET_STAT_PASSED);
}

static __always_inline int shared_mode(const struct xnet_steer_config* cfg) { return cfg && cfg->shared; }

/* Shared mode, UDP to a broadcast or a joined group: by port, like the
 * shared address. Only an unfragmented datagram or a first fragment shows
 * its port; the later fragments of a broadcast stay the kernel's (sending
 * fragmented broadcasts is rare, and following them would need the LRU
 * for every broadcast source on the link). */
static __always_inline int shared_udp_dest(struct xdp_md* ctx, struct iphdr* ip, void* data_end) {
  if ((bpf_ntohs(ip->frag_off) & XNET_IP_OFFSET) != 0) return pass(XNET_STAT_PASSED);
  struct udphdr* udp = (void*)ip + ip->ihl * 4;
  if ((void*)(udp + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  return is_xnet_port(udp->dest) ? steer(ctx) : pass(XNET_STAT_PASSED);
}

/* Shared address, ICMP: an error quoting a UDP datagram xnet sent. */
static __always_inline int shared_icmp(struct xdp_md* ctx, struct iphdr* ip, void* data_end) {
  /* A fragment of an ICMP message is the kernel's to reassemble. */
  if ((bpf_ntohs(ip->frag_off) & (XNET_IP_MF | XNET_IP_OFFSET)) != 0) return pass(XNET_STAT_PASSED);
  struct icmp_head* icmp = (void*)ip + ip->ihl * 4;
  if ((void*)(icmp + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  if (icmp->type != XNET_ICMP_DEST_UNREACH && icmp->type != XNET_ICMP_TIME_EXCEEDED &&
      icmp->type != XNET_ICMP_PARAMETERPROB)
    return pass(XNET_STAT_PASSED);
  struct iphdr* inner = (void*)(icmp + 1);
  if ((void*)(inner + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  if (inner->protocol != IPPROTO_UDP || inner->ihl < 5) return pass(XNET_STAT_PASSED);
  /* Only a datagram that went out from this address. */
  if (!is_shared(inner->saddr)) return pass(XNET_STAT_PASSED);
  struct udphdr* udp = (void*)inner + inner->ihl * 4;
  if ((void*)(udp + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  return is_xnet_port(udp->source) ? steer(ctx) : pass(XNET_STAT_PASSED);
}

SEC("xdp")
int xnet_steer(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;

  /* An array's lookup is inlined: one load. */
  __u32 zero = 0;
  const struct xnet_steer_config* cfg = bpf_map_lookup_elem(&xnet_config, &zero);

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return pass(XNET_STAT_MALFORMED);
  __be16 proto = eth->h_proto;
  void* cursor = eth + 1;

#pragma unroll
  for (int i = 0; i < XNET_MAX_VLAN_DEPTH; i++) {
    if (proto != bpf_htons(XNET_ETH_P_8021Q) && proto != bpf_htons(XNET_ETH_P_8021AD)) break;
    struct vlan_tag* tag = cursor;
    if ((void*)(tag + 1) > data_end) return pass(XNET_STAT_MALFORMED);
    proto = tag->encapsulated_proto;
    cursor = tag + 1;
  }

  if (proto == bpf_htons(XNET_ETH_P_ARP)) {
    struct arp_ipv4* arp = cursor;
    if ((void*)(arp + 1) > data_end) return pass(XNET_STAT_MALFORMED);
    return arp_is_ours(cfg, arp) ? steer(ctx) : pass(XNET_STAT_PASSED);
  }

  if (proto == bpf_htons(XNET_ETH_P_IP)) {
    struct iphdr* ip = cursor;
    if ((void*)(ip + 1) > data_end) return pass(XNET_STAT_MALFORMED);
    /* A broken header for our address is ours too: xnet's ip_rcv drops and
     * counts it (InHdrErrors, InTruncatedPkts) as the kernel's would, where
     * passing it would hide it in the kernel's counters. Anything else that is
     * broken goes to the kernel, which decides. */
    if (is_owned(cfg, (const __u8*)&ip->daddr)) return steer(ctx);
    if (ip->version != 4 || ip->ihl < 5 || (void*)ip + ip->ihl * 4 > data_end) {
      return pass(XNET_STAT_MALFORMED);
    }
    if (is_shared(ip->daddr)) {
      if (ip->protocol == IPPROTO_UDP) return shared_udp(ctx, ip, data_end);
      if (ip->protocol == IPPROTO_ICMP) return shared_icmp(ctx, ip, data_end);
      return pass(XNET_STAT_PASSED);
    }
    if (ip->protocol == IPPROTO_UDP && is_udp_dest((const __u8*)&ip->daddr)) {
      return shared_mode(cfg) ? shared_udp_dest(ctx, ip, data_end) : steer(ctx);
    }
    return pass(XNET_STAT_PASSED);
  }

  return pass(XNET_STAT_PASSED);
}

char _license[] SEC("license") = "GPL";
