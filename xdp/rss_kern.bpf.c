/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rss_kern.bpf.c: the default RSS (rp_rss_core.h, the same source as
 * rss.bpf.o) as a Linux socket filter, loaded with libbpf. It exists to be
 * an independent oracle: the kernel's verifier checks it and the kernel
 * runs it (BPF_PROG_TEST_RUN, tests/unit/test_kern_oracle.c), and its
 * results must equal what rte_bpf's JIT computes for rss.bpf.o. Like
 * QEMU's tools/ebpf/rss.bpf.c, but the configuration struct comes from the
 * one ABI header instead of being written out twice.
 *
 * Maps: rp_cfg (the configuration), rp_scratch (per CPU: the frame's first
 * bytes plus the ABI's slack), rp_result (the RP_STEER_RET_* word).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rp_rss_core.h"

struct rp_scratch {
	uint8_t pkt[RP_STEER_PKT_MAX + 40]; /* as in struct rp_steer_ctx */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rp_steer_cfg);
} rp_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rp_scratch);
} rp_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rp_result SEC(".maps");

SEC("socket")
int
rss_kern(struct __sk_buff *skb)
{
	const struct rp_steer_cfg *c;
	struct rp_scratch *s;
	__u32 k = 0, n;
	__u64 *res;

	c = bpf_map_lookup_elem(&rp_cfg, &k);
	s = bpf_map_lookup_elem(&rp_scratch, &k);
	res = bpf_map_lookup_elem(&rp_result, &k);
	if (c == NULL || s == NULL || res == NULL)
		return 0;
	/* A socket filter's skb starts at the network header: skb->len does
	 * not count the Ethernet header, which is read relative to the MAC
	 * header (as QEMU's rss.bpf.c does). */
	n = skb->len;
	if (n > RP_STEER_PKT_MAX - 14)
		n = RP_STEER_PKT_MAX - 14;
	n = (uint32_t)rp_opaque(n + 14) & 0xff; /* bounded in the register the call gets */
	if (n < 14 || n > RP_STEER_PKT_MAX ||
		bpf_skb_load_bytes_relative(skb, 0, s->pkt, n, BPF_HDR_START_MAC) < 0)
		return 0;
	*res = rp_rss_run(c, s->pkt, n);
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
