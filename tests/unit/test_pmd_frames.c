/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PMD's frame assembly (switch-port/rp_pmd_frames.h) on a real region,
 * without EAL: which peeked descriptors make whole frames, and how a frame
 * that loses a segment to the ownership checks is dropped whole while the
 * frames around it are kept, in order. The fuzz harness checks the
 * invariants on random input; these are the cases, by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rp_ipc.h"
#include "rp_pmd_frames.h"

#define MORE RP_IPC_DESC_F_MORE

struct bed {
	struct rp_ipc_region *r;
	struct rp_ipc_pool *pool; /* the TO_SWITCH pool, as the PMD borrows it */
	struct rp_ipc_layout lay;
	uint32_t given_back[16];
	unsigned int n_given_back;
};

static int
setup(void **state)
{
	static const struct rp_ipc_region_params p = {
		.n_qpairs = 1, .ring_size = 256, .buf_size = 1024,
		.n_bufs = {64, 64}, .mtu = 1500,
		.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG,
	};
	static struct bed b;
	char why[160];

	memset(&b, 0, sizeof(b));
	b.r = rp_ipc_region_create(&p, why, sizeof(why));
	if (b.r == NULL)
		return -1;
	b.lay = *rp_ipc_region_layout(b.r);
	b.pool = rp_ipc_pool_create(b.r, RP_IPC_DIR_TO_SWITCH, false);
	*state = &b;
	return b.pool == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct bed *b = *state;

	rp_ipc_pool_free(b->pool);
	rp_ipc_region_put(b->r);
	return 0;
}

/* Buffer @i of the TO_SWITCH pool, @len bytes, @flags. */
static struct rp_ipc_desc
buf(const struct bed *b, unsigned int i, uint16_t len, uint16_t flags)
{
	return (struct rp_ipc_desc){
		.off = (uint32_t)(b->lay.bufs_off[RP_IPC_DIR_TO_SWITCH] + ((uint64_t)i << b->lay.buf_shift)),
		.len = len, .flags = flags};
}

static void
give_back(void *arg, uint32_t off)
{
	struct bed *b = arg;

	assert_true(b->n_given_back < 16);
	b->given_back[b->n_given_back++] = off;
	rp_ipc_pool_unborrow(b->pool, off);
}

static void
test_whole_frames(void **state)
{
	struct bed *b = *state;
	struct rp_ipc_desc d[6] = {
		buf(b, 0, 60, 0),                              /* frame 1 */
		buf(b, 1, 1024, MORE), buf(b, 2, 100, 0),      /* frame 2: two segments */
		buf(b, 3, 60, 0),                              /* frame 3 */
		buf(b, 4, 1024, MORE), buf(b, 5, 1024, MORE),  /* frame 4: its end not yet published */
	};
	bool multi;

	/* Up to 32 frames: the first three, not the unfinished fourth. */
	assert_int_equal(rp_frames_whole(d, 6, 32, &multi), 4);
	assert_true(multi);
	/* One frame: only the first, and it spans nothing. */
	assert_int_equal(rp_frames_whole(d, 6, 1, &multi), 1);
	assert_false(multi);
	/* Two frames: the second is the multi-segment one. */
	assert_int_equal(rp_frames_whole(d, 6, 2, &multi), 3);
	assert_true(multi);
	/* Nothing but an unfinished frame: nothing to take. */
	assert_int_equal(rp_frames_whole(&d[4], 2, 32, &multi), 0);
	assert_int_equal(rp_frames_whole(d, 0, 32, &multi), 0);
}

static void
test_bad_segment_drops_its_frame_only(void **state)
{
	struct bed *b = *state;
	struct rp_ipc_desc d[6] = {
		buf(b, 0, 60, 0),                              /* frame 1: kept */
		buf(b, 1, 1024, MORE), buf(b, 2, 100, 0),      /* frame 2: kept */
		buf(b, 3, 1024, MORE), buf(b, 3, 100, 0),      /* frame 3: buffer 3 twice */
		buf(b, 4, 60, 0),                              /* frame 4: kept */
	};
	struct rp_ipc_stats rej = {0};
	uint64_t invalid = 0;
	unsigned int kept;

	b->n_given_back = 0;
	kept = rp_frames_borrow(b->pool, d, 6, &rej, &invalid, give_back, b);
	/* Frames 1, 2 and 4, in order, with frame 4 moved up behind frame 2. */
	assert_int_equal(kept, 4);
	assert_int_equal(d[0].off, buf(b, 0, 0, 0).off);
	assert_int_equal(d[1].off, buf(b, 1, 0, 0).off);
	assert_true(d[1].flags & MORE);
	assert_int_equal(d[2].off, buf(b, 2, 0, 0).off);
	assert_false(d[2].flags & MORE);
	assert_int_equal(d[3].off, buf(b, 4, 0, 0).off);
	/* The duplicate is rejected and counted; frame 3's good segment went
	 * straight back, so it does not stay held. */
	assert_int_equal(rej.rejects[RP_IPC_REJ_DESC_DUP], 1);
	assert_int_equal(invalid, 1);
	assert_int_equal(b->n_given_back, 1);
	assert_int_equal(b->given_back[0], buf(b, 3, 0, 0).off);
	assert_int_equal(rp_ipc_pool_count(b->pool), 4);
	for (unsigned int i = 0; i < kept; i++)
		rp_ipc_pool_unborrow(b->pool, d[i].off);
	assert_int_equal(rp_ipc_pool_count(b->pool), 0);
}

static void
test_bad_first_and_last(void **state)
{
	struct bed *b = *state;
	uint32_t outside = (uint32_t)b->lay.size; /* past the region's end */
	struct rp_ipc_desc d[5] = {
		{.off = outside, .len = 60, .flags = MORE}, buf(b, 7, 60, 0), /* frame 1: bad head */
		buf(b, 8, 60, 0),                                           /* frame 2: kept */
		buf(b, 9, 1024, MORE), buf(b, 10, 2000, 0),                 /* frame 3: length past the buffer */
	};
	struct rp_ipc_stats rej = {0};
	uint64_t invalid = 0;
	unsigned int kept;

	b->n_given_back = 0;
	kept = rp_frames_borrow(b->pool, d, 5, &rej, &invalid, give_back, b);
	assert_int_equal(kept, 1);
	assert_int_equal(d[0].off, buf(b, 8, 0, 0).off);
	assert_int_equal(invalid, 2);
	assert_int_equal(rej.rejects[RP_IPC_REJ_DESC_RANGE], 1);
	assert_int_equal(rej.rejects[RP_IPC_REJ_DESC_LEN], 1);
	/* The good segments of frames 1 and 3 went back. */
	assert_int_equal(b->n_given_back, 2);
	assert_int_equal(b->given_back[0], buf(b, 7, 0, 0).off);
	assert_int_equal(b->given_back[1], buf(b, 9, 0, 0).off);
	rp_ipc_pool_unborrow(b->pool, d[0].off);
	assert_int_equal(rp_ipc_pool_count(b->pool), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_frames),
		cmocka_unit_test(test_bad_segment_drops_its_frame_only),
		cmocka_unit_test(test_bad_first_and_last),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
