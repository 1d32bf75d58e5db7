/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused by the validator: reads past the context at a packet-chosen
 * offset. */
#include "rp_steer_abi.h"

SEC(RP_STEER_SEC)
uint64_t
bad_oob(const struct rp_steer_ctx *ctx)
{
	return RP_STEER_RET_QUEUE(ctx->pkt[(uint64_t)ctx->pkt[12] * 4]);
}
