/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hostile-safe ring accessor (ipc/include/rp_ipc_ring.h). The ring is
 * laid out by rte_ring_init() so that its last slot ends at a PROT_NONE
 * page: any access past the slots faults, whatever the peer wrote (and the
 * ASan build checks the rest). Cases:
 *  - FIFO order and wrap-around over many laps, with the peer side driven
 *    by rte_ring's own SP/SC functions (the ABI stays rte_ring's);
 *  - every header field the accessor must not trust rewritten before each
 *    operation: the traffic is unchanged;
 *  - a peer index more than the capacity away: -EPROTO, on both sides;
 *  - two threads moving 2 M descriptors while a third scribbles over the
 *    header: all arrive, in order.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rp_ipc.h"

#define SLOTS 256

struct guarded {
	uint8_t *map;
	size_t map_len;
	struct rte_ring *ring;
};

static void
guarded_ring(struct guarded *g, uint32_t slots)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	ssize_t sz = rte_ring_get_memsize_elem(RP_IPC_DESC_SIZE, slots);
	size_t body;

	assert_true(sz > 0);
	body = RTE_ALIGN_CEIL((size_t)sz, page);
	g->map_len = body + page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + body, page, PROT_NONE), 0);
	/* The last slot ends where the guard page begins. */
	g->ring = (struct rte_ring *)(void *)(g->map + body - (size_t)sz);
	assert_int_equal(rte_ring_init(g->ring, "guarded", slots, RING_F_SP_ENQ | RING_F_SC_DEQ), 0);
	assert_ptr_equal((uint8_t *)&g->ring[1] + (size_t)slots * RP_IPC_DESC_SIZE, g->map + body);
}

static void
guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

static struct rp_ipc_desc
desc_n(uint32_t n)
{
	return (struct rp_ipc_desc){.off = n, .len = (uint16_t)(n * 7), .hash = ~n};
}

static void
assert_desc_n(const struct rp_ipc_desc *d, uint32_t n)
{
	if (d->off != n || d->len != (uint16_t)(n * 7) || d->hash != ~n)
		fail_msg("descriptor %u arrived as off %u len %u hash 0x%x", n, d->off, d->len,
			d->hash);
}

/* Everything the accessor must never read from the region. */
static void
scribble(struct rte_ring *r, uint64_t *x)
{
	uint32_t v[8];

	for (unsigned int i = 0; i < 8; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		v[i] = (uint32_t)*x;
	}
	__atomic_store_n(&r->size, v[0], __ATOMIC_RELAXED);
	__atomic_store_n(&r->mask, v[1] | 0x80000000u, __ATOMIC_RELAXED);
	__atomic_store_n(&r->capacity, v[2], __ATOMIC_RELAXED);
	__atomic_store_n(&r->flags, (int)v[3], __ATOMIC_RELAXED);
	__atomic_store_n(&r->prod.single, v[4] % 5, __ATOMIC_RELAXED); /* MT, HTS, RTS... */
	__atomic_store_n(&r->cons.single, v[5] % 5, __ATOMIC_RELAXED);
	__atomic_store_n(&r->prod.head, v[6], __ATOMIC_RELAXED);
	__atomic_store_n(&r->cons.head, v[7], __ATOMIC_RELAXED);
}

/* Our producer against rte_ring's consumer, then rte_ring's producer
 * against our consumer: laps of odd-sized bursts, order kept. */
