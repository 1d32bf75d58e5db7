/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport data path: tx.
 *
 * Tx copies each mbuf (chains too) into TO_GUEST buffers we own, as many
 * as the frame needs; the peer's returns of those buffers are taken back
 * here too, at each burst (and by the session thread on rings no burst
 * uses: rp_pmd_reap_idle()). Rx is rp_pmd_rx.c.
 */
#include <rte_memcpy.h>

#include "rp_pmd.h"
#include "rp_ipc_ol.h"

/* Take back everything the peer has finished with. Taking only a burst per
 * call would let a backlog (built while the peer caught up after a stall)
 * outlive the traffic: the free ring stays full, the peer cannot return
 * buffers, stops receiving, and the next frames are dropped. At most what
 * one read of the peer's tail showed, never more than the ring holds, so a
 * peer that keeps refilling it cannot hold the PMD thread here.
 * -EPROTO if the peer broke the ring. */
static int
reap_to_guest_free(struct rp_ipc_stats *rej, struct rp_sess *s, struct rp_ipc_ring *fr,
	struct rp_ipc_desc *d)
{
	int left = rp_ipc_ring_avail(fr);
	unsigned int back;

	if (unlikely(left < 0))
		return left;
	while (left > 0) {
		back = rp_ipc_ring_peek(fr, d, RTE_MIN((unsigned int)left, (unsigned int)RP_PMD_BURST));
		rp_ipc_ring_consume(fr, back);
		rp_ipc_pool_return_burst(s->own, d, back, rej);
		left -= (int)back;
	}
	return 0;
}

/* Segments @len bytes take in buffers of 1 << @shift; 0 if it cannot go. */
static inline unsigned int
tx_segs(const struct rp_sess *s, uint32_t len)
{
	unsigned int segs = (len + (1u << s->buf_shift) - 1) >> s->buf_shift;

	if (unlikely(len == 0 || len > s->max_frame || (segs > 1 && !s->multiseg)))
		return 0;
	return segs;
}

/*
 * Copy a frame into a region buffer the peer last read on its own core.
 * Ordinary stores would first pull each line over (read for ownership);
 * streaming stores do not, and the peer reads the frame from the shared
 * cache. 16-byte units: @dst is buffer-aligned, and the source may be read
 * up to 15 bytes past @len when its mbuf has that much tailroom. The
 * caller fences (rte_wmb) before publishing the descriptors.
 */
static inline void
copy_stream(uint8_t *dst, const uint8_t *src, uint32_t len, uint32_t tailroom)
{
#ifdef RTE_ARCH_X86
	uint32_t n = RTE_ALIGN_CEIL(len, 16u);

	if (likely(n - len <= tailroom && ((uintptr_t)dst & 15) == 0)) {
		for (uint32_t i = 0; i < n; i += 16)
			_mm_stream_si128((__m128i *)(void *)(dst + i),
				_mm_loadu_si128((const __m128i *)(const void *)(src + i)));
		return;
	}
#else
	RTE_SET_USED(tailroom);
#endif
	rte_memcpy(dst, src, len);
}

/* Copy @m into the buffers @offs (as many as it needs) and describe it in
 * @d; returns the descriptors written, 0 if dropped for bad offload data. */
static unsigned int
tx_one(struct rp_queue *q, struct rp_sess *s, struct rte_mbuf *m, const uint32_t *offs,
	struct rp_ipc_desc *d)
{
	uint8_t *base = s->base;
	uint32_t buf_size = 1u << s->buf_shift, len = m->pkt_len, off = 0;
	unsigned int k = 0;
	int ol = 0;

	if (likely(m->nb_segs == 1 && len <= buf_size)) {
		uint32_t at = offs[0], c = rp_ipc_color(at, s->buf_shift, RP_IPC_COLORS);

		if (len + c <= buf_size) /* placed, where it fits (rp_ipc.h) */
			at += c;
		copy_stream(base + at, rte_pktmbuf_mtod(m, const uint8_t *), len,
			rte_pktmbuf_tailroom(m));
		d[0] = (struct rp_ipc_desc){.off = at, .len = (uint16_t)len};
		k = 1;
	} else {
		for (; off < len; k++) {
			uint32_t chunk = RTE_MIN(buf_size, len - off);
			uint8_t *dst = base + offs[k];
			const void *src = rte_pktmbuf_read(m, off, chunk, dst);

			if (src != dst)
				rte_memcpy(dst, src, chunk);
			d[k] = (struct rp_ipc_desc){.off = offs[k], .len = (uint16_t)chunk,
				.flags = RP_IPC_DESC_F_MORE};
			off += chunk;
		}
		d[k - 1].flags = 0;
	}
	/* Hash and offload state ride on the first segment. */
	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
		d[0].hash = m->hash.rss;
		d[0].flags |= RP_IPC_DESC_F_HASH;
	}
	if (s->offload && (m->ol_flags & RP_PMD_TX_OL_FLAGS)) {
		ol = rp_ipc_ol_from_mbuf(m, base + d[0].off, d[0].len, &d[0]);
		if (unlikely(ol < 0)) {
			q->st[RP_QS_BAD_OFFLOAD]++;
			return 0;
		}
		d[0].flags |= (uint16_t)ol;
	}
	q->st[RP_QS_BYTES] += len;
	return k;
}

