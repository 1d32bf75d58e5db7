/* SPDX-License-Identifier: BSD-3-Clause */
/* Regions (create, attach, header validation with each field corrupted in
 * turn) and buffer pools (every descriptor rule, reclaim). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_ipc.h"

#define WHY 256

static const struct rp_ipc_region_params params = {
	.n_qpairs = 2,
	.ring_size = 128,
	.buf_size = 2048,
	.n_bufs = {256, 128},
	.mac = {0x02, 0x52, 0x50, 0, 0, 7},
	.mtu = 9000,
	.features = RP_IPC_F_OFFLOAD,
};

static int
setup_region(void **state)
{
	char why[WHY];

	*state = rp_ipc_region_create(&params, why, sizeof(why));
	if (*state == NULL)
		print_error("rp_ipc_region_create: %s\n", why);
	return *state == NULL ? -1 : 0;
}

static int
teardown_region(void **state)
{
	rp_ipc_region_put(*state);
	return 0;
}

/* The VmFlags of the mapping that starts at @base has "dd" (MADV_DONTDUMP). */
static bool
not_dumped(const void *base)
{
	char line[512], want[32];
	bool in = false, dd = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)base);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t hex = strspn(line, "0123456789abcdef");

		if (hex > 0 && line[hex] == '-') /* a mapping's first line */
			in = strncmp(line, want, strlen(want)) == 0;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			dd = strstr(line, " dd") != NULL;
	}
	fclose(f);
	return dd;
}

