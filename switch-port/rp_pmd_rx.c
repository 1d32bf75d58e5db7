/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ringport data path: rx, and the zero-copy free path.
 *
 * Rx copies by default: each frame whose descriptors pass the ownership
 * checks is copied out of the region into an mbuf of OVS's mempool, and
 * its region buffers go back to the peer in the same burst. Nothing OVS
 * classifies, or acts on after classifying, lives in memory the VM side
 * can write (DESIGN.md §2).
 *
 * With the devarg zerocopy=1 (which trusts the VM side) a frame of one
 * buffer is not copied: the region buffer becomes the mbuf's external
 * buffer. Its rte_mbuf_ext_shared_info lives in private memory (never in
 * the region, where the peer could forge the free callback). When OVS
 * frees the mbuf, on any thread, the buffer goes to that lcore's cache in
 * the session (struct rp_free_cache), then in bulk to a private MP ring;
 * the rx queue that owns the ring it came from hands it back to the peer
 * (the shared rings stay single-producer). A frame that spans several
 * buffers (DESC_F_MORE) is copied whole either way: OVS 3.1 has no
 * chained-mbuf support (see linearize()).
 *
 * Tx is rp_pmd_tx.c.
 */
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "rp_pmd.h"
#include "rp_ipc_ol.h"
#include "rp_pmd_frames.h"

void
rp_sess_flush_cache(struct rp_sess *s, struct rp_free_cache *c)
{
	if (!__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE)) {
		/* Runs of one origin ring go in one enqueue. */
		for (uint32_t i = 0, j; i < c->n; i = j) {
			uint8_t ring = s->origin[(c->off[i] - s->bufs_off) >> s->buf_shift];

			for (j = i + 1; j < c->n &&
				s->origin[(c->off[j] - s->bufs_off) >> s->buf_shift] == ring; j++)
				;
			/* free_back holds every buffer: never full. */
			rte_ring_mp_enqueue_bulk_elem(s->free_back[ring], &c->off[i],
				sizeof(c->off[0]), j - i, NULL);
		}
	}
	c->n = 0;
}

static inline void
cache_put(struct rp_sess *s, struct rp_free_cache *c, uint32_t off)
{
	c->off[c->n++] = off;
	if (c->n == RP_PMD_FREE_CACHE)
		rp_sess_flush_cache(s, c);
}

/* The mbuf free callback: any thread, any time, even after the session.
 * Counting the free is its last access to @s: after it the session may
 * be freed (rp_sess_idle). */
void
rp_pmd_extbuf_free(void *addr, void *opaque)
{
	struct rp_sess *s = opaque;
	uint32_t off = (uint32_t)((uint8_t *)addr - s->base);
	unsigned int lc = rte_lcore_id();
	struct rp_free_cache *c;

	if (likely(lc < RTE_MAX_LCORE)) {
		c = &s->lc[lc];
		cache_put(s, c, off);
		/* Only this lcore writes it: a plain store with release. */
		__atomic_store_n(&c->freed, c->freed + 1, __ATOMIC_RELEASE);
	} else {
		c = &s->lc[RTE_MAX_LCORE];
		rte_spinlock_lock(&s->any_lock);
		cache_put(s, c, off);
		rte_spinlock_unlock(&s->any_lock);
		__atomic_fetch_add(&c->freed, 1, __ATOMIC_RELEASE);
	}
}

/* Give back what OVS has freed from ring @ring, as far as the shared free
 * ring has room; the rest waits in the private ring. -EPROTO if the peer
 * broke the free ring. */
static int
drain_free_back(struct rp_sess *s, unsigned int ring)
{
	struct rp_ipc_ring *shared = &s->ring[ring][RP_IPC_RING_TO_SWITCH_FREE];
	struct rp_ipc_desc d[RP_PMD_BURST * 2];
	uint32_t offs[RP_PMD_BURST * 2];
	unsigned int k;
	int room;

	if (rte_ring_count(s->free_back[ring]) == 0)
		return 0;
	room = rp_ipc_ring_avail(shared);
	if (unlikely(room < 0))
		return room;
	k = rte_ring_sc_dequeue_burst_elem(s->free_back[ring], offs, sizeof(offs[0]),
		RTE_MIN((unsigned int)room, RTE_DIM(offs)), NULL);
	for (unsigned int i = 0; i < k; i++) {
		rp_ipc_pool_unborrow(s->borrowed, offs[i]);
		d[i] = (struct rp_ipc_desc){.off = offs[i]};
	}
	rp_ipc_ring_put(shared, d, k);
	return 0;
}

