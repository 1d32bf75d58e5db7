/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_rss_core.h: Toeplitz RSS as the virtio-net spec defines it
 * (5.1.6.4.3), written once and compiled three ways:
 *  - into xdp/rss.bpf.o, the default steering program (rte_bpf, JIT);
 *  - into xdp/rss_kern.bpf.o, a socket filter the Linux verifier checks and
 *    the kernel runs (BPF_PROG_TEST_RUN): the independent oracle;
 *  - natively into the iothread, as its fallback when no program file can
 *    be loaded.
 *
 * What it hashes:
 *  - up to two VLAN tags (802.1Q, 802.1ad) are skipped;
 *  - IPv4: TCPv4/UDPv4 hash addresses and ports, IPv4 the addresses; every
 *    fragment hashes by addresses only (only the first carries ports);
 *  - IPv6: up to four hop-by-hop, routing and destination-options headers
 *    are walked to reach TCP/UDP; a fragment header, or ports past the
 *    first RP_STEER_PKT_MAX bytes, leave the address hash;
 *  - anything else (ARP, unknown EtherTypes, truncated headers, types not
 *    enabled) gets no hash and goes to cfg->default_queue.
 * queue = table[hash & table_mask].
 *
 * It is written for the rte_bpf validator, which explores every path:
 * choices are made with masks (RP_EQ and friends) instead of branches
 * wherever both sides continue, and only early exits branch. Offsets that
 * depend on packet bytes are masked to the context's pkt[] (reads may run
 * into its slack, never past it).
 *
 * @p must be readable for RP_STEER_PKT_MAX + 40 bytes (struct rp_steer_ctx
 * from pkt[] on); @n is the number of valid bytes, <= RP_STEER_PKT_MAX.
 */
#ifndef RP_RSS_CORE_H
#define RP_RSS_CORE_H

#include "rp_steer_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Loops are unrolled: rte_bpf refuses back edges. */
#ifdef __clang__
#define RP_UNROLL _Pragma("clang loop unroll(full)")
#else
#define RP_UNROLL _Pragma("GCC unroll 64")
#endif

/* Hide a value from the optimiser so that compares written as arithmetic
 * stay arithmetic (eBPF has no set-on-condition; a compare is a branch). */
