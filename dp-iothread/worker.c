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

#include "iothread.h"
#include "rp_ipc_ol.h"

#define RP_IT_DESCS 256 /* descriptors built in one to-switch flush */

static inline struct rp_it_sess *
sess_load(struct rp_iothread *it)
{
	return __atomic_load_n(&it->sess, __ATOMIC_SEQ_CST);
}

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

static void
view_put_chain(struct rp_it_worker *w, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		view_put(w, m);
		m = next;
	}
}

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
	view_flush(w);
}

/* The switch broke one of our shared rings: the control thread ends the
 * session (counted as ring_corrupt). */
static void
sess_corrupt(struct rp_it_worker *w, struct rp_it_sess *s)
{
	w->st.rejects[RP_IPC_REJ_RING]++;
	__atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
}

/* ---- to the switch ----------------------------------------------------- */

/* Publish what is staged for our ring q, whole packets, as room allows. */
static void
ts_flush(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q)
{
	struct rp_it_stage *st = &w->ts[q];
	struct rp_ipc_ring *ring = &s->ring[q][RP_IPC_RING_TO_SWITCH];
	struct rp_it_qstats *qs = &w->q[q];
	struct rp_ipc_desc d[RP_IT_DESCS];
	unsigned int k = 0, i, room, pkts = 0;
	uint64_t bytes = 0;
	int free_slots;

	if (st->n == 0)
		return;
	free_slots = rp_ipc_ring_avail(ring);
	if (unlikely(free_slots < 0)) {
		sess_corrupt(w, s);
		return;
	}
	room = RTE_MIN((unsigned int)free_slots, (unsigned int)RP_IT_DESCS);
	for (i = 0; i < st->n; i++) {
		struct rte_mbuf *m = st->m[i], *seg, *next;
		struct rp_ipc_desc first = {0};
		int ol = 0;

		if (k + m->nb_segs > room)
			break; /* fits once the switch frees room: nb_segs <= ts_max_segs */
		if (s->offload && (m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG))) {
			ol = rp_ipc_ol_from_mbuf(m, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &first);
			if (unlikely(ol < 0)) {
				RP_IT_STAT_ADD(qs->drops[RP_IPC_DIR_TO_SWITCH][RP_IT_DROP_OFFLOAD], 1);
				rte_pktmbuf_free(m);
				continue;
			}
		}
		pkts++;
		bytes += m->pkt_len;
		first.flags = (uint16_t)ol;
		if (first.flags & RP_IPC_DESC_F_CSUM_PARTIAL)
			RP_IT_STAT_ADD(qs->csum_partial[RP_IPC_DIR_TO_SWITCH], 1);
		if (first.flags & RP_IPC_DESC_GSO_MASK)
			RP_IT_STAT_ADD(qs->gso[RP_IPC_DIR_TO_SWITCH], 1);
		if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
			first.hash = m->hash.rss;
			first.flags |= RP_IPC_DESC_F_HASH;
		}
		/* Each segment is a buffer of its own from here on: unchain. */
		for (seg = m; seg != NULL; seg = next) {
			next = seg->next;
			d[k] = seg == m ? first : (struct rp_ipc_desc){0};
			d[k].off = buf_off(s, seg) + seg->data_off;
			d[k].len = seg->data_len;
			if (next != NULL)
				d[k].flags |= RP_IPC_DESC_F_MORE;
			seg->next = NULL;
			seg->nb_segs = 1;
			rp_ipc_pool_lend(s->lent, buf_off(s, seg));
			k++;
		}
	}
	memmove(st->m, st->m + i, (st->n - i) * sizeof(st->m[0]));
	st->n = (uint16_t)(st->n - i);
	if (k == 0)
		return;
	/* k is within the room our own read of the peer's tail found. */
	rp_ipc_ring_put(ring, d, k);
	w->flushed += k;
	RP_IT_STAT_ADD(qs->pkts[RP_IPC_DIR_TO_SWITCH], pkts);
	RP_IT_STAT_ADD(qs->bytes[RP_IPC_DIR_TO_SWITCH], bytes);
}