static void
test_fifo_against_rte_ring(void **state)
{
	struct rp_ipc_desc d[64], got[64];
	struct rp_ipc_ring prod, cons;
	struct guarded g;
	uint32_t next = 0, want = 0;

	(void)state;
	guarded_ring(&g, SLOTS);
	rp_ipc_ring_view(&prod, g.ring, SLOTS, true);
	assert_int_equal(rp_ipc_ring_avail(&prod), SLOTS - 1);
	while (next < SLOTS * 20) {
		unsigned int n = 1 + next % 37, k;

		for (unsigned int i = 0; i < n; i++)
			d[i] = desc_n(next + i);
		k = rp_ipc_ring_avail(&prod) < 0 ? 0 : rp_ipc_ring_put(&prod, d, n);
		next += k;
		k = rte_ring_sc_dequeue_burst_elem(g.ring, got, sizeof(got[0]), 1 + next % 23, NULL);
		for (unsigned int i = 0; i < k; i++)
			assert_desc_n(&got[i], want++);
	}
	/* Room never exceeds the capacity, even with the ring empty. */
	while (rte_ring_sc_dequeue_burst_elem(g.ring, got, sizeof(got[0]), 64, NULL) > 0)
		;
	assert_int_equal(rp_ipc_ring_avail(&prod), SLOTS - 1);

	/* The other way: the ring's indices are where rte_ring left them. */
	rp_ipc_ring_view(&cons, g.ring, SLOTS, false);
	cons.idx = g.ring->cons.tail; /* a view made mid-life, for this test */
	want = next;
	for (uint32_t sent = 0; sent < SLOTS * 20;) {
		unsigned int n = 1 + sent % 29, k;
		int got_n;

		for (unsigned int i = 0; i < n; i++)
			d[i] = desc_n(next + i);
		k = rte_ring_sp_enqueue_burst_elem(g.ring, d, sizeof(d[0]), n, NULL);
		next += k;
		sent += k;
		got_n = rp_ipc_ring_get(&cons, got, 1 + sent % 31);
		assert_true(got_n >= 0);
		for (int i = 0; i < got_n; i++)
			assert_desc_n(&got[i], want++);
	}
	guarded_free(&g);
}

/* Size, mask, capacity, flags, sync types and heads rewritten before every
 * call: nothing changes, nothing is touched outside the slots. */
static void
test_header_scribbles_ignored(void **state)
{
	struct rp_ipc_desc d[64], got[64];
	struct rp_ipc_ring prod, cons;
	uint64_t x = 0x243f6a8885a308d3ull;
	uint32_t next = 0, want = 0;
	struct guarded g;

	(void)state;
	guarded_ring(&g, SLOTS);
	rp_ipc_ring_view(&prod, g.ring, SLOTS, true);
	rp_ipc_ring_view(&cons, g.ring, SLOTS, false);
	while (want < SLOTS * 50) {
		unsigned int n = 1 + next % 61;
		int k;

		for (unsigned int i = 0; i < (unsigned int)n; i++)
			d[i] = desc_n(next + i);
		scribble(g.ring, &x);
		k = rp_ipc_ring_avail(&prod);
		assert_true(k >= 0);
		scribble(g.ring, &x);
		next += rp_ipc_ring_put(&prod, d, n);
		scribble(g.ring, &x);
		k = rp_ipc_ring_avail(&cons);
		assert_true(k >= 0);
		scribble(g.ring, &x);
		k = (int)rp_ipc_ring_peek(&cons, got, 1 + want % 53);
		scribble(g.ring, &x);
		rp_ipc_ring_consume(&cons, (unsigned int)k);
		for (int i = 0; i < k; i++)
			assert_desc_n(&got[i], want++);
	}
	guarded_free(&g);
}

/* A peer index more than the capacity away: refused on each side; exactly
 * the capacity is a full (or empty-for-the-producer) ring, not an error. */
