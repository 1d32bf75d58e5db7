/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include "rp_peer.h"

#define BURST 32
#define BURST_SEGS 64 /* buffers per tx call: a jumbo frame takes up to 5 */

/* CRC32C with the CPU's crc32 instruction, fed through memcpy so no load
 * is misaligned (frames put the checked range at odd offsets). */
uint32_t
rp_crc32c(const void *buf, size_t n, uint32_t c)
{
	const uint8_t *b = buf;

	for (; n >= 8; b += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, b, sizeof(v));
		c = rte_hash_crc_8byte(v, c);
	}
	for (; n > 0; b++, n--)
		c = rte_hash_crc_1byte(*b, c);
	return c;
}

static uint32_t
testpkt_crc(const uint8_t *buf, uint16_t len)
{
	const size_t from = offsetof(struct rp_testpkt_hdr, magic);
	const size_t crc_at = offsetof(struct rp_testpkt_hdr, crc);
	uint32_t c;

	c = rp_crc32c(buf + from, crc_at - from, 0xffffffff);
	return rp_crc32c(buf + sizeof(struct rp_testpkt_hdr), len - sizeof(struct rp_testpkt_hdr), c);
}

void
rp_testpkt_build_bare(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq)
{
	struct rp_testpkt_hdr h = {
		.dst = {0x02, 0x52, 0x50, 0x00, 0x00, 0x02},
		.src = {0x02, 0x52, 0x50, 0x00, 0x00, 0x01},
		.ethertype = rte_cpu_to_be_16(RP_TESTPKT_ETHERTYPE),
		.magic = RP_TESTPKT_MAGIC,
		.queue = queue,
		.len = len,
		.seq = seq,
	};

	memcpy(buf, &h, sizeof(h));
}

void
rp_testpkt_build(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq)
{
	uint8_t *pl = buf + sizeof(struct rp_testpkt_hdr);
	uint32_t crc;

	rp_testpkt_build_bare(buf, len, queue, seq);
	for (uint16_t i = 0; i < len - sizeof(struct rp_testpkt_hdr); i++)
		pl[i] = (uint8_t)(seq + i * 7);
	crc = testpkt_crc(buf, len);
	memcpy(buf + offsetof(struct rp_testpkt_hdr, crc), &crc, sizeof(crc));
}

int
rp_testpkt_check(const uint8_t *buf, uint32_t len, uint16_t *queue, uint64_t *seq)
{
	struct rp_testpkt_hdr h;

	if (len < RP_TESTPKT_MIN || len > RP_TESTPKT_JUMBO)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != RP_TESTPKT_MAGIC || h.len != len || testpkt_crc(buf, (uint16_t)len) != h.crc)
		return -EBADMSG;
	*queue = h.queue;
	*seq = h.seq;
	return 0;
}

int
rp_peer_init(struct rp_peer *p, struct rp_ipc_region *r, bool server)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	enum rp_ipc_dir tx_dir = server ? RP_IPC_DIR_TO_SWITCH : RP_IPC_DIR_TO_GUEST;

	memset(p, 0, sizeof(*p));
	p->r = r;
	p->server = server;
	p->n_qpairs = l->n_qpairs;
	p->buf_size = 1u << l->buf_shift;
	p->tx_bufs_off = (uint32_t)l->bufs_off[tx_dir];
	p->min_len = RP_TESTPKT_MIN;
	p->max_len = p->buf_size < RP_TESTPKT_MAX ? (uint16_t)p->buf_size : RP_TESTPKT_MAX;
	p->scratch = malloc(RP_TESTPKT_JUMBO);
	if (p->scratch == NULL)
		goto nomem;
	p->tx_ring = server ? RP_IPC_RING_TO_SWITCH : RP_IPC_RING_TO_GUEST;
	p->tx_free = server ? RP_IPC_RING_TO_SWITCH_FREE : RP_IPC_RING_TO_GUEST_FREE;
	p->rx_ring = server ? RP_IPC_RING_TO_GUEST : RP_IPC_RING_TO_SWITCH;
	p->rx_free = server ? RP_IPC_RING_TO_GUEST_FREE : RP_IPC_RING_TO_SWITCH_FREE;
	p->own = rp_ipc_pool_create(r, tx_dir, true);
	p->borrowed = rp_ipc_pool_create(r, RP_IPC_DIR_MAX - 1 - tx_dir, false);
	if (p->own == NULL || p->borrowed == NULL)
		goto nomem;
	for (unsigned int q = 0; q < p->n_qpairs; q++) {
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++)
			rp_ipc_region_ring_view(r, q, k, server, &p->ring[q][k]);
		p->q[q].pending = calloc(l->ring_size, sizeof(struct rp_ipc_desc));
		p->q[q].frame = malloc(RP_TESTPKT_JUMBO);
		if (p->q[q].pending == NULL || p->q[q].frame == NULL)
			goto nomem;
	}
	return 0;
