/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * place-probe: what a buffer layout costs on this machine's caches, per
 * 2 MB hugepage. For each hugepage it chases a pointer through K cache
 * lines, one per buffer, buffers STRIDE bytes apart, each line (buffer
 * index mod COLORS) lines into its buffer, in a random order, and prints
 * TSC cycles per load. Lines a power of two apart fall in a few cache
 * sets: with 2 KB buffers, 2 of a 48 KB L1D's 64 sets and 1/32 of an L2's,
 * so past a set's ways every load misses; how many sets they really get
 * depends on the physical pages behind the hugepage, which on a VM the
 * host chooses. This is the layout question behind rp_ipc_color() (see
 * perf/README.md, "Frame placement"). A benchmark: nothing is asserted.
 *
 *   place-probe [--pages N] [--stride B] [--colors C] [--reps R] K...
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_cycles.h>

#define HUGE_SZ (2u << 20)
#define LINE 64u

static uint64_t rng = 88172645463325252ull;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Cycles per load through @k lines of the buffers at @base. */
static double
chase(uint8_t *base, unsigned int k, unsigned int stride, unsigned int colors, unsigned int reps)
{
	unsigned int *perm = malloc(k * sizeof(*perm));
	uint8_t **at = malloc(k * sizeof(*at));
	void **p;
	uint64_t t0, t1;

	if (perm == NULL || at == NULL) {
		fprintf(stderr, "place-probe: out of memory\n");
		exit(1);
	}
	for (unsigned int i = 0; i < k; i++) {
		perm[i] = i;
		at[i] = base + (size_t)i * stride + i % colors * LINE;
	}
	for (unsigned int i = k - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(xorshift() % (i + 1)), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (unsigned int i = 0; i < k; i++)
		*(void **)at[perm[i]] = at[perm[(i + 1) % k]];
	p = (void **)at[perm[0]];
	for (unsigned int i = 0; i < 2 * k; i++) /* warm */
		p = *p;
	t0 = rte_rdtsc_precise();
	for (unsigned int r = 0; r < reps; r++)
		for (unsigned int i = 0; i < k; i++)
			p = *p;
	t1 = rte_rdtsc_precise();
	if (p == NULL)
		abort(); /* keeps the chase */
	free(perm);
	free(at);
	return (double)(t1 - t0) / ((double)reps * k);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: place-probe [--pages N] [--stride B] [--colors C] [--reps R] K...\n"
		"  For each of N 2 MB hugepages (default 16), TSC cycles per load of a\n"
		"  pointer chase through K lines, one per buffer, buffers B bytes apart\n"
		"  (default 2048), each (buffer index mod C) lines in (default 1: at its\n"
		"  start), R rounds (default 400). One row per K. Needs free hugepages.\n"
		"  Example: place-probe 512 768 1024; place-probe --colors 7 512 768 1024\n");
}

static unsigned int
num(const char *what, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "place-probe: %s '%s': need %lu to %lu\n", what, s, lo, hi);
		exit(2);
	}
	return (unsigned int)v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pages", required_argument, NULL, 'n'},
		{"stride", required_argument, NULL, 's'},
		{"colors", required_argument, NULL, 'c'},
		{"reps", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned int pages = 16, stride = 2048, colors = 1, reps = 400;
	uint8_t *h;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': pages = num("--pages", optarg, 1, 512); break;
		case 's': stride = num("--stride", optarg, LINE, HUGE_SZ); break;
		case 'c': colors = num("--colors", optarg, 1, 64); break;
		case 'r': reps = num("--reps", optarg, 1, 1000000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	h = mmap(NULL, (size_t)pages * HUGE_SZ, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (h == MAP_FAILED) {
		fprintf(stderr, "place-probe: %u hugepages of 2 MB: %s\n", pages, strerror(errno));
		return 1;
	}
	for (int a = optind; a < argc; a++) {
		unsigned int k = num("K", argv[a], 2, 1u << 20);

		if ((uint64_t)(k - 1) * stride + (k - 1) % colors * LINE + LINE > HUGE_SZ) {
			fprintf(stderr, "place-probe: K %u lines %u bytes apart do not fit a hugepage\n",
				k, stride);
			return 2;
		}
		printf("K=%u stride %u colors %u, cycles/load per hugepage:", k, stride, colors);
		for (unsigned int j = 0; j < pages; j++)
			printf(" %.0f", chase(h + (size_t)j * HUGE_SZ, k, stride, colors, reps));
		printf("\n");
	}
	munmap(h, (size_t)pages * HUGE_SZ);
	return 0;
}
