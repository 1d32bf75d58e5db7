/* SPDX-License-Identifier: BSD-3-Clause */
/* Test program: what can a program see that is not its frame? It returns,
 * as the hash, the OR of every byte of pkt[] past pkt_len and of the
 * slack, then scribbles over them for the next packet to find. The host
 * must show it zeroes each time. */
#include "rp_steer_abi.h"

SEC(RP_STEER_SEC)
uint64_t
ctx_peek(struct rp_steer_ctx *ctx)
{
	uint32_t seen = 0, n = ctx->pkt_len;

#pragma unroll
	for (unsigned int i = 0; i < RP_STEER_PKT_MAX; i++)
		if (i >= n)
			seen |= ctx->pkt[i];
#pragma unroll
	for (unsigned int i = 0; i < sizeof(ctx->slack); i++)
		seen |= ctx->slack[i];
	seen |= ctx->hash | ctx->pad[0];
#pragma unroll
	for (unsigned int i = 64; i < RP_STEER_PKT_MAX; i++)
		ctx->pkt[i] = 0xa5;
#pragma unroll
	for (unsigned int i = 0; i < sizeof(ctx->slack); i++)
		ctx->slack[i] = 0x5a;
	ctx->hash = 0x77;
	return RP_STEER_RET_HASHED(0, seen);
}
