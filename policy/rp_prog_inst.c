/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Steering program instances; see rp_prog.h. An instance binds a checked
 * image (rp_prog.c) to a private copy of the configuration and to counters
 * by patching the image's relocations, then rte_bpf validates and
 * JIT-compiles it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bpf.h>
#include <rte_log.h>

#include "rp_prog.h"
#include "rp_prog_private.h"

/* The last error line rte_bpf logged, as the refusal reason. */
static void
last_log_error(char *log, const char *path, char *err, size_t errlen)
{
	char *line, *save = NULL, *best = NULL;

	for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "error") != NULL || strstr(line, "invalid") != NULL ||
			strstr(line, "loop") != NULL || strstr(line, "unreachable") != NULL ||
			best == NULL)
			best = line;
	if (best != NULL)
		snprintf(err, errlen, "%s: rejected by the eBPF validator: %s", path, best);
}

int
rp_prog_inst_init(struct rp_prog_inst *i, const struct rp_prog *p,
	const struct rp_steer_cfg *cfg, uint64_t *counters, char *err, size_t errlen)
{
	struct rte_bpf_xsym xsym[2] = {
		{
			.name = RP_STEER_CFG_SYM,
			.type = RTE_BPF_XTYPE_VAR,
			.var = {.val = (void *)(uintptr_t)cfg,
				.desc = {.type = RTE_BPF_ARG_PTR, .size = sizeof(*cfg)}},
		},
		{
			.name = RP_STEER_CNT_SYM,
			.type = RTE_BPF_XTYPE_VAR,
			.var = {.val = counters,
				.desc = {.type = RTE_BPF_ARG_PTR,
					.size = RP_STEER_COUNTERS * sizeof(uint64_t)}},
		},
	};
	struct rte_bpf_prm prm = {
		.xsym = xsym,
		.nb_xsym = 2,
		.prog_arg = {.type = RTE_BPF_ARG_PTR, .size = sizeof(struct rp_steer_ctx)},
	};
	struct rte_bpf_jit jit;
	struct ebpf_insn *ins;
	FILE *old_log, *log;
	char *logbuf = NULL;
	size_t loglen = 0;
	int rc = 0;

	memset(i, 0, sizeof(*i));
	/* The instance's own copy: rte_bpf's validator checks bounds but not
	 * that a program only reads, so a program may store to it. What it
	 * stores stays in its own instance, and the host never reads it. */
	i->own_cfg = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*cfg), 64));
	if (i->own_cfg == NULL)
		return rp_prog_errf(err, errlen, -ENOMEM, "out of memory");
	memcpy(i->own_cfg, cfg, sizeof(*cfg));
	cfg = i->own_cfg;
	xsym[0].var.val = i->own_cfg;
	i->cfg = cfg;
	i->counters = counters;
	if (p == NULL)
		return 0;
	ins = malloc(p->n_ins * sizeof(*ins));
	if (ins == NULL)
		return rp_prog_errf(err, errlen, -ENOMEM, "out of memory");
	memcpy(ins, p->ins, p->n_ins * sizeof(*ins));
	for (uint32_t k = 0; k < p->n_rel; k++) {
		uint64_t a = p->rel[k].sym == RP_PROG_SYM_CFG ? (uintptr_t)cfg : (uintptr_t)counters;

		ins[p->rel[k].insn].imm = (int32_t)(uint32_t)a;
		ins[p->rel[k].insn + 1].imm = (int32_t)(uint32_t)(a >> 32);
	}
	prm.ins = ins;
	prm.nb_ins = p->n_ins;

	/* rte_bpf says why it refuses only in its log: catch that. */
	old_log = rte_log_get_stream();
	log = open_memstream(&logbuf, &loglen);
	if (log != NULL)
		rte_openlog_stream(log);
	i->bpf = rte_bpf_load(&prm);
	if (log != NULL) {
		rte_openlog_stream(old_log);
		fclose(log);
	}
	free(ins);
	if (i->bpf == NULL) {
		rc = rp_prog_errf(err, errlen, -EINVAL, "%s: rejected by the eBPF validator", p->path);
		if (logbuf != NULL)
			last_log_error(logbuf, p->path, err, errlen);
	} else if (rte_bpf_get_jit(i->bpf, &jit) != 0 || jit.func == NULL) {
		rc = rp_prog_errf(err, errlen, -ENOTSUP, "%s: rte_bpf made no JIT code for it", p->path);
		rte_bpf_destroy(i->bpf);
		i->bpf = NULL;
	} else {
		i->fn = jit.func;
	}
	free(logbuf);
	if (rc < 0) {
		free(i->own_cfg);
		i->own_cfg = NULL;
	}
	return rc;
}

void
rp_prog_inst_fini(struct rp_prog_inst *i)
{
	if (i->bpf != NULL)
		rte_bpf_destroy(i->bpf);
	free(i->own_cfg);
	memset(i, 0, sizeof(*i));
}
