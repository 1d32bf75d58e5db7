/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rss.bpf.c: the default steering program. Toeplitz RSS with the
 * virtio-net hash types, table-driven (the per-byte tables come with the
 * configuration), and a queue on the worker that has the packet: to the
 * switch the ingress queue's ring, to the guest table[hash & mask] folded
 * onto the worker's own guest queues (rp_rss_steer() in rp_rss_core.h).
 * The iothread loads it when no other program is named, in both
 * directions. rss_global.bpf.o is the spec's queue = table[hash & mask].
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
rss(const struct rp_steer_ctx *ctx)
{
	return rp_rss_steer(&rp_steer_cfg, ctx);
}
