/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.h: private to the data path's files. worker.c runs the loop
 * (polling, staging, naps and sleeps), worker_ts.c moves packets to the
 * switch, worker_tg.c to the guest. Everything here runs on one worker
 * and touches only what that worker owns (iothread.h); per-packet helpers
 * are inline, the direction files' entry points are called once per queue
 * and loop iteration.
 */
#ifndef RP_IT_WORKER_H
#define RP_IT_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "iothread.h"

static inline uint32_t
buf_off(const struct rp_it_sess *s, const struct rte_mbuf *m)
{
	return (uint32_t)((uint8_t *)m->buf_addr - s->base);
}

/* Views go back to their pool a burst at a time: one cache operation,
 * not one per packet. */
static inline void
view_flush(struct rp_it_worker *w)
{
	if (w->n_vfree == 0)
		return;
	rte_mempool_put_bulk(w->view_mp, (void **)w->vfree, w->n_vfree);
	w->n_vfree = 0;
}

static inline void
view_put(struct rp_it_worker *w, struct rte_mbuf *m)
{
	m->next = NULL;
	w->vfree[w->n_vfree++] = m;
	if (unlikely(w->n_vfree == RTE_DIM(w->vfree)))
		view_flush(w);
}

static inline void
view_put_chain(struct rp_it_worker *w, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		view_put(w, m);
		m = next;
	}
}

/* The switch broke one of our shared rings: the control thread ends the
 * session (counted as ring_corrupt). */
static inline void
sess_corrupt(struct rp_it_worker *w, struct rp_it_sess *s)
{
	w->st.rejects[RP_IPC_REJ_RING]++;
	__atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
}

/* Queue @q (of @n) that a program chose, kept on this worker unless the
 * operator allowed --shared-queues: a queue another worker owns is folded
 * onto this worker's own as the default program folds (rp_rss_fold() in
 * rp_rss_core.h), counted, so no program hands packets between workers or
 * writes another worker's virtqueue by accident. The default program never
 * needs folding. */
static inline unsigned int
keep_local(struct rp_it_worker *w, unsigned int q, unsigned int n)
{
	const struct rp_iothread *it = w->it;
	unsigned int nw = it->n_workers;

	/* One bit test per packet; the division only when folding. */
	if (likely(((w->owned_q >> q) & 1) || nw == 1 || it->o.shared_queues || w->id >= n))
		return q;
	RP_IT_STAT_ADD(w->steer_folded, 1);
	return (unsigned int)rp_rss_fold(q, w->id, nw, n);
}

/* To the switch (worker_ts.c). */
void ts_flush(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q);
void ts_reap(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q);
void ts_handoff(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q);
unsigned int ts_poll_guest(struct rp_it_worker *w, struct rp_it_sess *s, int vid,
	unsigned int g);

/* To the guest (worker_tg.c). */
unsigned int tg_poll_ring(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q,
	bool dev_ok);
void tg_flush(struct rp_it_worker *w, struct rp_it_sess *s, int vid, unsigned int g,
	bool dev_ok);
void ret_flush(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q);

#endif /* RP_IT_WORKER_H */