/* Buffers of ring @ring that one rx call will not hand to OVS (copied,
 * or dropped): collected, then given back to the peer in one go. */
struct give_back {
	struct rp_sess *s;
	unsigned int ring;
	unsigned int n;
	uint32_t off[RP_PMD_RX_DESCS]; /* one rx call borrows at most this many */
};

static inline void
give_back(struct give_back *g, uint32_t off)
{
	g->off[g->n++] = rp_ipc_pool_buf_start(g->s->borrowed, off);
}

/* rp_frames_borrow()'s way to hand back a rejected frame's segments. */
static void
give_back_cb(void *arg, uint32_t off)
{
	give_back(arg, off);
}

/* Straight onto the shared free ring, as far as it has room; the rest
 * waits in the private ring for drain_free_back(). No atomic operation
 * unless the peer is slow to empty its free ring. -EPROTO if the peer
 * broke the free ring. */
static int
give_back_flush(struct give_back *g)
{
	struct rp_sess *s = g->s;
	struct rp_ipc_ring *shared = &s->ring[g->ring][RP_IPC_RING_TO_SWITCH_FREE];
	struct rp_ipc_desc d[RP_PMD_RX_DESCS];
	unsigned int k;
	int room;

	if (g->n == 0)
		return 0;
	room = rp_ipc_ring_avail(shared);
	if (unlikely(room < 0))
		return room;
	k = RTE_MIN((unsigned int)room, g->n);
	for (unsigned int i = 0; i < k; i++) {
		rp_ipc_pool_unborrow(s->borrowed, g->off[i]);
		d[i] = (struct rp_ipc_desc){.off = g->off[i]};
	}
	rp_ipc_ring_put(shared, d, k);
	/* free_back holds every buffer: never full. */
	if (unlikely(k < g->n))
		rte_ring_mp_enqueue_bulk_elem(s->free_back[g->ring], g->off + k,
			sizeof(g->off[0]), g->n - k, NULL);
	g->n = 0;
	return 0;
}

/* Zero-copy: the region buffer becomes @m's external buffer. */
static void
attach(struct rp_sess *s, unsigned int ring, struct rte_mbuf *m, const struct rp_ipc_desc *d)
{
	uint32_t start = rp_ipc_pool_buf_start(s->borrowed, d->off);
	uint32_t idx = (start - s->bufs_off) >> s->buf_shift;
	struct rte_mbuf_ext_shared_info *sh = &s->shinfo[idx];

	rte_mbuf_ext_refcnt_set(sh, 1);
	s->origin[idx] = (uint8_t)ring;
	rte_pktmbuf_attach_extbuf(m, s->base + start, RTE_BAD_IOVA,
		(uint16_t)(1u << s->buf_shift), sh);
	m->data_off = (uint16_t)(d->off - start);
	m->data_len = d->len;
	m->pkt_len = d->len;
}

/* A big buffer's way home, when the last mbuf attached to it goes. */
static void
big_free(void *addr, void *opaque)
{
	rte_mempool_put(opaque, addr);
}

/* Pool elements: RP_PMD_BIG_LEN bytes of frame, then the buffer's shared
 * info (refcount and free callback), private to this process. */
#define BIG_SHINFO_OFF RTE_ALIGN_CEIL(RP_PMD_BIG_LEN, RTE_CACHE_LINE_SIZE)

struct rte_mempool *
rp_pmd_big_pool_create(const struct rp_port *port)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "rp_big_%u", port->port_id);
	return rte_mempool_create(name, RP_PMD_BIG_BUFS,
		BIG_SHINFO_OFF + sizeof(struct rte_mbuf_ext_shared_info), 0, 0, NULL, NULL, NULL,
		NULL, (int)rte_socket_id(), 0);
}