/* Buffers the switch gave back on our ring q's free ring. */
static void
ts_reap(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q)
{
	struct rp_ipc_ring *ring = &s->ring[q][RP_IPC_RING_TO_SWITCH_FREE];
	struct rp_ipc_desc d[RP_IT_BURST * 2];
	struct rte_mbuf *ms[RP_IT_BURST * 2];
	uint32_t offs[RP_IT_BURST * 2];
	unsigned int got, ok;
	int left = rp_ipc_ring_avail(ring);

	if (unlikely(left < 0)) {
		sess_corrupt(w, s);
		return;
	}
	/* What one read of the peer's tail showed, at most the ring's
	 * capacity: a peer cannot keep us here. */
	while (left > 0) {
		got = rp_ipc_ring_peek(ring, d, RTE_MIN((unsigned int)left, RTE_DIM(d)));
		rp_ipc_ring_consume(ring, got);
		ok = rp_ipc_pool_take_back_burst(s->lent, d, got, &w->st, offs);
		for (unsigned int i = 0; i < ok; i++)
			ms[i] = s->mbuf_of[(offs[i] - s->ts_off) >> s->ts_shift];
		rte_pktmbuf_free_bulk(ms, ok);
		left -= (int)got;
	}
}

/* Any ring's stage, ours or another worker's hand-off, too full for
 * another burst: take nothing more from the guest until it drains. */
static bool
ts_stages_full(const struct rp_it_worker *w, const struct rp_it_sess *s)
{
	for (unsigned int q = 0; q < s->n_qpairs; q++)
		if (w->ts[q].n > RP_IT_STAGE - RP_IT_BURST)
			return true;
	return false;
}

/* Packets steered to ring q, which another worker owns: hand them over in
 * one burst (one atomic update of the inbox, not one per packet); what the
 * inbox cannot take stays staged and goes on a later pass. */
static void
ts_handoff(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q)
{
	struct rp_it_stage *st = &w->ts[q];
	unsigned int n;

	if (st->n == 0)
		return;
	n = rte_ring_mp_enqueue_burst(s->inbox[q], (void **)st->m, st->n, NULL);
	RP_IT_STAT_ADD(w->handoff_pkts[RP_IPC_DIR_TO_SWITCH], n);
	memmove(st->m, st->m + n, (st->n - n) * sizeof(st->m[0]));
	st->n = (uint16_t)(st->n - n);
}

/* Queue @q (of @n) that a program chose, kept on this worker unless the
 * operator allowed --shared-queues: a queue another worker owns is folded
 * onto this worker's own (worker + n_workers * ((q / n_workers) % owned),
 * as the default program folds, see rp_rss_core.h), counted, so
 * no program hands packets between workers or writes another worker's
 * virtqueue by accident. The default program never needs folding. */
static inline unsigned int
keep_local(struct rp_it_worker *w, unsigned int q, unsigned int n)
{
	const struct rp_iothread *it = w->it;
	unsigned int nw = it->n_workers, owned;

	/* One bit test per packet; the division only when folding. */
	if (likely(((w->owned_q >> q) & 1) || nw == 1 || it->o.shared_queues || w->id >= n))
		return q;
	owned = (n - w->id + nw - 1) / nw;
	RP_IT_STAT_ADD(w->steer_folded, 1);
	return w->id + nw * ((q / nw) % owned);
}

/* The caps on a guest frame, checked before it is staged: at most
 * ts_max_segs buffers (so it always fits an empty ring: a frame that never
 * fits would stall the ring behind it), and at most ts_max_frame bytes
 * unless it is a TSO frame the switch will take. UDP segmentation is not
 * offered to the guest nor to the switch: a UFO frame is an ordinary
 * frame, and too big unless it fits the MTU. */
