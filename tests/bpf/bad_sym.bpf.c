/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: references a symbol the ABI does not provide. */
#include "rp_steer_abi.h"

extern uint64_t secret_table[16];

SEC(RP_STEER_SEC)
uint64_t
bad_sym(const struct rp_steer_ctx *ctx)
{
	return RP_STEER_RET_QUEUE(secret_table[ctx->pkt[0] & 15]);
}
