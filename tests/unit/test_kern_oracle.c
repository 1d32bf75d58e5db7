/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel as an independent oracle for our steering path: the default
 * RSS built as a Linux socket filter (rss_kern.bpf.o, loaded with libbpf,
 * checked by the kernel's verifier, run by the kernel with
 * BPF_PROG_TEST_RUN) must give the same hash and queue as rss.bpf.o under
 * rte_bpf's JIT, frame for frame: the RSS-suite vectors with the standard
 * key, then random frames under random keys, tables and hash types.
 *
 * Needs root (or CAP_BPF) and a kernel with BPF_PROG_TEST_RUN for socket
 * filters; skipped (exit 77) with the reason when it has neither.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "rp_prog.h"
#include "rp_testframes.h"

#define FRAMES 20000

struct oracle {
	struct bpf_object *obj;
	int prog, cfg, result;
};

static struct oracle k;
static struct rp_prog *prog;
static const char *kern_path, *rss_path;

__attribute__((format(printf, 2, 0))) static int
libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static unsigned int kern_refused;

/* Run the kernel program over @f (@len >= 14 bytes). The kernel refuses
 * to build a test skb from some truncated IP frames (shorter than their
 * IP header): those return false and are counted; nothing else may fail. */
static bool
kern_try(const uint8_t *f, uint32_t len, uint64_t *out)
{
	uint8_t data[RP_STEER_PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = len, .repeat = 1);
	uint64_t r = ~0ull;
	uint32_t key = 0;

	memcpy(data, f, len);
	if (bpf_map_update_elem(k.result, &key, &r, BPF_ANY) != 0)
		fail_msg("result map: %s", strerror(errno));
	if (bpf_prog_test_run_opts(k.prog, &opts) != 0) {
		if (errno == EINVAL && len < 14 + 40) {
			kern_refused++;
			return false;
		}
		fail_msg("BPF_PROG_TEST_RUN (%u bytes, EtherType %02x%02x): %s", len, f[12], f[13],
			strerror(errno));
	}
	if (bpf_map_lookup_elem(k.result, &key, &r) != 0)
		fail_msg("result map: %s", strerror(errno));
	*out = r;
	return true;
}

static uint64_t
kern_run(const uint8_t *f, uint32_t len)
{
	uint64_t r = 0;

	if (!kern_try(f, len, &r))
		fail_msg("BPF_PROG_TEST_RUN refused %u bytes", len);
	return r;
}

