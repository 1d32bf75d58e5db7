/* SPDX-License-Identifier: BSD-3-Clause */
/* The program loader: every kind of bad program is refused with a reason
 * that says what is wrong, and the examples load, validate and run. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_prog.h"

static const char *bpf_dir, *xdp_dir, *self;

static const char *
path_of(const char *dir, const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

struct bad_case {
	const char *what;
	const char *file; /* under the tests' bpf dir; NULL: see below */
	bool at_open;     /* refused by rp_prog_open (else by the validator) */
	int err;
	const char *reason;
};

static const struct bad_case bad_cases[] = {
	{"a .rodata table", "bad_data.bpf.o", true, EINVAL, "data section '.rodata'"},
	{"an unknown extern", "bad_sym.bpf.o", true, EINVAL, "references 'secret_table'"},
	{"no steer section", "no_entry.bpf.o", true, EINVAL, "no code in section 'steer'"},
	{"out-of-bounds read", "bad_oob.bpf.o", false, EINVAL, "rejected by the eBPF validator"},
	{"a loop", "bad_loop.bpf.o", false, EINVAL, "rejected by the eBPF validator"},
	{"a missing file", "missing.bpf.o", true, ENOENT, "cannot open"},
	{"a directory", ".", true, EINVAL, "not a regular file"},
};

static void
test_bad_programs(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS];

	(void)state;
	rp_steer_cfg_init(&cfg);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *t = &bad_cases[i];
		char err[512] = "";
		struct rp_prog_inst inst;
		struct rp_prog *p;
		int rc;

		p = rp_prog_open(path_of(bpf_dir, t->file), err, sizeof(err));
		if (t->at_open) {
			rc = p == NULL ? -errno : 0;
		} else {
			if (p == NULL)
				fail_msg("%s: refused at open: %s", t->what, err);
			rc = rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err));
			rp_prog_close(p);
		}
		print_message("%-20s -> %s\n", t->what, err);
		if (rc != -t->err || strstr(err, t->reason) == NULL)
			fail_msg("%s: rc %d (want %d), reason '%s' (want '%s')", t->what, rc, -t->err,
				err, t->reason);
	}
}

