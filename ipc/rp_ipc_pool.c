/* SPDX-License-Identifier: BSD-3-Clause */
/* Buffer pools and ownership tracking. Everything here is private memory:
 * the peer can write the region but not these bytes, so it cannot make us
 * believe a buffer was lent, or not held, when it wasn't. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "rp_ipc.h"
#include "rp_ipc_private.h"

struct rp_ipc_pool {
	uint32_t off;       /* first byte of buffer 0 */
	uint32_t n;         /* buffers */
	uint32_t shift;     /* log2 buffer size */
	uint32_t other_off; /* the other pool: to tell "foreign" from "range" */
	uint32_t other_end;
	bool owner;
	uint8_t *state;     /* per buffer: 1 = lent (owner) / held (borrower) */
	struct rte_ring *free_list; /* owner: MP/MC ring of buffer offsets;
				     * NULL for a tracker (list elsewhere) */
};

static struct rp_ipc_pool *
pool_create(const struct rp_ipc_region *r, enum rp_ipc_dir dir, bool owner, bool free_list)
{
	const struct rp_ipc_layout *l = rp_ipc_region_layout(r);
	enum rp_ipc_dir other = dir == RP_IPC_DIR_TO_SWITCH ? RP_IPC_DIR_TO_GUEST
							    : RP_IPC_DIR_TO_SWITCH;
	struct rp_ipc_pool *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto nomem;
	p->off = (uint32_t)l->bufs_off[dir];
	p->n = l->n_bufs[dir];
	p->shift = l->buf_shift;
	p->other_off = (uint32_t)l->bufs_off[other];
	p->other_end = (uint32_t)(l->bufs_off[other] + ((uint64_t)l->n_bufs[other] << p->shift));
	p->owner = owner;
	p->state = calloc(p->n, 1);
	if (p->state == NULL)
		goto nomem;
	if (owner && free_list) {
		uint32_t slots = rte_align32pow2(p->n + 1);
		ssize_t sz = rte_ring_get_memsize_elem(sizeof(uint32_t), slots);

		if (sz < 0 || posix_memalign((void **)&p->free_list, RTE_CACHE_LINE_SIZE,
				      (size_t)sz) != 0)
			goto nomem;
		if (rte_ring_init(p->free_list, "rp-pool", slots, 0) < 0)
			goto nomem;
		for (uint32_t i = 0; i < p->n; i++) {
			uint32_t o = p->off + (i << p->shift);

			rte_ring_mp_enqueue_elem(p->free_list, &o, sizeof(o));
		}
	}
	return p;
nomem:
	rp_ipc_pool_free(p);
	errno = ENOMEM;
	return NULL;
}

struct rp_ipc_pool *
rp_ipc_pool_create(const struct rp_ipc_region *r, enum rp_ipc_dir dir, bool owner)
{
	return pool_create(r, dir, owner, true);
}

struct rp_ipc_pool *
rp_ipc_pool_create_tracker(const struct rp_ipc_region *r, enum rp_ipc_dir dir)
{
	return pool_create(r, dir, true, false);
}

void
rp_ipc_pool_free(struct rp_ipc_pool *p)
{
	if (p == NULL)
		return;
	free(p->free_list);
	free(p->state);
	free(p);
}

uint32_t
rp_ipc_pool_buf_start(const struct rp_ipc_pool *p, uint32_t off)
{
	return off & ~((UINT32_C(1) << p->shift) - 1);
}

unsigned int
rp_ipc_pool_alloc(struct rp_ipc_pool *p, uint32_t *offs, unsigned int n)
{
	return rte_ring_mc_dequeue_burst_elem(p->free_list, offs, sizeof(*offs), n, NULL);
}

void
rp_ipc_pool_put(struct rp_ipc_pool *p, const uint32_t *offs, unsigned int n)
{
	/* The list holds every buffer, so it can never be full. */
	rte_ring_mp_enqueue_bulk_elem(p->free_list, offs, sizeof(*offs), n, NULL);
}

void
rp_ipc_pool_lend(struct rp_ipc_pool *p, uint32_t off)
{
	__atomic_store_n(&p->state[(off - p->off) >> p->shift], 1, __ATOMIC_RELAXED);
}

/* Which buffer @off is in, or why it is not one of ours. */
static inline enum rp_ipc_reject
pool_index(const struct rp_ipc_pool *p, uint32_t off, uint32_t *idx)
{
	uint32_t rel = off - p->off; /* wraps below the pool: caught by the range test */

	if (likely((rel >> p->shift) < p->n)) {
		*idx = rel >> p->shift;
		return RP_IPC_REJ_NONE;
	}
	if (off >= p->other_off && off < p->other_end)
		return RP_IPC_REJ_DESC_FOREIGN;
	return RP_IPC_REJ_DESC_RANGE;
}