static void
test_create_and_attach(void **state)
{
	struct rp_ipc_region *r = *state, *c;
	enum rp_ipc_reject rej;
	char why[WHY] = "";

	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	assert_int_equal(l->n_qpairs, 2);
	assert_int_equal(l->buf_shift, 11);
	assert_int_equal(l->rings_off % 64, 0);
	assert_int_equal(l->bufs_off[0] % 4096, 0);
	assert_true(l->bufs_off[0] >= l->rings_off + 8 * l->ring_stride);
	assert_int_equal(l->bufs_off[1], l->bufs_off[0] + 256 * 2048);
	int seals = fcntl(rp_ipc_region_fd(r), F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* Sealed: nobody can shrink or grow it under the other side. */
	assert_int_equal(ftruncate(rp_ipc_region_fd(r), 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(rp_ipc_region_fd(r),
				 (off_t)rp_ipc_region_hdr(r)->region_size + (2 << 20)), -1);
	assert_int_equal(errno, EPERM);
	/* Kept out of core dumps, the creator's mapping and the peer's. */
	assert_true(not_dumped(rp_ipc_region_base(r)));

	c = rp_ipc_region_attach(rp_ipc_region_fd(r), &rej, why, sizeof(why));
	if (c == NULL)
		print_error("attach: %s\n", why);
	assert_non_null(c);
	assert_int_equal(rp_ipc_region_layout(c)->mtu, 9000);
	assert_int_equal(rp_ipc_region_hugetlb(c), rp_ipc_region_hugetlb(r));
	assert_true(not_dumped(rp_ipc_region_base(c)));
	/* A reference keeps the mapping after the first put. */
	rp_ipc_region_get(c);
	rp_ipc_region_put(c);
	assert_int_equal(rp_ipc_region_hdr(c)->cookie, RP_IPC_COOKIE);
	rp_ipc_region_put(c);
}

/* ---- header validation: each field corrupted in turn ------------------- */
struct hdr_case {
	const char *desc;
	size_t off;   /* field offset */
	size_t size;  /* 1, 2, 4 or 8 */
	uint64_t val; /* written there */
	enum rp_ipc_reject want;
	const char *why;
};

#define F(field) offsetof(struct rp_ipc_hdr, field), sizeof(((struct rp_ipc_hdr *)0)->field)
#define F1(field) offsetof(struct rp_ipc_hdr, field), sizeof(((struct rp_ipc_hdr *)0)->field[0])

static const struct hdr_case hdr_cases[] = {
	{"cookie", F(cookie), 0x5452, RP_IPC_REJ_COOKIE, "bad region cookie 0x0000000000005452"},
	{"major 2", F(version), 0x0200, RP_IPC_REJ_VERSION, "region ABI 2.0, ours 1.1"},
	{"major 0", F(version), 0x0001, RP_IPC_REJ_VERSION, "region ABI 0.1"},
	{"hdr_size short", F(hdr_size), 64, RP_IPC_REJ_HEADER, "hdr_size 64 not in 256..4096"},
	{"hdr_size huge", F(hdr_size), 8192, RP_IPC_REJ_HEADER, "hdr_size 8192"},
	{"unknown feature", F(features), 1u << 31, RP_IPC_REJ_HEADER, "unknown bits 0x80000000"},
	{"region_size > fd", F(region_size), 1ull << 31, RP_IPC_REJ_REGION_SIZE, "but the header says 2147483648"},
	{"region_size < layout", F(region_size), 8192, RP_IPC_REJ_REGION_SIZE, "region_size 8192 is smaller than its layout"},
	{"n_qpairs 0", F(n_qpairs), 0, RP_IPC_REJ_HEADER, "n_qpairs 0 not in 1..16"},
	{"n_qpairs 17", F(n_qpairs), 17, RP_IPC_REJ_HEADER, "n_qpairs 17 not in 1..16"},
	{"n_qpairs 3", F(n_qpairs), 3, RP_IPC_REJ_HEADER, "header bufs_off[RP_IPC_DIR_TO_SWITCH]"},
	{"ring_hdr_size", F(ring_hdr_size), 320, RP_IPC_REJ_HEADER, "ring_hdr_size 320, expected 384"},
	{"ring_size 100", F(ring_size), 100, RP_IPC_REJ_HEADER, "ring_size 100 not a power of two"},
	{"ring_size 32", F(ring_size), 32, RP_IPC_REJ_HEADER, "ring_size 32 not a power of two in 64..32768"},
	{"ring_size 2^16", F(ring_size), 65536, RP_IPC_REJ_HEADER, "ring_size 65536"},
	{"ring_size 256", F(ring_size), 256, RP_IPC_REJ_HEADER, "header ring_stride"},
	{"buf_shift 9", F(buf_shift), 9, RP_IPC_REJ_HEADER, "buffer size 2^9 not in 2^10..2^15"},
	{"buf_shift 31", F(buf_shift), 31, RP_IPC_REJ_HEADER, "buffer size 2^31"},
	{"n_bufs[0] 0", F1(n_bufs), 0, RP_IPC_REJ_HEADER, "n_bufs[to-switch] 0 not in 1..1048576"},
	{"n_bufs[0] huge", F1(n_bufs), 1u << 24, RP_IPC_REJ_HEADER, "n_bufs[to-switch] 16777216"},
	{"n_bufs[1] 0", offsetof(struct rp_ipc_hdr, n_bufs) + 4, 4, 0, RP_IPC_REJ_HEADER, "n_bufs[to-guest] 0"},
	{"n_bufs[1] grows", offsetof(struct rp_ipc_hdr, n_bufs) + 4, 4, 100000, RP_IPC_REJ_REGION_SIZE, "smaller than its layout"},
	{"reserved0", F(reserved0), 1, RP_IPC_REJ_HEADER, "reserved0 not zero"},
	{"reserved1[9]", offsetof(struct rp_ipc_hdr, reserved1) + 36, 4, 5, RP_IPC_REJ_HEADER, "reserved1[9] not zero"},
	{"rings_off", F(rings_off), 64, RP_IPC_REJ_HEADER, "header rings_off 64, expected 4096"},
	{"rings_off huge", F(rings_off), 1ull << 40, RP_IPC_REJ_HEADER, "header rings_off 1099511627776"},
	{"ring_stride", F(ring_stride), 64, RP_IPC_REJ_HEADER, "header ring_stride 64"},
	{"bufs_off[0]", F1(bufs_off), 0, RP_IPC_REJ_HEADER, "header bufs_off[RP_IPC_DIR_TO_SWITCH] 0"},
	{"bufs_off[1] overlaps", offsetof(struct rp_ipc_hdr, bufs_off) + 8, 8, 4096, RP_IPC_REJ_HEADER, "bufs_off[RP_IPC_DIR_TO_GUEST] 4096"},
	{"mtu 0", F(mtu), 0, RP_IPC_REJ_HEADER, "mtu 0 below the IPv4 minimum 68"},
};

/* Through the server's mapping: hugetlbfs files have no write(). */
static void
poke(struct rp_ipc_region *r, size_t off, size_t size, uint64_t val)
{
	/* Little-endian: the low bytes of val are the field. */
	memcpy(rp_ipc_region_base(r) + off, &val, size);
}

static void
test_header_corruption(void **state)
{
	struct rp_ipc_region *r = *state;
	int fd = rp_ipc_region_fd(r);
	struct rp_ipc_hdr orig;

	assert_int_equal(pread(fd, &orig, sizeof(orig), 0), (ssize_t)sizeof(orig));
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		enum rp_ipc_reject rej = RP_IPC_REJ_NONE;
		char why[WHY] = "";

		poke(r, c->off, c->size, c->val);
		struct rp_ipc_region *a = rp_ipc_region_attach(fd, &rej, why, sizeof(why));
		int err = errno;
		memcpy(rp_ipc_region_hdr(r), &orig, sizeof(orig));
		if (a != NULL || rej != c->want || strstr(why, c->why) == NULL) {
			print_error("case '%s': attach %s, got %s (\"%s\"), want %s (\"%s\")\n",
				c->desc, a ? "succeeded" : "refused", rp_ipc_reject_name(rej), why,
				rp_ipc_reject_name(c->want), c->why);
			rp_ipc_region_put(a);
			fail();
		}
		assert_int_equal(err, EPROTO);
	}
	/* Restored, it attaches again; a newer minor is accepted. */
	enum rp_ipc_reject rej;
	char why[WHY];
	poke(r, offsetof(struct rp_ipc_hdr, version), 2, 0x0107);
	struct rp_ipc_region *a = rp_ipc_region_attach(fd, &rej, why, sizeof(why));
	assert_non_null(a);
	assert_int_equal(rp_ipc_region_layout(a)->version, 0x0107);
	rp_ipc_region_put(a);
	poke(r, offsetof(struct rp_ipc_hdr, version), 2, RP_IPC_VERSION);
}

/* A region whose rings are not laid out as the header says is refused at
 * attach (the data path never reads this metadata again: rp_ipc_ring.h). */
static void
test_ring_corruption(void **state)
{
	struct rp_ipc_region *r = *state;
	struct rte_ring *ring = rp_ipc_region_ring(r, 1, RP_IPC_RING_TO_GUEST);
	enum rp_ipc_reject rej;
	char why[WHY];
	uint32_t saved;

	saved = ring->mask;
	ring->mask = 0xffffffff;
	assert_null(rp_ipc_region_attach(rp_ipc_region_fd(r), &rej, why, sizeof(why)));
	assert_int_equal(rej, RP_IPC_REJ_RING);
	assert_string_equal(why, "ring 2 of queue pair 1 is not an SP/SC rte_ring of 128 slots");
	ring->mask = saved;
	ring->prod.single = 0; /* MP: would make us wait on the peer's tail */
	assert_null(rp_ipc_region_attach(rp_ipc_region_fd(r), &rej, why, sizeof(why)));
	assert_int_equal(rej, RP_IPC_REJ_RING);
	ring->prod.single = 1;
	struct rp_ipc_region *a = rp_ipc_region_attach(rp_ipc_region_fd(r), &rej, why, sizeof(why));
	assert_non_null(a);
	rp_ipc_region_put(a);
}

static void
test_unsealed_and_not_a_file(void **state)
{
	struct rp_ipc_region *r = *state;
	enum rp_ipc_reject rej;
	struct rp_ipc_hdr h;
	char why[WHY];
	int fd, p[2];

	/* Same bytes, no seals: the peer could shrink it into SIGBUS. */
	fd = memfd_create("unsealed", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)rp_ipc_region_hdr(r)->region_size), 0);
	memcpy(&h, rp_ipc_region_hdr(r), sizeof(h));
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	assert_null(rp_ipc_region_attach(fd, &rej, why, sizeof(why)));
	assert_int_equal(rej, RP_IPC_REJ_REGION_SIZE);
	assert_string_equal(why, "region fd not sealed against shrinking (seals 0x1)");
	close(fd);

	assert_int_equal(pipe(p), 0);
	assert_null(rp_ipc_region_attach(p[0], &rej, why, sizeof(why)));
	assert_int_equal(rej, RP_IPC_REJ_FDS);
	assert_non_null(strstr(why, "is not a memory file"));
	close(p[0]);
	close(p[1]);
}