static inline bool
guest_frame_ok(struct rp_it_worker *w, const struct rp_it_sess *s, struct rte_mbuf *m,
	unsigned int g)
{
	uint64_t f = m->ol_flags;
	bool tso = (f & RTE_MBUF_F_TX_TCP_SEG) && s->offload;
	uint32_t max = tso ? RP_IT_TSO_FRAME_MAX : s->ts_max_frame;

	if (likely(m->pkt_len <= max && m->nb_segs <= s->ts_max_segs)) {
		if (unlikely(f & (RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_TCP_SEG)) && !tso)
			m->ol_flags = f & ~(RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_TCP_SEG);
		return true;
	}
	RP_IT_STAT_ADD(w->q[g].drops[RP_IPC_DIR_TO_SWITCH][RP_IT_DROP_TOO_BIG], 1);
	return false;
}

/* Guest TX queue pair g: dequeue, steer, stage. Returns packets taken. */
static unsigned int
ts_poll_guest(struct rp_it_worker *w, struct rp_it_sess *s, int vid, unsigned int g)
{
	struct rp_iothread *it = w->it;
	struct rte_mbuf *pkts[RP_IT_BURST];
	const struct rp_prog_inst *prog;
	unsigned int n;

	if (s == NULL) {
		/* Link down: the guest's packets have nowhere to go. */
		n = rte_vhost_dequeue_burst(vid, (uint16_t)(2 * g + 1), w->drop_mp, pkts, RP_IT_BURST);
		rte_pktmbuf_free_bulk(pkts, n);
		RP_IT_STAT_ADD(w->q[g].drops[RP_IPC_DIR_TO_SWITCH][RP_IT_DROP_NO_SESSION], n);
		return n;
	}
	if (ts_stages_full(w, s))
		return 0;
	n = rte_vhost_dequeue_burst(vid, (uint16_t)(2 * g + 1), s->mp, pkts, RP_IT_BURST);
	if (n == 0)
		return 0;
	prog = &rp_it_steer_get(it, RP_IPC_DIR_TO_SWITCH)->inst[w->id];
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned int r;
		uint64_t ret;

		if (unlikely(!guest_frame_ok(w, s, m, g))) {
			rte_pktmbuf_free(m);
			continue;
		}
		rp_steer_ctx_fill(&w->ctx, rte_pktmbuf_mtod(m, void *), m->pkt_len, m->data_len,
			RP_STEER_TO_SWITCH, g, s->n_qpairs, w->id, it->n_workers);
		ret = rp_prog_run(prog, &w->ctx);
		if (unlikely(ret & RP_STEER_RET_DROP)) {
			RP_IT_STAT_ADD(w->q[g].drops[RP_IPC_DIR_TO_SWITCH][RP_IT_DROP_STEER], 1);
			rte_pktmbuf_free(m);
			continue;
		}
		if (ret & RP_STEER_RET_HASH) {
			m->hash.rss = RP_STEER_RET_GET_HASH(ret);
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		}
		r = keep_local(w, rp_steer_queue(ret, s->n_qpairs), s->n_qpairs);
		w->ts[r].m[w->ts[r].n++] = m;
	}
	return n;
}

/* ---- to the guest ------------------------------------------------------ */

/* Done with a view chain: queue its buffers' return, free the views. */
static void
tg_return(struct rp_it_worker *w, struct rp_it_sess *s, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;
		uint16_t r = m->port;

		rp_ipc_pool_unborrow(s->held, m->hash.usr);
		w->ret[r][w->n_ret[r]++] = (struct rp_ipc_desc){.off = m->hash.usr};
		view_put(w, m);
		m = next;
	}
}

static void
tg_drop(struct rp_it_worker *w, struct rp_it_sess *s, struct rte_mbuf *m, unsigned int q,
	enum rp_it_drop why)
{
	RP_IT_STAT_ADD(w->q[q].drops[RP_IPC_DIR_TO_GUEST][why], 1);
	tg_return(w, s, m);
}

static void
ret_flush(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q)
{
	struct rp_ipc_ring *ring = &s->ring[q][RP_IPC_RING_TO_GUEST_FREE];
	unsigned int n;

	if (w->n_ret[q] == 0)
		return;
	if (unlikely(rp_ipc_ring_avail(ring) < 0)) {
		sess_corrupt(w, s);
		return;
	}
	n = rp_ipc_ring_put(ring, w->ret[q], w->n_ret[q]);
	memmove(w->ret[q], w->ret[q] + n, (w->n_ret[q] - n) * sizeof(w->ret[q][0]));
	w->n_ret[q] = (uint16_t)(w->n_ret[q] - n);
	w->outstanding[q] -= n;
}

