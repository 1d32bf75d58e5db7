/* SPDX-License-Identifier: BSD-3-Clause */
/* rp_prog_private.h: inside the policy library only (rp_prog.c,
 * rp_prog_inst.c, rp_steer_cfg.c), never installed or included from
 * outside. */
#ifndef RP_PROG_PRIVATE_H
#define RP_PROG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_bpf.h>

/* A checked image (rp_prog.c makes it, rp_prog_inst.c binds it). */
enum rp_prog_sym { RP_PROG_SYM_CFG, RP_PROG_SYM_CNT };

struct rp_prog_reloc {
	uint32_t insn;
	enum rp_prog_sym sym;
};

struct rp_prog {
	char *path;
	struct ebpf_insn *ins;
	uint32_t n_ins;
	uint32_t n_rel;
	struct rp_prog_reloc *rel;
};

/* Internal to the library: format a reason into @err, return @rc. */
int rp_prog_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* RP_PROG_PRIVATE_H */
