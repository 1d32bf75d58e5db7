/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: `ringportctl steer test` over any capture file: libpcap reads
 * it, and every packet it returns, whatever its header claims (len beyond
 * caplen, caplen 0), goes through the context fill and the built-in RSS
 * and the output formatting. Nothing may crash or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "steer_pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	char err[PCAP_ERRBUF_SIZE > 512 ? PCAP_ERRBUF_SIZE : 512];
	struct rp_prog_inst inst;
	FILE *in, *out;
	uint64_t n = 0;
	pcap_t *pc;

	if (size == 0)
		return 0;
	in = fmemopen((void *)(uintptr_t)data, size, "r");
	out = fopen("/dev/null", "w");
	if (in == NULL || out == NULL)
		goto out;
	rp_steer_cfg_init(&cfg);
	if (rp_prog_inst_init(&inst, NULL, &cfg, counters, err, sizeof(err)) < 0)
		goto out;
	pc = pcap_fopen_offline(in, err);
	if (pc != NULL) {
		in = NULL; /* pcap_close() closes it */
		rp_steer_test_pcap(pc, &inst, data[0] & 1, 1 + data[size - 1] % 16, false, out, &n);
		pcap_close(pc);
	}
	rp_prog_inst_fini(&inst);
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	return 0;
}