/* A whole frame from ring q: offloads, steering, staging. */
static void
tg_deliver(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q, struct rte_mbuf *m,
	const struct rp_ipc_desc *first, bool dev_ok)
{
	struct rp_iothread *it = w->it;
	uint32_t n_rxq = __atomic_load_n(&it->dev.n_rxq, __ATOMIC_RELAXED);
	unsigned int g;
	uint64_t ret;

	if (!dev_ok || n_rxq == 0) {
		tg_drop(w, s, m, q, RP_IT_DROP_NO_GUEST);
		return;
	}
	if (first->flags & RP_IPC_DESC_F_CSUM_PARTIAL)
		RP_IT_STAT_ADD(w->q[q].csum_partial[RP_IPC_DIR_TO_GUEST], 1);
	if (first->flags & RP_IPC_DESC_GSO_MASK)
		RP_IT_STAT_ADD(w->q[q].gso[RP_IPC_DIR_TO_GUEST], 1);
	if (first->flags & (RP_IPC_DESC_F_CSUM_PARTIAL | RP_IPC_DESC_F_CSUM_VALID |
			RP_IPC_DESC_GSO_MASK)) {
		uint64_t f = it->dev.features;
		unsigned int conf = 0;

		if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM))
			conf |= RP_IPC_OL_CONF_CKSUM;
		if ((f & (1ULL << VIRTIO_NET_F_GUEST_TSO4)) && (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6)))
			conf |= RP_IPC_OL_CONF_TSO;
		if (!s->offload || rp_ipc_ol_to_mbuf(m, first, conf) < 0) {
			tg_drop(w, s, m, q, RP_IT_DROP_OFFLOAD);
			return;
		}
	}
	rp_steer_ctx_fill(&w->ctx, rte_pktmbuf_mtod(m, void *), m->pkt_len, m->data_len,
		RP_STEER_TO_GUEST, q, n_rxq, w->id, it->n_workers);
	if (first->flags & RP_IPC_DESC_F_HASH) {
		w->ctx.hash = first->hash;
		w->ctx.flags = RP_STEER_CTX_F_HASH;
	}
	ret = rp_prog_run(&rp_it_steer_get(it, RP_IPC_DIR_TO_GUEST)->inst[w->id], &w->ctx);
	if (unlikely(ret & RP_STEER_RET_DROP)) {
		tg_drop(w, s, m, q, RP_IT_DROP_STEER);
		return;
	}
	g = keep_local(w, rp_steer_queue(ret, n_rxq), n_rxq);
	w->tg[g].m[w->tg[g].n++] = m;
}

static bool
tg_stages_full(const struct rp_it_worker *w)
{
	for (unsigned int g = 0; g < RP_IT_MAX_QP; g++)
		if (w->tg[g].n > RP_IT_STAGE - RP_IT_BURST)
			return true;
	return false;
}

