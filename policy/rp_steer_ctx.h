/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_steer_ctx.h: per packet, inline: the context a steering program gets,
 * and the queue the host takes from its result.
 */
#ifndef RP_STEER_CTX_H
#define RP_STEER_CTX_H

#include <stdint.h>
#include <string.h>

#include <rte_memcpy.h>

#include "rp_steer_abi.h"

/** Fill @ctx for the frame @pkt of @len bytes, @seg of them contiguous
 * there, arriving on @queue, run by @worker of @n_workers. Only the frame's own bytes are copied (reading past them would
 * pull in buffer lines nobody touched: a cache miss per packet), and every
 * other byte of @ctx is rewritten too, the rest of pkt[] and the slack
 * with zeroes: a program sees this frame and nothing of an earlier one,
 * nor anything an earlier program run left there. */
static inline void
rp_steer_ctx_fill(struct rp_steer_ctx *ctx, const void *pkt, uint32_t len, uint32_t seg,
	unsigned int dir, unsigned int queue, unsigned int nb_queues, unsigned int worker,
	unsigned int n_workers)
{
	uint32_t n = seg < RP_STEER_PKT_MAX ? seg : RP_STEER_PKT_MAX;

	rte_memcpy(ctx->pkt, pkt, n); /* inline: no call for a few vector moves */
	memset(ctx->pkt + n, 0, RP_STEER_PKT_MAX - n);
	ctx->len = len;
	ctx->pkt_len = n;
	ctx->hash = 0;
	ctx->queue = (uint16_t)queue;
	ctx->nb_queues = (uint16_t)nb_queues;
	ctx->dir = (uint8_t)dir;
	ctx->flags = 0;
	ctx->worker = (uint16_t)worker;
	ctx->n_workers = (uint16_t)n_workers;
	memset(ctx->pad, 0, sizeof(ctx->pad));
	memset(ctx->slack, 0, sizeof(ctx->slack));
}

/** The queue the host uses for result @r with @nb_queues (>= 1) queues. */
static inline unsigned int
rp_steer_queue(uint64_t r, unsigned int nb_queues)
{
	unsigned int q = RP_STEER_RET_GET_QUEUE(r);

	return q < nb_queues ? q : q % nb_queues;
}

#endif /* RP_STEER_CTX_H */
