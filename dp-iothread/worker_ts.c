/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * To the switch: rte_vhost_dequeue_burst() copies guest packets straight
 * into region buffers (the session's mempool lives there), steering picks
 * a ring and a hash, and the buffers are lent on the ring; they come back
 * on the free ring and go back to the mempool. One copy, done by rte_vhost.
 * See worker.c for the loop that calls this.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "worker.h"
#include "rp_ipc_ol.h"

#define RP_IT_DESCS 256 /* descriptors built in one to-switch flush */

/* ---- to the switch ----------------------------------------------------- */

/* Publish what is staged for our ring q, whole packets, as room allows. */
void
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
	w->moved += k;
	RP_IT_STAT_ADD(qs->pkts[RP_IPC_DIR_TO_SWITCH], pkts);
	RP_IT_STAT_ADD(qs->bytes[RP_IPC_DIR_TO_SWITCH], bytes);
}

/* Buffers the switch gave back on our ring q's free ring. */
void
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
		/* Straight back to the pool, as rte_mbuf_raw_free() puts one:
		 * each is a pinned external-buffer mbuf of s->mp that
		 * ts_flush() left reinitialised (one segment, no next) and
		 * nothing ever attached to or cloned (refcnt 1, and the
		 * shared info's too). rte_pktmbuf_free_bulk() would read each
		 * one's shared info, a cache line touched by nothing else,
		 * only to find 1 there: the one cache miss per packet that
		 * profiles of the to-switch stage showed. The allocation
		 * resets the rest. */
		rte_mempool_put_bulk(s->mp, (void **)ms, ok);
		w->moved += got;
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
void
ts_handoff(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q)
{
	struct rp_it_stage *st = &w->ts[q];
	unsigned int n;

	if (st->n == 0)
		return;
	n = rte_ring_mp_enqueue_burst(s->inbox[q], (void **)st->m, st->n, NULL);
	RP_IT_STAT_ADD(w->handoff_pkts[RP_IPC_DIR_TO_SWITCH], n);
	w->moved += n;
	memmove(st->m, st->m + n, (st->n - n) * sizeof(st->m[0]));
	st->n = (uint16_t)(st->n - n);
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
unsigned int
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
