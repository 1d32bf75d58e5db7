/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * To the guest: descriptors the switch lent are checked (range, length,
 * flags, not already held), wrapped in private "view" mbufs that point at
 * the region buffers, steered to a guest queue and copied into the guest by
 * rte_vhost_enqueue_burst(), which never keeps the mbufs; then the buffers
 * go back on the free ring. See worker.c for the loop that calls this.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

#include "worker.h"
#include "rp_ipc_ol.h"

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

void
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
	w->moved += n;
}

/* A whole frame from ring q: offloads, steering, staging. */
static void
tg_deliver(struct rp_it_worker *w, struct rp_it_sess *s, unsigned int q, struct rte_mbuf *m,
	const struct rp_ipc_desc *first, bool dev_ok)
{
	struct rp_iothread *it = w->it;
	uint32_t n_rxq = RP_IT_DEV_READ(it, n_rxq);
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
	w->tg_staged |= 1u << g;
}

static bool
tg_stages_full(const struct rp_it_worker *w)
{
	for (uint32_t b = w->tg_staged; b != 0; b &= b - 1)
		if (w->tg[rte_bsf32(b)].n > RP_IT_STAGE - RP_IT_BURST)
			return true;
	return false;
}

/* TO_GUEST ring q: check, assemble frames, deliver. Returns descriptors. */
unsigned int
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
	/* The switch wrote the frames on another core: start pulling their
	 * first lines in now, for steering and the copy, while the views are
	 * set up (a stride prefetcher would follow frames a power of two
	 * apart, not placed ones: rp_ipc_color()). Only offsets inside our
	 * TO_GUEST buffers; the borrow below checks each one in full. */
	for (unsigned int i = 0; i < got; i++)
		if (likely(d[i].off - s->tg_off < s->tg_bytes))
			rte_prefetch0(s->base + d[i].off);
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

/* Guest RX queue g, which has staged frames: copy them into the guest. */
void
tg_flush(struct rp_it_worker *w, struct rp_it_sess *s, int vid, unsigned int g, bool dev_ok)
{
	struct rp_it_stage *st = &w->tg[g];
	struct rp_it_qstats *qs = &w->q[g];
	unsigned int n = 0;
	uint64_t bytes = 0;

	if (dev_ok && (RP_IT_DEV_READ(w->it, vrings) & (1u << (2 * g)))) {
		n = rte_vhost_enqueue_burst(vid, (uint16_t)(2 * g), st->m, st->n);
		if (!((w->owned_q >> g) & 1))
			RP_IT_STAT_ADD(w->foreign_vq_writes, n);
	} else {
		/* The guest went away or disabled the queue: nothing will
		 * ever take these. */
		for (unsigned int i = 0; i < st->n; i++)
			tg_drop(w, s, st->m[i], st->m[i]->port, RP_IT_DROP_NO_GUEST);
		st->n = 0;
		w->tg_staged &= ~(1u << g);
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
	if (st->n == 0)
		w->tg_staged &= ~(1u << g);
	w->moved += n;
	RP_IT_STAT_ADD(qs->pkts[RP_IPC_DIR_TO_GUEST], n);
	RP_IT_STAT_ADD(qs->bytes[RP_IPC_DIR_TO_GUEST], bytes);
}