/* Check a returned descriptor and mark its buffer free (not yet listed). */
static inline enum rp_ipc_reject
pool_take_back(struct rp_ipc_pool *p, const struct rp_ipc_desc *d)
{
	enum rp_ipc_reject rej;
	uint32_t idx;

	if (unlikely(d->len | d->flags | d->hash | d->gso_size | d->l2_len | d->l3_len))
		return RP_IPC_REJ_DESC_FLAGS;
	rej = pool_index(p, d->off, &idx);
	if (unlikely(rej != RP_IPC_REJ_NONE))
		return rej;
	if (unlikely((d->off - p->off) & ((UINT32_C(1) << p->shift) - 1)))
		return RP_IPC_REJ_DESC_ALIGN;
	if (unlikely(__atomic_load_n(&p->state[idx], __ATOMIC_RELAXED) != 1))
		return RP_IPC_REJ_DESC_DUP;
	__atomic_store_n(&p->state[idx], 0, __ATOMIC_RELAXED);
	return RP_IPC_REJ_NONE;
}

enum rp_ipc_reject
rp_ipc_pool_return(struct rp_ipc_pool *p, const struct rp_ipc_desc *d)
{
	enum rp_ipc_reject rej = pool_take_back(p, d);

	if (likely(rej == RP_IPC_REJ_NONE)) {
		uint32_t off = d->off;

		rte_ring_mp_enqueue_elem(p->free_list, &off, sizeof(off));
	}
	return rej;
}

unsigned int
rp_ipc_pool_take_back_burst(struct rp_ipc_pool *p, const struct rp_ipc_desc *d, unsigned int n,
	struct rp_ipc_stats *st, uint32_t *offs)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		enum rp_ipc_reject rej = pool_take_back(p, &d[i]);

		if (likely(rej == RP_IPC_REJ_NONE))
			offs[ok++] = d[i].off;
		else
			st->rejects[rej]++;
	}
	return ok;
}

unsigned int
rp_ipc_pool_return_burst(struct rp_ipc_pool *p, const struct rp_ipc_desc *d, unsigned int n,
	struct rp_ipc_stats *st)
{
	uint32_t offs[RP_IPC_POOL_MAX_BURST];

	for (unsigned int done = 0; done < n;) {
		unsigned int k = RTE_MIN(n - done, (unsigned int)RP_IPC_POOL_MAX_BURST);
		unsigned int ok = rp_ipc_pool_take_back_burst(p, d + done, k, st, offs);

		/* One MP operation per burst; never full (it holds every buffer). */
		rte_ring_mp_enqueue_bulk_elem(p->free_list, offs, sizeof(offs[0]), ok, NULL);
		done += k;
	}
	return n; /* all consumed; the rejected ones are counted in st */
}

enum rp_ipc_reject
rp_ipc_pool_borrow(struct rp_ipc_pool *p, const struct rp_ipc_desc *d)
{
	enum rp_ipc_reject rej;
	uint32_t idx, in_buf;

	if (unlikely(d->flags & ~RP_IPC_DESC_F_KNOWN))
		return RP_IPC_REJ_DESC_FLAGS;
	rej = pool_index(p, d->off, &idx);
	if (unlikely(rej != RP_IPC_REJ_NONE))
		return rej;
	in_buf = (d->off - p->off) & ((UINT32_C(1) << p->shift) - 1);
	if (unlikely(d->len == 0 || in_buf + d->len > (UINT32_C(1) << p->shift)))
		return RP_IPC_REJ_DESC_LEN;
	if (unlikely(__atomic_load_n(&p->state[idx], __ATOMIC_RELAXED) != 0))
		return RP_IPC_REJ_DESC_DUP;
	__atomic_store_n(&p->state[idx], 1, __ATOMIC_RELAXED);
	return RP_IPC_REJ_NONE;
}

unsigned int
rp_ipc_pool_borrow_burst(struct rp_ipc_pool *p, struct rp_ipc_desc *d, unsigned int n,
	struct rp_ipc_stats *st)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		enum rp_ipc_reject rej = rp_ipc_pool_borrow(p, &d[i]);

		if (likely(rej == RP_IPC_REJ_NONE))
			d[ok++] = d[i];
		else
			st->rejects[rej]++;
	}
	return ok;
}

void
rp_ipc_pool_unborrow(struct rp_ipc_pool *p, uint32_t off)
{
	__atomic_store_n(&p->state[(off - p->off) >> p->shift], 0, __ATOMIC_RELAXED);
}

unsigned int
rp_ipc_pool_reclaim_each(struct rp_ipc_pool *p, void (*fn)(uint32_t off, void *arg), void *arg)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < p->n; i++) {
		uint32_t o = p->off + (i << p->shift);

		if (__atomic_load_n(&p->state[i], __ATOMIC_RELAXED) == 0)
			continue;
		p->state[i] = 0;
		if (p->free_list != NULL)
			rte_ring_mp_enqueue_elem(p->free_list, &o, sizeof(o));
		if (fn != NULL)
			fn(o, arg);
		n++;
	}
	return n;
}

unsigned int
rp_ipc_pool_reclaim(struct rp_ipc_pool *p)
{
	return rp_ipc_pool_reclaim_each(p, NULL, NULL);
}

unsigned int
rp_ipc_pool_count(const struct rp_ipc_pool *p)
{
	unsigned int n = 0;

	if (p->free_list != NULL)
		return rte_ring_count(p->free_list);
	/* Not on the fast path: a scan beats a shared counter per packet. */
	for (uint32_t i = 0; i < p->n; i++)
		n += __atomic_load_n(&p->state[i], __ATOMIC_RELAXED);
	return p->owner ? p->n - n : n;
}

unsigned int
rp_ipc_pool_size(const struct rp_ipc_pool *p)
{
	return p->n;
}