static void
compare(const struct rp_steer_cfg *cfg, uint64_t *counters, unsigned int frames)
{
	struct rp_prog_inst inst;
	struct rp_steer_ctx ctx;
	char err[512];
	uint32_t key = 0;

	if (bpf_map_update_elem(k.cfg, &key, cfg, BPF_ANY) != 0)
		fail_msg("config map: %s", strerror(errno));
	if (rp_prog_inst_init(&inst, prog, cfg, counters, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (unsigned int i = 0; i < frames; i++) {
		uint64_t want, got;

		memset(&ctx, 0, sizeof(ctx));
		do
			ctx.pkt_len = random_frame(ctx.pkt);
		while (ctx.pkt_len < 14);
		ctx.len = ctx.pkt_len;
		ctx.nb_queues = 16;
		ctx.dir = RP_STEER_TO_GUEST; /* the spec's RSS queue: one worker */
		got = rp_prog_run(&inst, &ctx);
		if (!kern_try(ctx.pkt, ctx.pkt_len, &want))
			continue;
		if (got != want)
			fail_msg("frame %u (%u bytes, types %#x): kernel %#llx, rte_bpf JIT %#llx", i,
				ctx.pkt_len, cfg->hash_types, (unsigned long long)want,
				(unsigned long long)got);
	}
	rp_prog_inst_fini(&inst);
}

static void
test_random_frames_and_keys(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS];

	(void)state;
	for (int round = 0; round < 10; round++) {
		uint8_t key[RP_STEER_KEY_SIZE];

		rp_steer_cfg_init(&cfg);
		if (round > 0) {
			for (size_t b = 0; b < sizeof(key); b++)
				key[b] = (uint8_t)rnd();
			rp_steer_cfg_set_key(&cfg, key);
			cfg.hash_types = (uint32_t)rnd() & RP_STEER_HASH_ALL;
			cfg.table_mask = (uint16_t)((1u << rnd() % 8) - 1);
			for (int t = 0; t < RP_STEER_TABLE_MAX; t++)
				cfg.table[t] = (uint16_t)(rnd() % 16);
			cfg.default_queue = (uint16_t)(rnd() % 16);
		}
		compare(&cfg, counters, FRAMES / 10);
	}
	print_message("%u of %d random frames over 10 configurations: kernel = rte_bpf JIT "
		      "(%u truncated frames the kernel would not run)\n", FRAMES - kern_refused, FRAMES,
		kern_refused);
	assert_true(kern_refused < FRAMES / 20);
}

/* The suite's first vector, as a frame: the kernel's answer must also be
 * the published hash (so both are not wrong the same way). */
static void
test_published_vector(void **state)
{
	static struct rp_steer_cfg cfg;
	static const uint8_t f[54] = {
		[12] = 0x08, [13] = 0x00, [14] = 0x45, [23] = 6,
		[26] = 66, [27] = 9, [28] = 149, [29] = 187,     /* 66.9.149.187 */
		[30] = 161, [31] = 142, [32] = 100, [33] = 80,   /* 161.142.100.80 */
		[34] = 0x0a, [35] = 0xea, [36] = 0x06, [37] = 0xe6, /* 2794 -> 1766 */
	};
	uint32_t key = 0;
	uint64_t r;

	(void)state;
	rp_steer_cfg_init(&cfg);
	assert_int_equal(bpf_map_update_elem(k.cfg, &key, &cfg, BPF_ANY), 0);
	r = kern_run(f, sizeof(f));
	assert_true(r & RP_STEER_RET_HASH);
	assert_int_equal(RP_STEER_RET_GET_HASH(r), 0x51ccc178);
	cfg.hash_types = RP_STEER_HASH_IPV4;
	assert_int_equal(bpf_map_update_elem(k.cfg, &key, &cfg, BPF_ANY), 0);
	assert_int_equal(RP_STEER_RET_GET_HASH(kern_run(f, sizeof(f))), 0x323e8fc2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vector),
		cmocka_unit_test(test_random_frames_and_keys),
	};
	struct bpf_program *p;
	char err[512];
	int rc;

	kern_path = getenv("RP_RSS_KERN_PROG");
	rss_path = getenv("RP_RSS_PROG");
	if (kern_path == NULL || rss_path == NULL) {
		printf("RP_RSS_KERN_PROG and RP_RSS_PROG not set (run through meson test): skipped\n");
		return 77;
	}
	prog = rp_prog_open(rss_path, err, sizeof(err));
	if (prog == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	libbpf_set_print(libbpf_quiet);
	k.obj = bpf_object__open_file(kern_path, NULL);
	if (k.obj == NULL) {
		fprintf(stderr, "%s: %s\n", kern_path, strerror(errno));
		return 1;
	}
	rc = bpf_object__load(k.obj);
	if (rc == -EPERM) {
		printf("loading a BPF program into the kernel: %s (needs root or CAP_BPF): "
		       "skipped\n", strerror(-rc));
		return 77;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: the kernel refused it: %s\n", kern_path, strerror(-rc));
		return 1;
	}
	p = bpf_object__find_program_by_name(k.obj, "rss_kern");
	k.prog = p ? bpf_program__fd(p) : -1;
	k.cfg = bpf_object__find_map_fd_by_name(k.obj, "rp_cfg");
	k.result = bpf_object__find_map_fd_by_name(k.obj, "rp_result");
	if (k.prog < 0 || k.cfg < 0 || k.result < 0) {
		fprintf(stderr, "%s: program or maps missing\n", kern_path);
		return 1;
	}
	{
		uint8_t probe[64] = {0};
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = probe, .data_size_in = 64);

		if (bpf_prog_test_run_opts(k.prog, &opts) != 0) {
			printf("BPF_PROG_TEST_RUN on a socket filter: %s: skipped\n",
				strerror(errno));
			return 77;
		}
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	bpf_object__close(k.obj);
	rp_prog_close(prog);
	return rc;
}
