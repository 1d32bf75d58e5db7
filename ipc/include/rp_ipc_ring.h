/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_ipc_ring.h: one side's access to a shared region ring, trusting
 * nothing the peer can write.
 *
 * The region's rings keep DPDK's rte_ring layout (the ABI names it:
 * rte_ring_init() in place, 16-byte elements after the header, SP/SC head
 * and tail indices on their own cache lines), but no rte_ring_* function
 * is ever called on them once the creator has initialised them: rte_ring
 * reads size, mask, capacity and sync type from the ring's header on
 * every call, and the peer can rewrite that header between a check and
 * the use. Here instead:
 *
 *  - mask and capacity are private, taken from this side's own layout
 *    (rp_ipc_layout_compute), never read from the region;
 *  - this side's own index is private too; it is written to the region
 *    (head then tail, as rte_ring's SP/SC code does) but never read back;
 *  - the only value read from the region is the peer's tail index, once
 *    per rp_ipc_ring_avail() call, into private memory;
 *  - a peer index more than the capacity away from ours is impossible for
 *    an honest peer: rp_ipc_ring_avail() returns -EPROTO and the caller
 *    ends the session (counted as ring_corrupt);
 *  - every slot index is masked with the private mask, so no value the
 *    peer writes can move an access outside the ring's slots.
 *
 * The sync type fields are never looked at, so the peek, HTS and RTS paths
 * of rte_ring are unreachable from a shared ring. A peer that still uses
 * rte_ring's SP/SC functions on its end (the test peer can) interoperates:
 * the indices mean the same.
 *
 * One thread drives one struct rp_ipc_ring at a time (the caller's lock or
 * ownership rule). Memory order follows rte_ring_c11_pvt.h: the producer
 * writes the slots, then store-releases its tail; the consumer
 * load-acquires that tail, copies the slots out, then store-releases its
 * own tail, which the producer load-acquires before reusing the slots.
 */
#ifndef RP_IPC_RING_H
#define RP_IPC_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ring_core.h>

#include "rp_ipc_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A private view of one shared ring, for its producer or its consumer. */
struct rp_ipc_ring {
	uint8_t *slots;            /**< the ring's elements, in the region */
	const uint32_t *peer_tail; /**< the peer's tail, in the region */
	uint32_t *my_head;         /**< our head and tail, in the region: */
	uint32_t *my_tail;         /**< written, never read */
	uint32_t mask;             /**< private: ring size - 1 */
	uint32_t capacity;         /**< private: most entries the ring holds */
	uint32_t idx;              /**< private: our head (= our tail) */
	uint32_t avail;            /**< from the last rp_ipc_ring_avail():
	                            *   entries (consumer) or room (producer) */
	bool producer;
} __rte_cache_aligned;

/**
 * Set up @q over the shared ring @shared of @ring_size slots (a power of
 * two from this side's own layout), as its producer or its consumer. Both
 * indices start at 0, as rte_ring_init() lays a ring out: a view is made
 * once per session, over a region made fresh for it. Reads nothing from
 * @shared.
 */
static inline void
rp_ipc_ring_view(struct rp_ipc_ring *q, struct rte_ring *shared, uint32_t ring_size,
	bool producer)
{
	struct rte_ring_headtail *mine = producer ? &shared->prod : &shared->cons;
	struct rte_ring_headtail *peer = producer ? &shared->cons : &shared->prod;

	memset(q, 0, sizeof(*q));
	q->slots = (uint8_t *)&shared[1]; /* rte_ring: elements follow the header */
	q->peer_tail = (const uint32_t *)(uintptr_t)&peer->tail;
	q->my_head = (uint32_t *)(uintptr_t)&mine->head;
	q->my_tail = (uint32_t *)(uintptr_t)&mine->tail;
	q->mask = ring_size - 1;
	q->capacity = ring_size - 1; /* rte_ring_init() without RING_F_EXACT_SZ */
	q->producer = producer;
}

/**
 * Read the peer's tail once and work out what this side may do now.
 * @return the entries to take (consumer) or the free slots (producer);
 * -EPROTO if the peer's index is impossible (more than the capacity away
 * from ours): the ring is corrupt and the session must end.
 */
static inline int
rp_ipc_ring_avail(struct rp_ipc_ring *q)
{
	/* Pairs with the peer's store-release of its tail. */
	uint32_t tail = __atomic_load_n(q->peer_tail, __ATOMIC_ACQUIRE);
	uint32_t dist = q->producer ? q->idx - tail : tail - q->idx;

	if (unlikely(dist > q->capacity)) {
		q->avail = 0;
		return -EPROTO;
	}
	q->avail = q->producer ? q->capacity - dist : dist;
	return (int)q->avail;
}

/* Publish our index: head, then tail with release. The tail store pairs
 * with the peer's load-acquire of it in its rp_ipc_ring_avail(). */
static inline void
rp_ipc_ring_publish(struct rp_ipc_ring *q)
{
	__atomic_store_n(q->my_head, q->idx, __ATOMIC_RELAXED);
	__atomic_store_n(q->my_tail, q->idx, __ATOMIC_RELEASE);
}

/**
 * Producer: copy up to @n descriptors into the ring and publish them; never
 * more than the room the last rp_ipc_ring_avail() found. @return how many.
 */
static inline unsigned int
rp_ipc_ring_put(struct rp_ipc_ring *q, const struct rp_ipc_desc *d, unsigned int n)
{
	n = RTE_MIN(n, q->avail);
	for (unsigned int i = 0; i < n; i++)
		memcpy(q->slots + (size_t)((q->idx + i) & q->mask) * RP_IPC_DESC_SIZE, &d[i],
			RP_IPC_DESC_SIZE);
	if (n == 0)
		return 0;
	q->idx += n;
	q->avail -= n;
	rp_ipc_ring_publish(q);
	return n;
}

/**
 * Consumer: copy up to @n descriptors out, oldest first, without taking
 * them; never more than the last rp_ipc_ring_avail() found. The copies are
 * private: check them there, never read the slots again.
 * @return how many were copied.
 */
static inline unsigned int
rp_ipc_ring_peek(const struct rp_ipc_ring *q, struct rp_ipc_desc *d, unsigned int n)
{
	n = RTE_MIN(n, q->avail);
	for (unsigned int i = 0; i < n; i++)
		memcpy(&d[i], q->slots + (size_t)((q->idx + i) & q->mask) * RP_IPC_DESC_SIZE,
			RP_IPC_DESC_SIZE);
	return n;
}

/** Consumer: take the first @n entries peeked (at most what is available). */
static inline void
rp_ipc_ring_consume(struct rp_ipc_ring *q, unsigned int n)
{
	n = RTE_MIN(n, q->avail);
	if (n == 0)
		return;
	q->idx += n;
	q->avail -= n;
	rp_ipc_ring_publish(q);
}

/**
 * Consumer: rp_ipc_ring_avail(), peek and consume in one: up to @n
 * descriptors into @d. @return how many, or -EPROTO (see rp_ipc_ring_avail).
 */
static inline int
rp_ipc_ring_get(struct rp_ipc_ring *q, struct rp_ipc_desc *d, unsigned int n)
{
	if (unlikely(rp_ipc_ring_avail(q) < 0))
		return -EPROTO;
	n = rp_ipc_ring_peek(q, d, n);
	rp_ipc_ring_consume(q, n);
	return (int)n;
}

#ifdef __cplusplus
}
#endif

#endif /* RP_IPC_RING_H */
