/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_peer.h: a test peer for a ringport port, playing either side (server
 * = iothread role, client = PMD role). It sends sequence-numbered packets
 * whose payload carries a CRC, receives the other direction and verifies
 * payload and per-queue order, and returns and reaps buffers by the rules
 * of rp_ipc_abi.h. Used by the ipc tests and the rp-peer tool, and by the
 * switch-port and iothread tests that come later.
 *
 * Single-threaded: one rp_peer per thread.
 */
#ifndef RP_PEER_H
#define RP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "rp_ipc.h"

/* Test packet: Ethernet header (dst/src may be rewritten by a switch, so
 * they are outside the CRC), then this header, then payload bytes. */
#define RP_TESTPKT_ETHERTYPE 0x88b5 /* IEEE local experimental */
#define RP_TESTPKT_MAGIC 0x52505054u /* "RPPT" */
#define RP_TESTPKT_MIN 60
#define RP_TESTPKT_MAX 1514
#define RP_TESTPKT_JUMBO 9018 /* longest frame, across buffers (DESC_F_MORE) */

struct rp_testpkt_hdr {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t ethertype; /* big-endian RP_TESTPKT_ETHERTYPE */
	uint32_t magic;
	uint16_t queue;     /* queue pair it was sent on */
	uint16_t len;       /* whole frame length */
	uint64_t seq;       /* per sending queue, from 0 */
	uint32_t crc;       /* CRC32C from magic to the end, crc excluded */
} __attribute__((packed));

/** CRC32C of @n bytes at any alignment, continuing from @c. */
uint32_t rp_crc32c(const void *buf, size_t n, uint32_t c);

/** Write only the header of a test frame of @len bytes into @buf: no
 *  payload pattern, no CRC (rp_testpkt_check() refuses it). */
void rp_testpkt_build_bare(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq);

/** Write a test frame of @len bytes into @buf. */
void rp_testpkt_build(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq);
/** 0, or -EBADMSG (bad magic, length or CRC). Fills queue and seq. */
int rp_testpkt_check(const uint8_t *buf, uint32_t len, uint16_t *queue, uint64_t *seq);

/** Seconds on CLOCK_MONOTONIC. */
static inline double
rp_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/** Frame length for sequence number @seq: varies from @min to @max bytes. */
static inline uint16_t
rp_testpkt_len(uint64_t seq, uint16_t min, uint16_t max)
{
	return (uint16_t)(min + (seq * 37) % (max - min + 1u));
}

struct rp_peer_q {
	uint64_t tx_seq;      /* next seq to send */
	uint64_t rx_seq;      /* next seq expected from the peer's queue */
	uint64_t tx_pkts, rx_pkts, rx_bytes;
	uint64_t bad_payload; /* CRC/magic/length wrong */
	uint64_t bad_order;   /* seq behind the next of its sending queue */
	uint64_t lost;        /* frames skipped: seq ahead of the next expected */
	uint64_t bad_dst;     /* destination MAC not the expected one */
	uint64_t ring_full;   /* tx attempts the ring refused */
	uint64_t rx_touch;    /* --touch: a sum of what it read (kept, unused) */
	uint64_t rx_starts;   /* bit k: a one-buffer frame arrived k cache lines into its buffer */
	unsigned int n_pending; /* returns waiting for room on the free ring */
	struct rp_ipc_desc *pending;
	uint8_t *frame;         /* a multi-buffer frame being put together */
	uint32_t frame_len;
	bool in_frame;          /* its first segment came, its last not yet */
};