nomem:
	rp_peer_fini(p);
	return -ENOMEM;
}

void
rp_peer_fini(struct rp_peer *p)
{
	for (unsigned int q = 0; q < RP_IPC_MAX_QPAIRS; q++) {
		free(p->q[q].pending);
		p->q[q].pending = NULL;
		free(p->q[q].frame);
		p->q[q].frame = NULL;
	}
	rp_ipc_pool_free(p->own);
	rp_ipc_pool_free(p->borrowed);
	p->own = p->borrowed = NULL;
	free(p->scratch);
	p->scratch = NULL;
}

int
rp_peer_set_len(struct rp_peer *p, unsigned int min, unsigned int max)
{
	bool multiseg = rp_ipc_region_layout(p->r)->features & RP_IPC_F_MULTISEG;

	if (min < RP_TESTPKT_MIN || min > max || max > RP_TESTPKT_JUMBO ||
		(max > p->buf_size && !multiseg))
		return -EINVAL;
	p->min_len = (uint16_t)min;
	p->max_len = (uint16_t)max;
	return 0;
}

/* Buffers a frame of @len bytes takes. */
static inline unsigned int
frame_segs(const struct rp_peer *p, uint16_t len)
{
	return (len + p->buf_size - 1) / p->buf_size;
}

/* Write frame @seq of @len bytes into the buffers @offs and describe it in
 * @d (MORE on all but the last segment); returns the segments used. */
static unsigned int
tx_frame(struct rp_peer *p, unsigned int q, uint64_t seq, uint16_t len, const uint32_t *offs,
	struct rp_ipc_desc *d)
{
	uint8_t *base = rp_ipc_region_base(p->r);
	unsigned int k = 0;

	if (len <= p->buf_size) {
		uint32_t off = offs[0];

		if (p->spread > 1 && !p->spread_off) {
			uint32_t at = (off - p->tx_bufs_off) / p->buf_size % p->spread *
				RTE_CACHE_LINE_SIZE;

			if (len + at <= p->buf_size)
				off += at;
		}
		(p->bare ? rp_testpkt_build_bare : rp_testpkt_build)(base + off, len,
			(uint16_t)q, seq);
		d[0] = (struct rp_ipc_desc){.off = off, .len = len};
		return 1;
	}
	rp_testpkt_build(p->scratch, len, (uint16_t)q, seq);
	for (uint32_t at = 0; at < len; k++) {
		uint32_t chunk = RTE_MIN(p->buf_size, len - at);

		memcpy(base + offs[k], p->scratch + at, chunk);
		at += chunk;
		d[k] = (struct rp_ipc_desc){.off = offs[k], .len = (uint16_t)chunk,
			.flags = at < len ? RP_IPC_DESC_F_MORE : 0};
	}
	return k;
}

