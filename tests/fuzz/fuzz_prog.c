/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the steering-program loader (rp_prog: ELF parsing, section
 * and relocation checks) on any bytes, and for what it accepts, rte_bpf's
 * validator and JIT, and one run on an all-zero frame, as `steer load`
 * would. Nothing may crash or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	struct rp_prog_inst inst;
	struct rp_steer_ctx ctx;
	struct rp_prog *p;
	char err[512];
	void *copy;

	if (size > RP_PROG_MAX_FILE)
		return 0;
	/* libelf may want to write (byte order): its own copy, as a file's. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	p = rp_prog_open_mem(copy, size, "fuzz.o", err, sizeof(err));
	if (p != NULL) {
		rp_steer_cfg_init(&cfg);
		if (rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) == 0) {
			rp_steer_ctx_fill(&ctx, (uint8_t[64]){0}, 64, 64, RP_STEER_TO_SWITCH, 0, 4, 0, 1);
			(void)rp_prog_run(&inst, &ctx);
			rp_prog_inst_fini(&inst);
		}
		rp_prog_close(p);
	}
	free(copy);
	return 0;
}
