/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer-bench: what steering a packet costs, per program and packet kind,
 * beside DPDK's rte_softrss() in the same run.
 *
 *   rss.bpf.o (JIT)    the default program, rte_bpf's x86-64 JIT, on a
 *                      filled context (what a worker runs per packet)
 *   fill+rss.bpf.o     the same plus filling the context from the frame
 *                      (rp_steer_ctx_fill: the 128-byte copy)
 *   built-in           the same RSS compiled natively (rp_rss_core.h)
 *   rte_softrss        DPDK's bit-loop Toeplitz over the tuple alone (no
 *                      parsing): 12 bytes for IPv4/TCP, 36 for IPv6/TCP
 *   rte_softrss_be     the same with the key pre-converted (rte_convert_rss_key)
 *
 * on 64-byte IPv4/TCP, IPv6/TCP and ARP (non-IP) frames. Each figure is
 * the median of --trials runs of --iters calls, in ns and TSC cycles per
 * packet; ratio = that / rte_softrss on the same kind. Prints one JSON
 * object. Not a test: nothing is asserted on speed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_thash.h>

#include "rp_prog.h"

#define MAX_TRIALS 31

enum kind { K_V4, K_V6, K_ARP, K_MAX };
static const char *const kind_names[K_MAX] = {"ipv4_tcp", "ipv6_tcp", "arp"};

enum meth { M_JIT, M_FILL_JIT, M_NATIVE, M_SOFTRSS, M_SOFTRSS_BE, M_MAX };
static const char *const meth_names[M_MAX] = {"rss.bpf.o (JIT)", "fill+rss.bpf.o",
	"built-in", "rte_softrss", "rte_softrss_be"};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
frame(uint8_t *f, enum kind k)
{
	memset(f, 0, 192);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (k == K_V4) {
		memcpy(f + 12, "\x08\x00\x45\x00\x00\x32\x00\x00\x40\x00\x40\x06", 12);
		memcpy(f + 26, "\x42\x09\x95\xbb\xa1\x8e\x64\x50\x0a\xea\x06\xe6", 12);
	} else if (k == K_V6) {
		f[12] = 0x86, f[13] = 0xdd, f[14] = 0x60, f[19] = 10, f[20] = 6, f[21] = 64;
		for (int i = 0; i < 32; i++)
			f[22 + i] = (uint8_t)(0x3f + 7 * i);
		memcpy(f + 54, "\x0a\xea\x06\xe6", 4);
	} else {
		f[12] = 0x08, f[13] = 0x06;
	}
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"prog", required_argument, NULL, 'p'},
		{"iters", required_argument, NULL, 'i'},
		{"trials", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	const char *path = NULL;
	long iters = 2000000, trials = 5;
	double res_ns[K_MAX][M_MAX], res_cyc[K_MAX][M_MAX];
	uint8_t key_be[RP_STEER_KEY_SIZE];
	struct rp_prog_inst inst;
	struct rp_prog *p;
	char err[512];
	uint64_t sink = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': path = optarg; break;
		case 'i': iters = atol(optarg); break;
		case 't': trials = atol(optarg); break;
		case 'h':
			printf("usage: steer-bench --prog build/xdp/rss.bpf.o [--iters N] [--trials T]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (path == NULL || iters < 1000 || trials < 1 || trials > MAX_TRIALS) {
		fprintf(stderr, "steer-bench: --prog is required; --iters >= 1000; --trials 1..%d\n",
			MAX_TRIALS);
		return 2;
	}
	rp_steer_cfg_init(&cfg);
	p = rp_prog_open(path, err, sizeof(err));
	if (p == NULL || rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0) {
		fprintf(stderr, "steer-bench: %s\n", err);
		return 2;
	}
	rte_convert_rss_key((const uint32_t *)cfg.key, (uint32_t *)key_be, sizeof(key_be));
	struct rp_prog_inst native = {.cfg = &cfg};

	for (int k = 0; k < K_MAX; k++) {
		uint8_t f[192];
		struct rp_steer_ctx ctx;
		union rte_thash_tuple tup;
		uint32_t tlen = k == K_V6 ? RTE_THASH_V6_L4_LEN : RTE_THASH_V4_L4_LEN;

		frame(f, (enum kind)k);
		memset(&tup, 0, sizeof(tup));
		for (unsigned int w = 0; w < tlen; w++) {
			const uint8_t *s = f + (k == K_V6 ? 22 : 26) + 4 * w;

			((uint32_t *)&tup)[w] = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
				(uint32_t)s[2] << 8 | s[3];
		}
		for (int m = 0; m < M_MAX; m++) {
			double ns[MAX_TRIALS], cyc[MAX_TRIALS];

			for (long t = 0; t < trials; t++) {
				double t0 = now_ns();
				uint64_t c0 = rte_rdtsc_precise();

				memset(&ctx, 0, sizeof(ctx));
				rp_steer_ctx_fill(&ctx, f, 64, 64, 0, 0, 4, 0, 1);
				for (long i = 0; i < iters; i++) {
					switch (m) {
					case M_JIT:
						sink += rp_prog_run(&inst, &ctx);
						break;
					case M_FILL_JIT:
						rp_steer_ctx_fill(&ctx, f, 64, 64, 0, 0, 4, 0, 1);
						sink += rp_prog_run(&inst, &ctx);
						break;
					case M_NATIVE:
						sink += rp_prog_run(&native, &ctx);
						break;
					case M_SOFTRSS:
						sink += rte_softrss((uint32_t *)&tup, tlen, cfg.key);
						break;
					case M_SOFTRSS_BE:
						sink += rte_softrss_be((uint32_t *)&tup, tlen, key_be);
						break;
					}
					/* Inputs "change": nothing is hoisted out of the loop. */
					__asm__ volatile("" : : "r"(&ctx), "r"(&tup) : "memory");
				}
				cyc[t] = (double)(rte_rdtsc_precise() - c0) / (double)iters;
				ns[t] = (now_ns() - t0) / (double)iters;
			}
			qsort(ns, (size_t)trials, sizeof(double), cmp_d);
			qsort(cyc, (size_t)trials, sizeof(double), cmp_d);
			res_ns[k][m] = ns[trials / 2];
			res_cyc[k][m] = cyc[trials / 2];
		}
	}
	printf("{\"iters\":%ld,\"trials\":%ld,\"instructions\":%u,\"results\":[", iters, trials,
		rp_prog_insns(p));
	for (int k = 0; k < K_MAX; k++)
		for (int m = 0; m < M_MAX; m++)
			printf("%s{\"frame\":\"%s\",\"method\":\"%s\",\"ns\":%.2f,\"cycles\":%.1f,"
			       "\"ratio_to_softrss\":%.2f}",
				k || m ? "," : "", kind_names[k], meth_names[m], res_ns[k][m],
				res_cyc[k][m], res_ns[k][m] / res_ns[k][M_SOFTRSS]);
	printf("],\"sink\":%" PRIu64 "}\n", sink & 1);
	fprintf(stderr, "%-10s", "ns/packet");
	for (int m = 0; m < M_MAX; m++)
		fprintf(stderr, " %16s", meth_names[m]);
	fprintf(stderr, "\n");
	for (int k = 0; k < K_MAX; k++) {
		fprintf(stderr, "%-10s", kind_names[k]);
		for (int m = 0; m < M_MAX; m++)
			fprintf(stderr, " %9.2f (%4.0fc)", res_ns[k][m], res_cyc[k][m]);
		fprintf(stderr, "\n");
	}
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
	return 0;
}