unsigned int
rp_peer_tx(struct rp_peer *p, unsigned int q, unsigned int n)
{
	struct rp_ipc_ring *ring = &p->ring[q][p->tx_ring];
	struct rp_peer_q *pq = &p->q[q];
	struct rp_ipc_desc d[BURST_SEGS];
	uint32_t offs[BURST_SEGS];
	unsigned int k = 0, frames = 0, sent;
	int free_slots;

	if (n > BURST)
		n = BURST;
	free_slots = rp_ipc_ring_avail(ring);
	if (free_slots < 0) {
		p->st.rejects[RP_IPC_REJ_RING]++;
		return 0;
	}
	/* We are the only producer: the room can only grow under us, so
	 * everything we allocate fits and nothing is lent and taken back. */
	unsigned int room = RTE_MIN((unsigned int)free_slots, (unsigned int)BURST_SEGS);
	uint16_t lens[BURST];
	unsigned int need = 0, got;

	/* The frames that fit, then their buffers in one allocation: one
	 * ring operation per burst, as a driver takes its mbufs (one per
	 * frame held a benchmark's sender to about 11 Mpps). */
	for (; frames < n; frames++) {
		unsigned int segs;

		lens[frames] = rp_testpkt_len(pq->tx_seq + frames, p->min_len, p->max_len);
		segs = frame_segs(p, lens[frames]);
		if (need + segs > room) {
			pq->ring_full += n - frames;
			break;
		}
		need += segs;
	}
	got = rp_ipc_pool_alloc(p->own, offs, need);
	for (unsigned int f = 0; f < frames; f++) {
		unsigned int segs = frame_segs(p, lens[f]);

		if (k + segs > got) {
			/* The pool ran short: send the frames it covers. */
			rp_ipc_pool_put(p->own, offs + k, got - k);
			frames = f;
			break;
		}
		k += tx_frame(p, q, pq->tx_seq + f, lens[f], offs + k, d + k);
	}
	for (unsigned int i = 0; i < k; i++)
		rp_ipc_pool_lend(p->own, d[i].off);
	sent = rp_ipc_ring_put(ring, d, k); /* k is within the room: all of it */
	/* As the PMD does: a sleeping server worker asked to be woken. */
	if (sent != 0 && p->n_wake != 0) {
		rte_smp_mb();
		if ((__atomic_load_n(&rp_ipc_region_hdr(p->r)->wake, __ATOMIC_RELAXED) & (1u << q)) &&
			rp_ipc_wake(p->wake[q]) < 0)
			p->wake_errors++;
	}
	pq->tx_seq += frames;
	pq->tx_pkts += frames;
	return frames;
}

static void
flush_returns(struct rp_peer *p, unsigned int q)
{
	struct rp_ipc_ring *ring = &p->ring[q][p->rx_free];
	struct rp_peer_q *pq = &p->q[q];
	unsigned int n;

	if (pq->n_pending == 0)
		return;
	if (rp_ipc_ring_avail(ring) < 0) {
		p->st.rejects[RP_IPC_REJ_RING]++;
		return;
	}
	n = rp_ipc_ring_put(ring, pq->pending, pq->n_pending);
	memmove(pq->pending, pq->pending + n, (pq->n_pending - n) * sizeof(pq->pending[0]));
	pq->n_pending -= n;
}

/* Verify one whole frame: payload, per-sending-queue order, destination. */
static void
rx_check(struct rp_peer *p, struct rp_peer_q *pq, const uint8_t *frame, uint32_t len)
{
	uint16_t qq;
	uint64_t seq;

	/* Order is per sending queue: a switch in between may move a queue's
	 * packets to any of ours, but never reorder a flow. */
	if (rp_testpkt_check(frame, len, &qq, &seq) < 0 || qq >= RP_IPC_MAX_QPAIRS) {
		pq->bad_payload++;
	} else if (seq < p->q[qq].rx_seq) {
		pq->bad_order++; /* a duplicate, or a flow reordered */
	} else if (seq > p->q[qq].rx_seq) {
		/* Dropped on the way (a switch may, like a NIC): a gap. */
		pq->lost += seq - p->q[qq].rx_seq;
		p->q[qq].rx_seq = seq + 1;
	} else {
		p->q[qq].rx_seq++;
	}
	if (p->check_dst && memcmp(frame, p->expect_dst, 6) != 0)
		pq->bad_dst++;
	pq->rx_pkts++;
}

/* Done with a borrowed buffer: queue its return. */
static void
rx_return(struct rp_peer *p, struct rp_peer_q *pq, uint32_t off)
{
	uint32_t start = rp_ipc_pool_buf_start(p->borrowed, off);

	rp_ipc_pool_unborrow(p->borrowed, start);
	pq->pending[pq->n_pending++] = (struct rp_ipc_desc){.off = start};
}

