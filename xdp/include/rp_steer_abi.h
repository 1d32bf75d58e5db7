/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_steer_abi.h: the steering program ABI. The one definition of what a
 * steering program sees (the context), what it reads (the configuration),
 * what it may count (the counters) and what it returns. Included by the
 * programs (xdp/ *.bpf.c, clang -target bpf) and by the host code that runs
 * them (dp-iothread, ringportctl), so nothing here is defined twice.
 *
 * A program is an eBPF object file with its entry in ELF section
 * RP_STEER_SEC:
 *
 *	SEC("steer") uint64_t prog(const struct rp_steer_ctx *ctx);
 *
 * It runs under DPDK's rte_bpf (validated, x86-64 JIT) once per packet:
 *  - to the switch (guest TX): the result picks the region ring, so the
 *    switch's rx queue and PMD thread, and gives the RSS hash handed on;
 *  - to the guest (guest RX): the result picks the guest RX queue.
 *
 * Rules, checked at load time (the load is refused with the reason):
 *  - one function, no calls to other functions or helpers;
 *  - no .data, .rodata or .bss (rte_bpf has no maps): settings come from
 *    the configuration symbol below, constants must be immediates;
 *  - no loops (unroll them); only these two extern symbols.
 */
#ifndef RP_STEER_ABI_H
#define RP_STEER_ABI_H

#ifdef __bpf__
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#else
#include <stdint.h>
#endif

#define RP_STEER_ABI_VERSION 1
#define RP_STEER_SEC "steer"                 /* ELF section of the entry */
#define RP_STEER_CFG_SYM "rp_steer_cfg"      /* extern struct rp_steer_cfg */
#define RP_STEER_CNT_SYM "rp_steer_counters" /* extern uint64_t[RP_STEER_COUNTERS] */

#define RP_STEER_PKT_MAX 128  /* frame bytes a program can see */
#define RP_STEER_KEY_SIZE 40  /* Toeplitz key */
#define RP_STEER_TABLE_MAX 128
#define RP_STEER_LUT_BYTES 36 /* hash input bytes: IPv6 addresses + ports */
#define RP_STEER_COUNTERS 16

/* Direction (ctx->dir). */
#define RP_STEER_TO_SWITCH 0
#define RP_STEER_TO_GUEST 1

/* ctx->flags */
#define RP_STEER_CTX_F_HASH 0x1u /* ctx->hash holds the hash the other side computed */

/*
 * The context: one per packet, private to the worker that runs the program
 * (a program never sees a pointer into guest or region memory).
 */
struct rp_steer_ctx {
	/* The frame's first min(len, RP_STEER_PKT_MAX) bytes; the host zeroes
	 * the bytes past pkt_len for every packet (never another frame's). */
	uint8_t pkt[RP_STEER_PKT_MAX];
	uint32_t len;       /* length of the whole frame */
	uint32_t pkt_len;   /* valid bytes in pkt[] */
	uint32_t hash;      /* see RP_STEER_CTX_F_HASH */
	uint16_t queue;     /* ingress: guest TX queue (to switch) or region ring (to guest) */
	uint16_t nb_queues; /* egress queues to choose from, >= 1 */
	uint8_t dir;        /* RP_STEER_TO_SWITCH or RP_STEER_TO_GUEST */
	uint8_t flags;      /* RP_STEER_CTX_F_* */
	/* The worker running the program and how many there are: guest queue
	 * and region ring q belong to worker q % n_workers (0: unknown, treat
	 * as one). A program that keeps each packet on queues of its worker
	 * costs no hand-off and no shared virtqueue (rp_rss_steer()). */
	uint16_t worker;
	uint16_t n_workers;
	uint8_t pad[2];     /* zero */
	/* Slack so a program may read a few bytes past pkt[] at offsets it
	 * masks with (RP_STEER_PKT_MAX - 1) without a branch; zero. */
	uint8_t slack[40];
};

