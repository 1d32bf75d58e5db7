/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rss_global.bpf.c: the virtio-net spec's RSS in both directions, queue =
 * table[hash & mask] over all queues, whichever worker has the packet.
 * With several workers that costs hand-offs to the switch and virtqueues
 * shared between workers to the guest (see the status counters
 * handoff_packets and foreign_vq_writes, and perf/README.md); rss.bpf.o,
 * the default, keeps packets on their worker.
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
rss_global(const struct rp_steer_ctx *ctx)
{
	return rp_rss_run(&rp_steer_cfg, ctx->pkt, ctx->pkt_len);
}
