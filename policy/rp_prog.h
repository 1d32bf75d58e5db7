/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_prog.h: steering programs on the host side. Reading and checking a
 * program file, binding it to a configuration and counters and
 * JIT-compiling it with rte_bpf (an instance), running it. The RSS
 * configuration a program reads is rp_steer_cfg.h; the per-packet context
 * rp_steer_ctx.h (both included here, for whoever runs programs). The ABI
 * itself is xdp/include/rp_steer_abi.h.
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

#include "rp_rss_core.h"
#include "rp_steer_abi.h"
#include "rp_steer_cfg.h"
#include "rp_steer_ctx.h"

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

#endif /* RP_PROG_H */