/*
 * The configuration: the RSS settings of one direction, read-only to the
 * program (extern const struct rp_steer_cfg rp_steer_cfg). The host builds
 * a new one for each change and swaps it in with the program, so a program
 * never sees a half-made change. Each instance (one per worker) reads its
 * own copy, and the host keeps its own: a program that stores to it
 * anyway changes only what it itself reads later, never the host's values
 * (the queue is clamped to the host's queue count, the table it shows is
 * the host's) nor another worker's.
 */
struct rp_steer_cfg {
	/* Toeplitz lookup tables made from key: lut[i][v] is the hash of an
	 * input whose byte i is v and all other bytes are zero. The hash of an
	 * input is the XOR of lut[i][in[i]] over its bytes. */
	uint32_t lut[RP_STEER_LUT_BYTES][256];
	uint8_t key[RP_STEER_KEY_SIZE]; /* the key lut was made from */
	uint32_t hash_types;            /* RP_STEER_HASH_* */
	uint16_t table_mask;            /* indirection table size - 1 (a power of two - 1) */
	uint16_t default_queue;         /* for packets with no enabled hash type */
	uint16_t table[RP_STEER_TABLE_MAX]; /* queue = table[hash & table_mask] */
	uint32_t user[8];               /* free for custom programs (ringportctl rss set --user) */
};

/* Hash types: the bit numbers of VIRTIO_NET_RSS_HASH_TYPE_* (virtio-net
 * 5.1.6.4.3); the _EX types are not supported. */
#define RP_STEER_HASH_IPV4 (1u << 0)
#define RP_STEER_HASH_TCPV4 (1u << 1)
#define RP_STEER_HASH_UDPV4 (1u << 2)
#define RP_STEER_HASH_IPV6 (1u << 3)
#define RP_STEER_HASH_TCPV6 (1u << 4)
#define RP_STEER_HASH_UDPV6 (1u << 5)
#define RP_STEER_HASH_ALL 0x3fu

/*
 * The return value:
 *   bits  0..31  hash (meaningful with RP_STEER_RET_HASH)
 *   bits 32..47  queue; the host uses queue % nb_queues
 *   bit  48      RP_STEER_RET_HASH: the hash is valid (to the switch it
 *                becomes the packet's RSS hash)
 *   bit  49      RP_STEER_RET_DROP: drop the packet (counted by the host
 *                as a steering drop)
 *   bits 50..63  zero
 */
#define RP_STEER_RET_HASH (1ull << 48)
#define RP_STEER_RET_DROP (1ull << 49)
#define RP_STEER_RET_QUEUE(q) ((uint64_t)((q) & 0xffffu) << 32)
#define RP_STEER_RET_HASHED(q, h) (RP_STEER_RET_QUEUE(q) | RP_STEER_RET_HASH | (uint32_t)(h))
#define RP_STEER_RET_GET_QUEUE(r) ((uint16_t)((r) >> 32))
#define RP_STEER_RET_GET_HASH(r) ((uint32_t)(r))

#ifdef __bpf__
#ifndef SEC
#define SEC(name) __attribute__((section(name), used))
#endif
extern const struct rp_steer_cfg rp_steer_cfg;
extern uint64_t rp_steer_counters[RP_STEER_COUNTERS];
#else
_Static_assert(sizeof(struct rp_steer_ctx) == 192, "rp_steer_ctx size");
_Static_assert(__builtin_offsetof(struct rp_steer_ctx, len) == RP_STEER_PKT_MAX, "ctx len");
_Static_assert(__builtin_offsetof(struct rp_steer_ctx, slack) == 152, "ctx slack");
_Static_assert(sizeof(struct rp_steer_cfg) == 37200, "rp_steer_cfg size");
_Static_assert(__builtin_offsetof(struct rp_steer_cfg, key) == 36864, "cfg key");
#endif

#endif /* RP_STEER_ABI_H */