uint16_t
rp_pmd_tx_burst(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct rp_queue *q = arg;
	struct rp_port *port = q->port;
	struct rp_ipc_desc d[RP_PMD_TX_SEGS];
	uint32_t offs[RP_PMD_TX_SEGS];
	struct rp_sess *s;
	unsigned int ring, np, nseg = 0, have, k = 0, used = 0, sent = 0, room;
	uint8_t segs[RP_PMD_TX_SEGS]; /* buffers each packet takes; 0: too big */

	rp_queue_enter(q);
	s = __atomic_load_n(&port->sess, __ATOMIC_SEQ_CST);
	if (unlikely(s == NULL))
		goto out; /* link down: OVS drops and counts */
	rp_sess_flush_mine(s);
	ring = q->qid % s->n_qpairs;
	/* Taken whether or not tx queues share the ring: the session thread
	 * also reaps returns while tx is idle (rp_pmd_reap_idle). One
	 * uncontended atomic per burst. */
	rte_spinlock_lock(&s->tx_lock[ring]);

	struct rp_ipc_ring *r = &s->ring[ring][RP_IPC_RING_TO_GUEST];
	int free_slots = rp_ipc_ring_avail(r);
	if (unlikely(free_slots < 0 ||
		reap_to_guest_free(&q->rej, s, &s->ring[ring][RP_IPC_RING_TO_GUEST_FREE], d) < 0)) {
		rp_sess_corrupt(&q->rej, s);
		n = 0;
		goto unlock;
	}

	/* Whole packets only: as many as the ring has slots for. */
	room = RTE_MIN((unsigned int)free_slots, (unsigned int)RP_PMD_TX_SEGS);
	n = RTE_MIN(n, (uint16_t)RP_PMD_TX_SEGS);
	for (np = 0; np < n; np++) {
		segs[np] = (uint8_t)tx_segs(s, pkts[np]->pkt_len);
		if (nseg + segs[np] > room)
			break;
		nseg += segs[np];
	}
	have = rp_ipc_pool_alloc(s->own, offs, nseg);
	while (unlikely(have < nseg))
		nseg -= segs[--np]; /* pool short: fewer whole packets */
	for (unsigned int i = 0; i < np; i++) {
		unsigned int w;

		if (unlikely(segs[i] == 0)) {
			q->st[RP_QS_TOO_BIG]++; /* consumed and dropped */
			continue;
		}
		w = tx_one(q, s, pkts[i], offs + used, d + k);
		if (w == 0) {
			/* Dropped: its buffers go back unused. */
			rp_ipc_pool_put(s->own, offs + used, segs[i]);
		} else {
			for (unsigned int j = 0; j < w; j++)
				rp_ipc_pool_lend(s->own, d[k + j].off);
			k += w;
			q->st[RP_QS_PKTS]++;
		}
		used += segs[i];
	}
	if (have > used)
		rp_ipc_pool_put(s->own, offs + used, have - used);
	rte_wmb(); /* streaming stores are weakly ordered: land them first */
	/* k is within the room our own read of the peer's tail found. */
	sent = rp_ipc_ring_put(r, d, k);
	/* The peer's worker for this ring may sleep: then it asked for a
	 * wake-up. The full barrier orders our tail store before the flag's
	 * load (it sets the flag, then looks at the ring): one of us sees
	 * the other. */
	if (sent != 0 && s->n_wake != 0) {
		rte_smp_mb();
		if (unlikely(__atomic_load_n(s->wake_word, __ATOMIC_RELAXED) & (1u << ring)) &&
			unlikely(rp_ipc_wake(s->wake[ring]) < 0))
			q->st[RP_QS_WAKE_FAIL]++;
	}
	/* A partly taken burst is retried by the caller (OVS does, until a
	 * call takes nothing, then drops the rest): count drops only then. */
	if (np == 0)
		q->st[RP_QS_RING_FULL] += n;
	rte_pktmbuf_free_bulk(pkts, np);
	n = (uint16_t)np;
unlock:
	rte_spinlock_unlock(&s->tx_lock[ring]);
	rp_queue_exit(q);
	return n;
out:
	rp_queue_exit(q);
	return 0;
}

/* Session thread: take back returns on rings no tx burst is using, so a
 * peer's returns never wait for the next packet to the guest. */
void
rp_pmd_reap_idle(struct rp_sess *s, struct rp_ipc_stats *rej)
{
	struct rp_ipc_desc d[RP_PMD_BURST];

	for (unsigned int ring = 0; ring < s->n_qpairs; ring++) {
		if (!rte_spinlock_trylock(&s->tx_lock[ring]))
			continue; /* a burst is at it */
		if (reap_to_guest_free(rej, s, &s->ring[ring][RP_IPC_RING_TO_GUEST_FREE], d) < 0)
			rp_sess_corrupt(rej, s);
		rte_spinlock_unlock(&s->tx_lock[ring]);
	}
}
