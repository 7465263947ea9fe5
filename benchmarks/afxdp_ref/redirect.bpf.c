// SPDX-License-Identifier: GPL-2.0
/* The reference's own XDP program: every frame goes to the AF_XDP socket of
 * the queue it arrived on; with no socket on that queue it goes to the kernel
 * (bpf_redirect_map's fallback action). No parsing, no steering: the
 * reference measures the bare AF_XDP path, not xnet's steering program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} ref_xsks SEC(".maps");

SEC("xdp")
int ref_redirect(struct xdp_md* ctx) {
  return bpf_redirect_map(&ref_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