static __always_inline uint64_t
rp_opaque(uint64_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* 1 if a == b, else 0 (a, b < 2^63). The final "& 1" is for the
 * validator, whose signed range for a right shift of an unknown value is
 * unbounded. */
#define RP_EQ(a, b) (rp_opaque((rp_opaque((uint64_t)(a) ^ (uint64_t)(b)) - 1) >> 63) & 1)
/* 1 if a <= b, else 0 (a, b < 2^62). */
#define RP_LE(a, b) (rp_opaque(((rp_opaque((uint64_t)(b)) - (uint64_t)(a)) >> 63) ^ 1) & 1)
/* All ones if bit (0 or 1) is set, else 0. */
#define RP_MASK(bit) (0 - rp_opaque(bit))

#define RP_PKT_OFF(o) ((o) & (RP_STEER_PKT_MAX - 1))

/* p + off with the pointer as the destination register: the rte_bpf
 * validator types the result of an add by its destination, and clang
 * otherwise picks either operand. */
#ifdef __bpf__
static __always_inline const uint8_t *
rp_ptr_add(const void *p, uint64_t off)
{
	__asm__("%0 += %1" : "+r"(p) : "r"(off));
	return p;
}
#else
#define rp_ptr_add(p, off) ((const uint8_t *)(p) + (off))
#endif

static __always_inline uint32_t
rp_be16(const uint8_t *p, uint64_t o)
{
	const uint8_t *q = rp_ptr_add(p, o);

	return (uint32_t)q[0] << 8 | q[1];
}

/* lut[pos][v] */
static __always_inline uint32_t
rp_lut(const struct rp_steer_cfg *c, unsigned int pos, uint64_t v)
{
	return *(const uint32_t *)rp_ptr_add(c->lut[pos], v * 4);
}

static __always_inline uint64_t
rp_rss_result(const struct rp_steer_cfg *c, uint32_t h)
{
	uint64_t i = h & c->table_mask & (RP_STEER_TABLE_MAX - 1);

	return RP_STEER_RET_HASHED(*(const uint16_t *)rp_ptr_add(c->table, i * 2), h);
}

/* Hash of the 4 port bytes at input position @pos, or 0 unless @use. */
static __always_inline uint32_t
rp_rss_ports(const struct rp_steer_cfg *c, const uint8_t *p, uint64_t l4, unsigned int pos,
	uint64_t use)
{
	const uint8_t *q = rp_ptr_add(p, RP_PKT_OFF(l4));
	uint32_t h = rp_lut(c, pos, q[0]) ^ rp_lut(c, pos + 1, q[1]) ^ rp_lut(c, pos + 2, q[2]) ^
		rp_lut(c, pos + 3, q[3]);

	return h & (uint32_t)RP_MASK(use);
}

/* 1 if @proto is TCP and @tcp_on's bit 0 is set, or UDP and @udp_on's. */
static __always_inline uint64_t
rp_rss_use_l4(uint64_t proto, uint64_t tcp_on, uint64_t udp_on)
{
	return ((RP_EQ(proto, 6) & tcp_on) | (RP_EQ(proto, 17) & udp_on)) & 1;
}

/* The result: the hash of the @alen address bytes at @addr (input
 * positions 0..alen-1), then of the ports at @l4 when @use_l4; no hash
 * when neither the L4 type nor the address type (@ip_on) applies. */
static __always_inline uint64_t
rp_rss_finish(const struct rp_steer_cfg *c, const uint8_t *p, const uint8_t *addr,
	unsigned int alen, uint64_t l4, uint64_t use_l4, uint64_t ip_on)
{
	uint32_t h = 0;

	if (!(use_l4 | ip_on))
		return RP_STEER_RET_QUEUE(c->default_queue);
	RP_UNROLL
	for (unsigned int i = 0; i < alen; i++)
		h ^= rp_lut(c, i, addr[i]);
	h ^= rp_rss_ports(c, p, l4, alen, use_l4);
	return rp_rss_result(c, h);
}

static __always_inline uint64_t
rp_rss_v4(const struct rp_steer_cfg *c, const uint8_t *p, uint32_t n, uint64_t l3)
{
	const uint8_t *ip = rp_ptr_add(p, l3);
	uint64_t ihl = (uint64_t)(ip[0] & 0xf) * 4, l4 = l3 + ihl;
	uint64_t proto = ip[9], frag = ((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff; /* MF | offset */
	uint64_t types = c->hash_types, use_l4;

	if ((ip[0] >> 4) != 4 || ihl < 20 || l4 > n)
		return RP_STEER_RET_QUEUE(c->default_queue);
	use_l4 = rp_rss_use_l4(proto, types >> 1, types >> 2) & RP_EQ(frag, 0) & RP_LE(l4 + 4, n);
	return rp_rss_finish(c, p, ip + 12, 8, l4, use_l4, types & RP_STEER_HASH_IPV4);
}

static __always_inline uint64_t
rp_rss_v6(const struct rp_steer_cfg *c, const uint8_t *p, uint32_t n, uint64_t l3)
{
	const uint8_t *ip = rp_ptr_add(p, l3);
	uint64_t nh = ip[6], l4 = l3 + 40, types = c->hash_types, use_l4;

	if ((ip[0] >> 4) != 6 || l4 > n)
		return RP_STEER_RET_QUEUE(c->default_queue);
	/* Extension headers: hop-by-hop (0), routing (43), destination (60). */
	RP_UNROLL
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t ext = RP_EQ(nh, 0) | RP_EQ(nh, 43) | RP_EQ(nh, 60);
		const uint8_t *x = rp_ptr_add(p, RP_PKT_OFF(l4));
		uint64_t m = RP_MASK(ext);

		nh = (nh & ~m) | (x[0] & m);
		l4 += ((uint64_t)x[1] + 1) * 8 * ext;
	}
	use_l4 = rp_rss_use_l4(nh, types >> 4, types >> 5) & RP_LE(l4 + 4, n);
	return rp_rss_finish(c, p, ip + 8, 32, l4, use_l4, types & RP_STEER_HASH_IPV6);
}

/* The steering result for the frame at @p (@n valid bytes). */
static __always_inline uint64_t
rp_rss_run(const struct rp_steer_cfg *c, const uint8_t *p, uint32_t n)
{
	uint64_t l3 = 14, et, tag;

	if (n < 14)
		return RP_STEER_RET_QUEUE(c->default_queue);
	et = rp_be16(p, 12);
	RP_UNROLL
	for (unsigned int i = 0; i < 2; i++) {
		tag = RP_EQ(et, 0x8100) | RP_EQ(et, 0x88a8);
		et ^= (et ^ rp_be16(p, l3 + 2)) & RP_MASK(tag);
		l3 += 4 * tag;
	}
	if (et == 0x0800 && l3 + 20 <= n)
		return rp_rss_v4(c, p, n, l3);
	if (et == 0x86dd && l3 + 40 <= n)
		return rp_rss_v6(c, p, n, l3);
	return RP_STEER_RET_QUEUE(c->default_queue);
}

/*
 * The default policy (rss.bpf.o, and the iothread's built-in): the
 * Toeplitz hash always, and a queue that keeps the packet on the worker
 * that has it, so no packet is handed between workers and no virtqueue is
 * written by two of them (guest queue and region ring q belong to worker
 * q % n_workers):
 *  - to the switch, the ring of the ingress queue; the hash goes with the
 *    packet and OVS spreads by it;
 *  - to the guest, table[hash & mask] folded onto the guest queues this
 *    worker owns: worker + n_workers * ((entry / n_workers) % owned). The
 *    division skips the entry's low bits: a switch that picked the ring by
 *    the same hash (OVS tx-steering=hash: hash % tx queues) already fixed
 *    them for every frame this worker gets, and taking them again would
 *    put all its flows on one queue. A flow keeps its queue as long as it
 *    arrives on the same ring. With one worker, or a
 *    worker that owns no guest queue (the guest enabled fewer), it is the
 *    spec's queue, unchanged. rss_global.bpf.o is the spec's RSS in both
 *    directions, whatever the workers.
 */

/* Queue @q of @n folded onto those worker @w of @nw owns (q % nw == w).
 * The iothread folds a program's choice the same way (keep_local()). Call
 * it with nw > 1 and w < nw, w < n. */
static __always_inline uint64_t
rp_rss_fold(uint64_t q, uint64_t w, uint64_t nw, uint64_t n)
{
	uint64_t owned = (n - w + nw - 1) / nw;

	return w + nw * ((q / nw) % owned);
}

static __always_inline uint64_t
rp_rss_steer(const struct rp_steer_cfg *c, const struct rp_steer_ctx *ctx)
{
	uint64_t r = rp_rss_run(c, ctx->pkt, ctx->pkt_len);
	uint64_t q = RP_STEER_RET_GET_QUEUE(r), nw = ctx->n_workers, w = ctx->worker;

	if (ctx->dir == RP_STEER_TO_SWITCH)
		q = ctx->queue;
	else if (nw > 1 && w < nw && w < ctx->nb_queues)
		q = rp_rss_fold(q, w, nw, ctx->nb_queues);
	return (r & ~RP_STEER_RET_QUEUE(0xffff)) | RP_STEER_RET_QUEUE(q);
}

#endif /* RP_RSS_CORE_H */
