/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer_ring.bpf.c: example. Keep the queue a packet came in on.
 *
 * Shows: steering by the context's ingress queue instead of packet bytes.
 * To the switch, guest TX queue q goes to ring q (so OVS rx queue q); to
 * the guest, ring q (the switch's tx queue, which OVS picks per PMD
 * thread, like its own vhost-user ports do) goes to guest RX queue q. Each
 * worker then keeps to the queues it owns: no packet crosses to another
 * worker, and no two workers write one virtqueue. The RSS hash is still
 * computed and handed on. The host wraps q at the number of queues.
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
steer_ring(const struct rp_steer_ctx *ctx)
{
	uint64_t r = rp_rss_run(&rp_steer_cfg, ctx->pkt, ctx->pkt_len);

	return (r & ~RP_STEER_RET_QUEUE(0xffff)) | RP_STEER_RET_QUEUE(ctx->queue);
}
