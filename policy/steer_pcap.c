/* SPDX-License-Identifier: BSD-3-Clause */
/* `steer test`'s loop over a capture (see steer_pcap.h). */
#include <inttypes.h>

#include <rte_bpf.h>

#include "steer_pcap.h"

int
rp_steer_test_pcap(pcap_t *pc, const struct rp_prog_inst *inst, unsigned int dir,
	unsigned int queues, bool no_jit, FILE *out, uint64_t *n)
{
	struct rp_steer_ctx ctx;
	struct pcap_pkthdr *ph;
	const u_char *data;
	int rc;

	while ((rc = pcap_next_ex(pc, &ph, &data)) == 1) {
		uint64_t r;

		/* caplen is the file's word: never more than what libpcap
		 * handed us, and len may claim anything. */
		rp_steer_ctx_fill(&ctx, data, ph->len, ph->caplen, dir, 0, queues, 0, 1);
		r = no_jit && inst->bpf ? rte_bpf_exec(inst->bpf, &ctx) : rp_prog_run(inst, &ctx);
		(*n)++;
		fprintf(out, "{\"pkt\":%" PRIu64 ",\"hash\":", *n);
		if (r & RP_STEER_RET_HASH)
			fprintf(out, "\"0x%08" PRIx32 "\"", RP_STEER_RET_GET_HASH(r));
		else
			fprintf(out, "null");
		if (r & RP_STEER_RET_DROP)
			fprintf(out, ",\"queue\":null,\"drop\":true}\n");
		else
			fprintf(out, ",\"queue\":%u}\n", rp_steer_queue(r, queues));
	}
	return rc;
}