static void
test_impossible_index(void **state)
{
	static const struct {
		const char *desc;
		bool producer;
		uint32_t peer_delta; /* peer tail = our index + this */
		int want;
	} cases[] = {
		{"consumer: ring full", false, SLOTS - 1, SLOTS - 1},
		{"consumer: one past full", false, SLOTS, -EPROTO},
		{"consumer: half the index space", false, UINT32_C(1) << 31, -EPROTO},
		{"consumer: behind us", false, UINT32_MAX, -EPROTO},
		{"producer: all read", true, 0, SLOTS - 1},
		{"producer: peer one behind a full ring", true, (uint32_t)-(SLOTS - 1), 0},
		{"producer: peer read what we never wrote", true, 1, -EPROTO},
		{"producer: peer a whole ring behind", true, (uint32_t)-SLOTS, -EPROTO},
	};
	struct rp_ipc_desc d[4] = {{0}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_ipc_ring q;
		struct guarded g;
		int got;

		guarded_ring(&g, SLOTS);
		rp_ipc_ring_view(&q, g.ring, SLOTS, cases[i].producer);
		q.idx = 1000; /* anywhere; the check is on distance */
		*(uint32_t *)(uintptr_t)q.peer_tail = 1000 + cases[i].peer_delta;
		got = rp_ipc_ring_avail(&q);
		if (got != cases[i].want)
			fail_msg("%s: avail %d, want %d", cases[i].desc, got, cases[i].want);
		if (got < 0) {
			/* Refused: nothing may move. */
			assert_int_equal(q.avail, 0);
			assert_int_equal(rp_ipc_ring_put(&q, d, 4), 0);
			assert_int_equal(rp_ipc_ring_peek(&q, d, 4), 0);
			assert_int_equal(q.idx, 1000);
		}
		guarded_free(&g);
	}
}

/* Two threads move descriptors through a ring whose header a third one
 * keeps scribbling over. */
struct race {
	struct guarded g;
	uint32_t total;
	volatile bool stop;
	uint64_t scribbles;
	uint32_t bad;
};

static void *
race_producer(void *a)
{
	struct race *r = a;
	struct rp_ipc_ring q;
	struct rp_ipc_desc d[32];
	uint32_t next = 0;

	rp_ipc_ring_view(&q, r->g.ring, SLOTS, true);
	while (next < r->total) {
		unsigned int n = RTE_MIN(32u, r->total - next);

		if (rp_ipc_ring_avail(&q) < 0) {
			__atomic_fetch_add(&r->bad, 1, __ATOMIC_RELAXED);
			break;
		}
		for (unsigned int i = 0; i < n; i++)
			d[i] = desc_n(next + i);
		next += rp_ipc_ring_put(&q, d, n);
	}
	return NULL;
}

static void *
race_scribbler(void *a)
{
	struct race *r = a;
	uint64_t x = 0x13198a2e03707344ull;

	while (!r->stop) {
		scribble(r->g.ring, &x);
		r->scribbles++;
	}
	return NULL;
}

static void
test_concurrent_scribbler(void **state)
{
	struct race r = {.total = 2000000};
	struct rp_ipc_desc got[32];
	struct rp_ipc_ring cons;
	pthread_t tp, ts;
	uint32_t want = 0;

	(void)state;
	guarded_ring(&r.g, SLOTS);
	rp_ipc_ring_view(&cons, r.g.ring, SLOTS, false);
	assert_int_equal(pthread_create(&ts, NULL, race_scribbler, &r), 0);
	assert_int_equal(pthread_create(&tp, NULL, race_producer, &r), 0);
	while (want < r.total && __atomic_load_n(&r.bad, __ATOMIC_RELAXED) == 0) {
		int k = rp_ipc_ring_get(&cons, got, 32);

		if (k < 0)
			fail_msg("consumer saw an impossible index after %u descriptors", want);
		for (int i = 0; i < k; i++)
			assert_desc_n(&got[i], want++);
	}
	r.stop = true;
	pthread_join(tp, NULL);
	pthread_join(ts, NULL);
	assert_int_equal(r.bad, 0);
	assert_int_equal(want, r.total);
	assert_true(r.scribbles > 0);
	guarded_free(&r.g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_against_rte_ring),
		cmocka_unit_test(test_header_scribbles_ignored),
		cmocka_unit_test(test_impossible_index),
		cmocka_unit_test(test_concurrent_scribbler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
