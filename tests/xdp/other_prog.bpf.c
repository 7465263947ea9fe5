// SPDX-License-Identifier: GPL-2.0
/* Somebody else's XDP program, for the "already attached by something else" test. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int not_xnet_pass(struct xdp_md* ctx) { return XDP_PASS; }

char _license[] SEC("license") = "GPL";