/* A frame of @n > 1 buffers: OVS 3.1's dp_packet takes pkt_len bytes from
 * the first segment's data (it has no chained-mbuf support), so the frame
 * is copied whole: into @m's own data room when it fits (OVS sizes it from
 * the port's MTU), else into a buffer of @big (GSO frames, when OVS enabled
 * TSO) attached to @m. -EMSGSIZE if it fits neither, -ENOBUFS if @big is
 * empty. The region buffers go back either way. */
static int
linearize(struct rp_sess *s, struct give_back *g, struct rte_mbuf *m, const struct rp_ipc_desc *d,
	unsigned int n, struct rte_mempool *big)
{
	const uint8_t *base = s->base;
	uint32_t total = 0;
	void *obj;
	int rc = 0;

	for (unsigned int i = 0; i < n; i++)
		total += d[i].len;
	if (total > rte_pktmbuf_tailroom(m)) {
		if (big == NULL || total > RP_PMD_BIG_LEN)
			rc = -EMSGSIZE;
		else if (rte_mempool_get(big, &obj) != 0)
			rc = -ENOBUFS;
		else {
			struct rte_mbuf_ext_shared_info *sh =
				(void *)((uint8_t *)obj + BIG_SHINFO_OFF);

			sh->free_cb = big_free;
			sh->fcb_opaque = big;
			rte_mbuf_ext_refcnt_set(sh, 1);
			rte_pktmbuf_attach_extbuf(m, obj, rte_mempool_virt2iova(obj),
				RP_PMD_BIG_LEN, sh);
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		if (rc == 0) {
			rte_memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
				base + d[i].off, d[i].len);
			m->data_len = (uint16_t)(m->data_len + d[i].len);
		}
		give_back(g, d[i].off);
	}
	m->pkt_len = m->data_len;
	return rc;
}

/* A dropped burst: every one of its @n buffers straight back to the peer. */
static void
give_back_all(struct rp_queue *q, struct give_back *g, const struct rp_ipc_desc *d,
	unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		give_back(g, d[i].off);
	if (unlikely(give_back_flush(g) < 0))
		rp_sess_corrupt(&q->rej, g->s);
}

/* A received frame's mbuf @m from its first descriptor @d: port, hash,
 * offloads. 0; -1 when the offload state is refused (@m freed, counted). */
