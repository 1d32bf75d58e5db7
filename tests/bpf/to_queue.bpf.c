/* SPDX-License-Identifier: BSD-3-Clause */
/* Test program: every packet to queue user[0], with the Toeplitz hash
 * (the live-swap test's observable change of policy). */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
to_queue(const struct rp_steer_ctx *ctx)
{
	uint64_t r = rp_rss_run(&rp_steer_cfg, ctx->pkt, ctx->pkt_len);

	return (r & ~RP_STEER_RET_QUEUE(0xffff)) | RP_STEER_RET_QUEUE(rp_steer_cfg.user[0]);
}
