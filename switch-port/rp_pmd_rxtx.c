/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport data path.
 *
 * Rx is zero-copy: each TO_SWITCH descriptor that passes the ownership
 * checks becomes an mbuf from OVS's mempool with the region buffer
 * attached as an external buffer. Its rte_mbuf_ext_shared_info lives in
 * private memory (never in the region, where the peer could forge the
 * free callback). When OVS frees the mbuf, on any thread, the buffer goes
 * to a private MP ring; the rx queue that owns the ring it came from hands
 * it back to the peer (the shared rings stay single-producer).
 *
 * Tx copies each mbuf (chains too) into a TO_GUEST buffer we own.
 */
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include "rp_pmd.h"

void
rp_sess_put(struct rp_sess *s)
{
	if (__atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (unsigned int q = 0; q < RP_IPC_MAX_QPAIRS; q++)
		rte_free(s->free_back[q]);
	rte_free(s->shinfo);
	rte_free(s->origin);
	rp_ipc_pool_free(s->own);
	rp_ipc_pool_free(s->borrowed);
	rp_ipc_region_put(s->r);
	rte_free(s);
}

/* The mbuf free callback: any thread, any time, even after the session. */
void
rp_pmd_extbuf_free(void *addr, void *opaque)
{
	struct rp_sess *s = opaque;
	uint32_t off = (uint32_t)((uint8_t *)addr - rp_ipc_region_base(s->r));
	unsigned int ring = s->origin[(off - s->bufs_off) >> s->buf_shift];

	if (!__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE))
		rte_ring_mp_enqueue_elem(s->free_back[ring], &off, sizeof(off));
	rp_sess_put(s);
}

/* Give back what OVS has freed from ring @ring, as far as the shared free
 * ring has room; the rest waits in the private ring. */
static void
drain_free_back(struct rp_sess *s, unsigned int ring)
{
	struct rte_ring *shared = rp_ipc_region_ring(s->r, ring, RP_IPC_RING_TO_SWITCH_FREE);
	struct rp_ipc_desc d[RP_PMD_BURST * 2];
	uint32_t offs[RP_PMD_BURST * 2];
	unsigned int room, k;

	if (rte_ring_count(s->free_back[ring]) == 0)
		return;
	room = rte_ring_free_count(shared);
	k = rte_ring_sc_dequeue_burst_elem(s->free_back[ring], offs, sizeof(offs[0]),
		RTE_MIN(room, RTE_DIM(offs)), NULL);
	for (unsigned int i = 0; i < k; i++) {
		rp_ipc_pool_unborrow(s->borrowed, offs[i]);
		d[i] = (struct rp_ipc_desc){.off = offs[i]};
	}
	rte_ring_sp_enqueue_burst_elem(shared, d, sizeof(d[0]), k, NULL);
}