static void
test_params_refused(void **state)
{
	struct rp_ipc_region_params p = params;
	char why[WHY];

	(void)state;
	p.buf_size = 3000;
	assert_null(rp_ipc_region_create(&p, why, sizeof(why)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(why, "buffer size 3000 not a power of two");
	p = params;
	p.n_qpairs = 20;
	assert_null(rp_ipc_region_create(&p, why, sizeof(why)));
	assert_string_equal(why, "n_qpairs 20 not in 1..16");
	p = params;
	p.n_bufs[0] = RP_IPC_MAX_BUFS;
	p.n_bufs[1] = RP_IPC_MAX_BUFS;
	p.buf_size = 1 << 15;
	assert_null(rp_ipc_region_create(&p, why, sizeof(why)));
	assert_non_null(strstr(why, "exceeds the 4294967296-byte limit"));
}

/* ---- pools: every descriptor rule --------------------------------------- */
struct desc_case {
	const char *desc;
	struct rp_ipc_desc d; /* off relative to the named base */
	int base;             /* 0: TO_SWITCH pool, 1: TO_GUEST pool, 2: region start */
	enum rp_ipc_reject want;
};

static const struct desc_case borrow_cases[] = {
	{"whole buffer", {.off = 0, .len = 2048}, 0, RP_IPC_REJ_NONE},
	{"tail of last buffer", {.off = 255 * 2048 + 2047, .len = 1}, 0, RP_IPC_REJ_NONE},
	{"all known flags", {.off = 2048 * 3 + 64, .len = 60, .flags = RP_IPC_DESC_F_KNOWN}, 0, RP_IPC_REJ_NONE},
	{"reserved flag", {.off = 2048 * 4, .len = 60, .flags = 1u << 12}, 0, RP_IPC_REJ_DESC_FLAGS},
	{"zero length", {.off = 2048 * 5, .len = 0}, 0, RP_IPC_REJ_DESC_LEN},
	{"crosses buffer end", {.off = 2048 * 6 + 100, .len = 1949}, 0, RP_IPC_REJ_DESC_LEN},
	{"len 65535", {.off = 2048 * 7, .len = 65535}, 0, RP_IPC_REJ_DESC_LEN},
	{"other pool", {.off = 0, .len = 60}, 1, RP_IPC_REJ_DESC_FOREIGN},
	{"region header", {.off = 0, .len = 60}, 2, RP_IPC_REJ_DESC_RANGE},
	{"in a ring", {.off = 4096 + 500, .len = 60}, 2, RP_IPC_REJ_DESC_RANGE},
	{"just past pool", {.off = 256 * 2048, .len = 60}, 0, RP_IPC_REJ_DESC_FOREIGN},
	{"past region", {.off = 0xfffffff0, .len = 8}, 2, RP_IPC_REJ_DESC_RANGE},
};

static uint32_t
case_off(const struct rp_ipc_layout *l, const struct desc_case *c)
{
	return (uint32_t)(c->base == 2 ? 0 : l->bufs_off[c->base]) + c->d.off;
}

static void
test_pool_borrow(void **state)
{
	struct rp_ipc_region *r = *state;
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	struct rp_ipc_pool *b = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, false);

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(borrow_cases) / sizeof(borrow_cases[0]); i++) {
		const struct desc_case *c = &borrow_cases[i];
		struct rp_ipc_desc d = c->d;

		d.off = case_off(l, c);
		enum rp_ipc_reject got = rp_ipc_pool_borrow(b, &d);
		if (got != c->want) {
			print_error("case '%s' (off %u len %u flags 0x%x): got %s, want %s\n",
				c->desc, d.off, d.len, d.flags, rp_ipc_reject_name(got),
				rp_ipc_reject_name(c->want));
			fail();
		}
	}
	assert_int_equal(rp_ipc_pool_count(b), 3);
	/* The same buffer again, even at another offset, is a duplicate. */
	struct rp_ipc_desc d = {.off = (uint32_t)l->bufs_off[0] + 17, .len = 10};
	assert_int_equal(rp_ipc_pool_borrow(b, &d), RP_IPC_REJ_DESC_DUP);
	rp_ipc_pool_unborrow(b, d.off);
	assert_int_equal(rp_ipc_pool_borrow(b, &d), RP_IPC_REJ_NONE);
	assert_int_equal(rp_ipc_pool_reclaim(b), 3);
	assert_int_equal(rp_ipc_pool_count(b), 0);
	rp_ipc_pool_free(b);
}

