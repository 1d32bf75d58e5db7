/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_pmd_frames.h: frames out of the descriptors a peer published, on the
 * PMD's rx path: how many peeked descriptors make whole frames, and the
 * ownership checks frame by frame. Everything here is peer input; no EAL
 * needed (tests/fuzz/fuzz_frames.c runs it alone).
 */
#ifndef RP_PMD_FRAMES_H
#define RP_PMD_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rp_ipc.h"

/* How many of the @k peeked descriptors make up at most @n whole frames;
 * @multi: whether any of those frames spans buffers. */
static inline unsigned int
rp_frames_whole(const struct rp_ipc_desc *d, unsigned int k, unsigned int n, bool *multi)
{
	unsigned int take = 0, frames = 0;

	*multi = false;
	for (unsigned int i = 0; i < k && frames < n; i++) {
		if (d[i].flags & RP_IPC_DESC_F_MORE) {
			*multi = true;
		} else {
			take = i + 1;
			frames++;
		}
	}
	return take;
}

/* Ownership checks frame by frame over the @n descriptors at @d (whole
 * frames): a frame that loses any segment to a rejection is dropped whole,
 * its accepted segments handed to @give_back, so a bad descriptor never
 * splices one frame onto the next. Each rejected descriptor counts in
 * *@invalid, and by reason in @rej (the accepted segments of a dropped
 * frame are handed back, not counted). Returns how many descriptors, whole
 * frames only, are left at the front of @d, in order. */
static inline unsigned int
rp_frames_borrow(struct rp_ipc_pool *pool, struct rp_ipc_desc *d, unsigned int n,
	struct rp_ipc_stats *rej, uint64_t *invalid, void (*give_back)(void *arg, uint32_t off),
	void *arg)
{
	unsigned int out = 0;

	for (unsigned int i = 0, j; i < n; i = j + 1) {
		unsigned int segs, ok;

		for (j = i; j < n - 1 && (d[j].flags & RP_IPC_DESC_F_MORE); j++)
			;
		segs = j - i + 1;
		memmove(&d[out], &d[i], segs * sizeof(d[0]));
		ok = rp_ipc_pool_borrow_burst(pool, &d[out], segs, rej);
		if (__builtin_expect(ok == segs, 1)) {
			out += segs;
			continue;
		}
		*invalid += segs - ok;
		for (unsigned int x = 0; x < ok; x++)
			give_back(arg, d[out + x].off);
	}
	return out;
}

#endif /* RP_PMD_FRAMES_H */
