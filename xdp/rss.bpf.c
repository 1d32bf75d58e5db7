/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rss.bpf.c: the default steering program. Toeplitz RSS with the
 * virtio-net hash types, table-driven (the per-byte tables come with the
 * configuration), queue = table[hash & mask]; see rp_rss_core.h. The
 * iothread loads it when no other program is named, in both directions.
 */
#include "rp_rss_core.h"

SEC(RP_STEER_SEC)
uint64_t
rss(const struct rp_steer_ctx *ctx)
{
	return rp_rss_run(&rp_steer_cfg, ctx->pkt, ctx->pkt_len);
}