struct rp_peer {
	struct rp_ipc_region *r;
	bool server;
	uint16_t n_qpairs;
	uint16_t min_len, max_len;   /* frames sent; see rp_peer_set_len */
	uint32_t buf_size;
	uint8_t *scratch;            /* a multi-buffer frame, built whole */
	struct rp_ipc_pool *own;      /* the pool we lend from */
	struct rp_ipc_pool *borrowed; /* the peer's pool, as we hold it */
	enum rp_ipc_ring_kind tx_ring, tx_free, rx_ring, rx_free;
	struct rp_ipc_stats st;       /* rejected descriptors by reason */
	bool check_dst;               /* verify every frame's destination MAC */
	bool sink;                    /* count frames, check nothing */
	bool touch;                   /* ... reading each one's first 8 bytes */
	bool bare;                    /* send the test header only, no payload/CRC */
	unsigned int spread;          /* single-buffer frames start (buffer index
				       * mod spread) cache lines in; 0, 1: at 0 */
	volatile sig_atomic_t spread_off; /* set: spread paused, frames at 0 */
	uint32_t tx_bufs_off;         /* where our pool's buffers start */
	bool lossy;                   /* frames lost on the way are no error */
	unsigned int n_wake;          /* client: the server's wake-up eventfds */
	int wake[RP_IPC_MAX_QPAIRS];  /* (written as the PMD does; not owned) */
	uint64_t wake_errors;
	uint64_t bad_seq;             /* invalid descriptors published so far */
	uint8_t expect_dst[6];
	struct rp_peer_q q[RP_IPC_MAX_QPAIRS];
	/* Our private views of the region's rings (rp_ipc_ring.h). */
	struct rp_ipc_ring ring[RP_IPC_MAX_QPAIRS][RP_IPC_RINGS_PER_QPAIR];
};

/** Set up over an attached/created region; 0 or -ENOMEM. */
int rp_peer_init(struct rp_peer *p, struct rp_ipc_region *r, bool server);
/** Send frames of @min..@max bytes (default 60..one buffer, at most 1514);
 * above one buffer needs RP_IPC_F_MULTISEG. 0 or -EINVAL. */
int rp_peer_set_len(struct rp_peer *p, unsigned int min, unsigned int max);
/** Frees the pools and pending arrays (not the region). */
void rp_peer_fini(struct rp_peer *p);

/** Send up to @n packets on queue @q; returns how many went out. */
unsigned int rp_peer_tx(struct rp_peer *p, unsigned int q, unsigned int n);
/** Receive up to @n on @q, verify, return the buffers; returns how many
 * descriptors were taken from the ring (valid or not). */
unsigned int rp_peer_rx(struct rp_peer *p, unsigned int q, unsigned int n);
/**
 * Hostile: publish @n invalid items on @q's data ring, cycling through
 * RP_PEER_BAD_KINDS kinds the receiver must reject and count: past the
 * region (range), in the receiver's own pool (foreign), zero length (len),
 * a reserved flag bit (flags), one of our buffers twice in one frame (dup:
 * two descriptors, one rejected, the frame dropped and the buffer given
 * back) and 16 bytes from a fixed-seed generator, MORE clear (random;
 * with MORE, the next valid frame would be dropped as its continuation). Each item is
 * rejected exactly once. Returns how many were published (room permitting).
 */
#define RP_PEER_BAD_KINDS 6
unsigned int rp_peer_inject_bad(struct rp_peer *p, unsigned int q, unsigned int n);
/**
 * Hostile: make queue pair @q's outgoing ring impossible (our tail moved
 * half the index space ahead), as a broken peer would; the receiver must
 * end the session.
 */
void rp_peer_corrupt_ring(struct rp_peer *p, unsigned int q);
/**
 * Hostile: scribble once over what an honest receiver never needs from the
 * region's ring headers: size, mask, capacity, flags, both sync types and
 * both head indices of every ring, from the generator state @x.
 */
void rp_peer_tamper(struct rp_ipc_region *r, uint64_t *x);
/** Take our returned buffers back from @q's free ring; returns how many. */
unsigned int rp_peer_reap(struct rp_peer *p, unsigned int q);
/** Session over: every buffer we lent is ours again, held ones dropped. */
void rp_peer_reclaim(struct rp_peer *p);

/** Totals over queues. */
uint64_t rp_peer_rx_total(const struct rp_peer *p);
/** payload + order + rejects, and lost frames unless @p->lossy. */
uint64_t rp_peer_errors(const struct rp_peer *p);
uint64_t rp_peer_lost(const struct rp_peer *p);
/** True while some returns still wait for room on a free ring. */
bool rp_peer_returns_pending(const struct rp_peer *p);
/** True when every buffer of our pool is home. */
bool rp_peer_pool_full(const struct rp_peer *p);

#endif /* RP_PEER_H */
