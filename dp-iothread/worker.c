/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path: pinned workers moving packets between the guest's
 * virtqueues and the port's region. See iothread.h for who owns what.
 *
 * To the switch: rte_vhost_dequeue_burst() copies guest packets straight
 * into region buffers (the session's mempool lives there), steering picks
 * a ring and a hash, and the buffers are lent on the ring; they come back
 * on the free ring and go back to the mempool. One copy, done by rte_vhost.
 *
 * To the guest: descriptors the switch lent are checked (range, length,
 * flags, not already held), wrapped in private "view" mbufs that point at
 * the region buffers, steered to a guest queue and copied into the guest by
 * rte_vhost_enqueue_burst(), which never keeps the mbufs; then the buffers
 * go back on the free ring.
 *
 * The two directions are worker_ts.c and worker_tg.c; this file is the
 * loop that runs them, and the naps and sleeps between.
 *
 * Nothing is dropped for lack of room: a full ring or a full guest queue
 * leaves packets staged, and a worker with staged packets stops taking
 * more from their source, so the pressure reaches the sender.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "worker.h"

/* True while the worker holds anything of its session: it must not go
 * offline (nap) then, or the session could be retired under it. */
static bool
worker_holds(const struct rp_it_worker *w)
{
	for (unsigned int q = 0; q < RP_IT_MAX_QP; q++)
		if (w->ts[q].n || w->tg[q].n || w->frag[q].head || w->n_ret[q] ||
			w->outstanding[q])
			return true;
	return false;
}

/* The session we staged for is gone: drop everything of it without
 * touching its region (the control thread reclaims the buffers). */
static void
drop_session_state(struct rp_it_worker *w)
{
	for (unsigned int q = 0; q < RP_IT_MAX_QP; q++) {
		rte_pktmbuf_free_bulk(w->ts[q].m, w->ts[q].n);
		w->ts[q].n = 0;
		for (unsigned int i = 0; i < w->tg[q].n; i++)
			view_put_chain(w, w->tg[q].m[i]);
		w->tg[q].n = 0;
		view_put_chain(w, w->frag[q].head);
		memset(&w->frag[q], 0, sizeof(w->frag[q]));
		w->outstanding[q] = 0;
		w->n_ret[q] = 0;
	}
	w->tg_staged = 0;
	view_flush(w);
}

/* ---- the loop ---------------------------------------------------------- */

/* A stage's busy time, as pmd-perf-show counts it, with one difference:
 * an iteration is busy for a stage if it took packets or moved on any the
 * stage held (flushed staged packets, reaped or returned buffers), so that
 * the work a burst causes is counted even when it is done in a later
 * iteration than the one that took the burst (a full ring, a full guest
 * queue, buffers that come back later). Packets are those taken.
 * Iterations with a full burst are also kept apart, to compare like with
 * like with a PMD that always has a full burst, and so are interrupted
 * ones: the cycles the worker's CPU was taken from it are not the stage's
 * cost, and a stage that finds work after an interruption often found it
 * because the other side ran meanwhile. */
static inline void
stage_done(struct rp_it_worker *w, enum rp_ipc_dir d, unsigned int n, bool moved,
	uint64_t cycles)
{
	if (n == 0 && !moved)
		return;
	RP_IT_STAT_ADD(w->busy_cycles[d], cycles);
	RP_IT_STAT_ADD(w->stage_pkts[d], n);
	RP_IT_STAT_ADD(w->busy_iters[d], 1);
	if (n >= RP_IT_BURST) {
		RP_IT_STAT_ADD(w->full_cycles[d], cycles);
		RP_IT_STAT_ADD(w->full_pkts[d], n);
	}
	if (unlikely(cycles > w->it->intr_tsc)) {
		RP_IT_STAT_ADD(w->intr_cycles[d], cycles);
		RP_IT_STAT_ADD(w->intr_pkts[d], n);
		RP_IT_STAT_ADD(w->intr_iters[d], 1);
	}
}

static void
nap(struct rp_it_worker *w)
{
	struct timespec ts = {.tv_nsec = (long)w->nap_us * 1000};

	/* Offline while asleep: we hold nothing of a session. */
	w->cur = NULL;
	rte_rcu_qsbr_thread_offline(w->it->qsbr, w->id);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(w->it->qsbr, w->id);
	w->nap_us = RTE_MIN(w->nap_us * 2, (unsigned int)RP_IT_NAP_MAX_US);
	RP_IT_STAT_ADD(w->naps, 1);
}

static void
stall_nap(struct rp_it_worker *w)
{
	struct timespec ts = {.tv_nsec = (long)w->nap_us * 1000};

	nanosleep(&ts, NULL);
	w->nap_us = RTE_MIN(w->nap_us * 2, (unsigned int)RP_IT_NAP_MAX_US);
	RP_IT_STAT_ADD(w->stall_naps, 1);
}

/* Owned guest TX queues: guest notifications (kicks) on or off; false
 * if some queue could not take it (its rings are not mapped now: a vIOMMU
 * invalidated them, and the next burst maps them again). */
static bool
guest_kicks(struct rp_it_worker *w, int vid, uint32_t vrings, int on)
{
	bool all = true;

	for (unsigned int g = w->id; g < RP_IT_MAX_QP; g += w->it->n_workers)
		if ((vrings & (1u << (2 * g + 1))) &&
			rp_it_vhost_notify(vid, (uint16_t)(2 * g + 1), on) != 0)
			all = false;
	return all;
}

/*
 * Adaptive polling, idle and holding nothing: sleep until the guest kicks
 * one of our TX queues or the switch writes one of our rings' wake-up
 * eventfds, at most RP_IT_SLEEP_MS (a new session or device is noticed
 * then). Ask first, then look again: the guest and the switch each put
 * work in place before they look at our flag, so one side sees the other.
 * Without wake-ups from the switch (a peer that did not ask for them),
 * nap with a backoff instead.
 */
static void
sleep_idle(struct rp_it_worker *w, struct rp_it_sess *s, bool dev_ok, int vid, uint32_t vrings)
{
	struct rp_iothread *it = w->it;
	struct pollfd pfd[2 * RP_IT_MAX_QP];
	unsigned int n = 0, n_wake, nw = it->n_workers;
	uint64_t s_id = s != NULL ? s->id : 0;
	uint64_t gen = rp_it_dev_gen(it);
	struct rp_it_sess *now;
	bool work = false, s_live, dev_live;
	uint32_t mine = 0;
	int timeout = RP_IT_SLEEP_MS;

	if (s != NULL && !s->wake_ok) {
		nap(w);
		return;
	}
	if (s != NULL)
		for (unsigned int q = w->id; q < s->n_qpairs; q += nw) {
			mine |= 1u << q;
			pfd[n++] = (struct pollfd){.fd = s->wake[q], .events = POLLIN};
		}
	n_wake = n;
	if (mine)
		__atomic_fetch_or(s->wake_word, mine, __ATOMIC_SEQ_CST);
	if (dev_ok) {
		/* A queue that cannot be asked to kick is not waited for:
		 * look again soon (the rings come back with the next burst). */
		if (!guest_kicks(w, vid, vrings, 1))
			timeout = 1;
		for (unsigned int g = w->id; g < RP_IT_MAX_QP; g += nw) {
			struct rte_vhost_vring vr;

			if ((vrings & (1u << (2 * g + 1))) &&
				rte_vhost_get_vhost_vring(vid, (uint16_t)(2 * g + 1), &vr) == 0 &&
				vr.kickfd >= 0)
				pfd[n++] = (struct pollfd){.fd = vr.kickfd, .events = POLLIN};
		}
	}
	rte_smp_mb();
	for (unsigned int q = w->id; s != NULL && q < s->n_qpairs && !work; q += nw)
		work = rp_ipc_ring_avail(&s->ring[q][RP_IPC_RING_TO_GUEST]) != 0; /* or broken */
	for (unsigned int g = w->id; dev_ok && g < RP_IT_MAX_QP && !work; g += nw)
		work = (vrings & (1u << (2 * g + 1))) &&
			rte_vhost_avail_entries(vid, (uint16_t)(2 * g + 1)) != 0;
	if (!work) {
		/* Offline while asleep: we hold nothing of a session. From
		 * here until we are online again, the session and the device
		 * may be retired, and their fds closed and reused. */
		w->cur = NULL;
		rte_rcu_qsbr_thread_offline(it->qsbr, w->id);
		int r = poll(pfd, n, timeout);
		rte_rcu_qsbr_thread_online(it->qsbr, w->id);
		RP_IT_STAT_ADD(w->sleeps, 1);
		if (r > 0)
			RP_IT_STAT_ADD(w->wakeups, 1);
	}
	/* Online again: touch s and the kick fds only if they are still the
	 * ones we slept on (a new session may sit at the same address: the
	 * id tells; a restarted device bumps gen). */
	now = rp_it_sess_get(it);
	s_live = s != NULL && now == s && now->id == s_id;
	dev_live = dev_ok && rp_it_dev_running(it) && rp_it_dev_gen(it) == gen;
	for (unsigned int i = 0; !work && i < n; i++) {
		uint64_t v;

		/* Empty what woke us: our wake-up sockets, and the kick fds
		 * (eventfds rte_vhost leaves to the application). */
		if (!(pfd[i].revents & POLLIN))
			continue;
		if (i < n_wake) {
			if (s_live)
				rp_ipc_wake_drain(pfd[i].fd);
		} else if (dev_live && read(pfd[i].fd, &v, sizeof(v)) < 0) {
			RTE_LOG(DEBUG, USER1, "worker %u: kick read: %s\n", w->id, strerror(errno));
		}
	}
	if (mine && s_live)
		__atomic_fetch_and(s->wake_word, ~mine, __ATOMIC_SEQ_CST);
	if (dev_live)
		guest_kicks(w, vid, vrings, 0);
}

int
rp_it_worker_main(void *arg)
{
	struct rp_it_worker *w = arg;
	struct rp_iothread *it = w->it;
	unsigned int nw = it->n_workers;

	rte_rcu_qsbr_thread_register(it->qsbr, w->id);
	rte_rcu_qsbr_thread_online(it->qsbr, w->id);
	w->nap_us = RP_IT_NAP_MIN_US;
	/* An iteration's cycles run from the end of the one before (the
	 * loop's own upkeep included, as pmd-perf-show counts it), so busy
	 * and idle cycles add up to the time polled; naps and sleeps are in
	 * neither. */
	uint64_t t_end = rte_rdtsc();
	while (!rp_it_stopping(it)) {
		uint64_t t0 = t_end, t1, t2, moved0 = w->moved, moved1;
		struct rp_it_sess *s = rp_it_sess_get(it);
		bool dev_ok = rp_it_dev_running(it);
		int vid = it->dev.vid;
		uint32_t vrings = RP_IT_DEV_READ(it, vrings);
		unsigned int n_ts = 0, n_tg = 0;

		if (s != w->cur) {
			drop_session_state(w);
			w->cur = s;
		}
		/* To the switch. */
		if (dev_ok)
			for (unsigned int g = w->id; g < RP_IT_MAX_QP; g += nw)
				if (vrings & (1u << (2 * g + 1)))
					n_ts += ts_poll_guest(w, s, vid, g);
		if (s != NULL && nw > 1)
			for (unsigned int q = 0; q < s->n_qpairs; q++)
				if (rp_it_owner(it, q) != w->id)
					ts_handoff(w, s, q);
		if (s != NULL)
			for (unsigned int q = w->id; q < s->n_qpairs; q += nw) {
				struct rp_it_stage *st = &w->ts[q];

				st->n = (uint16_t)(st->n + rte_ring_sc_dequeue_burst(s->inbox[q],
					(void **)&st->m[st->n], RP_IT_STAGE - st->n, NULL));
				ts_flush(w, s, q);
				ts_reap(w, s, q);
			}
		t1 = rte_rdtsc();
		moved1 = w->moved;
		stage_done(w, RP_IPC_DIR_TO_SWITCH, n_ts, moved1 != moved0, t1 - t0);
		/* To the guest. */
		if (s != NULL) {
			for (unsigned int q = w->id; q < s->n_qpairs; q += nw)
				n_tg += tg_poll_ring(w, s, q, dev_ok);
			for (uint32_t b = w->tg_staged; b != 0; b &= b - 1)
				tg_flush(w, s, vid, rte_bsf32(b), dev_ok);
			for (unsigned int q = w->id; q < s->n_qpairs; q += nw)
				ret_flush(w, s, q);
		}
		t2 = rte_rdtsc();
		stage_done(w, RP_IPC_DIR_TO_GUEST, n_tg, w->moved != moved1, t2 - t1);
		if (n_ts == 0 && n_tg == 0 && w->moved == moved0) {
			/* Idle: nothing taken and nothing we held moved on (an
			 * iteration that flushed or reaped is busy for its stage,
			 * and not stalled). */
			RP_IT_STAT_ADD(w->idle_cycles, t2 - t0);
			RP_IT_STAT_ADD(w->idle_iters, 1);
			if (it->o.poll == RP_IT_POLL_ADAPTIVE && ++w->idle_polls > RP_IT_IDLE_SPINS) {
				if (!worker_holds(w)) {
					sleep_idle(w, s, dev_ok, vid, vrings);
					t_end = rte_rdtsc();
					continue;
				}
				/* Holding packets nobody takes: a guest that does not
				 * refill, a switch that does not drain, or rte_vhost
				 * waiting for QEMU to answer an IOTLB miss. Spinning
				 * would take the CPU from the very thread that can
				 * end the wait where CPUs are shared: back off (still
				 * online, holding what we hold). */
				stall_nap(w);
				t2 = rte_rdtsc();
			}
		} else {
			w->idle_polls = 0;
			w->nap_us = RP_IT_NAP_MIN_US;
		}
		/* Anything we hold of a retired session goes before we say we
		 * hold nothing we loaded before (see iothread.h). */
		s = rp_it_sess_get(it);
		if (s != w->cur) {
			drop_session_state(w);
			w->cur = s;
		}
		rte_rcu_qsbr_quiescent(it->qsbr, w->id);
		t_end = t2;
	}
	drop_session_state(w);
	rte_rcu_qsbr_thread_offline(it->qsbr, w->id);
	rte_rcu_qsbr_thread_unregister(it->qsbr, w->id);
	return 0;
}

int
rp_it_workers_init(struct rp_iothread *it)
{
	it->intr_tsc = rte_get_tsc_hz() / 1000000 * RP_IT_INTERRUPTED_US;
	for (unsigned int i = 0; i < it->n_workers; i++) {
		struct rp_it_worker *w = &it->w[i];
		unsigned int owned = (it->o.queues + it->n_workers - 1 - i) / it->n_workers;
		char name[RTE_MEMPOOL_NAMESIZE];

		w->id = i;
		w->it = it;
		/* A view per buffer this worker may hold: each owned ring's
		 * free-ring worth, plus one burst being put together. */
		snprintf(name, sizeof(name), "rp-view-%u", i);
		w->view_mp = rte_pktmbuf_pool_create(name, owned * RP_IT_RING_SIZE + RP_IT_BURST * 2,
			0, 0, 0, (int)rte_socket_id());
		snprintf(name, sizeof(name), "rp-drop-%u", i);
		w->drop_mp = rte_pktmbuf_pool_create(name, 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
		if (w->view_mp == NULL || w->drop_mp == NULL)
			return -ENOMEM;
		for (unsigned int q = i; q < RP_IT_MAX_QP; q += it->n_workers) {
			w->owned_q |= 1u << q;
			w->ret[q] = rte_zmalloc("rp-ret", RP_IT_RING_SIZE * sizeof(struct rp_ipc_desc),
				RTE_CACHE_LINE_SIZE);
			if (w->ret[q] == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}
