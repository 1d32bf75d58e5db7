/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused by the validator: a loop with a packet-chosen bound. */
#include "rp_steer_abi.h"

SEC(RP_STEER_SEC)
uint64_t
bad_loop(const struct rp_steer_ctx *ctx)
{
	uint64_t h = 0;

#pragma clang loop unroll(disable)
	for (uint32_t i = 0; i < ctx->pkt_len; i++)
		h = h * 31 + ctx->pkt[i & 127];
	return RP_STEER_RET_HASHED(0, h);
}
