/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: keeps a table in .rodata (rte_bpf has no data sections). */
#include "rp_steer_abi.h"

static const volatile uint16_t queues[4] = {3, 1, 2, 0};

SEC(RP_STEER_SEC)
uint64_t
bad_data(const struct rp_steer_ctx *ctx)
{
	return RP_STEER_RET_QUEUE(queues[ctx->pkt[0] & 3]);
}