/* TO_GUEST ring q: check, assemble frames, deliver. Returns descriptors. */
static unsigned int
tg_poll_ring(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q, bool dev_ok)
{
	struct rp_ipc_ring *ring = &s->ring[q][RP_IPC_RING_TO_GUEST];
	struct rp_it_frag *fr = &w->frag[q];
	struct rp_ipc_desc d[RP_IT_BURST];
	struct rte_mbuf *views[RP_IT_BURST];
	unsigned int n, got;
	uint32_t mask = ~((UINT32_C(1) << s->ts_shift) - 1);
	int rc;

	if (tg_stages_full(w))
		return 0;
	/* Never hold more than the free ring can take back. */
	n = RTE_MIN((unsigned int)RP_IT_BURST, s->ring_size - 1 - w->outstanding[q]);
	rc = rp_ipc_ring_get(ring, d, n);
	if (unlikely(rc < 0)) {
		sess_corrupt(w, s);
		return 0;
	}
	got = (unsigned int)rc;
	if (got == 0)
		return 0;
	if (unlikely(rte_mempool_get_bulk(w->view_mp, (void **)views, got) != 0)) {
		/* Sized for every buffer we may hold: cannot happen. */
		RTE_LOG(ERR, USER1, "worker %u: out of view mbufs\n", w->id);
		rte_exit(1, "view pool exhausted");
	}
	for (unsigned int i = 0; i < got; i++) {
		enum rp_ipc_reject rej = rp_ipc_pool_borrow(s->held, &d[i]);
		struct rte_mbuf *m = views[i];
		bool more = d[i].flags & RP_IPC_DESC_F_MORE;

		if (unlikely(rej != RP_IPC_REJ_NONE)) {
			/* Not ours to give back; the frame it belongs to is lost. */
			w->st.rejects[rej]++;
			view_put(w, m);
			fr->bad = true;
		} else {
			uint32_t start = d[i].off & mask;

			w->outstanding[q]++;
			m->buf_addr = s->base + start;
			rte_mbuf_iova_set(m, RTE_BAD_IOVA);
			m->buf_len = (uint16_t)(1u << s->ts_shift);
			m->data_off = (uint16_t)(d[i].off - start);
			m->data_len = d[i].len;
			m->pkt_len = d[i].len;
			m->nb_segs = 1;
			m->next = NULL;
			m->ol_flags = 0;
			m->tx_offload = 0;
			m->packet_type = 0;
			m->port = (uint16_t)q;
			m->hash.usr = start;
			if (fr->head == NULL) {
				fr->head = fr->tail = m;
				/* Hash and offload state ride on the first segment. */
				fr->segs = 1;
				fr->first = d[i];
			} else {
				fr->tail->next = m;
				fr->tail = m;
				fr->head->nb_segs++;
				fr->head->pkt_len += d[i].len;
				if (++fr->segs > RP_IT_FRAME_SEGS)
					fr->bad = true;
			}
		}
		if (more)
			continue;
		/* The frame ends here. */
		if (fr->head != NULL) {
			if (fr->bad)
				tg_drop(w, s, fr->head, q,
					fr->segs > RP_IT_FRAME_SEGS ? RP_IT_DROP_TOO_BIG
								    : RP_IT_DROP_INVALID);
			else
				tg_deliver(w, s, q, fr->head, &fr->first, dev_ok);
		}
		memset(fr, 0, sizeof(*fr));
	}
	view_flush(w);
	return got;
}

/* Guest RX queue g: copy staged frames into the guest. */
static void
tg_flush(struct rp_it_worker *w, struct rp_it_sess *s, int vid, unsigned int g, bool dev_ok)
{
	struct rp_it_stage *st = &w->tg[g];
	struct rp_it_qstats *qs = &w->q[g];
	unsigned int n = 0;
	uint64_t bytes = 0;

	if (st->n == 0)
		return;
	if (dev_ok && (__atomic_load_n(&w->it->dev.vrings, __ATOMIC_RELAXED) & (1u << (2 * g)))) {
		n = rte_vhost_enqueue_burst(vid, (uint16_t)(2 * g), st->m, st->n);
		if (!((w->owned_q >> g) & 1))
			RP_IT_STAT_ADD(w->foreign_vq_writes, n);
	} else {
		/* The guest went away or disabled the queue: nothing will
		 * ever take these. */
		for (unsigned int i = 0; i < st->n; i++)
			tg_drop(w, s, st->m[i], st->m[i]->port, RP_IT_DROP_NO_GUEST);
		st->n = 0;
		view_flush(w);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		bytes += st->m[i]->pkt_len;
		tg_return(w, s, st->m[i]);
	}
	view_flush(w);
	memmove(st->m, st->m + n, (st->n - n) * sizeof(st->m[0]));
	st->n = (uint16_t)(st->n - n);
	w->flushed += n;
	RP_IT_STAT_ADD(qs->pkts[RP_IPC_DIR_TO_GUEST], n);
	RP_IT_STAT_ADD(qs->bytes[RP_IPC_DIR_TO_GUEST], bytes);
}