/* Not a program at all: a text file and a host executable. */
static void
test_not_ebpf(void **state)
{
	char err[512];

	(void)state;
	assert_null(rp_prog_open(path_of(bpf_dir, "../../build.ninja"), err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "not an ELF object file"));
	assert_null(rp_prog_open(self, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	print_message("host executable -> %s\n", err);
	assert_non_null(strstr(err, "not eBPF (ELF machine 62"));
}

/* Paths that are not a regular file are refused at once, by name: a FIFO
 * (opening one for reading waits for a writer: it once held the iothread's
 * control thread), a directory, and a symbolic link to a good program. */
static void
test_not_a_file(void **state)
{
	char dir[] = "/tmp/rp-prog-XXXXXX", fifo[64], link[64], err[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link.o", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a blocking open fails the test with SIGALRM */
	assert_null(rp_prog_open(fifo, err, sizeof(err)));
	alarm(0);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(rp_prog_open(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(symlink(path_of(xdp_dir, "rss.bpf.o"), link), 0);
	assert_null(rp_prog_open(link, err, sizeof(err)));
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(err, "is a symbolic link"));
	unlink(link);
	unlink(fifo);
	rmdir(dir);
}

/* Each example loads, and does what its comment says on one frame. */
static void
test_examples(void **state)
{
	static struct rp_steer_cfg cfg;
	static const char *const progs[] = {"rss.bpf.o", "steer_port_range.bpf.o",
		"steer_vlan_subnet.bpf.o", "drop_policy.bpf.o"};
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	struct rp_steer_ctx ctx;

	(void)state;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct rp_prog_inst inst;
		struct rp_prog *p;
		char err[512];
		uint64_t r;

		p = rp_prog_open(path_of(xdp_dir, progs[i]), err, sizeof(err));
		if (p == NULL)
			fail_msg("%s", err);
		rp_steer_cfg_init(&cfg);
		/* port range 5000-5100 -> 3; VLAN 7 -> 2; drop UDP to 5001 */
		cfg.user[0] = i == 2 ? 7 : 5000, cfg.user[1] = i == 2 ? 2 : 5100, cfg.user[2] = 3;
		if (i == 3)
			cfg.user[0] = 5001;
		if (rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		/* UDP 10.0.0.1:1234 -> 10.0.0.2:5001, or tagged VLAN 7 for i == 2 */
		memset(&ctx, 0, sizeof(ctx));
		uint8_t *f = ctx.pkt, o = 12;

		if (i == 2)
			f[o] = 0x81, f[o + 1] = 0, f[o + 2] = 0, f[o + 3] = 7, o += 4;
		f[o] = 0x08, f[o + 1] = 0x00, o += 2;
		f[o] = 0x45, f[o + 9] = 17, f[o + 12] = 10, f[o + 15] = 1, f[o + 16] = 10,
		f[o + 19] = 2, o += 20;
		f[o] = 0x04, f[o + 1] = 0xd2, f[o + 2] = 0x13, f[o + 3] = 0x89;
		ctx.pkt_len = ctx.len = o + 8u + 18u;
		ctx.nb_queues = 4;
		r = rp_prog_run(&inst, &ctx);
		print_message("%-24s -> %#llx\n", progs[i], (unsigned long long)r);
		switch (i) {
		case 0:
			assert_true(r & RP_STEER_RET_HASH);
			break;
		case 1:
			assert_int_equal(RP_STEER_RET_GET_QUEUE(r), 3);
			assert_true(r & RP_STEER_RET_HASH);
			break;
		case 2:
			assert_int_equal(RP_STEER_RET_GET_QUEUE(r), 2);
			break;
		case 3:
			assert_true(r & RP_STEER_RET_DROP);
			assert_int_equal(counters[0], 1);
			f[o - 20 + 9] = 6; /* TCP: passes */
			assert_false(rp_prog_run(&inst, &ctx) & RP_STEER_RET_DROP);
			assert_int_equal(counters[2], 1);
			break;
		}
		rp_prog_inst_fini(&inst);
		rp_prog_close(p);
	}
}

/* Instructions rte_bpf 22.11's validator lets through and its x86 JIT then
 * miscompiles (fuzz_prog found a shift by 0x8000003f: the JIT code wrote
 * to address 0): refused by the loader, by name. Made by patching a
 * shift of to_queue.bpf.o in memory. */
static void
test_bad_insns(void **state)
{
	static const struct {
		uint8_t code;
		int32_t imm;
		const char *reason;
	} cases[] = {
		{0x77, (int32_t)0x8000003f, "shift by an immediate out of range"}, /* rsh64 */
		{0x77, 64, "shift by an immediate out of range"},
		{0x64, 32, "shift by an immediate out of range"},                  /* lsh32 */
		{0x37, 0, "division by an immediate zero"},                        /* div64 */
		{0xd4, 8, "byte swap of a width"},                                 /* le */
	};
	const char *path = path_of(bpf_dir, "to_queue.bpf.o");
	static uint8_t img[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n, at;

	(void)state;
	assert_non_null(f);
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	/* The first "r >>= 63" (opcode 0x77, imm 63) in the code. */
	for (at = 0; at + 8 <= n; at += 8)
		if (img[at] == 0x77 && img[at + 4] == 63 && !img[at + 5] && !img[at + 6] &&
			!img[at + 7])
			break;
	assert_true(at + 8 <= n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static uint8_t bad[sizeof(img)];
		struct rp_prog *p;
		char err[512] = "";

		memcpy(bad, img, n);
		bad[at] = cases[i].code;
		memcpy(bad + at + 4, &cases[i].imm, 4);
		p = rp_prog_open_mem(bad, n, "patched.o", err, sizeof(err));
		if (p != NULL) {
			rp_prog_close(p);
			fail_msg("case %zu (code %#x imm %d) accepted", i, cases[i].code, cases[i].imm);
		}
		assert_non_null(strstr(err, cases[i].reason));
		print_message("refused: %s\n", err);
	}
}

/* What the fuzzer found (tests/fuzz/corpus/fuzz_prog/regress-*): objects
 * rte_bpf miscompiled or its validator wrote past its own arrays for. The
 * loader refuses each, with a reason, before rte_bpf sees it. */
static void
test_fuzz_regressions(void **state)
{
	const char *dir = getenv("RP_FUZZ_CORPUS");
	char path[4096], err[512];
	unsigned int seen = 0;
	struct dirent *de;
	DIR *dh;

	(void)state;
	if (dir == NULL) {
		print_message("RP_FUZZ_CORPUS not set (run through meson test): skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/fuzz_prog", dir);
	dh = opendir(path);
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL) {
		struct rp_prog *p;

		if (strncmp(de->d_name, "regress-", 8) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/fuzz_prog/%s", dir, de->d_name);
		err[0] = '\0';
		p = rp_prog_open(path, err, sizeof(err));
		if (p != NULL) {
			rp_prog_close(p);
			fail_msg("%s: accepted", de->d_name);
		}
		assert_true(err[0] != '\0');
		print_message("%s: %s\n", de->d_name, err);
		seen++;
	}
	closedir(dh);
	assert_true(seen >= 2);
}

/* A program that stores to its configuration: accepted by the validator
 * (so it is loaded), but the stores land in its own instance's copy only:
 * the host's configuration and another worker's instance are untouched,
 * and the out-of-range queue it asks for is clamped by the host's count. */
static void
test_cfg_write(void **state)
{
	static struct rp_steer_cfg cfg, before;
	uint64_t counters[2][RP_STEER_COUNTERS] = {{0}};
	struct rp_prog_inst a, b;
	struct rp_steer_ctx ctx;
	struct rp_prog *p;
	char err[512];
	uint64_t r;

	(void)state;
	rp_steer_cfg_init(&cfg);
	before = cfg;
	p = rp_prog_open(path_of(bpf_dir, "cfg_write.bpf.o"), err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	if (rp_prog_inst_init(&a, p, &cfg, counters[0], err, sizeof(err)) < 0 ||
		rp_prog_inst_init(&b, p, &cfg, counters[1], err, sizeof(err)) < 0)
		fail_msg("refused, but the validator lets such stores through: %s", err);
	rp_steer_ctx_fill(&ctx, (uint8_t[64]){0}, 64, 64, RP_STEER_TO_GUEST, 0, 4, 0, 1);
	r = rp_prog_run(&a, &ctx);
	assert_int_equal(RP_STEER_RET_GET_QUEUE(r), 0xfff0);
	assert_true(rp_steer_queue(r, 4) < 4);
	/* The host's configuration: not one byte changed. */
	assert_int_equal(cfg.table_mask, 127);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	/* The other worker's instance: untouched. */
	assert_memory_equal(b.cfg, &before, sizeof(before));
	/* The stores went somewhere: the instance's own copy. */
	assert_int_equal(a.cfg->table_mask, 0xffff);
	rp_prog_inst_fini(&a);
	rp_prog_inst_fini(&b);
	rp_prog_close(p);
}

/* A program sees its frame and zeroes, never bytes of an earlier frame
 * nor what an earlier run of itself left in the context. */
static void
test_ctx_clean(void **state)
{
	static struct rp_steer_cfg cfg;
	uint64_t counters[RP_STEER_COUNTERS] = {0};
	uint8_t big[RP_STEER_PKT_MAX + 64], small[60];
	struct rp_prog_inst inst;
	struct rp_steer_ctx ctx;
	struct rp_prog *p;
	char err[512];
	uint64_t r;

	(void)state;
	memset(big, 0xee, sizeof(big));
	memset(small, 0x11, sizeof(small));
	rp_steer_cfg_init(&cfg);
	p = rp_prog_open(path_of(bpf_dir, "ctx_peek.bpf.o"), err, sizeof(err));
	if (p == NULL || rp_prog_inst_init(&inst, p, &cfg, counters, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	memset(&ctx, 0xcc, sizeof(ctx)); /* whatever the memory held before */
	rp_steer_ctx_fill(&ctx, big, sizeof(big), sizeof(big), RP_STEER_TO_SWITCH, 0, 1, 0, 1);
	r = rp_prog_run(&inst, &ctx);
	assert_int_equal(RP_STEER_RET_GET_HASH(r), 0); /* a full pkt[]: only slack */
	/* A short frame after a long one and after the program's scribbles. */
	rp_steer_ctx_fill(&ctx, small, sizeof(small), sizeof(small), RP_STEER_TO_GUEST, 0, 1, 0, 1);
	r = rp_prog_run(&inst, &ctx);
	assert_int_equal(RP_STEER_RET_GET_HASH(r), 0);
	rp_prog_inst_fini(&inst);
	rp_prog_close(p);
}

/* Parsers: what they take, and what they refuse with the bad value named. */
static void
test_parsers(void **state)
{
	static struct rp_steer_cfg cfg;
	uint8_t key[RP_STEER_KEY_SIZE];
	uint32_t types;
	char err[256], buf[64];

	(void)state;
	rp_steer_cfg_init(&cfg);
	assert_int_equal(rp_steer_parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da3"
						"8030f20c6a42b73bbeac01fa", key, err, sizeof(err)), 0);
	assert_memory_equal(key, rp_steer_default_key, sizeof(key));
	assert_int_equal(rp_steer_parse_key("6d5a", key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2 bytes, need 40"));
	assert_int_equal(rp_steer_parse_key("zz", key, err, sizeof(err)), -EINVAL);
	assert_int_equal(rp_steer_parse_table("0,1,2,3", 4, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.table_mask, 3);
	assert_int_equal(cfg.table[3], 3);
	assert_int_equal(rp_steer_parse_table("0,1,2", 4, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(rp_steer_parse_table("0,4", 4, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queue 4"));
	assert_int_equal(rp_steer_parse_table("0,x", 4, &cfg, err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg.table_mask, 3); /* refusals change nothing */
	assert_int_equal(rp_steer_parse_types("ipv4,tcpv6", &types, err, sizeof(err)), 0);
	assert_int_equal(types, RP_STEER_HASH_IPV4 | RP_STEER_HASH_TCPV6);
	assert_string_equal(rp_steer_types_str(types, buf, sizeof(buf)), "ipv4,tcpv6");
	assert_int_equal(rp_steer_parse_types("ipv4,sctp", &types, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'sctp'"));
	assert_int_equal(rp_steer_parse_user("1,0x10", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.user[1], 16);
	assert_int_equal(rp_steer_parse_user("4294967296", &cfg, err, sizeof(err)), -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_programs),
		cmocka_unit_test(test_not_ebpf),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_bad_insns),
		cmocka_unit_test(test_fuzz_regressions),
		cmocka_unit_test(test_cfg_write),
		cmocka_unit_test(test_ctx_clean),
	};

	(void)argc;
	self = argv[0];
	bpf_dir = getenv("RP_TEST_BPF_DIR");
	xdp_dir = getenv("RP_XDP_DIR");
	if (bpf_dir == NULL || xdp_dir == NULL) {
		printf("RP_TEST_BPF_DIR and RP_XDP_DIR not set (run through meson test): skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
