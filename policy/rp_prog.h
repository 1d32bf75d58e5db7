/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_prog.h: steering programs on the host side. Reading and checking a
 * program file, binding it to a configuration and counters and JIT-compiling
 * it with rte_bpf, running it; building and parsing the RSS configuration
 * (key, indirection table, hash types). The ABI itself is
 * xdp/include/rp_steer_abi.h.
 *
 * No EAL needed (rte_bpf runs without it): ringportctl's offline
 * `steer test` and the iothread share this code, and it is unit-tested
 * alone.
 *
 * Errors: functions taking `char *err, size_t errlen` write a one-line
 * reason naming the bad value there, and return a negative errno (or NULL
 * with errno set).
 */
#ifndef RP_PROG_H
#define RP_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_memcpy.h>

#include "rp_rss_core.h"
#include "rp_steer_abi.h"

#define RP_PROG_MAX_INSNS 4096     /* longest program accepted */
#define RP_PROG_MAX_FILE (1u << 20) /* largest object file read */

/* A checked program image: its code and the places that reference the
 * configuration or counters. Immutable; instances are made from it. */
struct rp_prog;

/* A program bound to one configuration and one counter array, compiled.
 * A NULL bpf is the built-in RSS (rp_rss_core.h compiled natively). The
 * configuration is the instance's own copy (own_cfg): a program can store
 * to it (rte_bpf checks bounds, not that it only reads), so nothing of the
 * host ever reads it back, and no other instance sees it. */
struct rp_prog_inst {
	struct rte_bpf *bpf;
	uint64_t (*fn)(void *ctx); /* JIT code */
	const struct rp_steer_cfg *cfg; /* == own_cfg */
	struct rp_steer_cfg *own_cfg;
	uint64_t *counters;
};

/**
 * Read and check the eBPF object @path. Refused, with the reason, when the
 * file is not ELF, not eBPF, has no RP_STEER_SEC code, has data sections,
 * references a symbol other than the two of the ABI, or is too large.
 * The validator runs later, in rp_prog_inst_init().
 * @return the image, or NULL with errno set (EINVAL: bad program; others:
 *   the file could not be read).
 */
struct rp_prog *rp_prog_open(const char *path, char *err, size_t errlen);

/** rp_prog_open() of the @len bytes at @buf, called @name in messages. */
struct rp_prog *rp_prog_open_mem(const void *buf, size_t len, const char *name, char *err,
	size_t errlen);

void rp_prog_close(struct rp_prog *p);

/** The path the image was read from. */
const char *rp_prog_path(const struct rp_prog *p);

/** The number of eBPF instructions. */
unsigned int rp_prog_insns(const struct rp_prog *p);

/**
 * Bind @p (NULL: the built-in RSS) to a private copy of @cfg and to
 * @counters (RP_STEER_COUNTERS words), validate it with rte_bpf's verifier
 * and JIT-compile it. The validator's own message is the reason on
 * refusal. @counters must outlive the instance; @cfg need not.
 * @return 0, -EINVAL (refused by the validator), -ENOTSUP (no JIT code),
 *   -ENOMEM.
 */
int rp_prog_inst_init(struct rp_prog_inst *i, const struct rp_prog *p,
	const struct rp_steer_cfg *cfg, uint64_t *counters, char *err, size_t errlen);

void rp_prog_inst_fini(struct rp_prog_inst *i);

/** Run the instance on @ctx: the RP_STEER_RET_* word. */
static inline uint64_t
rp_prog_run(const struct rp_prog_inst *i, struct rp_steer_ctx *ctx)
{
	if (i->fn != NULL)
		return i->fn(ctx);
	return rp_rss_steer(i->cfg, ctx);
}

/* ---- the configuration ------------------------------------------------- */

/** The standard key (virtio-net and Microsoft RSS default). */
extern const uint8_t rp_steer_default_key[RP_STEER_KEY_SIZE];

/** Defaults: standard key, all hash types, a 128-entry identity table
 * (queue = (hash & 127) % nb_queues once the host maps it), queue 0. */
void rp_steer_cfg_init(struct rp_steer_cfg *c);

/** Use @key from now on (rebuilds the lookup tables). */
void rp_steer_cfg_set_key(struct rp_steer_cfg *c, const uint8_t key[RP_STEER_KEY_SIZE]);

/** "6d5a56da..." (80 hex digits, optional ':' between bytes) into @key. */
int rp_steer_parse_key(const char *s, uint8_t key[RP_STEER_KEY_SIZE], char *err, size_t errlen);

/** "0,1,2,3" (a power of two of entries, up to RP_STEER_TABLE_MAX, each
 * below @max_queue) into c->table and c->table_mask. */
int rp_steer_parse_table(const char *s, unsigned int max_queue, struct rp_steer_cfg *c,
	char *err, size_t errlen);

/** Up to 8 comma-separated 32-bit numbers into c->user (the rest zero). */
int rp_steer_parse_user(const char *s, struct rp_steer_cfg *c, char *err, size_t errlen);

/** "ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6", "all" or "none" into *types. */
int rp_steer_parse_types(const char *s, uint32_t *types, char *err, size_t errlen);

/** The types as the list rp_steer_parse_types() reads; @buf >= 48 bytes. */
const char *rp_steer_types_str(uint32_t types, char *buf, size_t len);

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

/* Internal to the library: format a reason into @err, return @rc. */
int rp_prog_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* RP_PROG_H */