unsigned int
rp_peer_rx(struct rp_peer *p, unsigned int q, unsigned int n)
{
	struct rp_ipc_ring *ring = &p->ring[q][p->rx_ring];
	uint8_t *base = rp_ipc_region_base(p->r);
	uint32_t ring_size = rp_ipc_region_layout(p->r)->ring_size;
	struct rp_peer_q *pq = &p->q[q];
	struct rp_ipc_desc d[BURST];
	unsigned int got;

	flush_returns(p, q);
	if (n > BURST)
		n = BURST;
	/* Never hold more unreturned buffers than the free ring can take. */
	if (n > ring_size - 1 - pq->n_pending)
		n = ring_size - 1 - pq->n_pending;
	int rc = rp_ipc_ring_get(ring, d, n);
	if (rc < 0) {
		p->st.rejects[RP_IPC_REJ_RING]++;
		return 0;
	}
	got = (unsigned int)rc;
	/* Borrow the whole burst first: a buffer twice in one burst is a dup. */
	unsigned int ok = rp_ipc_pool_borrow_burst(p->borrowed, d, got, &p->st);
	for (unsigned int i = 0; i < ok; i++) {
		const uint8_t *frame = base + d[i].off;
		uint32_t len = d[i].len;

		pq->rx_bytes += d[i].len;
		if (!(d[i].flags & RP_IPC_DESC_F_MORE) && !pq->in_frame) {
			uint32_t line = (d[i].off & (p->buf_size - 1)) / RTE_CACHE_LINE_SIZE;

			pq->rx_starts |= UINT64_C(1) << RTE_MIN(line, 63u);
		}
		if ((d[i].flags & RP_IPC_DESC_F_MORE) || pq->in_frame) {
			/* A segment: gather the frame, check it at its end. */
			if (pq->frame_len + len <= RP_TESTPKT_JUMBO)
				memcpy(pq->frame + pq->frame_len, frame, len);
			/* Too long is too long: saturate, the check fails it. */
			pq->frame_len = RTE_MIN(pq->frame_len + len, RP_TESTPKT_JUMBO + 1u);
			pq->in_frame = d[i].flags & RP_IPC_DESC_F_MORE;
			if (pq->in_frame) {
				rx_return(p, pq, d[i].off);
				continue;
			}
			frame = pq->frame;
			len = pq->frame_len;
			pq->frame_len = 0;
		}
		if (p->sink) {
			pq->rx_pkts++;
			if (p->touch)
				pq->rx_touch += *(const volatile uint64_t *)(const void *)frame;
		}
		else
			rx_check(p, pq, frame, len);
		rx_return(p, pq, d[i].off);
	}
	flush_returns(p, q);
	return got;
}

unsigned int
rp_peer_reap(struct rp_peer *p, unsigned int q)
{
	struct rp_ipc_desc d[BURST];
	int got = rp_ipc_ring_get(&p->ring[q][p->tx_free], d, BURST);

	if (got < 0) {
		p->st.rejects[RP_IPC_REJ_RING]++;
		return 0;
	}
	rp_ipc_pool_return_burst(p->own, d, (unsigned int)got, &p->st);
	return (unsigned int)got;
}

void
rp_peer_corrupt_ring(struct rp_peer *p, unsigned int q)
{
	struct rp_ipc_ring *ring = &p->ring[q][p->tx_ring];

	/* Four billion... two: half the index space ahead of the receiver. */
	__atomic_store_n(ring->my_tail, ring->idx + (UINT32_C(1) << 31), __ATOMIC_RELEASE);
}

void
rp_peer_tamper(struct rp_ipc_region *r, uint64_t *x)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);

	for (unsigned int q = 0; q < l->n_qpairs; q++) {
		for (unsigned int k = 0; k < RP_IPC_RINGS_PER_QPAIR; k++) {
			struct rte_ring *ring = rp_ipc_region_ring(r, q, k);
			uint32_t v[8];

			for (unsigned int i = 0; i < RTE_DIM(v); i++) {
				*x ^= *x << 13; /* xorshift64 */
				*x ^= *x >> 7;
				*x ^= *x << 17;
				v[i] = (uint32_t)*x;
			}
			__atomic_store_n(&ring->size, v[0], __ATOMIC_RELAXED);
			__atomic_store_n(&ring->mask, v[1], __ATOMIC_RELAXED);
			__atomic_store_n(&ring->capacity, v[2], __ATOMIC_RELAXED);
			__atomic_store_n(&ring->flags, (int)v[3], __ATOMIC_RELAXED);
			__atomic_store_n(&ring->prod.single, v[4] & 7, __ATOMIC_RELAXED);
			__atomic_store_n(&ring->cons.single, v[5] & 7, __ATOMIC_RELAXED);
			__atomic_store_n(&ring->prod.head, v[6], __ATOMIC_RELAXED);
			__atomic_store_n(&ring->cons.head, v[7], __ATOMIC_RELAXED);
		}
	}
}

void
rp_peer_reclaim(struct rp_peer *p)
{
	rp_ipc_pool_reclaim(p->own);
	rp_ipc_pool_reclaim(p->borrowed);
	for (unsigned int q = 0; q < p->n_qpairs; q++)
		p->q[q].n_pending = 0;
}

