/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iothread's locality fold (dp-iothread/worker.h keep_local(), with
 * rp_rss_fold() from the default program), without EAL: a steering
 * program's queue choice stays on the worker that has the packet, and the
 * queues it folds onto are spread, not piled on one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker.h"

struct bed {
	struct rp_iothread it;
	struct rp_it_worker *w;
};

/* @nw workers over @n queue pairs, as rp_it_workers_init() sets them up. */
static void
bed_init(struct bed *b, unsigned int nw, unsigned int n, bool shared)
{
	memset(&b->it, 0, sizeof(b->it));
	b->it.n_workers = nw;
	b->it.o.shared_queues = shared;
	b->w = aligned_alloc(RTE_CACHE_LINE_SIZE, nw * sizeof(*b->w));
	assert_non_null(b->w);
	memset(b->w, 0, nw * sizeof(*b->w));
	for (unsigned int i = 0; i < nw; i++) {
		b->w[i].id = i;
		b->w[i].it = &b->it;
		for (unsigned int q = 0; q < n; q++)
			if (q % nw == i)
				b->w[i].owned_q |= 1u << q;
	}
}

/* Every choice lands on a queue of the worker's own, below n; its own
 * queues are kept as they are and not counted; the rest are counted. */
static void
test_stays_local(void **state)
{
	(void)state;
	for (unsigned int nw = 2; nw <= 4; nw++) {
		for (unsigned int n = 1; n <= 8; n++) {
			struct bed b;

			bed_init(&b, nw, n, false);
			for (unsigned int i = 0; i < nw && i < n; i++) {
				struct rp_it_worker *w = &b.w[i];
				uint64_t folds = 0;

				for (unsigned int q = 0; q < n; q++) {
					unsigned int r = keep_local(w, q, n);

					assert_true(r < n);
					assert_int_equal(r % nw, i);
					if (q % nw == i)
						assert_int_equal(r, q);
					else
						folds++;
					/* a flow keeps its queue */
					assert_int_equal(keep_local(w, q, n), r);
				}
				assert_int_equal(w->steer_folded, 2 * folds);
			}
			free(b.w);
		}
	}
}

/* --shared-queues, one worker, or a worker that owns no queue (the
 * guest enabled fewer): the program's choice stands, uncounted. */
static void
test_unchanged(void **state)
{
	struct bed b;

	(void)state;
	bed_init(&b, 2, 4, true);
	for (unsigned int q = 0; q < 4; q++)
		assert_int_equal(keep_local(&b.w[0], q, 4), q);
	free(b.w);
	bed_init(&b, 1, 4, false);
	for (unsigned int q = 0; q < 4; q++)
		assert_int_equal(keep_local(&b.w[0], q, 4), q);
	free(b.w);
	bed_init(&b, 4, 2, false);
	assert_int_equal(keep_local(&b.w[3], 1, 2), 1);
	assert_int_equal(b.w[3].steer_folded, 0);
	free(b.w);
}

/* The other worker's queues spread over this worker's: with 2 workers
 * and 4 queues, worker 0 gets 1 and 3 onto 0 and 2, not both onto one
 * (the fold "worker + n_workers * (q % owned)" put them on 2 only). */
static void
test_spreads(void **state)
{
	struct bed b;
	uint32_t seen = 0;

	(void)state;
	bed_init(&b, 2, 4, false);
	seen |= 1u << keep_local(&b.w[0], 1, 4);
	seen |= 1u << keep_local(&b.w[0], 3, 4);
	assert_int_equal(seen, 0x5);
	free(b.w);
	/* 2 workers, 8 queues: worker 1's four foreign choices cover its four */
	bed_init(&b, 2, 8, false);
	seen = 0;
	for (unsigned int q = 0; q < 8; q += 2)
		seen |= 1u << keep_local(&b.w[1], q, 8);
	assert_int_equal(seen, 0xaa);
	free(b.w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stays_local),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_spreads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
