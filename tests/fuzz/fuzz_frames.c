/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: frame assembly from a peer's descriptors, as the PMD's rx
 * does it (switch-port/rp_pmd_frames.h over rp_ipc's borrow checks), on a
 * real region. Each 16 input bytes are one descriptor as a peer would
 * publish it, except that bit 15 of the flags, when set, folds the offset
 * into the buffer area (so ownership, not only range, gets exercised).
 * Whatever comes in:
 *  - the descriptors taken make whole frames (the last one ends its frame);
 *  - every descriptor kept was borrowed once, lies inside the region, and
 *    every frame kept is whole;
 *  - after everything is given back the pool is whole again (nothing lost,
 *    nothing held twice). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ipc.h"
#include "rp_pmd_frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rp_ipc_region *region;
static struct rp_ipc_pool *pool;
static struct rp_ipc_layout lay;

static void
give_back(void *arg, uint32_t off)
{
	(void)arg;
	rp_ipc_pool_unborrow(pool, off);
}

static void
setup(void)
{
	static const struct rp_ipc_region_params p = {
		.n_qpairs = 1, .ring_size = 256, .buf_size = 1024,
		.n_bufs = {512, 512}, .mtu = 1500,
		.features = RP_IPC_F_OFFLOAD | RP_IPC_F_MULTISEG,
	};
	char why[160];

	region = rp_ipc_region_create(&p, why, sizeof(why));
	if (region == NULL)
		abort();
	lay = *rp_ipc_region_layout(region);
	pool = rp_ipc_pool_create(region, RP_IPC_DIR_TO_SWITCH, false);
	if (pool == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_ipc_desc d[RP_IPC_MAX_FRAME_DESCS];
	unsigned int k = 0, take, kept;
	struct rp_ipc_stats rej = {0};
	uint64_t invalid = 0;
	bool multi;

	if (region == NULL)
		setup();
	for (; k < RP_IPC_MAX_FRAME_DESCS && (k + 1) * sizeof(d[0]) <= size; k++) {
		memcpy(&d[k], data + k * sizeof(d[0]), sizeof(d[0]));
		if (d[k].flags & 0x8000u) {
			uint64_t area = (uint64_t)lay.n_bufs[RP_IPC_DIR_TO_SWITCH] << lay.buf_shift;

			d[k].off = (uint32_t)(lay.bufs_off[RP_IPC_DIR_TO_SWITCH] + d[k].off % area);
			d[k].flags &= 0x7fffu;
		}
	}
	take = rp_frames_whole(d, k, 1 + (size ? data[0] % 32 : 0), &multi);
	assert(take <= k);
	assert(take == 0 || !(d[take - 1].flags & RP_IPC_DESC_F_MORE));
	if (multi)
		kept = rp_frames_borrow(pool, d, take, &rej, &invalid, give_back, NULL);
	else
		kept = rp_ipc_pool_borrow_burst(pool, d, take, &rej);
	assert(kept <= take);
	assert(kept == 0 || !(d[kept - 1].flags & RP_IPC_DESC_F_MORE));
	for (unsigned int i = 0; i < kept; i++) {
		assert(d[i].len >= 1);
		assert((uint64_t)d[i].off + d[i].len <= lay.size);
		rp_ipc_pool_unborrow(pool, d[i].off);
	}
	/* Nothing held: every borrowed buffer went back exactly once. */
	assert(rp_ipc_pool_count(pool) == 0);
	return 0;
}