uint64_t
rp_peer_rx_total(const struct rp_peer *p)
{
	uint64_t n = 0;

	for (unsigned int q = 0; q < p->n_qpairs; q++)
		n += p->q[q].rx_pkts;
	return n;
}

uint64_t
rp_peer_errors(const struct rp_peer *p)
{
	uint64_t n = 0;

	for (unsigned int q = 0; q < p->n_qpairs; q++)
		n += p->q[q].bad_payload + p->q[q].bad_order + p->q[q].bad_dst +
			(p->lossy ? 0 : p->q[q].lost);
	for (int i = 0; i < RP_IPC_REJ_MAX; i++)
		n += p->st.rejects[i];
	return n;
}

uint64_t
rp_peer_lost(const struct rp_peer *p)
{
	uint64_t n = 0;

	for (unsigned int q = 0; q < p->n_qpairs; q++)
		n += p->q[q].lost;
	return n;
}

bool
rp_peer_pool_full(const struct rp_peer *p)
{
	return rp_ipc_pool_count(p->own) == rp_ipc_pool_size(p->own);
}

bool
rp_peer_returns_pending(const struct rp_peer *p)
{
	for (unsigned int q = 0; q < p->n_qpairs; q++)
		if (p->q[q].n_pending != 0)
			return true;
	return false;
}

unsigned int
rp_peer_inject_bad(struct rp_peer *p, unsigned int q, unsigned int n)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(p->r);
	enum rp_ipc_dir mine = p->server ? RP_IPC_DIR_TO_SWITCH : RP_IPC_DIR_TO_GUEST;
	enum rp_ipc_dir theirs = p->server ? RP_IPC_DIR_TO_GUEST : RP_IPC_DIR_TO_SWITCH;
	struct rp_ipc_ring *ring = &p->ring[q][p->tx_ring];
	uint32_t end = (uint32_t)rp_ipc_region_hdr(p->r)->region_size;
	unsigned int done = 0;

	if (rp_ipc_ring_avail(ring) < 0)
		return 0;
	while (done < n) {
		struct rp_ipc_desc d = {.len = 64};
		uint64_t i = p->bad_seq; /* kinds stay in turn across calls */

		if (i % RP_PEER_BAD_KINDS == 4) {
			/* dup: one of our buffers twice in one two-segment frame;
			 * the receiver must drop the frame and give it back once. */
			uint32_t off;
			struct rp_ipc_desc pair[2];

			if (ring->avail < 2 || rp_ipc_pool_alloc(p->own, &off, 1) != 1)
				break;
			rp_testpkt_build(rp_ipc_region_base(p->r) + off, 64, (uint16_t)q, UINT64_MAX);
			rp_ipc_pool_lend(p->own, off);
			pair[0] = (struct rp_ipc_desc){.off = off, .len = 64,
				.flags = RP_IPC_DESC_F_MORE};
			pair[1] = (struct rp_ipc_desc){.off = off, .len = 64};
			rp_ipc_ring_put(ring, pair, 2);
			p->bad_seq++;
			done++;
			continue;
		}
		switch (i % RP_PEER_BAD_KINDS) {
		case 0: /* range */
			d.off = end + (uint32_t)(i % 1024) * 64;
			break;
		case 1: /* foreign: the receiver's own pool */
			d.off = (uint32_t)l->bufs_off[theirs];
			break;
		case 2: /* len */
			d.off = (uint32_t)l->bufs_off[mine];
			d.len = 0;
			break;
		case 3: /* flags */
			d.off = (uint32_t)l->bufs_off[mine];
			d.flags = 0x8000;
			break;
		default: { /* random: every field from a fixed-seed generator */
			uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;

			x ^= x >> 29;
			x *= 0xbf58476d1ce4e5b9ull;
			x ^= x >> 32;
			memcpy(&d, &x, sizeof(x));
			x = x * 0x94d049bb133111ebull + i;
			memcpy((uint8_t *)&d + sizeof(x), &x, sizeof(x));
			/* MORE would make the next (valid) frame its continuation,
			 * which the receiver must then drop too. */
			d.flags &= (uint16_t)~RP_IPC_DESC_F_MORE;
			break;
		}
		}
		if (rp_ipc_ring_put(ring, &d, 1) != 1)
			break;
		p->bad_seq++;
		done++;
	}
	return done;
}