static uint16_t
rx_ring(struct rp_queue *q, struct rp_sess *s, unsigned int ring, struct rte_mbuf **pkts,
	uint16_t n)
{
	struct rte_ring *r = rp_ipc_region_ring(s->r, ring, RP_IPC_RING_TO_SWITCH);
	uint8_t *base = rp_ipc_region_base(s->r);
	struct rp_ipc_desc d[RP_PMD_BURST];
	uint16_t buf_len = (uint16_t)(1u << s->buf_shift);
	unsigned int k, ok, out = 0;
	struct rte_mbuf *head = NULL, *prev = NULL;

	if (unlikely(rp_ipc_ring_check(s->r, ring, RP_IPC_RING_TO_SWITCH) < 0 ||
		rp_ipc_ring_check(s->r, ring, RP_IPC_RING_TO_SWITCH_FREE) < 0)) {
		/* Clearly broken: the alarm thread ends the session. */
		q->rej.rejects[RP_IPC_REJ_RING]++;
		__atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
		return 0;
	}
	drain_free_back(s, ring);
	k = rte_ring_sc_dequeue_burst_elem(r, d, sizeof(d[0]), RTE_MIN(n, RP_PMD_BURST), NULL);
	if (k == 0)
		return 0;
	ok = rp_ipc_pool_borrow_burst(s->borrowed, d, k, &q->rej);
	q->st[RP_QS_INVALID] += k - ok;
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, pkts, ok) != 0)) {
		/* No mbufs: hand the buffers straight back, count the drops. */
		for (unsigned int i = 0; i < ok; i++) {
			uint32_t start = rp_ipc_pool_buf_start(s->borrowed, d[i].off);
			rte_ring_mp_enqueue_elem(s->free_back[ring], &start, sizeof(start));
		}
		q->st[RP_QS_NO_MBUF] += ok;
		return 0;
	}
	__atomic_fetch_add(&s->refcnt, ok, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < ok; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t start = rp_ipc_pool_buf_start(s->borrowed, d[i].off);
		uint32_t idx = (start - s->bufs_off) >> s->buf_shift;
		struct rte_mbuf_ext_shared_info *sh = &s->shinfo[idx];

		rte_mbuf_ext_refcnt_set(sh, 1);
		s->origin[idx] = (uint8_t)ring;
		rte_pktmbuf_attach_extbuf(m, base + start, RTE_BAD_IOVA, buf_len, sh);
		m->data_off = (uint16_t)(d[i].off - start);
		m->data_len = d[i].len;
		m->pkt_len = d[i].len;
		m->port = q->port->port_id;
		if (d[i].flags & RP_IPC_DESC_F_HASH) {
			m->hash.rss = d[i].hash;
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		}
		q->st[RP_QS_BYTES] += d[i].len;
		/* Segments of one packet are chained onto its first mbuf. */
		if (head != NULL) {
			head->nb_segs++;
			head->pkt_len += m->data_len;
			prev->next = m;
			m->pkt_len = 0;
		} else {
			pkts[out++] = m;
			head = m;
		}
		prev = m;
		if (!(d[i].flags & RP_IPC_DESC_F_MORE))
			head = NULL;
	}
	if (unlikely(head != NULL)) {
		/* A packet's last segment never came in this burst: the peer is
		 * broken. Drop the partial packet. */
		q->st[RP_QS_INVALID]++;
		rte_pktmbuf_free(head);
		out--;
	}
	q->st[RP_QS_PKTS] += out;
	return (uint16_t)out;
}

uint16_t
rp_pmd_rx_burst(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct rp_queue *q = arg;
	struct rp_port *port = q->port;
	struct rp_sess *s;
	uint16_t got = 0;

	rp_queue_enter(q);
	s = __atomic_load_n(&port->sess, __ATOMIC_SEQ_CST);
	if (likely(s != NULL)) {
		/* rxq i serves rings i, i + n_rxq, ...: every ring is polled
		 * whatever n_rxq OVS chose. */
		for (unsigned int ring = q->qid; ring < s->n_qpairs && got < n;
			ring += port->n_rxq)
			got += rx_ring(q, s, ring, pkts + got, n - got);
	}
	rp_queue_exit(q);
	return got;
}

/* Take back everything the peer has finished with. Taking only a burst per
 * call would let a backlog (built while the peer caught up after a stall)
 * outlive the traffic: the free ring stays full, the peer cannot return
 * buffers, stops receiving, and the next frames are dropped. At most one
 * ring's worth per call, so a peer that keeps refilling it with garbage
 * cannot hold the PMD thread here. */
static void
reap_to_guest_free(struct rp_queue *q, struct rp_sess *s, struct rte_ring *fr,
	struct rp_ipc_desc *d)
{
	unsigned int left = rp_ipc_region_layout(s->r)->ring_size, back;

	do {
		back = rte_ring_sc_dequeue_burst_elem(fr, d, sizeof(d[0]),
			RTE_MIN(left, (unsigned int)RP_PMD_BURST), NULL);
		rp_ipc_pool_return_burst(s->own, d, back, &q->rej);
		left -= back;
	} while (back == RP_PMD_BURST && left > 0);
}