static void
test_pool_return(void **state)
{
	struct rp_ipc_region *r = *state;
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	struct rp_ipc_pool *o = rp_ipc_pool_create(r, RP_IPC_DIR_TO_SWITCH, true);
	uint32_t offs[300];

	assert_non_null(o);
	assert_int_equal(rp_ipc_pool_size(o), 256);
	assert_int_equal(rp_ipc_pool_count(o), 256);
	assert_int_equal(rp_ipc_pool_alloc(o, offs, 300), 256);
	assert_int_equal(rp_ipc_pool_count(o), 0);
	for (int i = 0; i < 256; i++) {
		assert_true(offs[i] >= l->bufs_off[0]);
		assert_int_equal((offs[i] - l->bufs_off[0]) % 2048, 0);
	}
	rp_ipc_pool_put(o, offs + 10, 246); /* keep 10, lend 8 of them */
	for (int i = 0; i < 8; i++)
		rp_ipc_pool_lend(o, offs[i]);

	struct {
		const char *desc;
		struct rp_ipc_desc d;
		enum rp_ipc_reject want;
	} cases[] = {
		{"lent buffer", {.off = offs[0]}, RP_IPC_REJ_NONE},
		{"same again", {.off = offs[0]}, RP_IPC_REJ_DESC_DUP},
		{"allocated, never lent", {.off = offs[8]}, RP_IPC_REJ_DESC_DUP},
		{"inside a lent buffer", {.off = offs[1] + 64}, RP_IPC_REJ_DESC_ALIGN},
		{"length set", {.off = offs[1], .len = 60}, RP_IPC_REJ_DESC_FLAGS},
		{"hash set", {.off = offs[1], .hash = 1}, RP_IPC_REJ_DESC_FLAGS},
		{"to-guest pool", {.off = (uint32_t)l->bufs_off[1]}, RP_IPC_REJ_DESC_FOREIGN},
		{"header", {.off = 0}, RP_IPC_REJ_DESC_RANGE},
		{"beyond", {.off = 0x80000000u}, RP_IPC_REJ_DESC_RANGE},
		{"lent buffer 1", {.off = offs[1]}, RP_IPC_REJ_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum rp_ipc_reject got = rp_ipc_pool_return(o, &cases[i].d);
		if (got != cases[i].want) {
			print_error("case '%s' (off %u): got %s, want %s\n", cases[i].desc,
				cases[i].d.off, rp_ipc_reject_name(got),
				rp_ipc_reject_name(cases[i].want));
			fail();
		}
	}
	/* 246 put back + 2 returned; 6 still lent, 2 held locally (8, 9). */
	assert_int_equal(rp_ipc_pool_count(o), 248);
	assert_int_equal(rp_ipc_pool_reclaim(o), 6);
	rp_ipc_pool_put(o, offs + 8, 2);
	assert_int_equal(rp_ipc_pool_count(o), 256);
	rp_ipc_pool_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_attach, setup_region, teardown_region),
		cmocka_unit_test_setup_teardown(test_header_corruption, setup_region, teardown_region),
		cmocka_unit_test_setup_teardown(test_ring_corruption, setup_region, teardown_region),
		cmocka_unit_test_setup_teardown(test_unsealed_and_not_a_file, setup_region, teardown_region),
		cmocka_unit_test(test_params_refused),
		cmocka_unit_test_setup_teardown(test_pool_borrow, setup_region, teardown_region),
		cmocka_unit_test_setup_teardown(test_pool_return, setup_region, teardown_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