static inline int
rx_meta(struct rp_queue *q, const struct rp_sess *s, struct rte_mbuf *m,
	const struct rp_ipc_desc *d)
{
	m->port = q->port->port_id;
	if (d->flags & RP_IPC_DESC_F_HASH) {
		m->hash.rss = d->hash;
		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	}
	if ((d->flags & RP_PMD_RX_OL_FLAGS) &&
		unlikely(!s->offload || rp_ipc_ol_to_mbuf(m, d, q->port->ol_conf) < 0)) {
		q->st[RP_QS_BAD_OFFLOAD]++;
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	q->st[RP_QS_BYTES] += m->pkt_len;
	return 0;
}

static uint16_t
rx_ring(struct rp_queue *q, struct rp_sess *s, unsigned int ring, struct rte_mbuf **pkts,
	uint16_t n)
{
	struct rp_ipc_ring *r = &s->ring[ring][RP_IPC_RING_TO_SWITCH];
	struct rp_ipc_desc d[RP_PMD_RX_DESCS];
	unsigned int k, take, ok, frames = 0, out = 0, attached = 0;
	unsigned int want = RTE_MIN((unsigned int)n, (unsigned int)RP_PMD_BURST);
	bool multi, zerocopy = q->port->zerocopy;
	struct give_back g;

	/* Not an initialiser: that would clear the whole offset array. */
	g.s = s;
	g.ring = ring;
	g.n = 0;

	/* The peer's tail is read once, here, and checked against our own
	 * index; everything after works on private copies. */
	if (unlikely(rp_ipc_ring_avail(r) < 0 || drain_free_back(s, ring) < 0)) {
		/* Clearly broken: the session thread ends the session. */
		rp_sess_corrupt(&q->rej, s);
		return 0;
	}
	/* Peek, then take whole frames only: the peer publishes a frame in
	 * one enqueue, but a burst may end inside it. A burst of
	 * single-buffer frames first; only a frame of several buffers in it
	 * makes us look as far as a frame may span. */
	k = rp_ipc_ring_peek(r, d, want);
	take = rp_frames_whole(d, k, want, &multi);
	if (unlikely(multi)) {
		k = rp_ipc_ring_peek(r, d, RP_PMD_RX_DESCS);
		take = rp_frames_whole(d, k, want, &multi);
	}
	if (unlikely(take == 0 && k == RP_PMD_RX_DESCS)) {
		/* A frame longer than any the ABI allows: the peer is broken.
		 * Take it, so the ring moves on, and drop it. */
		take = k;
		q->st[RP_QS_INVALID]++;
		rp_ipc_ring_consume(r, take);
		ok = rp_ipc_pool_borrow_burst(s->borrowed, d, take, &q->rej);
		give_back_all(q, &g, d, ok);
		return 0;
	}
	rp_ipc_ring_consume(r, take);
	if (take == 0)
		return 0;
	if (likely(!multi)) {
		ok = rp_ipc_pool_borrow_burst(s->borrowed, d, take, &q->rej);
		q->st[RP_QS_INVALID] += take - ok;
	} else {
		ok = rp_frames_borrow(s->borrowed, d, take, &q->rej, &q->st[RP_QS_INVALID],
			give_back_cb, &g);
	}
	/* The peer wrote the frames on another core: start pulling their
	 * headers in now, for OVS's parser, while the mbufs are set up. */
	for (unsigned int i = 0; i < ok; i++)
		rte_prefetch0(s->base + d[i].off);
	/* Whole frames only from here: every frame ends without MORE. */
	for (unsigned int i = 0; i < ok; i++)
		frames += !(d[i].flags & RP_IPC_DESC_F_MORE) || i == ok - 1;
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, pkts, frames) != 0)) {
		/* No mbufs: hand the buffers straight back, count the drops. */
		q->st[RP_QS_NO_MBUF] += frames;
		give_back_all(q, &g, d, ok);
		return 0;
	}
	for (unsigned int i = 0, f = 0; i < ok; f++) {
		struct rte_mbuf *m = pkts[f];
		unsigned int j = i;

		while (j < ok - 1 && (d[j].flags & RP_IPC_DESC_F_MORE))
			j++;
		if (j == i && zerocopy) {
			attached++;
			attach(s, ring, m, &d[i]);
		} else {
			int rc = linearize(s, &g, m, &d[i], j - i + 1, q->port->big);

			if (unlikely(rc < 0)) {
				q->st[rc == -ENOBUFS ? RP_QS_NO_MBUF : RP_QS_TOO_BIG]++;
				rte_pktmbuf_free(m);
				i = j + 1;
				continue;
			}
		}
		if (likely(rx_meta(q, s, m, &d[i]) == 0))
			pkts[out++] = m;
		i = j + 1;
	}
	/* Copied (or dropped): the peer has those buffers back before we
	 * return, in one ring operation. */
	if (unlikely(give_back_flush(&g) < 0))
		rp_sess_corrupt(&q->rej, s);
	if (zerocopy) {
		/* Before OVS can free any of them: pairs with rp_sess_idle(). */
		__atomic_store_n(&s->ctr[ring].attached, s->ctr[ring].attached + attached,
			__ATOMIC_RELEASE);
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
		rp_sess_flush_mine(s);
		/* rxq i serves rings i, i + n_rxq, ...: every ring is polled
		 * whatever n_rxq OVS chose. */
		for (unsigned int ring = q->qid; ring < s->n_qpairs && got < n;
			ring += port->n_rxq)
			got += rx_ring(q, s, ring, pkts + got, n - got);
	}
	rp_queue_exit(q);
	return got;
}