uint16_t
rp_pmd_tx_burst(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct rp_queue *q = arg;
	struct rp_port *port = q->port;
	struct rp_ipc_desc d[RP_PMD_BURST];
	uint32_t offs[RP_PMD_BURST];
	struct rp_sess *s;
	unsigned int ring, k = 0, done = 0, sent = 0;
	bool shared;

	rp_queue_enter(q);
	s = __atomic_load_n(&port->sess, __ATOMIC_SEQ_CST);
	if (unlikely(s == NULL))
		goto out; /* link down: OVS drops and counts */
	ring = q->qid % s->n_qpairs;
	shared = port->n_txq > s->n_qpairs;
	if (shared)
		rte_spinlock_lock(&s->tx_lock[ring]);

	struct rte_ring *r = rp_ipc_region_ring(s->r, ring, RP_IPC_RING_TO_GUEST);
	struct rte_ring *fr = rp_ipc_region_ring(s->r, ring, RP_IPC_RING_TO_GUEST_FREE);
	if (unlikely(rp_ipc_ring_check(s->r, ring, RP_IPC_RING_TO_GUEST) < 0 ||
		rp_ipc_ring_check(s->r, ring, RP_IPC_RING_TO_GUEST_FREE) < 0)) {
		q->rej.rejects[RP_IPC_REJ_RING]++;
		__atomic_store_n(&s->broken, true, __ATOMIC_RELEASE);
		goto unlock;
	}
	reap_to_guest_free(q, s, fr, d);

	uint32_t buf_size = 1u << s->buf_shift; /* one size for both pools */
	unsigned int want = RTE_MIN(RTE_MIN((unsigned int)n, (unsigned int)RP_PMD_BURST),
		rte_ring_free_count(r));
	unsigned int have = rp_ipc_pool_alloc(s->own, offs, want);
	uint8_t *base = rp_ipc_region_base(s->r);

	for (done = 0; done < have; done++) {
		struct rte_mbuf *m = pkts[done];
		uint32_t len = m->pkt_len;

		if (unlikely(len == 0 || len > buf_size)) {
			q->st[RP_QS_TOO_BIG]++; /* consumed and dropped */
			continue;
		}
		uint8_t *dst = base + offs[k];
		const void *src = rte_pktmbuf_read(m, 0, len, dst);
		if (src != dst)
			rte_memcpy(dst, src, len);
		d[k] = (struct rp_ipc_desc){.off = offs[k], .len = (uint16_t)len};
		if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
			d[k].hash = m->hash.rss;
			d[k].flags = RP_IPC_DESC_F_HASH;
		}
		rp_ipc_pool_lend(s->own, offs[k]);
		q->st[RP_QS_BYTES] += len;
		k++;
	}
	sent = rte_ring_sp_enqueue_burst_elem(r, d, sizeof(d[0]), k, NULL);
	if (unlikely(sent < k)) {
		/* Only if the peer moved the ring's indices under us: not
		 * published, so still ours. */
		for (unsigned int i = sent; i < k; i++)
			d[i] = (struct rp_ipc_desc){.off = d[i].off};
		rp_ipc_pool_return_burst(s->own, d + sent, k - sent, &q->rej);
	}
	if (have > k)
		rp_ipc_pool_put(s->own, offs + k, have - k);
	q->st[RP_QS_PKTS] += sent;
	/* A partly taken burst is retried by the caller (OVS does, until a
	 * call takes nothing, then drops the rest): count drops only then. */
	if (done == 0)
		q->st[RP_QS_RING_FULL] += n;
	rte_pktmbuf_free_bulk(pkts, done);
unlock:
	if (shared)
		rte_spinlock_unlock(&s->tx_lock[ring]);
out:
	rp_queue_exit(q);
	return (uint16_t)done;
}
