/* SPDX-License-Identifier: BSD-3-Clause */
/* Refused: its code is not in section "steer". */
#include "rp_steer_abi.h"

__attribute__((section("xdp"), used)) uint64_t
no_entry(const struct rp_steer_ctx *ctx)
{
	return RP_STEER_RET_QUEUE(ctx->pkt[0] & 1);
}