/* ---- the loop ---------------------------------------------------------- */

/* A stage's busy time, as pmd-perf-show counts it; iterations with a full
 * burst are also kept apart, to compare like with like with a PMD that
 * always has a full burst. */
static inline void
stage_done(struct rp_it_worker *w, enum rp_ipc_dir d, unsigned int n, uint64_t cycles)
{
	if (n == 0)
		return;
	RP_IT_STAT_ADD(w->busy_cycles[d], cycles);
	RP_IT_STAT_ADD(w->stage_pkts[d], n);
	RP_IT_STAT_ADD(w->busy_iters[d], 1);
	if (n >= RP_IT_BURST) {
		RP_IT_STAT_ADD(w->full_cycles[d], cycles);
		RP_IT_STAT_ADD(w->full_pkts[d], n);
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
	uint64_t gen = __atomic_load_n(&it->dev.gen, __ATOMIC_SEQ_CST);
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
	now = sess_load(it);
	s_live = s != NULL && now == s && now->id == s_id;
	dev_live = dev_ok && __atomic_load_n(&it->dev.running, __ATOMIC_ACQUIRE) &&
		__atomic_load_n(&it->dev.gen, __ATOMIC_SEQ_CST) == gen;
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
	while (!__atomic_load_n(&it->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc(), t1, t2, flushed = w->flushed;
		struct rp_it_sess *s = sess_load(it);
		bool dev_ok = __atomic_load_n(&it->dev.running, __ATOMIC_ACQUIRE);
		int vid = it->dev.vid;
		uint32_t vrings = __atomic_load_n(&it->dev.vrings, __ATOMIC_RELAXED);
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
		stage_done(w, RP_IPC_DIR_TO_SWITCH, n_ts, t1 - t0);
		/* To the guest. */
		if (s != NULL) {
			for (unsigned int q = w->id; q < s->n_qpairs; q += nw)
				n_tg += tg_poll_ring(w, s, q, dev_ok);
			for (unsigned int g = 0; g < RP_IT_MAX_QP; g++)
				tg_flush(w, s, vid, g, dev_ok);
			for (unsigned int q = w->id; q < s->n_qpairs; q += nw)
				ret_flush(w, s, q);
		}
		t2 = rte_rdtsc();
		stage_done(w, RP_IPC_DIR_TO_GUEST, n_tg, t2 - t1);
		if (n_ts == 0 && n_tg == 0) {
			RP_IT_STAT_ADD(w->idle_cycles, t2 - t0);
			if (w->flushed != flushed) {
				/* Nothing new taken, but staged packets moved on:
				 * not stalled. */
				w->idle_polls = 0;
				w->nap_us = RP_IT_NAP_MIN_US;
			} else if (it->o.poll == RP_IT_POLL_ADAPTIVE &&
				++w->idle_polls > RP_IT_IDLE_SPINS) {
				if (!worker_holds(w)) {
					sleep_idle(w, s, dev_ok, vid, vrings);
					continue;
				}
				/* Holding packets nobody takes: a guest that does not
				 * refill, a switch that does not drain, or rte_vhost
				 * waiting for QEMU to answer an IOTLB miss. Spinning
				 * would take the CPU from the very thread that can
				 * end the wait where CPUs are shared: back off (still
				 * online, holding what we hold). */
				stall_nap(w);
			}
		} else {
			w->idle_polls = 0;
			w->nap_us = RP_IT_NAP_MIN_US;
		}
		/* Anything we hold of a retired session goes before we say we
		 * hold nothing we loaded before (see iothread.h). */
		s = sess_load(it);
		if (s != w->cur) {
			drop_session_state(w);
			w->cur = s;
		}
		rte_rcu_qsbr_quiescent(it->qsbr, w->id);
	}
	drop_session_state(w);
	rte_rcu_qsbr_thread_offline(it->qsbr, w->id);
	rte_rcu_qsbr_thread_unregister(it->qsbr, w->id);
	return 0;
}

int
rp_it_workers_init(struct rp_iothread *it)
{
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
